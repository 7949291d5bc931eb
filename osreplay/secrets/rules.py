"""What never reaches disk: one set of rules for every command that writes records.

:func:`redact_record` (and :class:`Redactor`, which it uses) masks secrets in every
top-level key of a record (``ctxt`` and a ``context`` object by the context's rules,
everything else by the payload's), at any depth, in objects and in arrays:

By key (compared case-insensitively; ``-`` and ``_`` are the same)
    a value whose key is secret becomes ``"***"`` whatever it is (``null`` stays ``null``).
    Secret keys are oslo.utils' sensitive keys (``strutils._SANITIZE_KEYS``: ``password``,
    ``admin_password``, ``adminPass``, ``token``, ``secret``, ``private_key``, …), the HTTP
    credential headers (``X-Auth-Token``, ``Authorization``, ``Cookie``, …), the request
    context's :data:`CTXT_KEYS`, :data:`PAYLOAD_KEYS`, the keys given with ``--redact-key``,
    any key whose last word is one of :data:`SECRET_WORDS` (``new_password``,
    ``X-Subject-Token``, ``dbPassword``, ``psk``, ``pwd``) or a credential key (``key``
    with one of :data:`KEY_QUALIFIERS`: ``snmp_priv_key``, ``privateKey``,
    ``X-Account-Meta-Temp-URL-Key``, never ``public_key``), and any key holding one of
    oslo's words anywhere (``aws_secret_access_key``) unless its last word is one of
    :data:`DATA_WORDS` (``password_expires_at``, ``token_id``, ``secret_ref`` are data,
    where oslo masks them). In the context, as oslo does for its logs, a key that merely
    *contains* a sensitive fragment is secret too (``keystone_token``). A name/value pair
    (``{"name"|"key": K, "value"|"content": V}``: keystone's ``partial_password_hash``
    attachment, metadata lists) has V masked when K is secret. CADF ``credential`` (any
    case) given as a string or a list of strings is masked whole; as an object its
    ``token`` goes and ``identity_status`` stays.
Inside string values
    the password of a URL (``mysql+pymysql://nova:***@db/nova``,
    ``rabbit://guest:***@host:5672/``; not aodh's ``trust+http://ID:delete@host``, whose
    ``delete`` is a flag), every ``password=…``, ``token=…``, ``"secret": "…"`` pair and the
    like for any secret key, whatever stands before it (up to ``&``, ``;``, a space or a
    quote, so the rest of a query string stays), ``Bearer …``/``Basic …`` credentials, PEM
    private keys, a ceph keyring's ``key = …``, ``--password X`` and mysql's ``-pX`` in a
    command line that names a user.

Everything else stays as it was. Records are copied only where something is masked, and a
payload whose JSON text holds none of the few words a secret needs is not walked at all
(:meth:`Redactor.may_hold_payload_secret`), so the common case costs a few string searches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from osreplay.secrets.oslo_keys import sensitive_keys

MASK = "***"

#: Request-context keys that hold credentials (matched exactly, any case).
CTXT_KEYS = frozenset(
    {"auth_token", "service_token", "auth_token_info", "password", "aws_creds", "trust_id"}
)
#: Payload keys that leak credentials although no secret word ends them.
PAYLOAD_KEYS = frozenset(
    {
        "partial_password_hash",
        "keyring",
        "temp_url_sig",
        "signature",
        "x-amz-signature",
        "aws_secret_access_key",
    }
)
#: HTTP headers that carry credentials (keystonemiddleware, swift, S3).
HTTP_CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-auth-token",
        "x-subject-token",
        "x-service-token",
        "x-storage-token",
        "x-auth-key",
        "x-amz-security-token",
        "openstack-ec2-signature",
    }
)
#: A key whose last word is one of these is secret (``admin_password``, ``X-Auth-Token``).
SECRET_WORDS = frozenset(
    {
        "password",
        "passwords",
        "passwd",
        "pswd",
        "pwd",
        "pass",
        "passphrase",
        "token",
        "secret",
        "credential",
        "psk",
        "pem",
        "keyring",
    }
)
#: A key whose last word is ``key`` (``keys``, or one word ending in ``key``: ``apikey``)
#: is secret when another of its words is one of these (``snmp_priv_key``,
#: ``X-Account-Meta-Temp-URL-Key``, ``privateKey``), unless a word is ``public``.
KEY_QUALIFIERS = frozenset(
    {
        "private",
        "priv",
        "secret",
        "auth",
        "api",
        "encryption",
        "encrypted",
        "tls",
        "ssl",
        "ssh",
        "temp",
        "access",
        "psk",
        "hmac",
        "signing",
        "fernet",
        "master",
        "shared",
    }
)
#: Last words that make a key data although it holds a sensitive word: oslo.utils masks
#: ``password_expires_at``, ``token_id``, ``secret_ref`` or ``secret_type`` (its words
#: match anywhere in a key); here they stay readable.
DATA_WORDS = frozenset(
    {
        "id",
        "ids",
        "ref",
        "refs",
        "href",
        "type",
        "types",
        "count",
        "expires",
        "expiry",
        "expiration",
        "at",
        "name",
        "names",
        "length",
        "size",
        "format",
        "algorithm",
        "mode",
        "status",
        "state",
        "ttl",
        "path",
        "file",
        "created",
        "updated",
        "time",
        "date",
        "version",
        "provider",
        "method",
        "methods",
        "policy",
        "enabled",
        "required",
        "changed",
        "regex",
        "description",
        "hint",
        "history",
        "age",
        "days",
        "location",
        "url",
        "uri",
        "issued",
        "used",
        "attempts",
        "failures",
        "last",
        "lock",
    }
)
#: Keys whose value is a credential in CADF events.
_CREDENTIAL_KEYS = frozenset({"credential", "credentials"})


_FRAGMENTS = sensitive_keys()
# CTXT_KEYS count in contexts only: a payload's trust_id names a trust, it is no secret.
_EXACT = frozenset(
    key.lower().replace("-", "_") for key in (*_FRAGMENTS, *PAYLOAD_KEYS, *HTTP_CREDENTIAL_HEADERS)
)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_WORD_SPLIT = re.compile(r"[\s_.\-]+")

# Words one of which a secret's JSON text must contain (lowercased): every key above
# contains one, and so does every string pattern below. Checked with `in`, which is ten
# times faster than one regular expression over the line.
_NEEDLES = (
    "pass",
    "pswd",
    "pwd",
    "psk",
    "pem",
    "token",
    "secret",
    "key",
    "cookie",
    "cred",
    "authoriz",
    "bearer",
    "basic",
    "@",
    "configdrive",
    "fsid",
    "kek",
    "hashsuffix",
    "signature",
    "url_sig",
    " -p",
)

# What times and numbers are made of: a text of these alone holds no secret.
_NO_LETTERS = "0123456789-:. TZ+/,"

# A URL's authority (up to the path); oslo's transport URLs list several hosts with ",".
_URL_AUTHORITY = re.compile(
    r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<authority>[^/\s?#]*@[^/\s?#]*)"
)
_AUTH_SCHEME = re.compile(r"(?P<head>\b(?:bearer|basic|negotiate)\s+)[A-Za-z0-9._~+/=\-]+", re.I)
_KEY_VALUE = re.compile(
    r"(?P<key>[A-Za-z0-9_.\-]+)(?P<sep>[\"']?\s*[=:]\s*[\"']?)(?P<value>[^\s&;,\"'<>)}\]]+)"
)
# A PEM private key, from its BEGIN line to its END line (or the end of a cut text).
_PEM = re.compile(
    r"(?P<begin>-----BEGIN (?P<label>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----)"
    r".*?(?:(?P<end>-----END (?P=label)-----)|\Z)",
    re.S,
)
# A ceph keyring's section, up to its key (the next section starts with "[").
_KEYRING = re.compile(
    r"(?P<head>\[(?:client|mon|osd|mds|mgr)\.?[^\]\s]*\][^\[]*?\bkey\s*=\s*)"
    r"(?P<value>[^\s\"'\\]+)"
)
# A long option followed by its value (`--password X`, `--os-password X`).
_LONG_FLAG = re.compile(
    r"(?<!\S)--(?P<key>[A-Za-z][A-Za-z0-9_\-]*)(?P<sep>\s+)(?P<value>[^\s\-][^\s]*)"
)
# mysql's `-pX` / `-p X`, masked only in a command line that names a user (`-u`, `--user`):
# `-p` is a port or a parents flag elsewhere (`ssh -p 22`, `mkdir -p /var`).
_SHORT_P = re.compile(r"(?<!\S)(?P<flag>-p\s*)(?P<value>[^\s\-][^\s]*)")
_USER_FLAG = re.compile(r"(?<!\S)(?:-u|--user|--username)(?:\s|=|\S)")


def _key_words(key: str) -> list[str]:
    return [word for word in _WORD_SPLIT.split(_CAMEL.sub(r"\1_\2", key).lower()) if word]


def normalise_key(key: str) -> str:
    """How keys are compared: lowercase, ``-`` as ``_`` (``tls-key`` is ``tls_key``)."""
    return key.lower().replace("-", "_")


def _is_key_family(words: list[str]) -> bool:
    """``snmp_auth_key``, ``privateKey``, ``apikey``: a credential key, not ``public_key``."""
    last = words[-1]
    if last in ("key", "keys"):
        qualifiers = words[:-1]
    elif last.endswith("key"):
        qualifiers = [last[:-3]]
    else:
        return False
    return "public" not in words and any(word in KEY_QUALIFIERS for word in qualifiers)


def is_secret_key(key: str, extra: frozenset[str] = frozenset()) -> bool:
    """True when the value of ``key`` is a credential (payload rules).

    The key is secret when it is one of the known keys (``-``, ``_`` and case alike) or an
    ``extra`` one; when its last word is a secret word (``new_password``) or a credential
    key (``snmp_priv_key``); or when it holds one of oslo.utils' sensitive words anywhere
    (``aws_secret_access_key``, ``SecretAccessKey``) and does not end in a word of
    :data:`DATA_WORDS` (``password_expires_at``, ``token_id`` and ``secret_ref`` are data).
    """
    normal = normalise_key(key)
    if normal in _EXACT or normal in extra:
        return True
    words = _key_words(key)
    while words and words[-1].isdigit():  # X-Container-Meta-Temp-URL-Key-2
        words.pop()
    if not words:
        return False
    if words[-1] in SECRET_WORDS or _is_key_family(words):
        return True
    if words[-1] in DATA_WORDS:
        return False
    squeezed = "".join(words)
    return any(fragment in normal or fragment in squeezed for fragment in _FRAGMENTS)


def is_sensitive_ctxt_key(key: str, extra: frozenset[str] = frozenset()) -> bool:
    """True for a secret context key: the payload rules, or an oslo fragment anywhere in it."""
    lowered = key.lower()
    return (
        lowered in CTXT_KEYS
        or any(fragment in lowered for fragment in _FRAGMENTS)
        or is_secret_key(key, extra)
    )


def _might_hold_secret(text: str, needles: tuple[str, ...]) -> bool:
    lowered = text.lower()
    for needle in needles:  # a loop: twice as fast as any() over a generator here
        if needle in lowered:
            return True
    return False


def _remembered(
    cache: dict[str, bool],
    key: str,
    verdict: Callable[[str, frozenset[str]], bool],
    extra: frozenset[str],
) -> bool:
    """``verdict(key, extra)``, remembered for the first 4096 keys (keys repeat a lot)."""
    cached = cache.get(key)
    if cached is None:
        cached = verdict(key, extra)
        if len(cache) < 4096:
            cache[key] = cached
    return cached


class Redactor:
    """Masks secrets in records; see the module docstring for the rules.

    ``enabled=False`` (``--no-redact``) returns everything unchanged; ``extra_keys``
    (``--redact-key``) are masked in the context and in payloads, at any depth, any case.
    """

    def __init__(self, *, enabled: bool = True, extra_keys: Iterable[str] = ()) -> None:
        self.enabled = enabled
        self.extra_keys = frozenset(normalise_key(key) for key in extra_keys)
        spellings = {key for extra in self.extra_keys for key in (extra, extra.replace("_", "-"))}
        self._needles = _NEEDLES + tuple(sorted(spellings))
        self._payload_cache: dict[str, bool] = {}
        self._ctxt_cache: dict[str, bool] = {}
        self._payload_kinds: dict[Any, int] = {}
        self._ctxt_kinds: dict[Any, int] = {}

    # -- whole records ---------------------------------------------------------------------

    def record(self, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` (a record dict) with every top-level key masked; copied if changed.

        ``ctxt`` (and a ``context`` key) by the context's rules, everything else
        (``payload``, and any other key a file holds: ``headers``, ``notes``) by the
        payload's.
        """
        if not self.enabled:
            return obj
        out: dict[str, Any] | None = None
        kinds, payload_secret = self._payload_kinds, self._payload_secret
        for key, value in obj.items():
            if key in _CONTEXT_KEYS:
                if value.__class__ is not dict:
                    continue
                new = self._mask(value, self._ctxt_secret)
            elif key == "payload":
                new = self._mask(value, payload_secret)
            else:  # one key of a record, classified and masked as in a payload
                kind = kinds.get(key)
                if kind is None:
                    kind = self._kind(key, kinds, payload_secret)
                if kind == _PLAIN:
                    new = self._mask_plain(value, kinds, payload_secret)
                elif kind == _SECRET:
                    new = value if value is None or value == MASK else MASK
                else:
                    new = self._credential(value, kinds, payload_secret)
            if new is not value:
                if out is None:
                    out = dict(obj)
                out[key] = new
        return obj if out is None else out

    # -- the context ---------------------------------------------------------------------

    def ctxt(self, ctxt: dict[str, Any]) -> dict[str, Any]:
        """The context with every secret replaced by ``"***"`` (keys and strings, any depth)."""
        if not self.enabled:
            return ctxt
        result: dict[str, Any] = self._mask(ctxt, self._ctxt_secret)
        return result

    def _ctxt_secret(self, key: str) -> bool:
        return _remembered(self._ctxt_cache, key, is_sensitive_ctxt_key, self.extra_keys)

    # -- the payload ---------------------------------------------------------------------

    def may_hold_payload_secret(self, text: str) -> bool:
        """False when ``text`` (JSON holding the payload) cannot hold anything to mask."""
        return self.enabled and _might_hold_secret(text, self._needles)

    def payload(self, payload: Any) -> Any:
        """The payload with secret keys, credentials and secrets in strings masked."""
        if not self.enabled:
            return payload
        return self._mask(payload, self._payload_secret)

    def _payload_secret(self, key: str) -> bool:
        return _remembered(self._payload_cache, key, is_secret_key, self.extra_keys)

    # -- strings ---------------------------------------------------------------------------

    def string(self, text: str) -> str:
        """``text`` with URL passwords, ``key=secret`` pairs and bearer tokens masked."""
        if not self.enabled:
            return text
        # Every pattern needs a separator (``=``, ``:``, ``@`` comes with ``:``) or a space:
        # most values (ids, names, numbers as text) are done after these few searches.
        if "=" not in text and ":" not in text and " " not in text and "\t" not in text:
            return text
        if not text.strip(_NO_LETTERS):  # a time, a number: every pattern needs letters
            return text
        if not _might_hold_secret(text, self._needles):
            return text
        return self._mask_string(text)

    def _mask_string(self, text: str) -> str:
        masked = text
        if "-----BEGIN" in masked:
            masked = _PEM.sub(_mask_pem, masked)
        if "[" in masked:
            masked = _KEYRING.sub(lambda m: m.group("head") + MASK, masked)
        masked = _URL_AUTHORITY.sub(_mask_authority, masked)
        masked = _AUTH_SCHEME.sub(lambda m: m.group("head") + MASK, masked)
        masked = _KEY_VALUE.sub(self._mask_pair, masked)
        if "--" in masked:
            masked = _LONG_FLAG.sub(self._mask_flag, masked)
        if "-p" in masked and _USER_FLAG.search(masked):
            masked = _SHORT_P.sub(lambda m: m.group("flag") + MASK, masked)
        return text if masked == text else masked

    def _mask_pair(self, match: re.Match[str]) -> str:
        value = match.group("value")
        if value == MASK:
            return match.group(0)
        if not self._payload_secret(match.group("key")):
            # The value may hold the next pair ("failed: password=x" is read as the key
            # "failed" and the value "password=x"; "http://h/p?token=x" as "http"): look
            # into it, so every pair of the text is examined whatever stands before it.
            if "=" in value or ":" in value:
                inner = _KEY_VALUE.sub(self._mask_pair, value)
                if inner != value:
                    return match.group("key") + match.group("sep") + inner
            return match.group(0)
        if value.lower() in ("bearer", "basic", "negotiate"):
            return match.group(0)  # the scheme; the credential after it is masked already
        return match.group("key") + match.group("sep") + MASK

    def _mask_flag(self, match: re.Match[str]) -> str:
        if match.group("value") == MASK or not self._payload_secret(match.group("key")):
            return match.group(0)
        return f"--{match.group('key')}{match.group('sep')}{MASK}"

    # -- the walk ----------------------------------------------------------------------------
    #
    # Written for speed: the context is walked for every message. Each key is classified
    # once (cached): _PLAIN, _SECRET, or _CREDENTIAL (a CADF credential); strings without
    # a separator cannot hold a pattern and are passed after a few C-level searches.

    def _mask(self, obj: Any, secret: Any) -> Any:
        cache = self._ctxt_kinds if secret == self._ctxt_secret else self._payload_kinds
        cls = obj.__class__
        if cls is dict:
            return self._mask_dict(obj, cache, secret)
        if cls is list:
            return self._mask_list(obj, cache, secret)
        if cls is str:
            return self.string(obj)
        return obj

    def _kind(self, key: Any, cache: dict[Any, int], secret: Any) -> int:
        if not isinstance(key, str):
            return _PLAIN
        kind = _SECRET if secret(key) else _PLAIN
        if key.lower() in _CREDENTIAL_KEYS:
            kind = _CREDENTIAL
        if len(cache) < 4096:
            cache[key] = kind
        return kind

    def _mask_plain(self, value: Any, cache: dict[Any, int], secret: Any) -> Any:
        """A value under a key that is no secret: searched (strings) or walked; else itself."""
        cls = value.__class__
        if cls is str:
            if ":" not in value and "=" not in value and " " not in value:
                return value
            return self.string(value)
        if cls is dict:
            return self._mask_dict(value, cache, secret)
        if cls is list:
            return self._mask_list(value, cache, secret)
        return value

    def _mask_dict(self, obj: dict[str, Any], cache: dict[Any, int], secret: Any) -> Any:
        out: dict[str, Any] | None = None
        if "value" in obj or "content" in obj:
            out = self._mask_named_value(obj, secret)
        for key, value in obj.items():
            kind = cache.get(key)
            if kind is None:
                kind = self._kind(key, cache, secret)
            if kind == _PLAIN:
                new: Any = self._mask_plain(value, cache, secret)
            elif kind == _SECRET:
                if value is None or value == MASK:
                    continue
                new = MASK
            else:
                new = self._credential(value, cache, secret)
            if new is not value and (out is None or out.get(key) != MASK):
                if out is None:
                    out = dict(obj)
                out[key] = new
        return obj if out is None else out

    def _mask_named_value(self, obj: dict[str, Any], secret: Any) -> dict[str, Any] | None:
        """A copy of a name/value pair with its value masked when the name is a secret key.

        ``{"name": K, "value"|"content": V}`` (a CADF attachment: keystone's
        ``partial_password_hash``) and ``{"key": K, "value": V}`` (metadata lists): V is
        masked as the value of the key K would be. None when there is nothing to mask.
        """
        label = obj.get("name")
        if label.__class__ is not str:
            label = obj.get("key")
            if label.__class__ is not str:
                return None
        if not secret(label):
            return None
        out = None
        for field_name in ("value", "content"):
            value = obj.get(field_name)
            if field_name in obj and value is not None and value != MASK:
                if out is None:
                    out = dict(obj)
                out[field_name] = MASK
        return out

    def _mask_list(self, obj: list[Any], cache: dict[Any, int], secret: Any) -> Any:
        out: list[Any] | None = None
        for index, value in enumerate(obj):
            new = self._mask_plain(value, cache, secret)
            if new is not value:
                if out is None:
                    out = list(obj)
                out[index] = new
        return obj if out is None else out

    def _credential(self, value: Any, cache: dict[Any, int], secret: Any) -> Any:
        """A CADF credential: as text it is the token itself; as an object, walk it."""
        if value is None or value == MASK:
            return value
        if isinstance(value, dict):
            return self._mask_dict(value, cache, secret)  # token goes, status stays
        if isinstance(value, list):
            masked = [MASK if isinstance(item, str) else self._mask(item, secret) for item in value]
            return value if masked == value else masked
        return MASK


_PLAIN, _SECRET, _CREDENTIAL = 0, 1, 2
# Top-level keys masked by the context's rules.
_CONTEXT_KEYS = frozenset({"ctxt", "context"})


def _mask_pem(match: re.Match[str]) -> str:
    end = match.group("end") or ""
    return f"{match.group('begin')}\n{MASK}\n{end}" if end else f"{match.group('begin')}\n{MASK}"


def _mask_authority(match: re.Match[str]) -> str:
    """``user:pass@host,user:pass@host2`` -> ``user:***@host,user:***@host2``."""
    hosts = []
    scheme = match.group("scheme")
    for host in match.group("authority").split(","):
        userinfo, at, hostport = host.rpartition("@")
        if scheme.startswith("trust+") and userinfo.endswith(":delete"):
            # aodh's trust+http://TRUST_ID:delete@host action: "delete" is a flag (delete
            # the trust with the alarm), not a password, and masking it would change what
            # a replayed alarm does. The trust id alone lets nobody in.
            hosts.append(host)
            continue
        if at and ":" in userinfo:
            host = f"{userinfo.split(':', 1)[0]}:{MASK}@{hostport}"
        hosts.append(host)
    return match.group("scheme") + ",".join(hosts)


_DEFAULT = Redactor()


def redact_record(
    obj: dict[str, Any], *, extra_keys: Iterable[str] = (), enabled: bool = True
) -> dict[str, Any]:
    """``obj`` (a record dict) with every secret in ``ctxt`` and ``payload`` masked.

    The one entry point for commands that write records: ``osreplay record`` applies the
    same rules through a :class:`Redactor` it keeps for the whole run.
    """
    if not enabled:
        return obj
    redactor = _DEFAULT if not extra_keys else Redactor(extra_keys=extra_keys)
    return redactor.record(obj)


def mask_text(text: str) -> str:
    """``text`` with URL passwords, ``key=secret`` pairs and bearer tokens masked."""
    return _DEFAULT.string(text)


def json_key(key: str) -> str:
    """How ``key`` appears as an object key in ``json.dumps`` output (ensure_ascii=False)."""
    return json.dumps(key, ensure_ascii=False) + ":"


__all__ = [
    "CTXT_KEYS",
    "DATA_WORDS",
    "HTTP_CREDENTIAL_HEADERS",
    "KEY_QUALIFIERS",
    "MASK",
    "PAYLOAD_KEYS",
    "SECRET_WORDS",
    "Redactor",
    "is_secret_key",
    "is_sensitive_ctxt_key",
    "mask_text",
    "normalise_key",
    "redact_record",
]
