"""oslo.utils' sensitive keys (``strutils._SANITIZE_KEYS``), read without importing strutils.

Private, but it is the list oslo itself masks in logs: reading it keeps osreplay in step
with new entries instead of copying the list. Importing ``oslo_utils.strutils`` compiles a
few hundred regular expressions osreplay never uses (0.1 s to 0.2 s of every start of
``osreplay record``), so the list is read from the module's source; when that source
cannot be read (a zip import, a list built some other way) the module is imported.
"""

from __future__ import annotations

import ast
import importlib.util

_MODULE = "oslo_utils.strutils"
_NAME = "_SANITIZE_KEYS"
#: What osreplay falls back to without oslo.utils (it ships with oslo.messaging).
FALLBACK = ("password", "token", "secret")


def sensitive_keys() -> tuple[str, ...]:
    """oslo's sensitive keys, lowercased."""
    keys = _from_source()
    if keys is None:
        keys = _from_import()
    return tuple(key.lower() for key in keys)


def _from_source() -> list[str] | None:
    try:
        spec = importlib.util.find_spec(_MODULE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    try:
        with open(spec.origin, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), spec.origin)
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        target, value = _assignment(node)
        if target == _NAME and isinstance(value, (ast.List, ast.Tuple)):
            keys = [
                item.value
                for item in value.elts
                if isinstance(item, ast.Constant) and isinstance(item.value, str)
            ]
            return keys if keys and len(keys) == len(value.elts) else None
    return None


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return (target.id if isinstance(target, ast.Name) else None), node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


def _from_import() -> list[str]:
    try:
        from oslo_utils import strutils
    except ImportError:  # pragma: no cover - oslo.utils ships with oslo.messaging
        return list(FALLBACK)
    return list(getattr(strutils, _NAME, FALLBACK))


__all__ = ["FALLBACK", "sensitive_keys"]
