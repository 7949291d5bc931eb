"""nova and ironic payloads: each object checked against the schema of its name and version.

The schemas are generated from the services' own object definitions by
``schemas/generate.py`` (see docs/development.md) and shipped as
``schemas/<family>/<ObjectName>/<MAJOR.MINOR>.json``. A family (``nova``, ``ironic``) is
told apart by its primitive keys (``nova_object.name``, ``ironic_object.name``)::

    family = ObjectFamily("nova", files, wrapper=compile_builtin("nova-versioned", ...),
                          notes=Notes())
    found = family.resolve(payload)       # its ObjectSchema, or None: only the wrapper
    family.tree_valid(payload, found)     # the compiled checks, nested objects included
    family.problems(payload, "$.payload") # (the schema used or None, [(json_path, message)])

How a version is picked, among the shipped versions of the object's name and major:

- the same version: its schema;
- a version that is not shipped: the newest shipped one below it (a minor version only adds
  fields), with a :class:`Note` (``newer`` when above every shipped one, else ``between``);
- a version below every shipped one: the oldest shipped one without its required fields
  (fields it has not got yet would be missing), with a ``older`` Note;
- another major version, or a name no schema has: no object schema (``major``,
  ``unknown``); the payload is still checked against the family's wrapper schema
  (``nova-versioned``), and counts as without payload schema when that passes.

A nested object (a field holding an object, a list or a dict of them) is checked the same
way, against the schema of its own name and version; the parent's schema checks only its
wrapper. Schemas are read, compiled and cached on first use: a run reads only the objects
it meets. Names are looked up among the shipped folders only, never as paths.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from osreplay.validate.messages import json_path
from osreplay.validate.schemas import Found, Schema, compile_builtin
from osreplay.validate.verdicts import BETWEEN, MAJOR, NEWER, OLDER, UNKNOWN, Note, Notes

# Resolutions cached per family; past this, (name, version) pairs are resolved each time.
_MAX_CACHED = 10_000
_VERSION = re.compile(r"([0-9]+)\.([0-9]+)")

Version = tuple[int, int]


@dataclass(slots=True)
class ObjectSchema:
    """One object version's schema, compiled, and the data fields that hold objects."""

    schema: Schema
    nested: tuple[str, ...]


class ObjectFamily:
    """The shipped object schemas of one service (``nova``, ``ironic``)."""

    def __init__(self, family: str, files: Any, *, wrapper: Schema, notes: Notes) -> None:
        self.family = family
        self.files = files  # the schemas folder (importlib.resources Traversable or Path)
        self.wrapper = wrapper  # nova-versioned: the wrapper and nested wrappers only
        self.notes = notes
        prefix = f"{family}_object."
        self._wrapper_keys = tuple(prefix + key for key in ("name", "namespace", "version", "data"))
        self.name_key = prefix + "name"
        self.version_key = prefix + "version"
        self.data_key = prefix + "data"
        self._names: dict[str, dict[Version, str]] | None = None  # name -> version -> file
        self._compiled: dict[tuple[str, str, bool], ObjectSchema] = {}
        self._resolved: dict[tuple[Any, Any], ObjectSchema | None] = {}

    # -- which schema --------------------------------------------------------------------

    def resolve(self, obj: dict[str, Any]) -> ObjectSchema | None:
        """The schema for ``obj`` by its name and version; None when there is none (a
        malformed wrapper too: the wrapper schema says what is wrong)."""
        name, version = obj.get(self.name_key), obj.get(self.version_key)
        try:
            return self._resolved[name, version]
        except KeyError:
            pass
        except TypeError:  # a list or a dict as name or version
            return None
        found = self._resolve(name, version)
        if len(self._resolved) < _MAX_CACHED:
            self._resolved[name, version] = found
        return found

    def _resolve(self, name: Any, version: Any) -> ObjectSchema | None:
        if name.__class__ is not str or version.__class__ is not str:
            return None
        match = _VERSION.fullmatch(version)
        if match is None:
            return None
        wanted = (int(match[1]), int(match[2]))
        shipped = self.names().get(name)
        if shipped is None:
            self._note(name, version, UNKNOWN, None, ())
            return None
        same_major = sorted(v for v in shipped if v[0] == wanted[0])
        if not same_major:
            self._note(name, version, MAJOR, None, _texts(sorted(shipped)))
            return None
        if wanted in shipped:
            return self._load(name, shipped[wanted], relaxed=False)
        below = [v for v in same_major if v < wanted]
        if below:
            kind = NEWER if below[-1] == same_major[-1] else BETWEEN
            used, relaxed = below[-1], False
        else:
            kind, used, relaxed = OLDER, same_major[0], True
        self._note(name, version, kind, _text(used), _texts(same_major))
        return self._load(name, shipped[used], relaxed=relaxed)

    def _note(
        self, name: str, version: str, kind: str, used: str | None, shipped: tuple[str, ...]
    ) -> None:
        self.notes.add(Note(self.family, name, version, kind, used, shipped))

    def names(self) -> dict[str, dict[Version, str]]:
        """Every shipped object name, with its versions and their file names (read once)."""
        if self._names is None:
            names: dict[str, dict[Version, str]] = {}
            folder = self.files.joinpath(self.family)
            for entry in folder.iterdir() if folder.is_dir() else ():
                versions = {}
                for file in entry.iterdir() if entry.is_dir() else ():
                    match = _VERSION.fullmatch(file.name.removesuffix(".json"))
                    if match and file.name.endswith(".json"):
                        versions[int(match[1]), int(match[2])] = file.name
                if versions:
                    names[entry.name] = versions
            self._names = names
        return self._names

    def _load(self, name: str, file: str, *, relaxed: bool) -> ObjectSchema:
        key = (name, file, relaxed)
        if key not in self._compiled:
            text = self.files.joinpath(self.family, name, file).read_text("utf-8")
            document: dict[str, Any] = json.loads(text)
            if relaxed:  # an older version: fields added since may be missing
                document = copy.deepcopy(document)
                document["properties"][self.data_key].pop("required", None)
            label = f"{self.family}:{name}@{file.removesuffix('.json')}"
            self._compiled[key] = ObjectSchema(
                compile_builtin(label, document), self._object_fields(document)
            )
        return self._compiled[key]

    def _object_fields(self, document: dict[str, Any]) -> tuple[str, ...]:
        """The data fields whose schema is an object's wrapper (or a list or dict of them)."""
        fields = document["properties"][self.data_key].get("properties", {})
        found = []
        for field, schema in fields.items():
            for sub in (schema, schema.get("items"), schema.get("additionalProperties")):
                if isinstance(sub, dict) and self.name_key in sub.get("properties", {}):
                    found.append(field)
                    break
        return tuple(found)

    # -- checking ------------------------------------------------------------------------

    def tree_valid(self, obj: dict[str, Any], schema: ObjectSchema) -> bool:
        """Whether ``obj`` passes the compiled check of ``schema`` (its :meth:`resolve`) and
        every nested object that of its own (one without a schema: its wrapper was checked)."""
        if not schema.schema.check(obj):  # type: ignore[misc]
            return False
        if not schema.nested:
            return True
        data = obj[self.data_key]
        for field in schema.nested:
            value = data.get(field)
            if value is None:
                continue
            for child in _objects_in(value, self.name_key):
                found = self.resolve(child)
                if found is not None and not self.tree_valid(child, found):
                    return False
        return True

    def problems(self, obj: dict[str, Any], prefix: str) -> tuple[Schema | None, Found]:
        """The schema ``obj`` was checked against (None: only its wrapper) and the problems
        of it and its nested objects, each at its JSON path under ``prefix``."""
        found = self.resolve(obj)
        if found is None:
            return None, self.wrapper.problems(obj, prefix) or []
        out: Found = []
        self._tree_problems(obj, found, prefix, out)
        return found.schema, out

    def _tree_problems(
        self, obj: dict[str, Any], schema: ObjectSchema, at: str, out: Found
    ) -> None:
        out.extend(schema.schema.problems(obj, at) or [])
        data = obj.get(self.data_key)
        if data.__class__ is not dict:
            return
        for field in schema.nested:
            value = data.get(field)
            if value is None:
                continue
            for parts, child in _objects_at(value, self.name_key, (self.data_key, field)):
                if not all(key in child for key in self._wrapper_keys):
                    continue  # the parent's schema says which key is missing
                found = self.resolve(child)
                if found is not None:
                    self._tree_problems(child, found, json_path(parts, at), out)


def _objects_in(value: Any, name_key: str) -> Iterator[dict[str, Any]]:
    """The objects in a field's value: itself, the items of a list or a dict's values."""
    if value.__class__ is dict:
        if name_key in value:
            yield value
            return
        value = value.values()
    elif value.__class__ is not list:
        return
    for item in value:
        if item.__class__ is dict and name_key in item:
            yield item


def _objects_at(
    value: Any, name_key: str, parts: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """:func:`_objects_in` with each object's path parts."""
    if value.__class__ is dict:
        if name_key in value:
            yield parts, value
            return
        pairs: Any = value.items()
    elif value.__class__ is list:
        pairs = enumerate(value)
    else:
        return
    for key, item in pairs:
        if item.__class__ is dict and name_key in item:
            yield (*parts, key), item


def _text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def _texts(versions: list[Version]) -> tuple[str, ...]:
    return tuple(_text(v) for v in versions)


__all__ = [
    "ObjectFamily",
    "ObjectSchema",
]
