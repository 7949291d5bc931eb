"""Write the nova and ironic payload schemas from the services' own object definitions.

Run by hand, in a virtualenv of its own with one release of the service installed (never
in osreplay's environment, and CI does not run it)::

    python3 -m venv /work/venvs/nova && /work/venvs/nova/bin/pip install nova==34.0.0
    /work/venvs/nova/bin/python schemas/generate.py nova
    /work/venvs/nova/bin/pip install --no-deps nova==33.0.2   # then the next release
    /work/venvs/nova/bin/python schemas/generate.py nova

For every registered notification payload object (nova: after
``NovaObjectRegistry.register_notification_objects()``; ironic: after
``ironic.objects.register_all()``), and every object those payloads nest, it takes
oslo.versionedobjects' ``VersionedObject.to_json_schema()`` and writes it, with the gaps
below filled, to ``schemas/<service>/<ObjectName>/<version>.json``. Each object version is
written once: a later run (another release) that finds the same schema only adds its
release to the file's ``$comment``; one that finds a different schema for the same object
version merges the enums (values added without a version bump) and says so.

The gaps filled (osreplay.validate reads these files; docs/development.md explains them):

- nested objects: ``to_json_schema()`` inlines the newest class of each nested object;
  a nested object carries its own name and version, so the field only checks the wrapper
  (the four ``<service>_object.*`` keys, the object names the field takes) and osreplay
  checks the nested object against the schema of its own name and version;
- a nullable enum gets ``null`` in its ``enum`` too (``"task_state": null`` is what nova
  sends), not only in its ``type``;
- ``format`` (``date-time``, ``ipv4``, ``ipv6``) is not asserted by draft-07 validators,
  and the ``oneOf`` of ``ipv4`` and ``ipv6`` formats that IP address fields get would then
  refuse every address: IP addresses get a permissive pattern, the other formats go;
- ``readonly``, ``default`` and ``uniqueItems`` (sets) are dropped: they say nothing about
  what goes over the wire that osreplay checks; ``type: ["x"]`` becomes ``type: "x"``;
- the object's name and namespace become constants, its version a ``MAJOR.MINOR`` pattern
  (osreplay picks the schema by version and checks a newer minor against the newest one);
- an enum field keeps its ``enum`` only: its ``type`` adds a second problem for one value.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import inspect
import json
import pkgutil
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DRAFT7 = "http://json-schema.org/draft-07/schema#"
VERSION_SCHEMA = {
    "type": "string",
    "pattern": "^[0-9]+\\.[0-9]+$",
    "errorMessage": "must be a version 'MAJOR.MINOR', e.g. '1.0'",
}
IP_PATTERN = "^([0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(%.+)?)$"
UUID_ERROR = "must be a UUID"
IP_ERROR = "must be an IP address"


def nova_objects() -> tuple[list[type], type]:
    """nova's notification payload classes (registered) and their base class."""
    import nova.notifications.objects as package
    from nova.notifications.objects import base as notification_base
    from nova.objects import base

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    base.NovaObjectRegistry.register_notification_objects()
    return _registered(), notification_base.NotificationPayloadBase


def ironic_objects() -> tuple[list[type], type]:
    """ironic's notification payload classes and their base class."""
    import ironic.objects
    from ironic.objects import notification

    ironic.objects.register_all()
    return _registered(), notification.NotificationPayloadBase


SERVICES = {"nova": nova_objects, "ironic": ironic_objects}

MAC_PATTERN = "^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5,19}$"
# Field types whose get_schema() raises NotImplementedError, by class path: what their
# to_primitive() puts on the wire.
MISSING_SCHEMAS: dict[str, dict[str, Any]] = {
    # coerce() returns a dict, sent as it is
    "ironic.objects.fields.FlexibleDict": {"type": ["object"]},
    # utils.validate_and_normalize_mac(): lowercase, colons
    "ironic.objects.fields.MACAddress": {
        "type": ["string"],
        "pattern": MAC_PATTERN,
        "errorMessage": "must be a MAC address",
    },
}


def _registered() -> list[type]:
    from oslo_versionedobjects import base

    return [classes[0] for classes in base.VersionedObjectRegistry.obj_classes().values()]


def payload_classes(service: str) -> list[type]:
    """Every payload class, and every object class a payload nests, by name."""
    from oslo_versionedobjects import fields

    registered, payload_base = SERVICES[service]()
    fill_missing_schemas(registered)
    by_name = {cls.obj_name(): cls for cls in registered}
    todo = [cls for cls in registered if issubclass(cls, payload_base)]
    found: dict[str, type] = {}
    while todo:
        cls = todo.pop()
        if cls.obj_name() in found:
            continue
        found[cls.obj_name()] = cls
        for field in cls.fields.values():
            kind = field._type
            while isinstance(kind, (fields.List, fields.Dict, fields.Set)):
                kind = kind._element_type._type
            if isinstance(kind, fields.Object) and kind._obj_name in by_name:
                todo.append(by_name[kind._obj_name])
    return [found[name] for name in sorted(found)]


def fill_missing_schemas(classes: list[type]) -> None:
    """Give the field types without get_schema() theirs, from MISSING_SCHEMAS.

    A type missing from MISSING_SCHEMAS stops the run: say what it sends, then re-run.
    """
    from oslo_versionedobjects import fields

    for cls in classes:
        for name, field in cls.fields.items():
            kind = field._type
            while isinstance(kind, (fields.List, fields.Dict, fields.Set)):
                kind = kind._element_type._type
            kind_class = type(kind)
            if kind_class.get_schema is not fields.FieldType.get_schema:
                continue
            path = f"{kind_class.__module__}.{kind_class.__qualname__}"
            if path not in MISSING_SCHEMAS:
                sys.exit(
                    f"{cls.obj_name()}.{name}: {path} has no get_schema(): add it to "
                    "MISSING_SCHEMAS in schemas/generate.py"
                )
            schema = MISSING_SCHEMAS[path]
            kind_class.get_schema = lambda self, schema=schema: copy.deepcopy(schema)


def subclass_names(name: str) -> list[str]:
    """``name`` and the registered objects derived from it (what the field may hold)."""
    from oslo_versionedobjects import base

    classes = base.VersionedObjectRegistry.obj_classes()
    if name not in classes:
        return [name]
    root = classes[name][0]
    return sorted(other for other, versions in classes.items() if issubclass(versions[0], root))


def object_schema(cls: type, service: str) -> dict[str, Any]:
    """``cls.to_json_schema()`` with the gaps filled (see the module's docstring)."""
    raw = cls.to_json_schema()
    prefix = f"{cls.OBJ_SERIAL_NAMESPACE}."
    data = raw["properties"][prefix + "data"]
    properties = {
        key: fix_field(value, prefix) for key, value in sorted(data.get("properties", {}).items())
    }
    body: dict[str, Any] = {"type": "object", "properties": properties}
    if sends_only_set_fields(cls):
        body["description"] = (
            "populate_schema(set_none=False): only the fields set on the source object are sent"
        )
    elif data.get("required"):
        body["required"] = sorted(data["required"])
    return {
        "$schema": DRAFT7,
        "$id": f"urn:osreplay:schema:{service}:{cls.obj_name()}@{cls.VERSION}",
        "title": f"{service} {cls.obj_name()} {cls.VERSION}",
        "type": "object",
        "required": [prefix + key for key in ("name", "namespace", "version", "data")],
        "properties": {
            prefix + "name": {"const": cls.obj_name()},
            prefix + "namespace": {"const": cls.OBJ_PROJECT_NAMESPACE},
            prefix + "version": VERSION_SCHEMA,
            prefix + "data": body,
            prefix + "changes": {"type": "array", "items": {"type": "string"}},
        },
    }


def sends_only_set_fields(cls: type) -> bool:
    """nova's ImageMetaPropsPayload leaves unset what its source has not set: a
    non-nullable field may be missing (``to_json_schema()`` would require it)."""
    return "set_none=False" in inspect.getsource(cls)


def nested_name(schema: dict[str, Any], prefix: str) -> str | None:
    """The object name of an inlined nested object schema (``fields of NAME``), else None."""
    data = schema.get("properties", {}).get(prefix + "data")
    if not isinstance(data, dict):
        return None
    description = data.get("description", "")
    return description.removeprefix("fields of ") if description.startswith("fields of ") else None


def fix_field(schema: dict[str, Any], prefix: str) -> dict[str, Any]:
    """One field's (or element's) schema with the gaps filled."""
    schema = copy.deepcopy(schema)
    for key in ("readonly", "default", "uniqueItems"):
        schema.pop(key, None)
    types = schema.get("type")
    nullable = isinstance(types, list) and "null" in types
    name = nested_name(schema, prefix)
    if name is not None:  # only the wrapper: the nested object is checked by its own version
        schema = {
            "type": "object",
            "required": [prefix + key for key in ("name", "namespace", "version", "data")],
            "properties": {
                prefix + "name": {"enum": subclass_names(name)},
                prefix + "version": VERSION_SCHEMA,
                prefix + "data": {"type": "object"},
            },
            "description": f"a {name}: checked against the schema of its own version",
        }
        if nullable:
            schema["type"] = ["object", "null"]
        return schema
    one_of = schema.get("oneOf") or [schema]
    if {sub.get("format") for sub in one_of} <= {"ipv4", "ipv6"}:  # the IP address fields
        schema.pop("oneOf", None)
        types = ["string", "null"] if nullable else ["string"]
        schema.update(type=types, pattern=IP_PATTERN, errorMessage=IP_ERROR)
    schema.pop("format", None)
    if schema.get("pattern") == uuid_pattern():
        schema["errorMessage"] = UUID_ERROR
    if "enum" in schema:  # sorted: some services build their values from a set
        schema["enum"] = sorted_enum([*schema["enum"], *([None] if nullable else [])])
        schema.pop("type", None)  # the enum says it all: one problem, not two
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            schema[key] = fix_field(schema[key], prefix)
    if isinstance(types, list) and len(types) == 1:
        schema["type"] = types[0]
    return schema


def sorted_enum(values: list[Any]) -> list[Any]:
    """The values once each, strings sorted, null last."""
    unique = list(dict.fromkeys(values))
    return sorted((v for v in unique if v is not None), key=str) + [None] * (None in unique)


def uuid_pattern() -> str:
    """The pattern oslo.versionedobjects gives UUID fields."""
    from oslo_versionedobjects import fields

    return str(fields.UUID.PATTERN)


def provenance(service: str) -> str:
    return f"{service} {metadata.version(service)}"


def merge(old: dict[str, Any], new: dict[str, Any], where: str, notes: list[str]) -> Any:
    """``new`` merged into ``old``: enums united, anything else must be equal."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = {}
        for key in {**old, **new}:
            if key == "$comment":
                continue
            if key not in old or key not in new:
                notes.append(f"{where}/{key}: only in one release; kept")
                out[key] = old.get(key, new.get(key))
            elif key == "enum" and old[key] != new[key]:
                added = [v for v in new[key] if v not in old[key]]
                out[key] = sorted_enum(old[key] + added)
                if added:
                    notes.append(f"{where}/enum: {added} added")
            else:
                out[key] = merge(old[key], new[key], f"{where}/{key}", notes)
        return out
    if old != new:
        notes.append(f"{where}: {old!r} and {new!r} differ; kept {new!r}")
        return new
    return old


def write(schema: dict[str, Any], path: Path, release: str) -> str:
    """Write ``schema`` at ``path`` once; ``written``, ``same`` or ``merged: ...``."""
    if not path.exists():
        schema = {"$comment": f"generated by schemas/generate.py from {release}", **schema}
        state = "written"
    else:
        old = json.loads(path.read_text("utf-8"))
        comment = old.get("$comment", "")
        if release not in comment:
            comment = f"{comment}, {release}" if comment else release
        notes: list[str] = []
        merged = merge({k: v for k, v in old.items() if k != "$comment"}, schema, "", notes)
        schema = {"$comment": comment, **merged}
        state = "merged: " + "; ".join(notes) if notes else "same"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return state


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service", choices=sorted(SERVICES))
    parser.add_argument("--out", type=Path, default=HERE, help="default: this folder")
    args = parser.parse_args()
    release = provenance(args.service)
    classes = payload_classes(args.service)
    counts: dict[str, int] = {}
    for cls in classes:
        schema = object_schema(cls, args.service)
        path = args.out / args.service / cls.obj_name() / f"{cls.VERSION}.json"
        state = write(schema, path, release)
        counts[state.split(":")[0]] = counts.get(state.split(":")[0], 0) + 1
        if state not in ("written", "same"):
            print(f"{path.relative_to(args.out)}: {state}", file=sys.stderr)
    print(f"{release}: {len(classes)} objects: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
