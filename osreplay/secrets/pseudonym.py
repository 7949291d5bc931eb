"""Keyed pseudonyms: identifying values replaced consistently, keeping their shape.

A :class:`Pseudonymiser` walks a record (any JSON value) and replaces

* UUIDs, with or without dashes (so ``req-<uuid>`` request ids too): a UUID, in the same
  spelling (dashes, case), with the original's version nibble and variant bits;
* IPv4 and IPv6 addresses, found anywhere in a string: an address of the same family;
* the values of user, project and domain id/name keys and of host name keys (see
  :data:`NAME_KEYS`, :data:`HOST_KEYS`), and the host part of a ``publisher_id``: a value
  with the same character classes (``compute-3`` -> ``qmbhtxd-8``), separators kept.

Each pseudonym is derived from the value with HMAC-SHA256 under the key, so the same key
gives the same output and the original cannot be recovered without it. The same value
always gets the same pseudonym (chains stay linked: a UUID with and without dashes too);
two different values never get the same one (a collision is resolved by deriving again,
in the order values are first seen, which the same input repeats). Memory grows with the
number of distinct values, never with the number of records. A pseudonym is never its own
original, but may by chance equal another original value of the file (for an IPv4 address
one chance in 2**32 per pair; more for a short name): it still stands for its own original.

``kinds`` limits what is replaced (``{"uuid"}`` is what ``replay --fresh-ids`` uses).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import itertools
import re
import secrets
from collections.abc import Collection
from typing import Any

UUID = "uuid"
IP = "ip"
NAME = "name"
ALL_KINDS = frozenset({UUID, IP, NAME})

#: Keys whose string value names or identifies a user, project or domain.
NAME_KEYS = frozenset(
    {
        "user", "user_id", "user_name", "username", "tenant", "tenant_id", "tenant_name",
        "project", "project_id", "project_name", "domain", "domain_id", "domain_name",
        "user_domain", "user_domain_id", "user_domain_name", "project_domain",
        "project_domain_id", "project_domain_name", "owner", "owner_id",
    }
)  # fmt: skip
#: Keys whose string value is a host name.
HOST_KEYS = frozenset(
    {
        "host", "hostname", "host_name", "node", "nodename", "launched_on", "compute_host",
        "source_compute", "dest_compute", "source_node", "dest_node", "server_host",
        "binary_host", "os-ext-srv-attr:host", "os-ext-srv-attr:hypervisor_hostname",
    }
)  # fmt: skip
#: ``name`` and ``id`` under these keys (CADF initiator, keystone objects) are identities.
IDENTITY_PARENTS = frozenset({"initiator", "user", "project", "domain", "tenant"})

_UUID_RE = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}|[0-9a-fA-F]{32})(?![0-9A-Za-z])"
)
_IPV4_RE = re.compile(r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9]|\.\d)")
_IPV6_RE = re.compile(r"(?<![0-9A-Za-z:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_KEY_CACHE = 4096
_SKIPPED_NAMES = frozenset({"", "-", "None", "null"})
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_DIGITS = "0123456789"


def new_key() -> bytes:
    """A random key: pseudonyms nobody can reproduce."""
    return secrets.token_bytes(32)


def key_from_seed(seed: str) -> bytes:
    """The key for ``--seed``: the same seed, the same pseudonyms."""
    return hashlib.sha256(b"osreplay-pseudonym\0" + seed.encode("utf-8", "surrogatepass")).digest()


class Pseudonymiser:
    """Replaces identifying values in JSON values; one mapping for a whole stream.

    Values are never changed in place: what holds something to replace is copied, the
    rest is shared with the original.
    """

    def __init__(self, key: bytes, *, kinds: Collection[str] = ALL_KINDS) -> None:
        unknown = set(kinds) - ALL_KINDS
        if unknown:
            raise ValueError(f"unknown kinds: {', '.join(sorted(unknown))}")
        self._key = key
        self.kinds = frozenset(kinds)
        self._maps: dict[str, dict[str, str]] = {UUID: {}, IP: {}, NAME: {}}
        self._used: dict[str, set[str]] = {UUID: set(), IP: set(), NAME: set()}
        self._keys: dict[str, str] = {}

    @property
    def distinct(self) -> int:
        """How many distinct values were replaced so far (the memory the mapping holds)."""
        return sum(len(mapping) for mapping in self._maps.values())

    # -- the walk ------------------------------------------------------------------------

    def record(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A copy of a record (or any JSON object) with every identifying value replaced."""
        out: dict[str, Any] = self.value(obj)
        publisher = out.get("publisher_id")
        if NAME in self.kinds and isinstance(publisher, str):
            renamed = self.publisher_id(publisher)
            if renamed != publisher:
                out = {**out, "publisher_id": renamed}
        return out

    def value(self, value: Any, key: str | None = None, parent: str | None = None) -> Any:
        if isinstance(value, str):
            return self._string(value, key, parent)
        if isinstance(value, dict):
            return self._dict(value, key)
        if isinstance(value, list):
            items = [self.value(item, key, parent) for item in value]
            changed = any(new is not old for new, old in zip(items, value, strict=True))
            return items if changed else value
        return value

    def _dict(self, obj: dict[Any, Any], parent: str | None) -> dict[Any, Any]:
        # Copied only where something is replaced: most of a payload is shared as it is.
        out: dict[Any, Any] | None = None
        for index, (key, value) in enumerate(obj.items()):
            new_key = self._key_text(key) if isinstance(key, str) else key
            new_value = self.value(value, key, parent)
            if out is None:
                if new_key is key and new_value is value:
                    continue
                out = dict(itertools.islice(obj.items(), index))
            out[new_key] = new_value
        return obj if out is None else out

    def _key_text(self, key: str) -> str:
        # The same few keys come back in every record; most hold nothing to replace.
        found = self._keys.get(key)
        if found is None:
            found = self.text(key)
            if len(self._keys) < _KEY_CACHE:
                self._keys[key] = found
        return found

    def _string(self, value: str, key: str | None, parent: str | None) -> str:
        replaced = self.text(value)
        if replaced != value or NAME not in self.kinds or key is None:
            return replaced
        if self._is_identity(key, parent):
            return self.name(value)
        return value

    def _is_identity(self, key: str, parent: str | None) -> bool:
        lowered = key.lower()
        if lowered in ("name", "id"):
            return parent is not None and parent.lower() in IDENTITY_PARENTS
        return lowered in NAME_KEYS or lowered in HOST_KEYS

    def text(self, text: str) -> str:
        """``text`` with every UUID and IP address in it replaced."""
        if UUID in self.kinds and len(text) >= 32:
            text = _UUID_RE.sub(lambda m: self.uuid(m.group()), text)
        if IP in self.kinds:
            if text.count(".") >= 3:
                text = _IPV4_RE.sub(lambda m: self._ipv4(m.group()), text)
            if text.count(":") >= 2:
                text = _IPV6_RE.sub(lambda m: self._ipv6(m.group()), text)
        return text

    def publisher_id(self, publisher: str) -> str:
        """``service:host`` or ``service.host`` with the host part pseudonymised."""
        for separator in (":", "."):
            service, found, host = publisher.partition(separator)
            if found and host:
                return f"{service}{separator}{self.name(host)}"
        return publisher

    # -- one value ---------------------------------------------------------------------

    def uuid(self, original: str) -> str:
        """A UUID for a UUID: dashes, case, version nibble and variant bits kept."""
        canonical = original.replace("-", "").lower()
        hexed = self._lookup(UUID, canonical, self._derive_uuid)
        if original != original.lower():
            hexed = hexed.upper()
        if "-" in original:
            return "-".join(
                (hexed[:8], hexed[8:12], hexed[12:16], hexed[16:20], hexed[20:])
            )  # fmt: skip
        return hexed

    def _derive_uuid(self, canonical: str, attempt: int) -> str:
        digest = self._digest(UUID, canonical, attempt).hex()[:32]
        variant = (int(canonical[16], 16) & 0xC) | (int(digest[16], 16) & 0x3)
        return f"{digest[:12]}{canonical[12]}{digest[13:16]}{variant:x}{digest[17:]}"

    def _ipv4(self, original: str) -> str:
        try:
            ipaddress.IPv4Address(original)
        except ValueError:
            return original
        return self._lookup(IP, original, self._derive_ipv4)

    def _derive_ipv4(self, original: str, attempt: int) -> str:
        return str(ipaddress.IPv4Address(self._digest(IP, original, attempt)[:4]))

    def _ipv6(self, original: str) -> str:
        try:
            address = ipaddress.IPv6Address(original)
        except ValueError:
            return original
        return self._lookup(IP, address.compressed, self._derive_ipv6)

    def _derive_ipv6(self, original: str, attempt: int) -> str:
        return str(ipaddress.IPv6Address(self._digest(IP, original, attempt)[:16]))

    def name(self, original: str) -> str:
        """A value with the same character classes: letters, digits, separators kept."""
        if original in _SKIPPED_NAMES:
            return original
        return self._lookup(NAME, original, self._derive_name)

    def _derive_name(self, original: str, attempt: int) -> str:
        stream = self._digest(NAME, original, attempt)
        while len(stream) < len(original):
            stream += hashlib.sha256(stream).digest()
        out = []
        for char, byte in zip(original, stream, strict=False):
            if "a" <= char <= "z":
                out.append(_LOWER[byte % 26])
            elif "A" <= char <= "Z":
                out.append(_UPPER[byte % 26])
            elif "0" <= char <= "9":
                out.append(_DIGITS[byte % 10])
            elif char.isalnum():  # other scripts: a lowercase letter keeps it a name
                out.append(_LOWER[byte % 26])
            else:
                out.append(char)
        if attempt > 8:  # a short value whose space is nearly used up: grow it
            out.append(_LOWER[stream[-1] % 26] * (attempt - 8))
        return "".join(out)

    def _lookup(self, kind: str, original: str, derive: Any) -> str:
        mapping = self._maps[kind]
        found = mapping.get(original)
        if found is not None:
            return found
        used = self._used[kind]
        attempt = 0
        candidate = derive(original, attempt)
        # Distinct values stay distinct, and no pseudonym is the original itself.
        while candidate in used or candidate == original:
            attempt += 1
            candidate = derive(original, attempt)
        mapping[original] = candidate
        used.add(candidate)
        return candidate  # type: ignore[no-any-return]

    def _digest(self, kind: str, original: str, attempt: int) -> bytes:
        message = f"{kind}\0{attempt}\0{original}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()


__all__ = [
    "ALL_KINDS",
    "HOST_KEYS",
    "IDENTITY_PARENTS",
    "IP",
    "NAME",
    "NAME_KEYS",
    "UUID",
    "Pseudonymiser",
    "key_from_seed",
    "new_key",
]
