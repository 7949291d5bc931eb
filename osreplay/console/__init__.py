"""Everything a person reads: tables, JSON documents, diagnostics and hints.

The core packages return facts; the modules here turn them into text. Today only the
scenario commands live here (:mod:`osreplay.console.scenario`); ``osreplay/report.py``
still holds the validate, record and replay reporters.
"""
