"""Samples from notifications, as Ceilometer 27's ``meter/notifications.py`` makes them,
and what its sample pipeline then refuses.

- Definition files are read in the order given (a folder's ``*.yaml`` sorted); each
  file's ``metric`` list from the **last** entry up; a meter whose ``name`` was already
  seen is skipped. A meter missing a required field, with an unknown type or an
  unparsable path is skipped too (Ceilometer logs it and carries on).
- A meter's ``event_type`` is a regular expression (or a list), matched from the start
  (``re.match``); every matching meter yields its samples.
- ``name``, ``type``, ``unit``, ``volume``, ``resource_id``, ``user_id``,
  ``project_id`` and ``timestamp`` are field specifications: even ``name: memory`` is a
  JSONPath, which matches nothing and leaves the literal name.
- ``user_id`` and ``project_id`` default to ``ctxt.user_id|ctxt.user`` and
  ``ctxt.project_id|ctxt.tenant_id``, which jsonpath-rw parses as
  ``ctxt.(user_id|ctxt).user``: they match nothing, so the sample carries null.
- ``lookup`` lists the attributes that hold one value per sample: every value is read,
  and a count that differs from the number of names gives no sample at all.
- The pipeline drops a sample whose volume is null, or a string that ``float()``
  refuses; a volume ``float()`` cannot take at all (an object, a list) raises.
- Anything that raises (a ``timestamp`` that does not parse, a ``type`` that is not
  gauge, delta or cumulative, …) makes the endpoint raise: the notification is
  requeued, and redelivered again and again, with no sample from any meter.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from osreplay.consumers.fields import DefinitionError, Field
from osreplay.consumers.isotime import parse_isotime
from osreplay.consumers.yamlfile import DefinitionFileError, Located, load, sequence, yaml_files

TYPES = ("gauge", "delta", "cumulative")
ATTRIBUTES = ("name", "type", "volume", "unit", "timestamp", "user_id", "project_id", "resource_id")
REQUIRED = ("name", "type", "event_type", "unit", "volume", "resource_id")
FALLBACK_USER = "ctxt.user_id|ctxt.user"
FALLBACK_PROJECT = "ctxt.project_id|ctxt.tenant_id"

# Why a matching notification gave no sample.
NO_VOLUME = "no volume"
NOT_A_NUMBER = "volume is not a number"
LOOKUP_EMPTY = "lookup found no meters in the payload"
LOOKUP_COUNT = "lookup: not every meter has every field"
RAISES = "Ceilometer raises (the notification is requeued)"


@dataclass(slots=True)
class Sample:
    name: Any
    type: Any
    unit: Any
    volume: Any
    resource_id: Any
    user_id: Any
    project_id: Any
    timestamp: Any
    metadata: dict[str, Any] = field(default_factory=dict)


class Raised(Exception):
    """Ceilometer's endpoint would raise on this notification; the message says why."""


@dataclass(slots=True)
class Produced:
    """What one meter made of one notification: samples kept, and the refusals."""

    samples: list[Sample]
    refused: list[str]


class MeterDefinition:
    def __init__(self, located: Located) -> None:
        self.located = located
        cfg = located.cfg
        if not isinstance(cfg, dict):
            raise DefinitionError("a meter definition must be a mapping")
        self.cfg = cfg
        missing = [name for name in REQUIRED if not cfg.get(name)]
        if missing:
            raise DefinitionError(f"required fields {missing} not specified")
        event_types = cfg["event_type"]
        if isinstance(event_types, str):
            event_types = [event_types]
        try:
            self.event_types = [re.compile(pattern) for pattern in event_types]
        except (re.error, TypeError) as exc:
            raise DefinitionError(f"event_type is not a regular expression: {exc}") from None
        if "type" not in cfg.get("lookup", []) and cfg["type"] not in TYPES:
            raise DefinitionError(f"invalid type {cfg['type']} specified")
        self.fallback_user = Field("user_id", FALLBACK_USER)
        self.fallback_project = Field("project_id", FALLBACK_PROJECT)
        self.attributes = {name: Field(name, cfg[name]) for name in ATTRIBUTES if cfg.get(name)}
        metadata = cfg.get("metadata") or {}
        self.metadata = {name: Field(name, metadata[name]) for name in metadata}
        lookup = cfg.get("lookup")
        self.lookup: list[str] | None = [lookup] if isinstance(lookup, str) else lookup

    @property
    def name(self) -> str:
        return str(self.cfg["name"])

    @property
    def where(self) -> str:
        return self.located.where

    def match_type(self, event_type: str) -> bool:
        return any(pattern.match(event_type) for pattern in self.event_types)

    def to_samples(self, body: dict[str, Any]) -> Produced:
        """Samples and refusals; raises :class:`Raised` where Ceilometer's endpoint raises."""
        try:
            raw, refusal = self._raw_samples(body)
            samples = [_checked(s, body) for s in raw]
        except Raised:
            raise
        except Exception as exc:  # whatever Ceilometer's code would raise on this payload
            raise Raised(f"{type(exc).__name__}: {exc}") from None
        refused = [] if refusal is None else [refusal]
        kept = []
        for sample in samples:
            reason = _pipeline_refusal(sample)
            if reason is None:
                kept.append(sample)
            else:
                refused.append(reason)
        return Produced(kept, refused)

    def _raw_samples(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        sample: dict[str, Any] = {
            "name": self.cfg["name"],
            "type": self.cfg["type"],
            "unit": self.cfg["unit"],
            "volume": None,
            "timestamp": None,
            "user_id": self.fallback_user.parse(body),
            "project_id": self.fallback_project.parse(body),
            "resource_id": None,
            "metadata": {},
        }
        for name, meta in self.metadata.items():
            value = meta.parse(body)
            if value:
                sample["metadata"][name] = value
        lookup = self.lookup
        if lookup:
            sample = {name: [value] for name, value in sample.items()}
        for name in ATTRIBUTES:
            spec = self.attributes.get(name)
            if spec is None:
                continue
            value = spec.parse(body, all_values=bool(lookup))
            if (not lookup and value is not None) or (
                lookup and (name in [*lookup, "name"] or value)
            ):
                sample[name] = value
        if not lookup:
            return [sample], None
        return self._split(sample, lookup)

    def _split(
        self, sample: dict[str, Any], lookup: list[str]
    ) -> tuple[list[dict[str, Any]], str | None]:
        count = len(sample["name"])
        if count <= 0:
            return [], LOOKUP_EMPTY
        names = [*ATTRIBUTES, "metadata"]
        columns: list[Any] = []
        for name in names:
            values = sample[name]
            if len(values) == count:
                columns.append(values)
            elif len(values) == 1 and name not in lookup:
                columns.append(itertools.cycle(values))
            else:
                return [], f"{LOOKUP_COUNT} ({name}: {len(values)} of {count})"
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=False)], None


def _checked(raw: dict[str, Any], body: dict[str, Any]) -> Sample:
    """``Sample.from_notification``: the type must be known and the timestamp must parse."""
    if raw["type"] not in TYPES:
        raise Raised(f"unsupported sample type {raw['type']!r}")
    moment = raw["timestamp"] or body["metadata"]["timestamp"]
    try:
        parse_isotime(moment)
    except ValueError as exc:
        raise Raised(f"timestamp: {exc}") from None
    return Sample(
        name=raw["name"],
        type=raw["type"],
        unit=raw["unit"],
        volume=raw["volume"],
        resource_id=raw["resource_id"],
        user_id=raw["user_id"],
        project_id=raw["project_id"],
        timestamp=moment,
        metadata=raw["metadata"],
    )


def _pipeline_refusal(sample: Sample) -> str | None:
    """The sample pipeline's ``_validate_volume``: None keeps the sample."""
    volume = sample.volume
    if volume is None:
        return NO_VOLUME
    if not isinstance(volume, (int, float)):
        try:
            float(volume)
        except ValueError:
            return f"{NOT_A_NUMBER} ({_short(volume)})"
        except TypeError as exc:
            raise Raised(f"volume: TypeError: {exc}") from None
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


@dataclass(slots=True)
class MeterSet:
    """The meters Ceilometer would load from the given files and folders, in its order."""

    files: list[str]
    meters: list[MeterDefinition]
    skipped: list[tuple[str, str]]  # (file:line, why), as Ceilometer logs and skips them


def load_meters(paths: tuple[str, ...]) -> MeterSet:
    files = [path for given in paths for path in yaml_files(given)]
    meters: dict[Any, MeterDefinition] = {}
    skipped: list[tuple[str, str]] = []
    for path in files:
        data, node = load(path)
        if not isinstance(data, dict):
            raise DefinitionFileError(f"{path}: a 'metric' list is expected at the top level")
        for located in reversed(sequence(path, data, node, key="metric")):
            cfg = located.cfg
            name = cfg.get("name") if isinstance(cfg, dict) else None
            if _hashable(name) and name in meters:
                skipped.append((located.where, f"duplicate meter {name}: skipped"))
                continue
            try:
                meters[name] = MeterDefinition(located)
            except DefinitionError as exc:
                skipped.append((located.where, str(exc)))
    return MeterSet(files, list(meters.values()), skipped)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
