"""Schema selection and validation results. Never prints; the CLI and report.py do that.

Public API (what ``osreplay validate`` wires together)::

    validator = Validator(extra_schemas=[("identity.*", "my.json")], strict=False)
    summary = Summary()
    for verdict in validator.validate_file(path):      # streams, one per non-blank line
        summary.add(verdict)
        reporter.verdict(verdict)                        # see osreplay.console.report
    reporter.finish(summary)
    exit_code = 0 if summary.ok(strict=strict) else 1

- ``Validator(*, extra_schemas=(), strict=False)``: built once; loads the shipped schemas
  from the package ``osreplay.schemas``. ``extra_schemas`` are ``(EVENT_TYPE_GLOB, PATH)``
  pairs (see :func:`parse_schema_option` for ``GLOB=PATH`` text); a user schema that
  matches a record's ``event_type`` (fnmatch) is applied to its payload in addition to the
  built-in one. ``strict=True`` adds a problem line to records without a payload schema.
  Raises ``InputError`` (file unreadable) or ``UsageError`` (not a JSON Schema).
- ``Validator.validate_file(path) -> Iterator[Verdict]``: ``-`` is stdin, ``.gz`` is read
  transparently, a ``.json`` file is one pretty-printed record; raises ``InputError``
  when the file cannot be opened or read.
- ``Validator.validate_object(obj, *, path="-", lineno=0) -> Verdict`` for one record;
  ``Validator.validate_against(schema_name, instance) -> [(json_path, message)]``.
- ``Verdict(path, lineno, event_type, status, schemas, problems)``; ``status`` is one of
  ``VALID``, ``INVALID``, ``NO_SCHEMA``, ``UNREADABLE``.
- ``Problem(path, lineno, event_type, json_path, message)``; ``json_path`` is like
  ``$.payload.reason.reasonCode``, or None for an unreadable line.
- ``Summary`` counts records, valid, invalid, no_schema, unreadable; ``ok(strict=False)``.

How a record is checked: a bare CADF event (``typeURI`` is the CADF event URI and there is
no ``event_type``) against ``cadf-event``. Anything else is normalised (oslo v1/v2 wire
bodies unwrapped, priority uppercased) and checked against ``envelope``; its payload
against ``cadf-event`` (``typeURI`` is the CADF event URI), ``nova-versioned``
(``nova_object.name``), ``ironic-versioned`` (``ironic_object.name``) or
``keystone-basic`` (``resource_info`` in an ``identity.*`` event), plus matching user
schemas. A payload none of them covers is ``NO_SCHEMA``.

Speed: lines are parsed with orjson (the stdlib parser words the reason for a bad line)
and each shipped schema is compiled once by :func:`compile_check` into a plain yes/no
Python function. Only when the fast check says no does jsonschema, the reference, run
to produce the messages; if jsonschema accepts the instance after all, it is valid.
tests/unit/test_validate.py and tests/fuzz/ check that both agree over the corpus, the
fixtures and mutations of them. User schemas (``--schema``) go through jsonschema alone.

User schemas: :func:`compile_user_schema` checks the schema when the run starts (its
dialect's metaschema, every ``$ref``/``$dynamicRef`` resolved, nesting depth) and raises
UsageError naming the file otherwise. References resolve inside the schema and to local
files (:class:`LocalSchemas`); validate never reaches the network.

Lines longer than ``max_line_bytes`` (``Validator(max_line_bytes=…)``, 32 MiB by default)
are unreadable and never held whole (see osreplay.model.ndjson).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import sys
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osreplay.errors import InputError, UsageError
from osreplay.model.locate import line_of, value_lines
from osreplay.model.ndjson import (
    DEFAULT_MAX_LINE_BYTES,
    display_name,
    fast_loads,
    is_document,
    iter_raw_lines,
    open_binary,
    parse_line,
    read_document,
    too_long,
)
from osreplay.model.notification import (
    CADF_EVENT_TYPEURI,
    OPTIONAL,
    PRIORITIES,
    REQUIRED,
    RecordError,
    is_bare_cadf,
    normalise,
    unreadable_reason,
)

# jsonschema and referencing are imported where first needed: a run over valid records
# with the shipped schemas never needs them, and their import is a tenth of a second.
if TYPE_CHECKING:
    import jsonschema
    from referencing import Resource

VALID = "valid"
INVALID = "invalid"
NO_SCHEMA = "no_schema"
UNREADABLE = "unreadable"

_RECORD_KEYS = frozenset(REQUIRED + OPTIONAL)
_PRIORITY_SET = frozenset(PRIORITIES)

BUILTIN_SCHEMAS = ("envelope", "cadf-event", "nova-versioned", "ironic-versioned", "keystone-basic")

# Enough to fix a record; a record with more is broken in a way a list will not explain.
MAX_PROBLEMS_PER_RECORD = 20
_MAX_VALUE_REPR = 60
_MAX_MESSAGE = 240


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one line; ``json_path`` is None when the line is unreadable."""

    path: str
    lineno: int
    event_type: str | None
    json_path: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome for one non-blank line: its status, the schemas used, the problems."""

    path: str
    lineno: int
    event_type: str | None
    status: str
    schemas: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()


@dataclass(slots=True)
class Summary:
    """Counts over every verdict added; ``records`` is the number of non-blank lines."""

    records: int = 0
    valid: int = 0
    invalid: int = 0
    no_schema: int = 0
    unreadable: int = 0

    def add(self, verdict: Verdict) -> None:
        self.records += 1
        status = verdict.status
        if status == VALID:
            self.valid += 1
        elif status == INVALID:
            self.invalid += 1
        elif status == NO_SCHEMA:
            self.no_schema += 1
        else:
            self.unreadable += 1

    def ok(self, strict: bool = False) -> bool:
        """No invalid or unreadable line (and, when strict, none without a payload schema)."""
        return not (self.invalid or self.unreadable or (strict and self.no_schema))

    def as_dict(self) -> dict[str, int]:
        return {
            "records": self.records,
            "valid": self.valid,
            "invalid": self.invalid,
            "no_schema": self.no_schema,
            "unreadable": self.unreadable,
        }


@dataclass(slots=True)
class _Schema:
    """One schema, with jsonschema for the messages and, if shipped, a fast yes/no check."""

    name: str
    schema: dict[str, Any] | bool
    make_reference: Callable[[], Any]  # builds the jsonschema validator, on first need
    check: Callable[[Any], bool] | None = None  # compile_check(), shipped schemas only
    # Shipped schemas: the root split into parts, each with its own check and reference,
    # so that jsonschema re-checks only the parts that failed (see _split_root).
    parts: tuple[_Part, ...] = ()
    _reference: Any = None

    @property
    def reference(self) -> Any:
        if self._reference is None:
            self._reference = self.make_reference()
        return self._reference

    def problems(self, instance: Any, prefix: str) -> list[tuple[str, str]] | None:
        """None when valid, else ``[(json_path, message), ...]``."""
        if self.check is not None:
            try:
                if self.check(instance):
                    return None
            except RecursionError:
                return [(prefix, "nesting too deep to validate")]
        return self.reference_problems(instance, prefix)

    def reference_problems(self, instance: Any, prefix: str) -> list[tuple[str, str]] | None:
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


# -- the fast check ----------------------------------------------------------------------
#
# jsonschema walks the schema for every instance and builds errors even inside anyOf; for
# the common "valid" answer a plain yes/no function is many times faster. compile_check()
# turns the draft-07 subset osreplay's shipped schemas use into Python source; any other
# keyword raises _Unsupported (a test makes sure every shipped schema compiles).

_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "definitions",
        "errorMessage",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
    }
)
_TYPE_TESTS = {
    "string": "type({v}) is str",
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
    "boolean": "type({v}) is bool",
    "null": "{v} is None",
    "number": "type({v}) in (int, float)",
    "integer": "(type({v}) is int or (type({v}) is float and {v}.is_integer()))",
}


class _Unsupported(Exception):
    """A schema keyword or value the fast check does not implement."""


_LEAF_KEYWORDS = frozenset({"type", "enum", "const", "pattern", "minLength", "maxLength"})
_CONTAINER_KEYWORDS = frozenset(
    {
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "dependencies",
        "items",
        "minItems",
        "maxItems",
    }
)


# Longer expressions are written as functions: the call costs less than re-reading.
_INLINE_MAX = 400


class _CheckCompiler:
    """Writes one Python function per non-trivial subschema; leaf checks are inlined."""

    def __init__(self, root: dict[str, Any] | bool) -> None:
        self.root = root
        self.names: dict[int, str] = {}
        self.sources: list[str] = []
        self.consts: dict[str, Any] = {}

    def const(self, value: Any) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise _Unsupported(f"$ref {ref}")
        node: Any = self.root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise _Unsupported(f"$ref {ref}")
            node = node[part]
        return node

    def test(self, schema: Any, var: str) -> str:
        """A Python expression, true when ``var`` is valid against ``schema``."""
        if schema is True:
            return "True"
        if schema is False:
            return "False"
        if not isinstance(schema, dict):
            raise _Unsupported(repr(schema))
        keywords = schema.keys() - _ANNOTATIONS
        if keywords == {"$ref"}:
            target = self.resolve(schema["$ref"])
            if isinstance(target, dict) and "$ref" not in target:
                schema, keywords = target, target.keys() - _ANNOTATIONS
        expression = self.inline(schema, var)
        if expression is not None:
            return expression
        name = self.function(schema)
        if keywords <= _CONTAINER_KEYWORDS:  # cannot fail on a scalar: skip the call
            return f"(type({var}) not in _CONTAINERS or {name}({var}))"
        return f"{name}({var})"

    def inline(self, schema: Any, var: str) -> str | None:
        """``schema`` as one short expression on ``var``, or None when it needs a function.

        A call per subschema costs more than most checks in it: small subschemas
        (required keys, a few properties, anyOf/allOf/not of those) become expressions.
        """
        if schema is True or schema is False:
            return str(schema)
        if not isinstance(schema, dict):
            return None
        keywords = schema.keys() - _ANNOTATIONS
        parts: list[str] = []
        on_dict: list[str] = []
        for keyword in sorted(keywords - _LEAF_KEYWORDS):
            value = schema[keyword]
            if keyword == "required" and isinstance(value, list):
                on_dict.extend(f"{key!r} in {var}" for key in value)
            elif keyword == "properties" and isinstance(value, dict):
                for key, sub in value.items():
                    test = self.inline(sub, f"{var}[{key!r}]")
                    if test is None:
                        return None
                    if test != "True":
                        on_dict.append(f"({key!r} not in {var} or {test})")
            elif keyword in ("allOf", "anyOf") and isinstance(value, list) and value:
                tests = [self.inline(sub, var) for sub in value]
                if any(test is None for test in tests):
                    return None
                joiner = " and " if keyword == "allOf" else " or "
                parts.append("(" + joiner.join(tests) + ")")  # type: ignore[arg-type]
            elif keyword == "not":
                test = self.inline(value, var)
                if test is None:
                    return None
                parts.append(f"(not {test})")
            elif keyword == "dependencies" and isinstance(value, dict):
                for key, dep in value.items():
                    if isinstance(dep, list):
                        test = "(" + " and ".join(f"{d!r} in {var}" for d in dep) + ")"
                        test = test if dep else "True"
                    else:
                        test = self.inline(dep, var)
                    if test is None:
                        return None
                    on_dict.append(f"({key!r} not in {var} or {test})")
            else:
                return None
        leaf_keywords = keywords & _LEAF_KEYWORDS
        if leaf_keywords:
            parts.insert(0, self.leaves(schema, leaf_keywords, var))
        if on_dict:
            parts.append(f"(type({var}) is not dict or (" + " and ".join(on_dict) + "))")
        expression = "(" + " and ".join(parts) + ")" if parts else "True"
        return expression if len(expression) <= _INLINE_MAX else None

    def leaves(self, schema: dict[str, Any], keywords: Any, var: str) -> str:
        """All leaf keywords of ``schema`` as one expression.

        With ``"type": "string"`` the type test comes first and the string tests after it
        drop their own "not a string" guard (the same answer, one test less).
        """
        if schema.get("type") == "string":
            tests = [self.leaf(schema, "type", var)]
            tests += [self.string_leaf(schema, k, var) for k in sorted(keywords - {"type"})]
        else:
            tests = [self.leaf(schema, keyword, var) for keyword in sorted(keywords)]
        return "(" + " and ".join(tests) + ")" if tests else "True"

    def string_leaf(self, schema: dict[str, Any], keyword: str, var: str) -> str:
        """A leaf test for ``var`` already known to be a string."""
        value = schema[keyword]
        if keyword == "pattern":
            return self.pattern_test(value, var)
        if keyword in ("minLength", "maxLength"):
            op = ">=" if keyword == "minLength" else "<="
            return f"len({var}) {op} {int(value)}"
        return self.leaf(schema, keyword, var)

    def pattern_test(self, pattern: str, var: str) -> str:
        """True when the string ``var`` matches ``pattern`` (re.search semantics)."""
        # Common prefix tests, without the regex engine: ^literal and ^(?!literal).
        negated = re.fullmatch(r"\^\(\?!((?:[A-Za-z0-9_:/-]|\\\.)+)\)", pattern)
        plain = re.fullmatch(r"\^((?:[A-Za-z0-9_:/-]|\\\.)+)", pattern)
        if negated or plain:
            found = negated or plain
            assert found is not None
            prefix = found.group(1).replace("\\.", ".")
            test = f"{var}.startswith({prefix!r})"
            return f"not {test}" if negated else test
        return f"{self.const(re.compile(pattern))}.search({var}) is not None"

    def leaf(self, schema: dict[str, Any], keyword: str, var: str) -> str:
        value = schema[keyword]
        if keyword == "type":
            types = value if isinstance(value, list) else [value]
            if any(t not in _TYPE_TESTS for t in types):
                raise _Unsupported(f"type {value}")
            return "(" + " or ".join(_TYPE_TESTS[t].format(v=var) for t in types) + ")"
        if keyword in ("enum", "const"):
            values = value if keyword == "enum" else [value]
            if not all(isinstance(v, str) for v in values):
                raise _Unsupported(keyword)  # 1 == 1.0 == True: not in the subset
            return f"(type({var}) is str and {var} in {self.const(frozenset(values))})"
        if keyword == "pattern":
            return f"(type({var}) is not str or {self.pattern_test(value, var)})"
        op = ">=" if keyword == "minLength" else "<="
        return f"(type({var}) is not str or len({var}) {op} {int(value)})"

    def function(self, schema: Any) -> str:
        """The name of a generated function ``f(x) -> bool`` for ``schema``."""
        key = id(schema)
        if key in self.names:
            return self.names[key]
        name = self.names[key] = f"_f{len(self.names)}"
        body = self.body(schema)
        self.sources.append(f"def {name}(x):\n" + "".join(f"    {line}\n" for line in body))
        return name

    def body(self, schema: Any) -> list[str]:
        if schema is True or schema is False:
            return [f"return {schema}"]
        if not isinstance(schema, dict):
            raise _Unsupported(repr(schema))
        if "$ref" in schema:  # draft-07: siblings of $ref are ignored
            target = self.resolve(schema["$ref"])
            return [f"return {self.function(target)}(x)"]
        lines: list[str] = []
        on_dict: list[str] = []
        required = schema.get("required", [])
        if isinstance(required, list):
            # First, so that "properties" below may read a required key without a test.
            on_dict.extend(f"if {key!r} not in x: return False" for key in required)
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword in ("then", "else"):
                continue
            if keyword in _LEAF_KEYWORDS:
                lines.append(f"if not {self.leaf(schema, keyword, 'x')}: return False")
            elif keyword in ("minItems", "maxItems"):
                op = "<" if keyword == "minItems" else ">"
                lines.append(f"if type(x) is list and len(x) {op} {int(value)}: return False")
            elif keyword == "items":
                if isinstance(value, list):
                    raise _Unsupported("items array")
                lines.append("if type(x) is list:")
                lines.append("    for v in x:")
                lines.append(f"        if not {self.test(value, 'v')}: return False")
            elif keyword == "required":
                if not isinstance(value, list):
                    raise _Unsupported("required")
            elif keyword == "properties":
                for key, sub in value.items():
                    test = self.test(sub, "v")
                    if test == "True":
                        continue
                    if key in required:  # checked present above
                        on_dict.append(f"v = x[{key!r}]")
                        on_dict.append(f"if not {test}: return False")
                    else:  # `in` then [] beats .get(): most keys are absent
                        on_dict.append(f"if {key!r} in x:")
                        on_dict.append(f"    v = x[{key!r}]")
                        on_dict.append(f"    if not {test}: return False")
            elif keyword in ("additionalProperties", "patternProperties"):
                continue  # below, together
            elif keyword == "dependencies":
                for key, dep in value.items():
                    if isinstance(dep, list):
                        test = " and ".join(f"{d!r} in x" for d in dep) or "True"
                    else:
                        test = self.test(dep, "x")
                    on_dict.append(f"if {key!r} in x and not ({test}): return False")
            elif keyword == "allOf":
                lines.extend(f"if not {self.test(sub, 'x')}: return False" for sub in value)
            elif keyword == "anyOf":
                test = " or ".join(self.test(sub, "x") for sub in value)
                lines.append(f"if not ({test}): return False")
            elif keyword == "oneOf":
                test = " + ".join(f"bool({self.test(sub, 'x')})" for sub in value)
                lines.append(f"if ({test}) != 1: return False")
            elif keyword == "not":
                lines.append(f"if {self.test(value, 'x')}: return False")
            elif keyword == "if":
                then = self.test(schema.get("then", True), "x")
                else_ = self.test(schema.get("else", True), "x")
                lines.append(
                    f"if not (({then}) if {self.test(value, 'x')} else ({else_})): return False"
                )
            else:
                raise _Unsupported(keyword)
        extra = schema.get("additionalProperties", True)
        patterns = schema.get("patternProperties", {})
        if extra is True and patterns:  # only the patterns apply: no bookkeeping
            on_dict.append("for k, v in x.items():")
            for pattern, sub in patterns.items():
                on_dict.append(f"    if {self.pattern_test(pattern, 'k')}:")
                on_dict.append(f"        if not {self.test(sub, 'v')}: return False")
        elif extra is not True or patterns:
            known = self.const(frozenset(schema.get("properties", {})))
            extra_test = self.test(extra, "v")
            on_dict.append("for k, v in x.items():")
            if patterns:
                on_dict.append("    matched = False")
                for pattern, sub in patterns.items():
                    on_dict.append(f"    if {self.const(re.compile(pattern))}.search(k):")
                    on_dict.append("        matched = True")
                    on_dict.append(f"        if not {self.test(sub, 'v')}: return False")
                on_dict.append(f"    if not matched and k not in {known} and not {extra_test}:")
            else:
                on_dict.append(f"    if k not in {known} and not {extra_test}:")
            on_dict.append("        return False")
        if on_dict:
            if schema.get("type") == "object":  # the type test above returned already
                lines.extend(on_dict)
            else:
                lines.append("if type(x) is dict:")
                lines.extend(f"    {line}" for line in on_dict)
        lines.append("return True")
        return lines


def compile_check(
    schema: dict[str, Any] | bool, *, root: dict[str, Any] | None = None
) -> Callable[[Any], bool]:
    """A function telling whether an instance is valid against a draft-07 ``schema``.

    ``root`` is the document ``$ref``s resolve in, when ``schema`` is a part of it.
    Raises _Unsupported for keywords outside the subset osreplay's schemas use.
    """
    compiler = _CheckCompiler(schema if root is None else root)
    entry = compiler.function(schema)
    namespace: dict[str, Any] = {
        "_CONTAINERS": (dict, list),
        **compiler.consts,
    }
    exec("\n".join(compiler.sources), namespace)  # noqa: S102 - source generated above
    return namespace[entry]


def load_builtin_schema(name: str) -> dict[str, Any]:
    """The shipped schema ``name`` (one of BUILTIN_SCHEMAS) as a dict."""
    return json.loads(_schema_files().joinpath(f"{name}.json").read_text("utf-8"))


def _schema_files() -> Any:
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
            import jsonschema

            self._reference = jsonschema.Draft7Validator(self.inlined)
        return self._reference


def _compile_builtin(name: str, schema: dict[str, Any]) -> _Schema:
    """A shipped schema: the compiled fast check, tested equal to jsonschema (see module doc)."""

    def reference() -> Any:
        import jsonschema

        return jsonschema.Draft7Validator(inline_refs(schema))

    inlined = inline_refs(schema)
    parts = tuple(
        _Part(part, compile_check(part, root=schema), _restrict(inlined, part))
        for part in _split_root(schema)
    )
    return _Schema(name, schema, reference, check=compile_check(schema), parts=parts)


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
    keep = {key: value for key, value in schema.items() if key in _ANNOTATIONS}
    groups: list[list[str]] = []
    for keyword in schema:
        if keyword in _ANNOTATIONS:
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
    except FileNotFoundError:
        raise InputError(f"cannot open schema {path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"cannot read schema {path}: it is a directory") from None
    except OSError as exc:
        raise InputError(f"cannot open schema {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"schema {path} is not valid JSON: {exc}") from None
    if not isinstance(schema, (dict, bool)):
        raise UsageError(f"schema {path} is not a JSON Schema (not an object)")
    return schema


def compile_user_schema(path: str) -> _Schema:
    """A user's schema, checked now (dialect, every reference, depth); jsonschema alone.

    ``$ref`` resolves inside the schema and to local files (paths relative to the schema's
    folder); a remote reference is refused, since validate never reaches the network.
    Raises UsageError naming the file when the schema cannot be used.
    """
    import jsonschema
    import referencing.jsonschema
    from jsonschema.exceptions import SchemaError
    from jsonschema_specifications import REGISTRY as SPEC_REGISTRY
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
    return _Schema(path, schema, lambda: reference)


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
            raise OSError(f"cannot read {target}: {(exc.strerror or str(exc)).lower()}") from None
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


class Validator:
    """Validates recordings line by line; build once, then call validate_file per file."""

    def __init__(
        self,
        *,
        extra_schemas: Iterable[tuple[str, str]] | Mapping[str, str] = (),
        strict: bool = False,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.strict = strict
        self.max_line_bytes = max_line_bytes
        self._builtin = {
            name: _compile_builtin(name, load_builtin_schema(name)) for name in BUILTIN_SCHEMAS
        }
        pairs: Sequence[tuple[str, str]] = (
            list(extra_schemas.items())
            if isinstance(extra_schemas, Mapping)
            else list(extra_schemas)
        )
        self._user = [(glob, compile_user_schema(path)) for glob, path in pairs]
        self._envelope = self._builtin["envelope"]
        self._cadf = self._builtin["cadf-event"]
        self._nova = self._builtin["nova-versioned"]
        self._ironic = self._builtin["ironic-versioned"]
        self._keystone = self._builtin["keystone-basic"]
        self._envelope_check: Callable[[Any], bool] = self._envelope.check  # type: ignore[assignment]
        self._used_envelope = ("envelope",)
        self._used = {name: ("envelope", name) for name in BUILTIN_SCHEMAS}

    # -- files ---------------------------------------------------------------------------

    def validate_file(self, path: str) -> Iterator[Verdict]:
        """One Verdict per non-blank line of ``path``, streaming (memory stays flat)."""
        if is_document(path):  # a pretty-printed .json sample: one record from line 1
            yield self._validate_document(path)
            return
        name = display_name(path)
        handle = open_binary(path)
        try:
            lineno = 0
            try:
                for raw in iter_raw_lines(handle, self.max_line_bytes):
                    lineno += 1
                    if raw is None:
                        reason = too_long(self.max_line_bytes)
                        problem = Problem(name, lineno, None, None, reason)
                        yield Verdict(name, lineno, None, UNREADABLE, (), (problem,))
                        continue
                    obj = fast_loads(raw)
                    if obj.__class__ is not dict:
                        # Blank lines, and the slow path that words the reason for a bad line.
                        if not raw.strip():
                            continue
                        obj, error = parse_line(raw, last=not raw.endswith(b"\n"))
                        if obj is None:
                            problem = Problem(name, lineno, None, None, error or "unreadable")
                            yield Verdict(name, lineno, None, UNREADABLE, (), (problem,))
                            continue
                    verdict = self._valid_record(obj, name, lineno)  # validate_object, inlined
                    yield verdict if verdict is not None else self._check_object(obj, name, lineno)
            except (OSError, EOFError, zlib.error) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise InputError(f"cannot read {name} after line {lineno}: {reason}") from None
        finally:
            if handle is not sys.stdin.buffer:
                handle.close()

    def _validate_document(self, path: str) -> Verdict:
        """A whole ``.json`` file; each problem names the line of its value (model.locate)."""
        # An unreadable one: at the line of its syntax error.
        line = read_document(path, self.max_line_bytes)
        if line.obj is None:
            problem = Problem(line.path, line.lineno, None, None, line.error or "unreadable")
            return Verdict(line.path, 1, None, UNREADABLE, (), (problem,))
        text = _document_text(path)
        verdict = self.validate_object(line.obj, path=line.path, lineno=1)
        if not verdict.problems or not text:
            return verdict
        lines = {json_path(parts): n for parts, n in value_lines(text).items()}
        problems = tuple(
            replace(p, lineno=line_of(lines, p.json_path)) if p.json_path else p
            for p in verdict.problems
        )
        return replace(verdict, problems=problems)

    # -- one record ----------------------------------------------------------------------

    def validate_against(
        self, schema: str, instance: Any, *, prefix: str = "$"
    ) -> list[tuple[str, str]]:
        """``[(json_path, message), ...]`` for ``instance`` against the shipped ``schema``."""
        return self._builtin[schema].problems(instance, prefix) or []

    def validate_object(self, obj: dict[str, Any], *, path: str = "-", lineno: int = 0) -> Verdict:
        """Check one parsed JSON object (a record, a wire body or a bare CADF event)."""
        verdict = self._valid_record(obj, path, lineno)
        return verdict if verdict is not None else self._check_object(obj, path, lineno)

    def _valid_record(self, obj: dict[str, Any], path: str, lineno: int) -> Verdict | None:
        """The common case, cheaply: a record every compiled check accepts; else None.

        None sends the record to :meth:`_check_object`, which decides (and words the
        problems) with jsonschema wherever a fast check says no or is missing.
        """
        if "event_type" not in obj or self._user:
            return None
        try:
            # A record already in the recording format (the usual case) is its own
            # normalised form: skip the copy and the scan for oslo v1 "_context_" keys.
            plain = obj.keys() <= _RECORD_KEYS and obj["priority"] in _PRIORITY_SET
            record = obj if plain else normalise(obj)
            if not self._envelope_check(record):
                return None
            event_type = record["event_type"]
            if "payload" not in record:
                return None
            payload = record["payload"]
            schema = self._builtin_payload_schema(event_type, payload)
            if schema is None:
                return (
                    None
                    if self.strict
                    else Verdict(path, lineno, event_type, NO_SCHEMA, self._used_envelope)
                )
            if not schema.check(payload):  # type: ignore[misc]
                return None
        except (RecordError, RecursionError, KeyError, TypeError):
            return None
        return Verdict(path, lineno, event_type, VALID, self._used[schema.name])

    def _check_object(self, obj: dict[str, Any], path: str, lineno: int) -> Verdict:
        if is_bare_cadf(obj):
            found = self._cadf.problems(obj, "$")
            # No event_type around it: name it by its CADF action (else its typeURI).
            label = obj.get("action")
            if not isinstance(label, str) or not label:
                label = obj.get("typeURI")
            return self._verdict(path, lineno, label, ("cadf-event",), found, payload_schema=True)

        try:
            record = normalise(obj)
            reason = unreadable_reason(record)
        except RecordError as exc:
            reason = str(exc)
        if reason is not None:
            # Not a notification at all: the rule replay and record apply (one function).
            event_type = obj.get("event_type")
            event_type = event_type if isinstance(event_type, str) else None
            problem = Problem(path, lineno, event_type, None, reason)
            return Verdict(path, lineno, event_type, UNREADABLE, (), (problem,))

        event_type = record.get("event_type")
        if not isinstance(event_type, str):
            event_type = None
        found = self._envelope.problems(record, "$") or []
        used = ["envelope"]
        payload_schema = False
        if "payload" in record:
            payload = record["payload"]
            for schema in self._payload_schemas(event_type, payload):
                payload_schema = True
                used.append(schema.name)
                more = schema.problems(payload, "$.payload")
                if more:
                    found.extend(more)
        return self._verdict(path, lineno, event_type, tuple(used), found, payload_schema)

    def _builtin_payload_schema(self, event_type: Any, payload: Any) -> _Schema | None:
        """The shipped schema for ``payload``, as :meth:`_payload_schemas` picks it."""
        if payload.__class__ is not dict:
            return None
        if payload.get("typeURI") == CADF_EVENT_TYPEURI:
            return self._cadf
        if "nova_object.name" in payload:
            return self._nova
        if "ironic_object.name" in payload:
            return self._ironic
        if (
            "resource_info" in payload
            and event_type.__class__ is str
            and event_type.startswith("identity.")
        ):
            return self._keystone
        return None

    def _payload_schemas(self, event_type: str | None, payload: Any) -> list[_Schema]:
        chosen: list[_Schema] = []
        if payload.__class__ is dict:
            if payload.get("typeURI") == CADF_EVENT_TYPEURI:
                chosen.append(self._cadf)
            elif "nova_object.name" in payload:
                chosen.append(self._nova)
            elif "ironic_object.name" in payload:
                chosen.append(self._ironic)
            elif (
                "resource_info" in payload
                and event_type is not None
                and event_type.startswith("identity.")
            ):
                chosen.append(self._keystone)
        if self._user and event_type is not None:
            chosen.extend(
                schema for glob, schema in self._user if fnmatch.fnmatchcase(event_type, glob)
            )
        return chosen

    def _verdict(
        self,
        path: str,
        lineno: int,
        event_type: str | None,
        schemas: tuple[str, ...],
        found: list[tuple[str, str]] | None,
        payload_schema: bool,
    ) -> Verdict:
        if found:
            if len(found) > MAX_PROBLEMS_PER_RECORD:
                extra = len(found) - MAX_PROBLEMS_PER_RECORD + 1
                found = found[: MAX_PROBLEMS_PER_RECORD - 1] + [("$", f"and {extra} more problems")]
            problems = tuple(Problem(path, lineno, event_type, jp, msg) for jp, msg in found)
            return Verdict(path, lineno, event_type, INVALID, schemas, problems)
        if not payload_schema:
            if not self.strict:
                return Verdict(path, lineno, event_type, NO_SCHEMA, schemas)
            missing = Problem(
                path, lineno, event_type, "$.payload", "no payload schema for this event type"
            )
            return Verdict(path, lineno, event_type, NO_SCHEMA, schemas, (missing,))
        return Verdict(path, lineno, event_type, VALID, schemas)


# -- messages -------------------------------------------------------------------------------


def _document_text(path: str) -> str | None:
    """The text of a ``.json`` document, to find lines in (None when not UTF-8 text)."""
    handle = open_binary(path)
    try:
        return handle.read().decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError):
        return None
    finally:
        handle.close()


def json_path(parts: Iterable[str | int], prefix: str = "$") -> str:
    """``["reason", "reasonCode"]`` -> ``$.reason.reasonCode``; odd keys as ``['a.b']``."""
    out = [prefix]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier():
            out.append(f".{part}")
        else:
            out.append("['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']")
    return "".join(out)


def short_repr(value: Any) -> str:
    text = repr(value)
    if len(text) <= _MAX_VALUE_REPR:
        return text
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return text[: _MAX_VALUE_REPR - 1] + "…"


def short_json(value: Any) -> str:
    """``value`` as JSON text, or a word for it when that would be long."""
    if isinstance(value, dict):
        return "an object" if value else "{}"
    if isinstance(value, list):
        return "an array" if value else "[]"
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= _MAX_VALUE_REPR:
        return text
    if isinstance(value, str):
        return text[: _MAX_VALUE_REPR - 2] + '…"'
    return text[: _MAX_VALUE_REPR - 1] + "…"


def error_message(error: jsonschema.ValidationError) -> str:
    """A short message: the schema's own ``errorMessage`` if any, else jsonschema's, shortened."""
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    if isinstance(custom, str):
        return custom
    # jsonschema words these with Python reprs (None, True); users read JSON (null, true).
    if error.validator == "type":
        expected = error.validator_value
        types = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(f"'{name}'" for name in types)
        return f"{short_json(error.instance)} is not of type {wanted}"
    if error.validator == "enum":
        choices = ", ".join(json.dumps(choice) for choice in error.validator_value)
        return f"{short_json(error.instance)} is not one of {choices}"
    if error.validator == "const":
        return f"{short_json(error.instance)} should be {json.dumps(error.validator_value)}"
    message = error.message
    instance_repr = repr(error.instance)
    if len(instance_repr) > _MAX_VALUE_REPR and instance_repr in message:
        message = message.replace(instance_repr, short_repr(error.instance), 1)
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return message


__all__ = [
    "BUILTIN_SCHEMAS",
    "INVALID",
    "NO_SCHEMA",
    "Problem",
    "Summary",
    "UNREADABLE",
    "VALID",
    "Validator",
    "Verdict",
    "error_message",
    "json_path",
    "load_builtin_schema",
    "parse_schema_option",
]
