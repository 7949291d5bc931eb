"""User schemas (``--schema GLOB=PATH``): loaded and checked when the run starts.

:func:`compile_user_schema` checks a schema up front (its dialect's metaschema, every
``$ref``/``$dynamicRef`` resolved, nesting depth) and raises UsageError naming the file
otherwise. References resolve inside the schema and to local files (:class:`LocalSchemas`);
validate never reaches the network.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osreplay.errors import UsageError
from osreplay.model.files import open_error, os_reason
from osreplay.validate.schemas import Schema

if TYPE_CHECKING:
    from referencing import Resource


def parse_schema_option(text: str) -> tuple[str, str]:
    """``EVENT_TYPE_GLOB=PATH`` -> ``(glob, path)``; raise UsageError when malformed."""
    glob, sep, path = text.partition("=")
    if not sep or not glob or not path:
        raise UsageError(
            f"--schema {text!r}: expected EVENT_TYPE_GLOB=PATH, e.g. 'identity.*=schema.json'"
        )
    return glob, path


def load_user_schema(path: str) -> dict[str, Any] | bool:
    try:
        with open(path, encoding="utf-8") as handle:
            schema = json.load(handle)
    except OSError as exc:
        raise open_error(f"schema {path}", exc) from None
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"schema {path} is not valid JSON: {exc}") from None
    if not isinstance(schema, (dict, bool)):
        raise UsageError(f"schema {path} is not a JSON Schema (not an object)")
    return schema


def compile_user_schema(path: str) -> Schema:
    """A user's schema, checked now (dialect, every reference, depth); jsonschema alone.

    ``$ref`` resolves inside the schema and to local files (paths relative to the schema's
    folder); a remote reference is refused, since validate never reaches the network.
    Raises UsageError naming the file when the schema cannot be used.
    """
    import jsonschema  # type: ignore[import-untyped]
    import referencing.jsonschema
    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]
    from jsonschema_specifications import (  # type: ignore[import-untyped]
        REGISTRY as SPEC_REGISTRY,
    )
    from referencing import Registry

    schema = load_user_schema(path)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise UsageError(f"{path} is not a valid JSON Schema: {exc.message}") from None
    except RecursionError:
        raise UsageError(f"{path}: nested too deep to check") from None
    spec = referencing.jsonschema.specification_with(
        _dialect_of(cls), default=referencing.jsonschema.DRAFT7
    )
    local = LocalSchemas(path, schema, spec)
    registry: Registry[Any] = Registry(retrieve=local)  # type: ignore[call-arg]
    _check_references(path, spec.create_resource(schema), registry.combine(SPEC_REGISTRY), local)
    reference = cls(schema, registry=registry)
    return Schema(path, schema, lambda: reference)


def _dialect_of(cls: Any) -> str:
    meta = cls.META_SCHEMA
    return str(meta.get("$id") or meta.get("id") or "")


class _RemoteRefused(Exception):
    """A reference that would need the network."""


class LocalSchemas:
    """The ``retrieve`` of a user schema's registry: local files only, never the network.

    A relative reference is a path beside the schema (from the referring file, as URIs
    resolve); ``file:`` URIs are read as they are; when the schema's ``$id`` is a URL, a
    reference under that URL's folder maps to the same place under the schema's folder.
    Anything else is refused. Each file is read once per run.
    """

    def __init__(self, path: str, schema: Any, spec: Any) -> None:
        self.path = path
        self.folder = Path(path).resolve().parent
        self.spec = spec
        root_id = schema.get("$id") if isinstance(schema, dict) else None
        self.id_folder = root_id.rsplit("/", 1)[0] + "/" if isinstance(root_id, str) else None
        self.retrieved: dict[str, Any] = {}

    def local_path(self, uri: str) -> Path:
        parts = urllib.parse.urlsplit(uri)
        if parts.scheme == "file":
            return Path(urllib.parse.unquote(parts.path))
        if not parts.scheme and not parts.netloc:
            return self.folder / urllib.parse.unquote(parts.path)
        if self.id_folder and uri.startswith(self.id_folder) and parts.scheme != "urn":
            return self.folder / urllib.parse.unquote(uri[len(self.id_folder) :])
        raise _RemoteRefused(uri)

    def __call__(self, uri: str) -> Resource[Any]:
        from referencing import Resource

        if uri in self.retrieved:
            return self.retrieved[uri]  # type: ignore[no-any-return]
        target = self.local_path(uri)
        try:
            contents = json.loads(target.read_bytes())
        except OSError as exc:
            raise OSError(f"cannot read {target}: {os_reason(exc).lower()}") from None
        except (ValueError, RecursionError):
            raise ValueError(f"{target} is not valid JSON") from None
        resource = Resource.from_contents(contents, default_specification=self.spec)
        self.retrieved[uri] = resource
        return resource


# Deeper than any real schema; deep enough to hit Python's recursion limit in jsonschema.
_MAX_SCHEMA_DEPTH = 100
_REFERENCE_KEYWORDS = ("$ref", "$dynamicRef")


def _check_references(path: str, root: Resource[Any], registry: Any, local: LocalSchemas) -> None:
    """Resolve every reference of the schema (and of the local files it pulls in) now."""
    pending = [(registry.resolver_with_root(root), root, 0)]
    walked: set[str] = set()
    while pending:
        resolver, resource, depth = pending.pop()
        if depth > _MAX_SCHEMA_DEPTH:
            raise UsageError(f"{path}: nested more than {_MAX_SCHEMA_DEPTH} levels deep")
        resolver = resolver.in_subresource(resource)
        contents = resource.contents
        if isinstance(contents, dict):
            for keyword in _REFERENCE_KEYWORDS:
                ref = contents.get(keyword)
                if isinstance(ref, str):
                    _lookup(path, resolver, keyword, ref)
        pending.extend((resolver, sub, depth + 1) for sub in resource.subresources())
        for uri, pulled in list(local.retrieved.items()):  # files pulled in: walk them too
            if uri not in walked:
                walked.add(uri)
                pending.append((registry.with_resource(uri, pulled).resolver(uri), pulled, 0))


def _lookup(path: str, resolver: Any, keyword: str, ref: str) -> None:
    import referencing.exceptions

    where = f"{path}: {keyword} {json.dumps(ref)}"
    try:
        resolver.lookup(ref)
    except referencing.exceptions.PointerToNowhere as exc:
        raise UsageError(f"{where} points to nothing ({exc.ref!r} does not exist)") from None
    except referencing.exceptions.NoSuchAnchor as exc:
        raise UsageError(f"{where}: no anchor {exc.anchor!r} in the schema") from None
    except referencing.exceptions.Unresolvable as exc:
        cause = _root_cause(exc)
        if isinstance(cause, _RemoteRefused):
            target = "" if str(cause) == ref else f" ({cause})"
            raise UsageError(
                f"{where} is remote{target}; validate never fetches schemas: save it "
                "beside the schema and refer to it by a relative path"
            ) from None
        if isinstance(cause, (OSError, ValueError)):
            raise UsageError(f"{where}: {cause}") from None
        raise UsageError(f"{where} cannot be resolved") from None


def _root_cause(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


__all__ = ["LocalSchemas", "compile_user_schema", "load_user_schema", "parse_schema_option"]
