"""Transport URLs as oslo.messaging reads them: parse, check, mask, and re-encode for kombu.

oslo writes ``rabbit://USER:PASSWORD@HOST:PORT[,USER:PASSWORD@HOST:PORT...]/VHOST?OPTIONS``
with the user and password percent-encoded (``%2F`` for ``/``, ``%40`` for ``@``…). It
splits the hosts on ``,``, each host's credentials from its address on the *last* ``@``,
and the user from the password on the *first* ``:``; so a raw ``@`` or ``:`` in a password
also works. Each host keeps its own credentials.

:func:`parse` reads a URL that way and refuses, with a message ready to print (password
masked), what oslo would turn into a traceback or a hang: no scheme, an unknown transport,
a port that is not a number from 1 to 65535. :func:`kombu_urls` builds the ``amqp://``
URLs osreplay connects with itself, encoding every byte of user, password and virtual host
so that any password comes back intact. :func:`mask_url` hides whole passwords, and
:func:`mask_secrets` hides them in any text, including, anywhere in it, the passwords of
the URL given to :func:`remember_url_secrets` (the run's own).
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from urllib import parse as urlparse

from osreplay.errors import UsageError

MASK = "***"
DEFAULT_PORT = 5672

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# A host between the credentials of two hosts: name or [IPv6], then an optional port.
_BETWEEN_HOSTS = re.compile(r"@((?:\[[0-9A-Fa-f:.%]*\]|[A-Za-z0-9._~-]*)(?::[0-9]*)?),")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
# Passwords seen in this process, masked wherever they appear (oslo and kombu messages,
# tracebacks). Short ones would mask ordinary words, and guest:guest is public anyway.
_KNOWN_SECRETS: set[str] = set()
_MIN_SECRET = 4


@dataclass(frozen=True, slots=True)
class BrokerHost:
    """One broker of a transport URL, with its own credentials (None when absent)."""

    hostname: str
    port: int | None = None
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class BusURL:
    """A parsed transport URL; ``query`` holds oslo options given in the URL."""

    transport: str
    hosts: tuple[BrokerHost, ...] = ()
    virtual_host: str | None = None
    query: dict[str, str] = field(default_factory=dict)

    @property
    def driver(self) -> str:
        """The oslo driver name: ``kombu`` for ``kombu+memory``."""
        return self.transport.split("+")[0]


# --- masking ------------------------------------------------------------------------


def mask_url(url: str) -> str:
    """``rabbit://guest:s3cret@h:5672/`` -> ``rabbit://guest:***@h:5672/``.

    The whole password is hidden whatever it holds (raw ``@``, ``/``, ``#``, spaces):
    everything up to the URL's last ``@`` is credentials, split into hosts only where
    every host then has a ``user:password`` of its own.
    """
    scheme = _SCHEME.match(url)
    prefix = scheme.group(0) if scheme else ""
    rest = url[len(prefix) :]
    at = rest.rfind("@")
    if at < 0:
        return url
    return prefix + _mask_credentials(rest[:at]) + rest[at:]


def _mask_credentials(zone: str) -> str:
    parts = _BETWEEN_HOSTS.split(zone)
    credentials, hosts = parts[0::2], parts[1::2]
    if len(credentials) > 1 and not all(":" in c for c in credentials):
        credentials, hosts = [zone], []  # not a clean list of hosts: hide it all
    masked = [_mask_one(c) for c in credentials]
    out = masked[0]
    for host, cred in zip(hosts, masked[1:], strict=True):
        out += f"@{host},{cred}"
    return out


def _mask_one(credentials: str) -> str:
    user, colon, _ = credentials.partition(":")
    return f"{user}:{MASK}" if colon else credentials


def mask_secrets(text: str) -> str:
    """Mask every password known to this process and every URL password in ``text``."""
    for secret in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)


# Where in CPython's C source an error was raised, e.g. ``(_ssl.c:1006)``: it tells a
# user nothing, and it changes with every Python build.
_C_SOURCE = re.compile(r" ?\(_?\w+\.c:\d+\)")


def plain_text(text: str) -> str:
    """``text`` masked (:func:`mask_secrets`), without the interpreter's source locations."""
    return _C_SOURCE.sub("", mask_secrets(text))


def error_text(exc: BaseException) -> str:
    """An exception as a person reads it: masked, plain, never empty."""
    return plain_text(str(exc)).strip() or type(exc).__name__


class MaskingFilter(logging.Filter):
    """A logging filter that masks URL passwords (and drops C source locations) in records."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = plain_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def remember_secret(password: str | None, *, username: str | None = None) -> None:
    """Mask ``password`` (raw and percent-encoded) in all later :func:`mask_secrets`."""
    if not password or len(password) < _MIN_SECRET or password == username:
        return
    for form in {password, urlparse.quote(password, safe=""), urlparse.quote(password)}:
        _KNOWN_SECRETS.add(form)


def remember_url_secrets(url: str) -> None:
    """Mask the passwords of ``url`` (the run's own URL) in all later :func:`mask_secrets`.

    Read from the raw text, so that a URL which does not parse is covered too.
    """
    scheme = _SCHEME.match(url)
    rest = url[len(scheme.group(0)) if scheme else 0 :]
    at = rest.rfind("@")
    if at < 0:
        return
    for credentials in _BETWEEN_HOSTS.split(rest[:at])[0::2]:
        user, colon, password = credentials.partition(":")
        if colon:
            remember_secret(password, username=user)
            remember_secret(urlparse.unquote(password), username=user)


# --- parsing ------------------------------------------------------------------------


def parse(url: str, *, drivers: frozenset[str] | None = None) -> BusURL:
    """Parse ``url`` as oslo does; raise UsageError (masked) for what oslo cannot use.

    ``drivers`` are the transport names oslo can load (default: its installed drivers).
    """
    known = available_drivers() if drivers is None else drivers
    try:
        split = urlparse.urlparse(url)
    except ValueError as exc:  # e.g. an unclosed [IPv6 address
        raise UsageError(f"invalid transport URL {mask_url(url)}: {exc}") from None
    scheme = split.scheme if "://" in url or split.scheme in known else ""
    if not scheme:
        raise UsageError(
            f"invalid transport URL {mask_url(url)}: no scheme (start it with rabbit://)"
        )
    if scheme.split("+")[0] not in known:
        hint = " (for RabbitMQ write rabbit://)" if scheme.startswith("amqp") else ""
        raise UsageError(
            f"invalid transport URL {mask_url(url)}: unknown transport {scheme!r}{hint}; "
            f"oslo.messaging has {', '.join(sorted(known))}"
        )
    if "@" in split.path or "@" in split.fragment or "@" in split.query.split("=")[0]:
        raise UsageError(
            f"invalid transport URL {mask_url(url)}: '@' after the host; percent-encode "
            "'/', '?' and '#' in user names and passwords (%2F, %3F, %23)"
        )
    hosts = tuple(_parse_host(url, text) for text in split.netloc.split(",") if text)
    query = {k: ",".join(v) for k, v in urlparse.parse_qs(split.query).items()}
    vhost = urlparse.unquote(split.path[1:]) if split.path.startswith("/") else None
    return BusURL(scheme, hosts, vhost, query)


def _parse_host(url: str, text: str) -> BrokerHost:
    username = password = None
    address = text
    if "@" in text:
        credentials, address = text.rsplit("@", 1)
        username, colon, raw_password = credentials.partition(":")
        password = urlparse.unquote(raw_password) if colon else None
        username = urlparse.unquote(username)
    hostname, port = _split_port(url, address)
    return BrokerHost(hostname, port, username, password)


def _split_port(url: str, address: str) -> tuple[str, int | None]:
    """Like oslo_utils.netutils.parse_host_port, with a port checked instead of a traceback."""
    if address.startswith("["):
        hostname, _, after = address[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else None
    elif address.count(":") == 1:
        hostname, port_text = address.split(":")
    else:  # a bare IPv6 address, or no port
        hostname, port_text = address, None
    if port_text is None or port_text == "":
        return hostname, None
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(
            f"invalid transport URL {mask_url(url)}: port {port_text!r} of host "
            f"{hostname or 'localhost'} is not a number from 1 to 65535"
        )
    return hostname, int(port_text)


@functools.lru_cache(maxsize=1)
def available_drivers() -> frozenset[str]:
    """The transport names oslo.messaging can load here (its driver entry points)."""
    from importlib.metadata import entry_points

    return frozenset(ep.name for ep in entry_points(group="oslo.messaging.drivers"))


# --- building -----------------------------------------------------------------------


def kombu_urls(bus: BusURL) -> list[str]:
    """One kombu URL per broker host, every part percent-encoded.

    Like oslo's rabbit driver (``rabbit`` becomes ``amqp``; no host means
    guest:guest@localhost), except that ``/`` is encoded too: oslo leaves it raw,
    and kombu then reads a password holding ``/`` as the end of the address.
    """
    scheme = bus.transport.replace("kombu+", "").replace("rabbit", "amqp")
    vhost = quote(bus.virtual_host or "")
    return [
        f"{scheme}://{quote(h.username or 'guest')}:"
        f"{quote(h.password if h.password is not None else 'guest')}"
        f"@{_bracket(h.hostname or 'localhost')}:{h.port or DEFAULT_PORT}/{vhost}"
        for h in bus.hosts or (BrokerHost(""),)
    ]


def host_address(host: BrokerHost) -> str:
    """``host:port`` as oslo connects to it (defaults filled in), for messages."""
    return f"{_bracket(host.hostname or 'localhost')}:{host.port or DEFAULT_PORT}"


def format_url(bus: BusURL) -> str:
    """The transport URL of ``bus``, encoded as oslo expects (for docs, tests and tools)."""
    hosts = []
    for h in bus.hosts:
        credentials = ""
        if h.username is not None:
            credentials = quote(h.username)
            if h.password is not None:
                credentials += ":" + quote(h.password)
            credentials += "@"
        port = f":{h.port}" if h.port else ""
        hosts.append(f"{credentials}{_bracket(h.hostname)}{port}")
    vhost = "/" + quote(bus.virtual_host) if bus.virtual_host is not None else ""
    query = "?" + urlparse.urlencode(bus.query) if bus.query else ""
    return f"{bus.transport}://{','.join(hosts)}{vhost}{query}"


def quote(text: str) -> str:
    """Percent-encode everything but letters, digits and ``_.-~``."""
    return urlparse.quote(text, safe="")


def _bracket(hostname: str) -> str:
    return f"[{hostname}]" if ":" in hostname else hostname
