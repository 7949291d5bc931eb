"""Where the bus is: transport URL resolution, oslo.config, TLS, masking, connection checks.

The URL comes from ``--url``, else ``OSREPLAY_TRANSPORT_URL``, else the service
configuration files given with ``--config-file`` (``[oslo_messaging_notifications]
transport_url`` then ``[DEFAULT] transport_url``), else :data:`DEFAULT_URL`. Every run
builds its own ``cfg.ConfigOpts``; the global ``cfg.CONF`` is never touched.

osreplay opens connections of its own beside oslo's (the connection check, the queue
admin): they use the same TLS settings as oslo's rabbit driver, ``[oslo_messaging_rabbit]
ssl``, ``ssl_version``, ``ssl_ca_file``, ``ssl_cert_file``, ``ssl_key_file``, each
overridable in the URL's query (``?ssl=1``), so a check passes only where oslo can connect.

Passwords never leave this module unmasked: :func:`mask_url` is for URLs, and
:func:`mask_secrets` for any text (error messages, log lines) that might contain one.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from osreplay.bus import url as busurl
from osreplay.bus.url import MASK, BusURL, MaskingFilter, error_text, mask_secrets, mask_url
from osreplay.errors import ConfigError, ConnectError, UsageError

if TYPE_CHECKING:  # oslo is imported when a bus is needed, so `validate` starts fast
    import oslo_messaging  # type: ignore[import-untyped]
    from oslo_config import cfg

__all__ = [
    "MASK",
    "MaskingFilter",
    "mask_secrets",
    "mask_url",
]  # re-exported: callers import them from here

LOG = logging.getLogger(__name__)

DEFAULT_URL = "rabbit://guest:guest@localhost:5672/"
DEFAULT_TOPIC = "notifications"
ENV_URL = "OSREPLAY_TRANSPORT_URL"
RABBIT_GROUP = "oslo_messaging_rabbit"
#: oslo adds these to every context it hands a listener (None when they were not sent):
#: a recorder drops them, and a replay leaves them out of the context it sends again.
RECEIVED_CONTEXT_KEYS = frozenset({"msg_id", "reply_q", "client_timeout"})


def sent_context(ctxt: dict[str, Any]) -> dict[str, Any]:
    """``ctxt`` without the :data:`RECEIVED_CONTEXT_KEYS` oslo filled with None itself
    (``ctxt`` itself, not a copy, when it holds none: this runs for every message)."""
    if all(ctxt.get(key, 0) is not None for key in RECEIVED_CONTEXT_KEYS):
        return ctxt
    return {k: v for k, v in ctxt.items() if not (k in RECEIVED_CONTEXT_KEYS and v is None)}


@dataclass(slots=True)
class BusSettings:
    """The resolved connection settings of one run.

    ``source`` says where the URL came from; ``notes`` are lines for the user about
    that choice (which file gave the URL, or a warning that a config file gave none).
    """

    url: str
    conf: cfg.ConfigOpts
    topics: list[str] = field(default_factory=lambda: [DEFAULT_TOPIC])
    source: str = "default"
    notes: list[str] = field(default_factory=list)
    config_files: tuple[str, ...] = ()
    #: ``(exchange, file)``: each config file's ``[DEFAULT] control_exchange``, in order.
    control_exchanges: list[tuple[str, str]] = field(default_factory=list)

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @property
    def is_memory(self) -> bool:
        return self.url.startswith(("kombu+memory:", "fake:"))

    @property
    def bus(self) -> BusURL:
        return busurl.parse(self.url)


def build_conf(config_files: Sequence[str] = ()) -> cfg.ConfigOpts:
    """A fresh ConfigOpts with oslo.messaging's options, loaded from ``config_files``."""
    import oslo_messaging.opts  # type: ignore[import-untyped]
    from oslo_config import cfg

    conf = cfg.ConfigOpts()
    for group, opts in oslo_messaging.opts.list_opts():
        conf.register_opts(opts, group=group)
    args: list[str] = []
    for path in config_files:
        if not os.path.isfile(path):
            raise ConfigError(f"cannot read configuration file {path}: no such file")
        if not os.access(path, os.R_OK):
            raise ConfigError(f"cannot read configuration file {path}: permission denied")
        args += ["--config-file", path]
    try:
        conf(args, project="osreplay", default_config_files=[], default_config_dirs=[])
    except cfg.Error as exc:
        raise ConfigError(f"cannot read configuration: {mask_secrets(str(exc))}") from None
    return conf


def resolve(
    *,
    url: str | None = None,
    config_files: Sequence[str] = (),
    topics: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> BusSettings:
    """Resolve the transport URL and topics by the documented order of precedence.

    Raises UsageError (URL masked) for a URL oslo could not use, before any connection.
    """
    environ = os.environ if environ is None else environ
    conf = build_conf(config_files)
    notifications = conf.oslo_messaging_notifications
    from_files = _url_from_files(conf, config_files)
    notes = []
    if url:
        chosen, source = url, "--url"
    elif environ.get(ENV_URL):
        chosen, source = environ[ENV_URL], f"${ENV_URL}"
    elif from_files is not None:
        chosen, source = from_files
    else:
        chosen, source = DEFAULT_URL, "the default"
    if config_files and from_files is None and source == "the default":
        files = ", ".join(config_files)
        notes.append(
            f"Warning: no transport_url in {files}; using {mask_url(chosen)} from {source}"
        )
    elif config_files:
        notes.append(f"Transport URL {mask_url(chosen)} from {source}")
    busurl.remember_url_secrets(chosen)  # masked even in oslo's and kombu's own messages
    busurl.parse(chosen)  # refuse a bad URL now, not as an oslo traceback later
    chosen_topics = list(topics) or list(notifications.topics if config_files else [])
    return BusSettings(
        url=chosen,
        conf=conf,
        topics=chosen_topics or [DEFAULT_TOPIC],
        source=source,
        notes=notes,
        config_files=tuple(config_files),
        control_exchanges=_control_exchanges(config_files),
    )


def _control_exchanges(config_files: Sequence[str]) -> list[tuple[str, str]]:
    """Each file's own ``[DEFAULT] control_exchange`` (oslo keeps only the last file's)."""
    from oslo_config import cfg

    found: list[tuple[str, str]] = []
    for path in config_files:
        sections: dict[str, dict[str, list[str]]] = {}
        try:
            cfg.ConfigParser(path, sections).parse()
        except (cfg.Error, OSError, ValueError):
            continue  # build_conf has read it already and would have said why
        values = sections.get("DEFAULT", {}).get("control_exchange") or []
        if values and values[-1].strip():
            found.append((values[-1].strip(), path))
    return found


def _url_from_files(conf: cfg.ConfigOpts, config_files: Sequence[str]) -> tuple[str, str] | None:
    """The transport_url a config file sets (not oslo's default ``rabbit://``), and where."""
    for group in ("oslo_messaging_notifications", None):
        location = conf.get_location("transport_url", group)
        value = conf[group].transport_url if group else conf.transport_url
        if config_files and value and location is not None and location.detail:
            return value, f"{location.detail} [{group or 'DEFAULT'}]"
    return None


def get_transport(
    settings: BusSettings, *, exchange: str | None = None
) -> oslo_messaging.Transport:
    """A notification transport whose control exchange is ``exchange`` (if given).

    The Notifier cannot pick an exchange per message: one transport per exchange.
    """
    import oslo_messaging

    _encode_slashes_in_oslo_urls()
    conf = settings.conf
    if exchange:
        conf.set_override("control_exchange", exchange)
    try:
        return oslo_messaging.get_notification_transport(conf, url=settings.url)
    except (oslo_messaging.InvalidTransportURL, oslo_messaging.DriverLoadFailure) as exc:
        raise UsageError(
            f"invalid transport URL {settings.masked_url}: {mask_secrets(str(exc))}"
        ) from None
    finally:
        if exchange:
            conf.clear_override("control_exchange")


def _encode_slashes_in_oslo_urls() -> None:
    """Make oslo's rabbit driver encode ``/`` in user names, passwords and vhosts.

    oslo 18 builds its kombu URL with ``urllib.parse.quote``, which leaves ``/`` raw
    (and the vhost unencoded); kombu then takes what follows a ``/`` in a password for
    the path and fails to connect. Only
    this process is changed, and only that one method, to what busurl.kombu_urls does.
    """
    from oslo_messaging._drivers import impl_rabbit  # type: ignore[import-untyped]

    connection = impl_rabbit.Connection
    if getattr(connection, "_osreplay_encodes_slashes", False):
        return

    def transform(
        self: Any,
        url: Any,
        host: Any,
        default_username: str = "",
        default_password: str = "",
        default_hostname: str = "",
    ) -> str:
        from oslo_utils import netutils

        transport = url.transport.replace("kombu+", "").replace("rabbit", "amqp")
        return "{}://{}:{}@{}:{}/{}".format(
            transport,
            busurl.quote(host.username or default_username),
            busurl.quote(host.password or default_password),
            netutils.escape_ipv6(host.hostname) or default_hostname,
            str(host.port or busurl.DEFAULT_PORT),
            busurl.quote(url.virtual_host or ""),
        )

    connection._transform_transport_url = transform
    connection._osreplay_encodes_slashes = True


def amqp_urls(settings: BusSettings) -> list[str]:
    """The broker hosts of a rabbit transport URL as kombu ``amqp://`` URLs."""
    return busurl.kombu_urls(settings.bus)


def ssl_options(settings: BusSettings) -> dict[str, Any] | bool:
    """kombu's ``ssl=`` argument, as oslo's rabbit driver computes it for this URL.

    ``[oslo_messaging_rabbit]`` options, overridden by the URL's query (``?ssl=1``).
    """
    import ssl

    if settings.is_memory or settings.bus.driver != "rabbit":
        return False  # [oslo_messaging_rabbit] is the rabbit driver's alone
    rabbit = rabbit_options(settings)
    if not rabbit.ssl:
        return False
    params: dict[str, Any] = {}
    if rabbit.ssl_version:
        params["ssl_version"] = _ssl_version(rabbit.ssl_version)
    if rabbit.ssl_key_file:
        params["keyfile"] = _readable(rabbit.ssl_key_file, "ssl_key_file")
    if rabbit.ssl_cert_file:
        params["certfile"] = _readable(rabbit.ssl_cert_file, "ssl_cert_file")
    if rabbit.ssl_ca_file:
        params["ca_certs"] = _readable(rabbit.ssl_ca_file, "ssl_ca_file")
        params["cert_reqs"] = ssl.CERT_REQUIRED
        hosts = settings.bus.hosts
        params["server_hostname"] = hosts[0].hostname if len(hosts) == 1 else None
    return params or True


def quorum_queues(settings: BusSettings) -> bool:
    """True when ``[oslo_messaging_rabbit] rabbit_quorum_queue`` (or ``?rabbit_quorum_queue=``
    in the URL) asks for quorum queues."""
    if settings.is_memory or settings.bus.driver != "rabbit":
        return False
    return bool(rabbit_options(settings).rabbit_quorum_queue)


def uses_tls(settings: BusSettings) -> bool:
    return ssl_options(settings) is not False


def rabbit_options(settings: BusSettings) -> Any:
    """``conf.oslo_messaging_rabbit`` with the URL's query applied, as oslo's driver sees it."""
    import oslo_messaging
    from oslo_config import cfg
    from oslo_messaging._drivers import common

    parsed = oslo_messaging.TransportURL.parse(settings.conf, settings.url)
    try:
        return common.ConfigOptsProxy(settings.conf, parsed, RABBIT_GROUP)[RABBIT_GROUP]
    except (cfg.Error, ValueError) as exc:
        raise UsageError(
            f"invalid option in transport URL {settings.masked_url}: {mask_secrets(str(exc))}"
        ) from None


def _ssl_version(version: str) -> Any:
    import ssl

    name = {
        "tlsv1": "PROTOCOL_TLSv1",
        "sslv23": "PROTOCOL_SSLv23",
        "tlsv1_1": "PROTOCOL_TLSv1_1",
        "tlsv1_2": "PROTOCOL_TLSv1_2",
    }.get(version.lower())
    if name is None or not hasattr(ssl, name):
        raise ConfigError(f"[{RABBIT_GROUP}] ssl_version {version!r} is not available here")
    return getattr(ssl, name)


def _readable(path: str, option: str) -> str:
    if not os.access(path, os.R_OK):
        reason = "permission denied" if os.path.exists(path) else "no such file"
        raise ConfigError(f"cannot read [{RABBIT_GROUP}] {option} {path}: {reason}")
    return path


def kombu_connection(settings: BusSettings, url: str, *, timeout: float) -> Any:
    """A kombu connection to ``url`` with the run's TLS settings and login method."""
    from kombu.connection import Connection

    connect: Callable[..., Any] = Connection  # kombu's constructor has no annotations
    rabbit = rabbit_options(settings)
    return connect(
        url,
        ssl=ssl_options(settings),
        login_method=rabbit.rabbit_login_method,
        connect_timeout=timeout,
    )


def check_connection(settings: BusSettings, *, timeout: float = 15.0) -> None:
    """Fail fast, within ``timeout`` seconds per host, when no broker answers at the URL.

    Connects exactly as oslo will (TLS included). With several hosts (a cluster), one
    that answers is enough, as oslo fails over to it; a host that refuses is passed at
    once. Raises ConnectError with the masked URL and each host's reason.
    """
    if settings.is_memory:
        return
    # Only needed when there is a real broker to reach.
    import amqp.exceptions  # type: ignore[import-untyped]
    import kombu.exceptions

    urls = amqp_urls(settings)
    reasons: list[str] = []
    for index, amqp_url in enumerate(urls):
        connection = kombu_connection(settings, amqp_url, timeout=timeout)
        try:
            # One retry on the last host only: the others are tried in its place.
            retries = 1 if index == len(urls) - 1 else 0
            connection.ensure_connection(max_retries=retries, timeout=timeout)
            return
        except (OSError, kombu.exceptions.KombuError, amqp.exceptions.AMQPError) as exc:
            reasons.append(_reason(exc, tls=uses_tls(settings)))
        finally:
            connection.release()
    raise ConnectError(
        f"cannot connect to {settings.masked_url}: {_join_reasons(settings, reasons)}"
    )


def _join_reasons(settings: BusSettings, reasons: Sequence[str]) -> str:
    if len(reasons) < 2:
        return reasons[0] if reasons else "no broker host in the URL"
    hosts = settings.bus.hosts
    return "; ".join(
        f"{busurl.host_address(host)}: {reason}"
        for host, reason in zip(hosts, reasons, strict=True)
    )


_OSLO_GAVE_UP = re.compile(r"^Unable to connect to AMQP server on \S+ after \S+ tries: ", re.S)


def oslo_reason(exc: BaseException) -> str:
    """The broker's own words in an oslo error, masked, without oslo's retry preamble.

    oslo wraps a refused declare in ``Unable to connect to AMQP server on H:P after inf
    tries: …``: the connection was fine, and "inf" reads like a hang.
    """
    return _OSLO_GAVE_UP.sub("", error_text(exc)) or type(exc).__name__


def _reason(exc: BaseException, *, tls: bool = False) -> str:
    text = error_text(exc)
    if tls and "WRONG_VERSION_NUMBER" in text:
        text += f" (TLS is on by [{RABBIT_GROUP}] ssl or ?ssl=1, but this port does not speak TLS)"
    elif not tls and "reset by peer" in text:
        text += f" (TLS is off: if this port is a TLS listener, set [{RABBIT_GROUP}] ssl)"
    return text
