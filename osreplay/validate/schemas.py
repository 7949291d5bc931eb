"""The shipped schemas: loaded from the package, compiled once into a fast check.

A :class:`Schema` pairs jsonschema (the reference, which words the problems) with, for a
shipped schema, the compiled yes/no check of :mod:`osreplay.validate.compiler`. Only when
the check says no does jsonschema run; a shipped schema's root is split into parts so
that jsonschema re-checks only the parts that failed (:func:`_split_root`). User schemas
(``--schema``) are loaded by :mod:`osreplay.validate.user_schemas` and use jsonschema alone.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from osreplay.errors import UsageError
from osreplay.validate.compiler import ANNOTATIONS, compile_check
from osreplay.validate.messages import error_message, json_path

BUILTIN_SCHEMAS = ("envelope", "cadf-event", "nova-versioned", "ironic-versioned", "keystone-basic")

#: A problem found by a schema: ``(json_path, message)``.
Found = list[tuple[str, str]]


@dataclass(slots=True)
class Schema:
    """One schema, with jsonschema for the messages and, if shipped, a fast yes/no check."""

    name: str
    schema: dict[str, Any] | bool
    make_reference: Callable[[], Any]  # builds the jsonschema validator, on first need
    check: Callable[[Any], bool] | None = None  # compile_check(), shipped schemas only
    # Shipped schemas: the root split into parts, each with its own check and reference,
    # so that jsonschema re-checks only the parts that failed (see _split_root); built
    # when a record first fails the check (most runs never need them).
    make_parts: Callable[[], tuple[_Part, ...]] | None = None
    _parts: tuple[_Part, ...] | None = None
    _reference: Any = None

    @property
    def reference(self) -> Any:
        if self._reference is None:
            self._reference = self.make_reference()
        return self._reference

    @property
    def parts(self) -> tuple[_Part, ...]:
        if self._parts is None:
            self._parts = self.make_parts() if self.make_parts is not None else ()
        return self._parts

    def problems(self, instance: Any, prefix: str) -> Found | None:
        """None when valid, else ``[(json_path, message), ...]``."""
        if self.check is not None:
            try:
                if self.check(instance):
                    return None
            except RecursionError:
                return [(prefix, "nesting too deep to validate")]
        return self.reference_problems(instance, prefix)

    def reference_problems(self, instance: Any, prefix: str) -> Found | None:
        """jsonschema's verdict and messages."""
        import referencing.exceptions

        try:
            if self.parts:
                errors = [
                    error
                    for part in self.parts
                    if not part.check(instance)
                    for error in part.reference.iter_errors(instance)
                ]
            else:
                errors = list(self.reference.iter_errors(instance))
        except RecursionError:
            return [(prefix, "nesting too deep to validate")]
        except referencing.exceptions.Unresolvable as exc:  # checked up front; never expected
            raise UsageError(f"{self.name}: a reference cannot be resolved: {exc}") from None
        if not errors:
            return None
        found: list[tuple[str, str]] = []
        for error in errors:
            item = (json_path(error.absolute_path, prefix), error_message(error))
            if item not in found:
                found.append(item)
        return found


def load_builtin_schema(name: str) -> dict[str, Any]:
    """The shipped schema ``name`` (one of BUILTIN_SCHEMAS) as a dict."""
    schema: dict[str, Any] = json.loads(schema_files().joinpath(f"{name}.json").read_text("utf-8"))
    return schema


def schema_files() -> Any:
    """The schemas folder: package data when installed, ``schemas/`` in a source tree.

    ``python -m osreplay`` (or ``python -m pytest``) run from a checkout imports the
    ``osreplay`` folder of the checkout, where ``osreplay.schemas`` does not exist: the
    wheel maps the top-level ``schemas/`` folder to that package.
    """
    try:
        return resources.files("osreplay.schemas")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "schemas"


@dataclass(slots=True)
class _Part:
    """Some root keywords of a shipped schema: their check, and jsonschema on them alone."""

    schema: dict[str, Any]  # the root with only these keywords (and the annotations)
    check: Callable[[Any], bool]
    inlined: dict[str, Any]  # the same keywords, from the schema with $refs inlined
    _reference: Any = None

    @property
    def reference(self) -> Any:
        if self._reference is None:
            import jsonschema  # type: ignore[import-untyped]

            self._reference = jsonschema.Draft7Validator(self.inlined)
        return self._reference


def compile_builtin(name: str, schema: dict[str, Any]) -> Schema:
    """A shipped schema: the compiled fast check, tested equal to jsonschema (see module doc)."""

    def reference() -> Any:
        import jsonschema

        return jsonschema.Draft7Validator(inline_refs(schema))

    def parts() -> tuple[_Part, ...]:
        inlined = inline_refs(schema)
        return tuple(
            _Part(part, compile_check(part, root=schema), _restrict(inlined, part))
            for part in _split_root(schema)
        )

    return Schema(name, schema, reference, check=compile_check(schema), make_parts=parts)


# Root keywords jsonschema reads together: each group stays in one part.
_TOGETHER = (
    frozenset({"properties", "patternProperties", "additionalProperties"}),
    frozenset({"if", "then", "else"}),
    frozenset({"items", "additionalItems"}),
)


def _split_root(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The root of ``schema`` as parts whose jsonschema errors, concatenated, are its own.

    jsonschema yields errors keyword by keyword in the schema's order, and for
    ``properties`` property by property: a part per keyword (per property when no
    ``patternProperties``/``additionalProperties`` reads them too), in that order, keeps
    the same errors in the same order. Annotations (``errorMessage``, ``definitions``) go
    into every part; ``$ref``s still resolve in the whole schema (``"#"`` is its root).
    tests/unit/test_validate.py compares the messages.
    """
    if "$ref" in schema:
        return [schema]
    keep = {key: value for key, value in schema.items() if key in ANNOTATIONS}
    groups: list[list[str]] = []
    for keyword in schema:
        if keyword in ANNOTATIONS:
            continue
        together = next((group for group in _TOGETHER if keyword in group), None)
        earlier = next((g for g in groups if together and together & set(g)), None)
        if earlier is not None:
            earlier.append(keyword)
        else:
            groups.append([keyword])
    parts: list[dict[str, Any]] = []
    for group in groups:
        if group == ["properties"] and isinstance(schema["properties"], dict):
            parts.extend(
                {**keep, "properties": {key: sub}} for key, sub in schema["properties"].items()
            )
        else:
            parts.append({**keep, **{keyword: schema[keyword] for keyword in group}})
    return parts


def _restrict(inlined: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """``part``'s keywords, taken from the schema with its $refs inlined."""
    out = {key: inlined[key] for key in part if key != "properties"}
    if "properties" in part:
        out["properties"] = {key: inlined["properties"][key] for key in part["properties"]}
    return out


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of a shipped schema with each local ``$ref`` replaced by the subschema it names.

    jsonschema then never resolves a reference at run time (a fifth of its time on a
    CADF event). Draft-07 ignores the siblings of ``$ref``, so verdicts and messages stay
    the same (tests/unit/test_validate.py compares them). A recursive schema becomes a
    cyclic dict, which jsonschema walks lazily, only as deep as the instance.
    """
    root: dict[str, Any] = copy.deepcopy(schema)

    def target(ref: str) -> Any:
        for _ in range(32):  # a chain of $refs to $refs, not a loop
            node: Any = root
            for part in [p for p in ref[1:].split("/") if p]:
                node = node[part.replace("~1", "/").replace("~0", "~")]
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node
            ref = node["$ref"]
        raise ValueError(f"$ref loop at {ref}")

    stack: list[Any] = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for key, value in list(node.items() if isinstance(node, dict) else enumerate(node)):
            ref = value.get("$ref") if isinstance(value, dict) else None
            if isinstance(ref, str) and ref.startswith("#"):
                value = node[key] = target(ref)
            if isinstance(value, (dict, list)):
                stack.append(value)
    return root


__all__ = [
    "BUILTIN_SCHEMAS",
    "Found",
    "Schema",
    "compile_builtin",
    "inline_refs",
    "load_builtin_schema",
    "schema_files",
]
