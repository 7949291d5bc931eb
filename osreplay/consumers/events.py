"""Events from notifications, as Ceilometer 27's ``event/converter.py`` makes them.

- A definition's ``event_type`` is a glob or a list of globs (fnmatch); ``!glob``
  excludes; a definition with only exclusions includes ``*``.
- The **last** matching definition in the file wins.
- Unless unmatched notifications are dropped, a catch-all (``*``, no traits of its own)
  is added after the file's definitions when none of them is one.
- Every definition has the default traits ``service``, ``request_id``, ``project_id``,
  ``user_id`` and ``tenant_id``; a trait of the same name in the file replaces one.
- A trait with no non-null value is left out; so is an empty string on a non-text trait.
  ``int`` and ``float`` are Python's ``int()`` and ``float()``; ``datetime`` is oslo's
  ``parse_isotime`` made naive UTC; ``text`` is ``str()`` cut at 255 characters.
- A conversion that fails (``int("12.5")``, a date that does not parse) raises in
  Ceilometer, which logs it and publishes no event for that notification.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from osreplay.consumers.fields import DefinitionError, Field
from osreplay.consumers.isotime import agent_text, normalize_time, parse_isotime
from osreplay.consumers.yamlfile import DefinitionFileError, Located, load, sequence

TEXT_LIMIT = 255
#: Ceilometer's trait type names (``Trait.get_type_by_name``, case-insensitive) and the
#: ``dtype`` number its publishers write.
TRAIT_TYPES = {"none": 0, "text": 1, "int": 2, "float": 3, "datetime": 4}
DEFAULT_TRAITS: dict[str, dict[str, Any]] = {
    "service": {"type": "text", "fields": "publisher_id"},
    "request_id": {"type": "text", "fields": "ctxt.request_id"},
    "project_id": {"type": "text", "fields": ["payload.tenant_id", "ctxt.project_id"]},
    "user_id": {"type": "text", "fields": ["payload.user_id", "ctxt.user_id"]},
    "tenant_id": {"type": "text", "fields": ["payload.tenant_id", "ctxt.project_id"]},
}
CATCH_ALL = "catch-all"


@dataclass(frozen=True, slots=True)
class Trait:
    name: str
    type: str
    value: Any


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one definition made of one notification: traits, and the traits left out."""

    traits: tuple[Trait, ...]
    empty: tuple[str, ...]


class TraitDefinition:
    def __init__(self, name: str, cfg: Any) -> None:
        self.name = name
        self.field = Field(name, cfg)
        type_name = cfg.get("type", "text") if isinstance(cfg, dict) else "text"
        canonical = type_name.lower() if isinstance(type_name, str) else None
        if canonical not in TRAIT_TYPES:
            raise DefinitionError(f"invalid trait type {type_name!r} for trait {name}")
        self.type: str = canonical

    def to_trait(self, body: dict[str, Any]) -> Trait | None:
        """The trait, None when it has no value; raises where Ceilometer raises."""
        value = self.field.parse(body)
        if value is None:
            return None
        if self.type != "text" and value == "":
            return None
        return Trait(self.name, self.type, convert(self.type, value))


def convert(type_name: str, value: Any) -> Any:
    """Ceilometer's ``Trait.convert_value``; a datetime as its file publisher writes it."""
    if type_name == "int":
        return int(value)
    if type_name == "float":
        return float(value)
    if type_name == "datetime":
        return agent_text(normalize_time(parse_isotime(value)))
    return str(value)[:TEXT_LIMIT]  # "none" converts as text, as there


class EventDefinition:
    def __init__(self, located: Located | None, cfg: Any) -> None:
        self.located = located
        if not isinstance(cfg, dict):
            raise DefinitionError("an event definition must be a mapping")
        try:
            event_type, traits = cfg["event_type"], cfg["traits"]
        except KeyError as exc:
            raise DefinitionError(f"required field {exc.args[0]} not specified") from None
        if isinstance(event_type, str):
            event_type = [event_type]
        if not isinstance(event_type, list) or not all(isinstance(t, str) for t in event_type):
            raise DefinitionError("event_type must be a string or a list of strings")
        self.event_types: list[str] = list(event_type)
        self.included = [t for t in event_type if not t.startswith("!")]
        self.excluded = [t[1:] for t in event_type if t.startswith("!")]
        if self.excluded and not self.included:
            self.included.append("*")
        if not isinstance(traits, dict):
            raise DefinitionError("traits must be a mapping of trait names")
        self.traits = {name: TraitDefinition(name, spec) for name, spec in DEFAULT_TRAITS.items()}
        for name, spec in traits.items():
            self.traits[str(name)] = TraitDefinition(str(name), spec)
        #: the traits the file declares (the defaults are expected to be empty at times)
        self.declared = tuple(str(name) for name in traits)

    @property
    def where(self) -> str:
        return self.located.where if self.located is not None else CATCH_ALL

    @property
    def is_catchall(self) -> bool:
        return "*" in self.included and not self.excluded

    def match_type(self, event_type: str) -> bool:
        return any(fnmatch.fnmatch(event_type, t) for t in self.included) and not any(
            fnmatch.fnmatch(event_type, t) for t in self.excluded
        )

    def to_event(self, body: dict[str, Any]) -> Outcome:
        traits, empty = [], []
        for definition in self.traits.values():
            trait = definition.to_trait(body)
            if trait is None:
                empty.append(definition.name)
            else:
                traits.append(trait)
        return Outcome(tuple(traits), tuple(empty))


class EventConverter:
    """The definitions of one file, last first, and the catch-all Ceilometer adds."""

    def __init__(self, path: str, *, drop_unmatched: bool = False) -> None:
        self.path = path
        data, node = load(path)
        if data is None:
            raise DefinitionFileError(f"{path}: holds no event definitions")
        self.definitions: list[EventDefinition] = []
        for located in reversed(sequence(path, data, node, key=None)):
            try:
                self.definitions.append(EventDefinition(located, located.cfg))
            except DefinitionError as exc:
                raise DefinitionFileError(f"{located.where}: event definition: {exc}") from None
        self.file_definitions = list(reversed(self.definitions))  # in file order
        if not drop_unmatched and not any(d.is_catchall for d in self.definitions):
            self.definitions.append(EventDefinition(None, {"event_type": "*", "traits": {}}))

    def definition_for(self, event_type: str) -> EventDefinition | None:
        return next((d for d in self.definitions if d.match_type(event_type)), None)
