"""The fast check: a shipped JSON Schema compiled into a plain yes/no Python function.

jsonschema walks the schema for every instance and builds errors even inside anyOf; for
the common "valid" answer a plain yes/no function is many times faster. :func:`compile_check`
turns the draft-07 subset osreplay's shipped schemas use into Python source; any other
keyword raises ``Unsupported`` (a test makes sure every shipped schema compiles).
jsonschema stays the reference: it words the problems whenever the fast check says no.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
_TYPE_TESTS = {
    "string": "type({v}) is str",
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
    "boolean": "type({v}) is bool",
    "null": "{v} is None",
    "number": "type({v}) in (int, float)",
    "integer": "(type({v}) is int or (type({v}) is float and {v}.is_integer()))",
}


class Unsupported(Exception):
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
# Keywords body() reads together with another one (if/then/else, the extra keys).
_READ_ELSEWHERE = frozenset({"then", "else", "additionalProperties", "patternProperties"})
# An inlined keyword: tests on any value, and tests that apply only when it is a dict.
_Inlined = tuple[list[str], list[str]]


class _CheckCompiler:
    """Writes one Python function per non-trivial subschema; leaf checks are inlined."""

    def __init__(self, root: dict[str, Any] | bool) -> None:
        self.root = root
        self.names: dict[int, str] = {}
        self.sources: list[str] = []
        self.consts: dict[str, Any] = {}
        self._writers: dict[str, Callable[[str, Any], list[str]]] = {
            "minItems": self.size_lines,
            "maxItems": self.size_lines,
            "items": self.items_lines,
            "allOf": self.combined_lines,
            "anyOf": self.combined_lines,
            "oneOf": self.combined_lines,
            "not": self.combined_lines,
        }

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
        keywords = schema.keys() - ANNOTATIONS
        parts: list[str] = []
        on_dict: list[str] = []
        for keyword in sorted(keywords - _LEAF_KEYWORDS):
            found = self.inline_keyword(keyword, schema[keyword], var)
            if found is None:
                return None
            parts.extend(found[0])
            on_dict.extend(found[1])
        leaf_keywords = keywords & _LEAF_KEYWORDS
        if leaf_keywords:
            parts.insert(0, self.leaves(schema, leaf_keywords, var))
        if on_dict:
            parts.append(f"(type({var}) is not dict or (" + " and ".join(on_dict) + "))")
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
                raise Unsupported(f"type {value}")
            return "(" + " or ".join(_TYPE_TESTS[t].format(v=var) for t in types) + ")"
        if keyword in ("enum", "const"):
            values = value if keyword == "enum" else [value]
            if not all(isinstance(v, str) for v in values):
                raise Unsupported(keyword)  # 1 == 1.0 == True: not in the subset
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
        """The lines of the function for ``schema``: ``return False`` at the first failure."""
        if schema is True or schema is False:
            return [f"return {schema}"]
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        if "$ref" in schema:  # draft-07: siblings of $ref are ignored
            target = self.resolve(schema["$ref"])
            return [f"return {self.function(target)}(x)"]
        required = schema.get("required", [])
        lines: list[str] = []
        # Required keys first, so that "properties" below may read them without a test.
        on_dict = (
            [f"if {key!r} not in x: return False" for key in required]
            if isinstance(required, list)
            else []
        )
        for keyword, value in schema.items():
            if keyword in ANNOTATIONS or keyword in _READ_ELSEWHERE:
                continue
            if keyword == "properties":
                on_dict.extend(self.properties_lines(value, required))
            elif keyword == "dependencies":
                on_dict.extend(self.dependencies_lines(value))
            else:
                lines.extend(self.keyword_lines(schema, keyword, value))
        on_dict.extend(self.other_keys_lines(schema))
        if on_dict:
            if schema.get("type") == "object":  # the type test above returned already
                lines.extend(on_dict)
            else:
                lines.append("if type(x) is dict:")
                lines.extend(f"    {line}" for line in on_dict)
        lines.append("return True")
        return lines

    def keyword_lines(self, schema: dict[str, Any], keyword: str, value: Any) -> list[str]:
        """The lines for one keyword that applies to ``x`` whatever its type."""
        if keyword in _LEAF_KEYWORDS:
            return [f"if not {self.leaf(schema, keyword, 'x')}: return False"]
        if keyword == "required":
            if not isinstance(value, list):
                raise Unsupported("required")
            return []  # written first, in body()
        if keyword == "if":
            then = self.test(schema.get("then", True), "x")
            else_ = self.test(schema.get("else", True), "x")
            return [f"if not (({then}) if {self.test(value, 'x')} else ({else_})): return False"]
        writer = self._writers.get(keyword)
        if writer is None:
            raise Unsupported(keyword)
        return writer(keyword, value)

    def size_lines(self, keyword: str, value: Any) -> list[str]:
        op = "<" if keyword == "minItems" else ">"
        return [f"if type(x) is list and len(x) {op} {int(value)}: return False"]

    def items_lines(self, keyword: str, value: Any) -> list[str]:
        if isinstance(value, list):
            raise Unsupported("items array")
        return [
            "if type(x) is list:",
            "    for v in x:",
            f"        if not {self.test(value, 'v')}: return False",
        ]

    def combined_lines(self, keyword: str, value: Any) -> list[str]:
        """allOf, anyOf, oneOf and not."""
        if keyword == "allOf":
            return [f"if not {self.test(sub, 'x')}: return False" for sub in value]
        if keyword == "anyOf":
            test = " or ".join(self.test(sub, "x") for sub in value)
            return [f"if not ({test}): return False"]
        if keyword == "oneOf":
            test = " + ".join(f"bool({self.test(sub, 'x')})" for sub in value)
            return [f"if ({test}) != 1: return False"]
        return [f"if {self.test(value, 'x')}: return False"]

    def properties_lines(self, properties: dict[str, Any], required: Any) -> list[str]:
        """Tests on a dict ``x``: each property present (a required one is known present)."""
        lines: list[str] = []
        for key, sub in properties.items():
            test = self.test(sub, "v")
            if test == "True":
                continue
            if key in required:  # checked present above
                lines.append(f"v = x[{key!r}]")
                lines.append(f"if not {test}: return False")
            else:  # `in` then [] beats .get(): most keys are absent
                lines.append(f"if {key!r} in x:")
                lines.append(f"    v = x[{key!r}]")
                lines.append(f"    if not {test}: return False")
        return lines

    def dependencies_lines(self, dependencies: dict[str, Any]) -> list[str]:
        lines: list[str] = []
        for key, dep in dependencies.items():
            if isinstance(dep, list):
                test = " and ".join(f"{d!r} in x" for d in dep) or "True"
            else:
                test = self.test(dep, "x")
            lines.append(f"if {key!r} in x and not ({test}): return False")
        return lines

    def other_keys_lines(self, schema: dict[str, Any]) -> list[str]:
        """additionalProperties and patternProperties, read together over a dict ``x``."""
        extra = schema.get("additionalProperties", True)
        patterns = schema.get("patternProperties", {})
        if extra is True and patterns:  # only the patterns apply: no bookkeeping
            lines = ["for k, v in x.items():"]
            for pattern, sub in patterns.items():
                lines.append(f"    if {self.pattern_test(pattern, 'k')}:")
                lines.append(f"        if not {self.test(sub, 'v')}: return False")
            return lines
        if extra is True:
            return []
        known = self.const(frozenset(schema.get("properties", {})))
        extra_test = self.test(extra, "v")
        lines = ["for k, v in x.items():"]
        if patterns:
            lines.append("    matched = False")
            for pattern, sub in patterns.items():
                lines.append(f"    if {self.const(re.compile(pattern))}.search(k):")
                lines.append("        matched = True")
                lines.append(f"        if not {self.test(sub, 'v')}: return False")
            lines.append(f"    if not matched and k not in {known} and not {extra_test}:")
        else:
            lines.append(f"    if k not in {known} and not {extra_test}:")
        lines.append("        return False")
        return lines


def compile_check(
    schema: dict[str, Any] | bool, *, root: dict[str, Any] | None = None
) -> Callable[[Any], bool]:
    """A function telling whether an instance is valid against a draft-07 ``schema``.

    ``root`` is the document ``$ref``s resolve in, when ``schema`` is a part of it.
    Raises Unsupported for keywords outside the subset osreplay's schemas use.
    """
    compiler = _CheckCompiler(schema if root is None else root)
    entry = compiler.function(schema)
    namespace: dict[str, Any] = {
        "_CONTAINERS": (dict, list),
        **compiler.consts,
    }
    exec("\n".join(compiler.sources), namespace)  # noqa: S102 - source generated above
    check: Callable[[Any], bool] = namespace[entry]
    return check


__all__ = ["ANNOTATIONS", "Unsupported", "compile_check"]
