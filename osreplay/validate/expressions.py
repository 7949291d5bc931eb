"""Python expressions for JSON Schema keywords: the leaves of the fast check.

:class:`Expressions` writes a test of one value against a subschema as one Python
expression where it is short (type, enum, pattern, length, required keys, a few
properties, allOf/anyOf/not of those) and calls the generated function of the
subschema otherwise (:meth:`Expressions.function`, written by
:mod:`osreplay.validate.compiler`).

Written for CPython's speed: ``v.__class__ is str`` rather than ``type(v) is str``,
``v != ''`` for ``minLength: 1``, a bound ``search`` for a pattern, no dict guard where the
value is known to be a dict.
"""

from __future__ import annotations

import re
from typing import Any

ANNOTATIONS = frozenset(
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
# ``v.__class__ is str`` costs a third less than ``type(v) is str``; the same answer for
# every value a JSON parser builds.
_TYPE_TESTS = {
    "string": "{v}.__class__ is str",
    "object": "{v}.__class__ is dict",
    "array": "{v}.__class__ is list",
    "boolean": "{v}.__class__ is bool",
    "null": "{v} is None",
    "number": "{v}.__class__ in _NUMBERS",
    "integer": "({v}.__class__ is int or ({v}.__class__ is float and {v}.is_integer()))",
}


class Unsupported(Exception):
    """A schema keyword or value the fast check does not implement."""


LEAF_KEYWORDS = frozenset({"type", "enum", "const", "pattern", "minLength", "maxLength"})
CONTAINER_KEYWORDS = frozenset(
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
# An inlined keyword: tests on any value, and tests that apply only when it is a dict.
_Inlined = tuple[list[str], list[str]]


class Expressions:
    """Expressions over the schema document ``root``; subclasses write the functions."""

    def __init__(self, root: dict[str, Any] | bool) -> None:
        self.root = root
        self.consts: dict[str, Any] = {}
        # Variables known to hold a dict where an expression is written: no dict guard.
        self._dicts: frozenset[str] = frozenset()

    def function(self, schema: Any) -> str:
        """The name of the generated function for ``schema`` (see the compiler)."""
        raise NotImplementedError

    def const(self, value: Any) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise Unsupported(f"$ref {ref}")
        node: Any = self.root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise Unsupported(f"$ref {ref}")
            node = node[part]
        return node

    def test(self, schema: Any, var: str) -> str:
        """A Python expression, true when ``var`` is valid against ``schema``."""
        if schema is True:
            return "True"
        if schema is False:
            return "False"
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        keywords = schema.keys() - ANNOTATIONS
        if keywords == {"$ref"}:
            target = self.resolve(schema["$ref"])
            if isinstance(target, dict) and "$ref" not in target:
                schema, keywords = target, target.keys() - ANNOTATIONS
        expression = self.inline(schema, var)
        if expression is not None:
            return expression
        name = self.function(schema)
        if keywords <= CONTAINER_KEYWORDS:  # cannot fail on a scalar: skip the call
            return f"({var}.__class__ not in _CONTAINERS or {name}({var}))"
        return f"{name}({var})"

    def container_call(self, schema: Any) -> str | None:
        """The function :meth:`test` calls for ``schema`` only on a dict or a list, or None
        when it tests more than containers (or is inlined)."""
        if isinstance(schema, dict) and (schema.keys() - ANNOTATIONS) == {"$ref"}:
            target = self.resolve(schema["$ref"])
            if isinstance(target, dict) and "$ref" not in target:
                schema = target
        if not isinstance(schema, dict) or self.inline(schema, "v") is not None:
            return None
        if not schema.keys() - ANNOTATIONS <= CONTAINER_KEYWORDS:
            return None
        return self.function(schema)

    def inline(self, schema: Any, var: str) -> str | None:
        """``schema`` as one short expression on ``var``, or None when it needs a function.

        A call per subschema costs more than most checks in it: small subschemas
        (required keys, a few properties, anyOf/allOf/not of those) become expressions.
        """
        if schema is True or schema is False:
            return str(schema)
        if not isinstance(schema, dict):
            return None
        keywords = schema.keys() - ANNOTATIONS
        parts: list[str] = []
        on_dict: list[str] = []
        for keyword in sorted(keywords - LEAF_KEYWORDS):
            found = self.inline_keyword(keyword, schema[keyword], var)
            if found is None:
                return None
            parts.extend(found[0])
            on_dict.extend(found[1])
        leaf_keywords = keywords & LEAF_KEYWORDS
        if leaf_keywords:
            parts.insert(0, self.leaves(schema, leaf_keywords, var))
        if on_dict:
            tests = " and ".join(on_dict)
            # Known to be a dict: its own type test comes first, or the function's did.
            known = schema.get("type") == "object" or var in self._dicts
            parts.append(f"({tests})" if known else f"({var}.__class__ is not dict or ({tests}))")
        expression = "(" + " and ".join(parts) + ")" if parts else "True"
        return expression if len(expression) <= _INLINE_MAX else None

    def inline_keyword(self, keyword: str, value: Any, var: str) -> _Inlined | None:
        """One non-leaf keyword inlined: (tests on any value, tests on a dict), or None."""
        if keyword == "required" and isinstance(value, list):
            return [], [f"{key!r} in {var}" for key in value]
        if keyword == "properties" and isinstance(value, dict):
            return self.inline_properties(value, var)
        if keyword in ("allOf", "anyOf") and isinstance(value, list) and value:
            tests = [self.inline(sub, var) for sub in value]
            if any(test is None for test in tests):
                return None
            joiner = " and " if keyword == "allOf" else " or "
            return ["(" + joiner.join(t for t in tests if t is not None) + ")"], []
        if keyword == "not":
            test = self.inline(value, var)
            return None if test is None else ([f"(not {test})"], [])
        if keyword == "dependencies" and isinstance(value, dict):
            return self.inline_dependencies(value, var)
        return None

    def inline_properties(self, properties: dict[str, Any], var: str) -> _Inlined | None:
        on_dict: list[str] = []
        for key, sub in properties.items():
            test = self.inline(sub, f"{var}[{key!r}]")
            if test is None:
                return None
            if test != "True":
                on_dict.append(f"({key!r} not in {var} or {test})")
        return [], on_dict

    def inline_dependencies(self, dependencies: dict[str, Any], var: str) -> _Inlined | None:
        on_dict: list[str] = []
        for key, dep in dependencies.items():
            test: str | None
            if isinstance(dep, list):
                test = "(" + " and ".join(f"{d!r} in {var}" for d in dep) + ")" if dep else "True"
            else:
                test = self.inline(dep, var)
            if test is None:
                return None
            on_dict.append(f"({key!r} not in {var} or {test})")
        return [], on_dict

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
        if keyword == "minLength" and value == 1:
            return f"{var} != ''"  # half the cost of len()
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
        return f"{self.const(re.compile(pattern).search)}({var}) is not None"

    def leaf(self, schema: dict[str, Any], keyword: str, var: str) -> str:
        value = schema[keyword]
        if keyword == "type":
            types = value if isinstance(value, list) else [value]
            if any(t not in _TYPE_TESTS for t in types):
                raise Unsupported(f"type {value}")
            return "(" + " or ".join(_TYPE_TESTS[t].format(v=var) for t in types) + ")"
        if keyword in ("enum", "const"):
            values = value if keyword == "enum" else [value]
            strings = [v for v in values if v is not None]
            if not all(isinstance(v, str) for v in strings):
                raise Unsupported(keyword)  # 1 == 1.0 == True: not in the subset
            test = f"({var}.__class__ is str and {var} in {self.const(frozenset(strings))})"
            # null: a nullable enum of a generated schema (null equals only null)
            return f"({var} is None or {test})" if len(strings) < len(values) else test
        if keyword == "pattern":
            return f"({var}.__class__ is not str or {self.pattern_test(value, var)})"
        return f"({var}.__class__ is not str or {self.string_leaf(schema, keyword, var)})"


__all__ = ["ANNOTATIONS", "CONTAINER_KEYWORDS", "LEAF_KEYWORDS", "Expressions", "Unsupported"]
