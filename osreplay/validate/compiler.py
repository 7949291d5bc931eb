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

from osreplay.validate.expressions import (
    ANNOTATIONS,
    LEAF_KEYWORDS,
    Expressions,
    Unsupported,
)

# Keywords that apply to a dict only, written after the others (see object_body).
_ON_DICT = frozenset({"properties", "dependencies"})
# Keywords body() reads together with another one (if/then/else, the extra keys).
_READ_ELSEWHERE = frozenset({"then", "else", "additionalProperties", "patternProperties"})


class _CheckCompiler(Expressions):
    """Writes one Python function per non-trivial subschema; leaf checks are inlined."""

    def __init__(self, root: dict[str, Any] | bool) -> None:
        super().__init__(root)
        self.names: dict[int, str] = {}
        self.sources: list[str] = []
        self._list = False  # x is known to be a list (object_body)
        self._writers: dict[str, Callable[[str, Any], list[str]]] = {
            "minItems": self.size_lines,
            "maxItems": self.size_lines,
            "items": self.items_lines,
            "allOf": self.combined_lines,
            "anyOf": self.combined_lines,
            "oneOf": self.combined_lines,
            "not": self.combined_lines,
        }

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
        outer = self._dicts, self._list  # what a function being written knows of its x
        try:
            return self.object_body(schema)
        finally:
            self._dicts, self._list = outer

    def object_body(self, schema: dict[str, Any]) -> list[str]:
        """:meth:`body` of a schema without ``$ref``; the tests on a dict come last.

        With ``"type": "object"`` the type test comes first and the rest knows ``x`` is a
        dict. A required key that ``properties`` reads is not tested with ``in``: reading a
        missing one raises KeyError, which returns False.
        """
        required = schema.get("required", [])
        if not isinstance(required, list):
            raise Unsupported("required")
        is_object = schema.get("type") == "object"
        lines: list[str] = []
        self._dicts = frozenset()
        self._list = schema.get("type") == "array"
        if is_object or self._list:  # the type test first: the others may rely on it
            lines.extend(self.keyword_lines(schema, "type", schema["type"]))
            self._dicts = frozenset({"x"}) if is_object else frozenset()
        for keyword, value in schema.items():
            if keyword in ANNOTATIONS or keyword in _READ_ELSEWHERE or keyword in _ON_DICT:
                continue
            if not (keyword == "type" and (is_object or self._list)):
                lines.extend(self.keyword_lines(schema, keyword, value))
        self._dicts = frozenset({"x"})
        read: list[str] = []  # required keys the properties read
        on_dict: list[str] = []
        for keyword, value in schema.items():
            if keyword == "properties":
                on_dict.extend(self.properties_lines(value, required, read))
            elif keyword == "dependencies":
                on_dict.extend(self.dependencies_lines(value))
        on_dict.extend(self.other_keys_lines(schema))
        # Required keys first: the cheapest test, and the usual way a record is wrong.
        on_dict[:0] = [f"if {key!r} not in x: return False" for key in required if key not in read]
        if on_dict:
            if is_object:  # the type test above returned already
                lines.extend(on_dict)
            else:
                lines.append("if x.__class__ is dict:")
                lines.extend(f"    {line}" for line in on_dict)
        lines.append("return True")
        if read:
            return [
                "try:",
                *(f"    {line}" for line in lines),
                "except KeyError:",
                "    return False",
            ]
        return lines

    def keyword_lines(self, schema: dict[str, Any], keyword: str, value: Any) -> list[str]:
        """The lines for one keyword that applies to ``x`` whatever its type."""
        if keyword in LEAF_KEYWORDS:
            return [f"if not {self.leaf(schema, keyword, 'x')}: return False"]
        if keyword == "required":
            return []  # written with the tests on a dict, in object_body()
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
        guard = "" if self._list else "x.__class__ is list and "
        return [f"if {guard}len(x) {op} {int(value)}: return False"]

    def items_lines(self, keyword: str, value: Any) -> list[str]:
        if isinstance(value, list):
            raise Unsupported("items array")
        loop = ["for v in x:", f"    if not {self.test(value, 'v')}: return False"]
        return (
            loop if self._list else ["if x.__class__ is list:", *(f"    {line}" for line in loop)]
        )

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

    def properties_lines(
        self, properties: dict[str, Any], required: list[Any], read: list[str]
    ) -> list[str]:
        """Tests on a dict ``x``: each property present. A required one is read without a
        test (KeyError when missing, see :meth:`object_body`) and added to ``read``."""
        lines: list[str] = []
        for key, sub in properties.items():
            test = self.test(sub, "v")
            if test == "True":
                continue
            if key in required:
                read.append(key)
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
                lines.extend(self.value_lines(self.pattern_test(pattern, "k"), sub))
            return lines
        if extra is True:
            return []
        properties = schema.get("properties", {})
        unknown = f"k not in {self.const(frozenset(properties))}" if properties else "True"
        lines = ["for k, v in x.items():"]
        if patterns:
            lines.append("    matched = False")
            for pattern, sub in patterns.items():
                lines.append(f"    if {self.const(re.compile(pattern).search)}(k):")
                lines.append("        matched = True")
                lines.append(f"        if not {self.test(sub, 'v')}: return False")
            unknown = f"not matched and {unknown}"
        lines.extend(self.value_lines(unknown, extra))
        return lines

    def value_lines(self, key_test: str, sub: Any) -> list[str]:
        """In a loop over ``x.items()``: ``v`` is checked against ``sub`` where ``key_test``.

        A subschema that tests only containers is checked as one without testing the key
        of a scalar (most values): the same answer, in a third of the time.
        """
        name = self.container_call(sub)
        if name is not None:
            test = f"v.__class__ in _CONTAINERS and {key_test} and not {name}(v)"
            return [f"    if {test.replace(' and True', '')}: return False"]
        test = self.test(sub, "v")
        if key_test == "True":
            return [f"    if not {test}: return False"]
        return [f"    if {key_test}:", f"        if not {test}: return False"]


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
        "_CONTAINERS": frozenset({dict, list}),
        "_NUMBERS": frozenset({int, float}),
        **compiler.consts,
    }
    exec("\n".join(compiler.sources), namespace)  # noqa: S102 - source generated above
    check: Callable[[Any], bool] = namespace[entry]
    return check


def tells_numbers_apart(schema: Any) -> bool:
    """Whether a check compiled from ``schema`` may tell two numbers of one type apart.

    Only an ``integer`` type test can (``1.0`` is an integer, ``1.5`` is not): every other
    test of the subset looks at a number's type alone, and ``enum``/``const`` take strings
    only. A check that cannot is blind to how a parser rounds a number (see
    osreplay.validate.scan).
    """
    if isinstance(schema, list):
        return any(tells_numbers_apart(item) for item in schema)
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "integer" or (isinstance(kind, list) and "integer" in kind):
        return True
    return any(tells_numbers_apart(value) for value in schema.values())


__all__ = ["ANNOTATIONS", "Unsupported", "compile_check", "tells_numbers_apart"]
