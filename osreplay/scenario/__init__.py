"""Commands that work on recordings, never on the bus: stats, trace, diff, timeline.

Each module's ``run(options, console)`` reads recordings through the record model
(:mod:`osreplay.model.notification`, :mod:`osreplay.model.ndjson`), streams, and returns facts as
dataclasses; ``console`` (see :mod:`osreplay.console.scenario`) is told about unreadable
lines and, where a command streams its results, about each result as it is ready.
Nothing here imports click, oslo or the bus.
"""
