"""``osreplay schema infer`` and ``osreplay schema diff``: payload drift between releases.

**infer** reads recordings once and feeds every payload to a genson ``SchemaBuilder``, one
per event type and, where the payload is a versioned object (``nova_object.version``,
``ironic_object.version``), one per version. Each schema is written to
``DIR/<event_type>.schema.json`` (``<event_type>@<version>.schema.json`` for a version),
with ``x-osreplay`` saying what it was inferred from.

**diff** compares two recordings, or two folders of such schemas, per event type (all
versions of a type merged, the versions reported). Each schema is flattened to its
fields, ``$.payload.a.b`` with ``[*]`` for array items, each with its JSON types and
whether it is required. Findings:

- event types added and removed (a removed one is breaking);
- fields added, and fields removed (breaking);
- fields whose non-null type changed (breaking when B has a type A never had);
- fields that became nullable.

Structure only, never values, so a rerun of the same scenario (new ids, times and hosts)
shows no change; an object key that is itself a UUID (a mapping keyed by id) is read as
``<uuid>`` for the same reason.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from genson import SchemaBuilder  # type: ignore[import-untyped]

from osreplay.errors import InputError, UsageError, WriteError
from osreplay.model.files import expand_inputs
from osreplay.model.output import check_folder, write_whole
from osreplay.scenario.records import Unreadable, read

SCHEMA_SUFFIX = ".schema.json"
VERSIONED = ("nova_object", "ironic_object", "versioned_object")
ROOT = "$.payload"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_UUID_KEY = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)

ADDED_TYPE, REMOVED_TYPE = "event type added", "event type removed"
ADDED, REMOVED, TYPE, NULLABLE = "field added", "field removed", "type changed", "became nullable"


class SchemaConsole(Protocol):
    def unreadable(self, line: Unreadable) -> None: ...


# --- infer ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InferOptions:
    files: tuple[str, ...]
    output: str


@dataclass(frozen=True, slots=True)
class Inferred:
    event_type: str
    version: str | None
    object_name: str | None
    records: int
    path: str


@dataclass(slots=True)
class InferSummary:
    files: tuple[str, ...]
    output: str
    records: int = 0
    unreadable: int = 0
    schemas: list[Inferred] = field(default_factory=list)


@dataclass(slots=True)
class _Group:
    builder: Any
    object_name: str | None
    records: int = 0


def payload_version(payload: Any) -> tuple[str | None, str | None]:
    """(object name, version) of a versioned payload, else (None, None)."""
    if isinstance(payload, dict):
        for prefix in VERSIONED:
            version = payload.get(prefix + ".version")
            if isinstance(version, str):
                name = payload.get(prefix + ".name")
                return (name if isinstance(name, str) else None), version
    return None, None


def infer_schemas(
    files: tuple[str, ...], console: SchemaConsole, counts: list[int]
) -> dict[tuple[str, str | None], dict[str, Any]]:
    """One schema per (event type, version), in order of first appearance; ``counts``
    receives [records, unreadable]."""
    groups: dict[tuple[str, str | None], _Group] = {}
    counts[:] = [0, 0]

    def on_unreadable(line: Unreadable) -> None:
        counts[1] += 1
        console.unreadable(line)

    for entry in read(files, on_unreadable):
        counts[0] += 1
        note = entry.note
        name, version = payload_version(note.payload)
        key = (note.event_type, version)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(SchemaBuilder(), name)
        group.builder.add_object(note.payload)
        group.records += 1
    out = {}
    for (event_type, version), group in groups.items():
        schema = group.builder.to_schema()
        schema["title"] = event_type if version is None else f"{event_type} {version}"
        schema["x-osreplay"] = {
            "event_type": event_type,
            "object": group.object_name,
            "version": version,
            "records": group.records,
        }
        out[(event_type, version)] = schema
    return out


def schema_filename(event_type: str, version: str | None) -> str:
    name = _UNSAFE_NAME.sub("_", event_type)
    if version is not None:
        name += "@" + _UNSAFE_NAME.sub("_", version)
    return name + SCHEMA_SUFFIX


def run_infer(options: InferOptions, console: SchemaConsole) -> InferSummary:
    """Write one schema per event type (and version) into ``options.output``."""
    files = expand_inputs(options.files)
    summary = InferSummary(files, options.output)
    # Before any file is read: -o must be a folder (or its parent one) that takes files.
    if os.path.exists(options.output) and not os.path.isdir(options.output):
        raise UsageError(f"-o {options.output}: exists and is not a folder")
    if os.path.isdir(options.output):
        check_folder(options.output, what=options.output)
    elif os.path.isdir(os.path.dirname(os.path.abspath(options.output))):
        check_folder(os.path.dirname(os.path.abspath(options.output)), what=options.output)
    counts = [0, 0]
    schemas = infer_schemas(files, console, counts)
    summary.records, summary.unreadable = counts
    try:
        os.makedirs(options.output, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create {options.output}: {exc.strerror or exc}") from None
    used: set[str] = set()
    for (event_type, version), schema in schemas.items():
        name = schema_filename(event_type, version)
        stem, number = name[: -len(SCHEMA_SUFFIX)], 1
        while name in used:  # "a/b" and "a_b" share a file name: neither may hide the other
            number += 1
            name = f"{stem}-{number}{SCHEMA_SUFFIX}"
        used.add(name)
        path = os.path.join(options.output, name)
        text = json.dumps(schema, indent=2, ensure_ascii=True, sort_keys=False) + "\n"
        # The output-path rule (osreplay.model.output): a link's target is written, the
        # link stays; a file is replaced whole.
        write_whole(path, text.encode("utf-8"))
        summary.schemas.append(
            Inferred(
                event_type,
                version,
                schema["x-osreplay"]["object"],
                schema["x-osreplay"]["records"],
                path,
            )
        )
    return summary


# --- diff -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchemaDiffOptions:
    a: str
    b: str


@dataclass(frozen=True, slots=True)
class FieldInfo:
    types: frozenset[str]
    nullable: bool


@dataclass(frozen=True, slots=True)
class Drift:
    event_type: str
    kind: str
    path: str | None
    a: Any
    b: Any
    breaking: bool


@dataclass(slots=True)
class SchemaDiffSummary:
    a: str
    b: str
    event_types_a: int = 0
    event_types_b: int = 0
    unreadable: int = 0
    drifts: list[Drift] = field(default_factory=list)
    versions: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)

    @property
    def breaking(self) -> list[Drift]:
        return [d for d in self.drifts if d.breaking]


def flatten(schema: Any, path: str = ROOT) -> dict[str, FieldInfo]:
    """Every field of a (genson) schema: its JSON types and whether null is one."""
    found: dict[str, set[str]] = {}
    _walk(schema, path, found)
    out = {}
    for key, types in found.items():
        concrete = frozenset(t for t in types if t != "null")
        if "number" in concrete:  # an integer is a number: a mix is one type
            concrete = concrete - {"integer"}
        out[key] = FieldInfo(concrete, "null" in types)
    return out


def _walk(schema: Any, path: str, found: dict[str, set[str]]) -> None:
    if not isinstance(schema, dict):
        return
    types = found.setdefault(path, set())
    declared = schema.get("type")
    if isinstance(declared, str):
        types.add(declared)
    elif isinstance(declared, list):
        types.update(t for t in declared if isinstance(t, str))
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
        _walk(alternative, path, found)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for key, child in properties.items():
            name = "<uuid>" if _UUID_KEY.fullmatch(key) else key
            _walk(child, path + _segment(name), found)
    items = schema.get("items")
    if isinstance(items, dict):
        _walk(items, path + "[*]", found)
    elif isinstance(items, list):
        for item in items:
            _walk(item, path + "[*]", found)


def _segment(key: str) -> str:
    return "." + key if key.isidentifier() or key == "<uuid>" else f"[{key!r}]"


def _merge(fields: Iterable[dict[str, FieldInfo]]) -> dict[str, FieldInfo]:
    out: dict[str, FieldInfo] = {}
    for one in fields:
        for path, info in one.items():
            old = out.get(path)
            out[path] = (
                info
                if old is None
                else FieldInfo(old.types | info.types, old.nullable or info.nullable)
            )
    return out


def load_side(
    path: str, console: SchemaConsole, summary: SchemaDiffSummary
) -> dict[str, list[dict[str, Any]]]:
    """Schemas per event type, from a folder of schemas or from recordings."""
    if os.path.isdir(path) and any(n.endswith(SCHEMA_SUFFIX) for n in os.listdir(path)):
        return _schema_folder(path)
    counts = [0, 0]
    schemas = infer_schemas(expand_inputs((path,)), console, counts)
    summary.unreadable += counts[1]
    out: dict[str, list[dict[str, Any]]] = {}
    for (event_type, _), schema in schemas.items():
        out.setdefault(event_type, []).append(schema)
    return out


def _schema_folder(folder: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(SCHEMA_SUFFIX):
            continue
        path = os.path.join(folder, name)
        try:
            with open(path, encoding="utf-8") as handle:
                schema = json.load(handle)
        except OSError as exc:
            raise InputError(f"cannot open {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise InputError(f"{path}: not JSON: {exc}") from None
        meta = schema.get("x-osreplay") if isinstance(schema, dict) else None
        event_type = meta.get("event_type") if isinstance(meta, dict) else None
        if not isinstance(event_type, str):
            raise InputError(
                f"{path}: no x-osreplay.event_type (write schemas with osreplay schema infer)"
            )
        out.setdefault(event_type, []).append(schema)
    return out


def _versions(schemas: list[dict[str, Any]]) -> list[str]:
    found = [s.get("x-osreplay", {}).get("version") for s in schemas]
    return sorted(v for v in found if isinstance(v, str))


def compare(
    a: dict[str, list[dict[str, Any]]],
    b: dict[str, list[dict[str, Any]]],
    summary: SchemaDiffSummary,
) -> None:
    summary.event_types_a, summary.event_types_b = len(a), len(b)
    for event_type in sorted(set(a) - set(b)):
        summary.drifts.append(Drift(event_type, REMOVED_TYPE, None, None, None, True))
    for event_type in sorted(set(b) - set(a)):
        summary.drifts.append(Drift(event_type, ADDED_TYPE, None, None, None, False))
    for event_type in sorted(set(a) & set(b)):
        versions = (_versions(a[event_type]), _versions(b[event_type]))
        if versions[0] != versions[1]:
            summary.versions[event_type] = versions
        fields_a = _merge(flatten(s) for s in a[event_type])
        fields_b = _merge(flatten(s) for s in b[event_type])
        summary.drifts.extend(_field_drifts(event_type, fields_a, fields_b))


def _field_drifts(event_type: str, a: dict[str, FieldInfo], b: dict[str, FieldInfo]) -> list[Drift]:
    drifts = []
    for path in sorted(set(a) | set(b)):
        old, new = a.get(path), b.get(path)
        if new is None:
            if not _parent_removed(path, b):
                drifts.append(Drift(event_type, REMOVED, path, _types(old), None, True))
            continue
        if old is None:
            if not _parent_added(path, a):
                drifts.append(Drift(event_type, ADDED, path, None, _types(new), False))
            continue
        if old.types != new.types and old.types and new.types:
            breaking = not new.types <= old.types
            drifts.append(Drift(event_type, TYPE, path, _types(old), _types(new), breaking))
        if new.nullable and not old.nullable:
            drifts.append(Drift(event_type, NULLABLE, path, _types(old), _types(new), False))
    return drifts


def _parent(path: str) -> str | None:
    match = re.search(r"(\.[^.\[]+|\[[^\]]*\])$", path)
    if match is None or path == ROOT:
        return None
    return path[: match.start()] or None


def _parent_removed(path: str, other: dict[str, FieldInfo]) -> bool:
    """A field inside a removed field: the removal of the parent says it already."""
    parent = _parent(path)
    return parent is not None and parent != ROOT and parent not in other


_parent_added = _parent_removed


def _types(info: FieldInfo | None) -> list[str] | None:
    if info is None:
        return None
    return sorted(info.types) + (["null"] if info.nullable else [])


def run_diff(options: SchemaDiffOptions, console: SchemaConsole) -> SchemaDiffSummary:
    summary = SchemaDiffSummary(options.a, options.b)
    side_a = load_side(options.a, console, summary)
    side_b = load_side(options.b, console, summary)
    compare(side_a, side_b, summary)
    return summary
