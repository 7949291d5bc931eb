"""One field specification of a definition file, read as Ceilometer's ``Definition`` does.

A specification is a JSONPath string, a list of them (the first that yields a non-null
value wins: Ceilometer joins them as ``(a)|(b)``), a whole number (a constant), or a
mapping with ``fields`` and an optional ``plugin``. Paths are parsed by jsonpath-rw-ext,
the parser Ceilometer uses, so an expression Ceilometer refuses is refused here, and one
that quietly matches nothing there matches nothing here: the meters' default
``ctxt.user_id|ctxt.user`` parses as ``ctxt.(user_id|ctxt).user``.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import ply.yacc  # type: ignore[import-untyped]
from jsonpath_rw import jsonpath as _jsonpath  # type: ignore[import-untyped]
from jsonpath_rw import parser as _rw
from jsonpath_rw_ext import parser as _ext  # type: ignore[import-untyped]

from osreplay.consumers.plugins import PLUGINS, Plugin


class _Parser(_ext.ExtentedJsonPathParser):  # type: ignore[misc]
    """jsonpath-rw-ext's parser, the grammar Ceilometer uses, with its LALR tables built once.

    jsonpath-rw builds the tables again for every expression it parses (about 50 ms
    each): a few hundred definitions took seconds to load. The grammar and the parse are
    the same; only the tables are kept.
    """

    _tables: Any = None

    def parse_token_stream(self, token_iterator: Any, start_symbol: str = "jsonpath") -> Any:
        if start_symbol != "jsonpath":
            return super().parse_token_stream(token_iterator, start_symbol)
        if self._tables is None:
            self._tables = ply.yacc.yacc(
                module=self,
                debug=False,
                write_tables=False,
                start=start_symbol,
                errorlog=ply.yacc.NullLogger(),
            )
        return self._tables.parse(lexer=_rw.IteratorToTokenStream(token_iterator))


_PARSER = _Parser()
_FINDERS: dict[str, Any] = {}


class DefinitionError(ValueError):
    """A definition Ceilometer refuses when it loads it; the message says why."""


def compile_path(expression: str) -> Any:
    """The parsed JSONPath expression (cached: definitions repeat them)."""
    found = _FINDERS.get(expression)
    if found is None:
        # jsonpath-rw-ext prints every `sub(...)` it compiles on stdout, where a report goes
        with contextlib.redirect_stdout(io.StringIO()):
            found = _FINDERS[expression] = _PARSER.parse(expression)
    return found


def finder(expression: str) -> Any:
    """The compiled ``find`` of a JSONPath expression."""
    return compile_path(expression).find


Chains = tuple[tuple[str, ...], ...]


def plain_chains(node: Any) -> Chains | None:
    """The field names of an expression made only of plain fields (``payload.a.b``, an
    optional leading ``$``) and unions of them, else None.

    For those, jsonpath-rw's ``find`` is ``value[name]`` step by step (TypeError,
    KeyError and AttributeError meaning no match) and a union is the left's matches then
    the right's: :func:`plain_values` does that without building a match object per step.
    """
    if type(node) is _jsonpath.Union:
        left, right = plain_chains(node.left), plain_chains(node.right)
        return None if left is None or right is None else left + right
    steps: list[Any] = []
    while type(node) is _jsonpath.Child:
        steps.append(node.right)
        node = node.left
    steps.append(node)
    steps.reverse()
    if type(steps[0]) is _jsonpath.Root:
        steps = steps[1:]
    names = []
    for step in steps:
        if type(step) is not _jsonpath.Fields or len(step.fields) != 1:
            return None
        name = step.fields[0]
        if not isinstance(name, str) or name == "*" or name == _jsonpath.auto_id_field:
            return None
        names.append(name)
    return (tuple(names),) if names else None


def plain_values(chains: Chains, body: Any) -> list[Any]:
    """Every value the chains reach in ``body``, in jsonpath-rw's order."""
    values = []
    for chain in chains:
        value = body
        try:
            for name in chain:
                value = value[name]
        except (TypeError, KeyError, AttributeError):
            continue
        values.append(value)
    return values


class Field:
    """What ``name: spec`` yields from a notification body."""

    def __init__(self, name: str | None, spec: Any) -> None:
        self.name = name
        self.plugin: Plugin | None = None
        self.plugin_name: str | None = None
        if isinstance(spec, dict):
            if "fields" not in spec:
                raise DefinitionError(f"the field 'fields' is required for {name}")
            if "plugin" in spec:
                self.plugin_name, self.plugin = _plugin(name, spec["plugin"])
            fields = spec["fields"]
        else:
            fields = spec
        if isinstance(fields, list):
            fields = fields[0] if len(fields) == 1 else "|".join(f"({path})" for path in fields)
        self.constant: int | None = None
        self.find: Any = None
        self.chains: Chains | None = None
        if isinstance(fields, int):  # bool too, as in Ceilometer
            self.constant = fields
            return
        try:
            parsed = compile_path(fields)
        except Exception as exc:  # jsonpath-rw raises anything from its lexer and parser
            raise DefinitionError(
                f"parse error in JSONPath specification {fields!r} for {name}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        self.find = parsed.find
        if self.plugin is None:  # a plugin needs each match's path: jsonpath-rw's find
            self.chains = plain_chains(parsed)

    def parse(self, body: Any, *, all_values: bool = False) -> Any:
        """The first non-null value (or the constant), or every value with ``all_values``."""
        if self.find is None:
            return self.constant
        if self.chains is not None:
            values = plain_values(self.chains, body)
            if all_values:
                return values
            return next((v for v in values if v is not None), None)
        matches = [m for m in self.find(body) if all_values or m.value is not None]
        if self.plugin is not None:
            if all_values and not self.plugin.all_values:
                raise DefinitionError(
                    f"plugin {self.plugin_name} does not allow returning multiple values"
                )
            pairs = [(".".join(_path(match)), match.value) for match in matches]
            values = [v for v in self.plugin.trait_values(pairs) if v is not None]
        else:
            values = [match.value for match in matches]
        if all_values:
            return values
        return values[0] if values else None


def _path(match: Any) -> Iterator[str]:
    """The dotted path of a match, as the plugins see it (``payload.thing.bar``)."""
    chain = []
    while match.context is not None:
        chain.append(str(match.path))
        match = match.context
    return reversed(chain)


def _plugin(name: str | None, spec: Any) -> tuple[str, Plugin]:
    if isinstance(spec, str):
        plugin_name, parameters = spec, {}
    else:
        try:
            plugin_name = spec["name"]
        except (KeyError, TypeError):
            raise DefinitionError(
                f"plugin specified, but no plugin name supplied for {name}"
            ) from None
        parameters = spec.get("parameters")
        if parameters is None:
            parameters = {}
    factory = PLUGINS.get(plugin_name) if isinstance(plugin_name, str) else None
    if factory is None:
        raise DefinitionError(f"no plugin named {plugin_name} available for {name}")
    try:
        return plugin_name, factory(**parameters)
    except (TypeError, ValueError) as exc:
        raise DefinitionError(f"plugin {plugin_name} for {name}: {exc}") from None
