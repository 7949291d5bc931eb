"""Where the bus is: transport URL resolution, oslo.config, masking, connection checks.

The URL comes from ``--url``, else ``OSREPLAY_TRANSPORT_URL``, else the service
configuration files given with ``--config-file`` (``[oslo_messaging_notifications]
transport_url`` then ``[DEFAULT] transport_url``), else :data:`DEFAULT_URL`. Every run
builds its own ``cfg.ConfigOpts``; the global ``cfg.CONF`` is never touched.

Passwords never leave this module unmasked: :func:`mask_url` is for URLs, and
:func:`mask_secrets` for any text (error messages, log lines) that might contain one.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from osreplay.errors import ConfigError, ConnectError, UsageError

if TYPE_CHECKING:  # oslo is imported when a bus is needed, so `validate` starts fast
    import oslo_messaging
    from oslo_config import cfg

LOG = logging.getLogger(__name__)

DEFAULT_URL = "rabbit://guest:guest@localhost:5672/"
DEFAULT_TOPIC = "notifications"
ENV_URL = "OSREPLAY_TRANSPORT_URL"
MASK = "***"

# user:password@ after "scheme://" or after "," (oslo's multi-host URLs).
_CREDENTIALS = re.compile(r"((?:[A-Za-z][A-Za-z0-9+.-]*://|,)[^:/@\s,]*:)[^@\s]*?@")


def mask_url(url: str) -> str:
    """``rabbit://guest:guest@h:5672/`` -> ``rabbit://guest:***@h:5672/``."""
    return _CREDENTIALS.sub(rf"\1{MASK}@", url)


def mask_secrets(text: str) -> str:
    """Mask every URL password found in ``text``."""
    return _CREDENTIALS.sub(rf"\1{MASK}@", text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks URL passwords in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


@dataclass(slots=True)
class BusSettings:
    """The resolved connection settings of one run."""

    url: str
    conf: cfg.ConfigOpts
    topics: list[str] = field(default_factory=lambda: [DEFAULT_TOPIC])
    source: str = "default"

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @property
    def is_memory(self) -> bool:
        return self.url.startswith(("kombu+memory:", "fake:"))


def build_conf(config_files: Sequence[str] = ()) -> cfg.ConfigOpts:
    """A fresh ConfigOpts with oslo.messaging's options, loaded from ``config_files``."""
    import oslo_messaging.opts
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
    """Resolve the transport URL and topics by the documented order of precedence."""
    environ = os.environ if environ is None else environ
    conf = build_conf(config_files)
    notifications = conf.oslo_messaging_notifications
    if url:
        chosen, source = url, "--url"
    elif environ.get(ENV_URL):
        chosen, source = environ[ENV_URL], ENV_URL
    elif config_files and (notifications.transport_url or conf.transport_url):
        chosen = notifications.transport_url or conf.transport_url
        source = ", ".join(config_files)
    else:
        chosen, source = DEFAULT_URL, "default"
    chosen_topics = list(topics) or list(notifications.topics if config_files else [])
    return BusSettings(
        url=chosen,
        conf=conf,
        topics=chosen_topics or [DEFAULT_TOPIC],
        source=source,
    )


def get_transport(
    settings: BusSettings, *, exchange: str | None = None
) -> oslo_messaging.Transport:
    """A notification transport whose control exchange is ``exchange`` (if given).

    The Notifier cannot pick an exchange per message: one transport per exchange.
    """
    import oslo_messaging

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


def amqp_urls(settings: BusSettings) -> list[str]:
    """The broker hosts of a rabbit transport URL as kombu ``amqp://`` URLs."""
    import oslo_messaging

    parsed = oslo_messaging.TransportURL.parse(settings.conf, settings.url)
    vhost = parsed.virtual_host or ""
    urls = []
    for host in parsed.hosts or [oslo_messaging.transport.TransportHost()]:
        user = host.username or "guest"
        password = host.password if host.password is not None else "guest"
        hostname = host.hostname or "localhost"
        port = host.port or 5672
        urls.append(f"amqp://{user}:{password}@{hostname}:{port}/{vhost}")
    return urls


def check_connection(settings: BusSettings, *, timeout: float = 15.0) -> None:
    """Fail fast, within ``timeout`` seconds, when no broker answers at the URL.

    Raises ConnectError with the masked URL and the reason.
    """
    if settings.is_memory:
        return
    # Only needed when there is a real broker to reach.
    import amqp.exceptions
    import kombu
    import kombu.exceptions

    reason = "no broker host in the URL"
    for amqp_url in amqp_urls(settings):
        connection = kombu.Connection(amqp_url, connect_timeout=timeout)
        try:
            connection.ensure_connection(max_retries=1, timeout=timeout)
            return
        except (OSError, kombu.exceptions.KombuError, amqp.exceptions.AMQPError) as exc:
            reason = _reason(exc)
        finally:
            connection.release()
    raise ConnectError(f"cannot connect to {settings.masked_url}: {reason}")


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return mask_secrets(text)
