"""Everything a person reads: tables, JSON documents, progress, diagnostics and hints.

The core packages return facts (dataclasses) and raise typed errors; the modules here turn
them into text, one module per command (``validate``, ``record``, ``replay``, ``redact``,
``scenario`` with ``trace``, ``diff`` and ``timeline``), with ``text`` (escaping, one-line
JSON) and ``terminal`` (where a live line may be drawn) shared by all.
"""
