"""Secret keys and masking: what ``osreplay record`` hides before a record is written.

In the request context (``ctxt``) a key is secret when it is one of :data:`CTXT_KEYS` or
when oslo.utils would mask it (its lowercase name contains one of
``oslo_utils.strutils._SANITIZE_KEYS``: ``password``, ``token``, ``secret``, …); the
value, whatever it is, becomes ``"***"``, at any depth.

Payloads are data, not credentials, so only the known leaks are masked there: CADF
``credential.token`` (keystonemiddleware's audit events) and keystone's
``partial_password_hash``. Keys added with ``--redact-key`` are masked everywhere (context
and payload, at any depth, compared case-insensitively).

Records are copied only where something is masked; the common case allocates nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

MASK = "***"

CTXT_KEYS = frozenset(
    {"auth_token", "service_token", "auth_token_info", "password", "aws_creds", "trust_id"}
)
PAYLOAD_KEYS = frozenset({"partial_password_hash"})


def _oslo_sensitive_fragments() -> tuple[str, ...]:
    try:
        from oslo_utils import strutils
    except ImportError:  # pragma: no cover - oslo.utils ships with oslo.messaging
        return ("password", "token", "secret")
    # Private, but it is the list oslo itself masks in logs; reading it keeps osreplay in
    # step with new entries instead of copying the list.
    return tuple(getattr(strutils, "_SANITIZE_KEYS", ("password", "token", "secret")))


_FRAGMENTS = _oslo_sensitive_fragments()


def is_sensitive_ctxt_key(key: str, extra: frozenset[str] = frozenset()) -> bool:
    lowered = key.lower()
    return lowered in CTXT_KEYS or lowered in extra or any(f in lowered for f in _FRAGMENTS)


class Redactor:
    """Masks secrets in a record's context and payload.

    ``enabled=False`` (``--no-redact``) returns everything unchanged; ``extra_keys``
    (``--redact-key``) are masked in the context and in payloads.
    """

    def __init__(self, *, enabled: bool = True, extra_keys: Iterable[str] = ()) -> None:
        self.enabled = enabled
        self.extra_keys = frozenset(key.lower() for key in extra_keys)
        self._payload_keys = PAYLOAD_KEYS | self.extra_keys
        self._ctxt_cache: dict[str, bool] = {}
        # A key is written to JSON as itself, so a record whose text holds none of these
        # "key": pairs has nothing to mask in its payload (false hits only cost a walk).
        needles = sorted(self._payload_keys | {"credential"})
        self._payload_hint = re.compile(
            "|".join(re.escape(json_key(key)) for key in needles), re.IGNORECASE
        )

    def _ctxt_secret(self, key: str) -> bool:
        cached = self._ctxt_cache.get(key)
        if cached is None:
            cached = is_sensitive_ctxt_key(key, self.extra_keys)
            if len(self._ctxt_cache) < 4096:
                self._ctxt_cache[key] = cached
        return cached

    def ctxt(self, ctxt: dict[str, Any]) -> dict[str, Any]:
        """The context with every secret value replaced by ``"***"``."""
        if not self.enabled:
            return ctxt
        return self._mask_ctxt(ctxt)

    def _mask_ctxt(self, obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] | None = None
        for key, value in obj.items():
            if isinstance(key, str) and self._ctxt_secret(key):
                new: Any = MASK if value is not None else None
            elif isinstance(value, dict):
                new = self._mask_ctxt(value)
            else:
                continue
            if new is not value:
                if out is None:
                    out = dict(obj)
                out[key] = new
        return obj if out is None else out

    def may_hold_payload_secret(self, text: str) -> bool:
        """False when ``text`` (a record's JSON) has no payload key that could need masking."""
        return self.enabled and self._payload_hint.search(text) is not None

    def payload(self, payload: Any) -> Any:
        """The payload with CADF credential tokens and known secret keys masked."""
        if not self.enabled:
            return payload
        return self._mask_payload(payload)

    def _mask_payload(self, obj: Any) -> Any:
        if isinstance(obj, dict):
            out: dict[str, Any] | None = None
            for key, value in obj.items():
                if isinstance(key, str) and key.lower() in self._payload_keys:
                    new: Any = MASK if value is not None else None
                elif key == "credential" and isinstance(value, dict) and "token" in value:
                    new = self._mask_payload({**value, "token": MASK})
                elif isinstance(value, (dict, list)):
                    new = self._mask_payload(value)
                else:
                    continue
                if new is not value and new != value:
                    if out is None:
                        out = dict(obj)
                    out[key] = new
            return obj if out is None else out
        if isinstance(obj, list):
            masked = [self._mask_payload(item) for item in obj]
            if any(new is not old for new, old in zip(masked, obj, strict=True)):
                return masked
            return obj
        return obj


def json_key(key: str) -> str:
    """How ``key`` appears as an object key in ``json.dumps`` output (ensure_ascii=False)."""
    return json.dumps(key, ensure_ascii=False) + ":"


__all__ = ["CTXT_KEYS", "MASK", "PAYLOAD_KEYS", "Redactor", "is_sensitive_ctxt_key"]
