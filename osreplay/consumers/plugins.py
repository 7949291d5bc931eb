"""The trait plugins Ceilometer 27 ships (``ceilometer.event.trait_plugin`` entry points).

Each takes the matches of a field as ``(path, value)`` pairs and returns the values to
keep (None values are then dropped, and the first left is the trait's value):

- ``split``: ``str(value).split(separator, max_split)[segment]`` per match, None when the
  segment does not exist (deprecated in Ceilometer, still loaded).
- ``bitfield``: ``initial_bitfield`` OR'ed with ``2**bit`` for each flag whose ``path`` is
  among the matched paths (and whose ``value`` equals the match, when one is given); a
  value even when nothing matched.
- ``timedelta``: the absolute number of seconds between exactly two matched dates, else
  None.
- ``map``: each matched value looked up in ``values`` (casefolded strings unless
  ``case_sensitive``), else ``default``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from osreplay.consumers.isotime import parse_isotime

Pair = tuple[str, Any]


class Plugin:
    """A trait plugin; ``all_values`` says whether a lookup meter may use it."""

    all_values = False

    def trait_values(self, pairs: Sequence[Pair]) -> list[Any]:
        raise NotImplementedError


class Split(Plugin):
    all_values = True

    def __init__(
        self, separator: str = ".", segment: int = 0, max_split: int | None = None, **_: Any
    ) -> None:
        self.separator, self.segment, self.max_split = separator, segment, max_split

    def trait_values(self, pairs: Sequence[Pair]) -> list[Any]:
        return [self._one(value) for _, value in pairs]

    def _one(self, value: Any) -> Any:
        text = str(value)
        if self.max_split is None:
            parts = text.split(self.separator)
        else:
            parts = text.split(self.separator, self.max_split)
        try:
            return parts[self.segment]
        except IndexError:
            return None


class Bitfield(Plugin):
    def __init__(
        self, initial_bitfield: int = 0, flags: list[dict[str, Any]] | None = None, **_: Any
    ) -> None:
        self.initial, self.flags = initial_bitfield, flags or []

    def trait_values(self, pairs: Sequence[Pair]) -> list[Any]:
        matched = dict(pairs)
        bits = self.initial
        for flag in self.flags:
            path, bit = flag["path"], 2 ** int(flag["bit"])
            if path in matched and ("value" not in flag or matched[path] == flag["value"]):
                bits |= bit
        return [bits]


class Timedelta(Plugin):
    def __init__(self, **_: Any) -> None:
        pass

    def trait_values(self, pairs: Sequence[Pair]) -> list[Any]:
        if len(pairs) != 2:
            return [None]
        try:
            start, end = parse_isotime(pairs[0][1]), parse_isotime(pairs[1][1])
        except Exception:  # Ceilometer catches anything here and gives no value
            return [None]
        return [abs((end - start).total_seconds())]


class Map(Plugin):
    def __init__(
        self,
        values: dict[Any, Any] | None = None,
        default: Any = None,
        case_sensitive: bool = True,
        **_: Any,
    ) -> None:
        if not values:
            raise ValueError("the 'values' parameter is required for the map trait plugin")
        if not isinstance(values, dict):
            raise ValueError("the 'values' parameter needs to be a dict for the map plugin")
        self.case_sensitive, self.default = case_sensitive, default
        self.values = (
            dict(values)
            if case_sensitive
            else {(k.casefold() if isinstance(k, str) else k): v for k, v in values.items()}
        )

    def trait_values(self, pairs: Sequence[Pair]) -> list[Any]:
        out = []
        for _, key in pairs:
            if not self.case_sensitive and isinstance(key, str):
                key = key.casefold()
            try:
                out.append(self.values[key])  # an unhashable value raises, as there
            except KeyError:
                out.append(self.default)
        return out


PLUGINS: dict[str, Callable[..., Plugin]] = {
    "split": Split,
    "bitfield": Bitfield,
    "timedelta": Timedelta,
    "map": Map,
}
