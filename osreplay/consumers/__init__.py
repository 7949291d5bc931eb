"""What a consumer makes of a recording: Ceilometer's events and samples, predicted offline.

Ceilometer's notification agent turns notifications into *events* (with typed traits,
from ``event_definitions.yaml``) and *samples* (from ``meters.d/*.yaml``); a definition
that does not fit a payload drops a trait or a sample without a word. This package
applies a user's definition files to a recording exactly as Ceilometer 27 does
(``ceilometer/event/converter.py``, ``event/trait_plugins.py``,
``meter/notifications.py``, ``declarative.py``), with the JSONPath parser Ceilometer
uses (jsonpath-rw-ext), so that a prediction can be compared with what the agent
publishes.

Recordings only: nothing here imports the bus or oslo.

- :mod:`.isotime`: oslo's ``parse_isotime`` and ``normalize_time`` (the iso8601 grammar).
- :mod:`.fields`: one JSONPath field specification (Ceilometer's ``Definition``).
- :mod:`.plugins`: the trait plugins ``split``, ``bitfield``, ``timedelta`` and ``map``.
- :mod:`.yamlfile`: definition files read with the line of every definition.
- :mod:`.events`: event definitions, traits and their conversions.
- :mod:`.meters`: meter definitions, samples and what the sample pipeline refuses.
- :mod:`.run`: ``osreplay ceilometer``'s core, ``run(options, console) -> Prediction``.
"""
