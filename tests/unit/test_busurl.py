"""Transport URLs: parsed as oslo parses them, masked whole, re-encoded for kombu intact.

oslo_messaging is imported inside the tests, past the deprecation warning eventlet raises
on import (pytest turns warnings into errors).
"""

from __future__ import annotations

import re
import socket
import ssl
import warnings

import kombu
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osreplay.bus import url as busurl
from osreplay.bus.url import BrokerHost, BusURL, format_url, kombu_urls, mask_secrets, mask_url
from osreplay.errors import UsageError

DRIVERS = frozenset({"rabbit", "kombu", "kafka", "fake"})
HARD = "p@ss/w#rd?%:x y"  # every character the issue names


def oslo_passwords(url: str) -> list[str | None]:
    """The passwords oslo itself reads from ``url``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import oslo_messaging
    from oslo_config import cfg

    return [h.password for h in oslo_messaging.TransportURL.parse(cfg.ConfigOpts(), url).hosts]


def url_for(password: str, *, user: str = "u", host: str = "h", vhost: str = "v") -> str:
    return format_url(BusURL("rabbit", (BrokerHost(host, 5672, user, password),), vhost))


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rabbit://guest:guest@h:5672/", "rabbit://guest:***@h:5672/"),
        ("rabbit://u:Pass@Word@host:5672/", "rabbit://u:***@host:5672/"),
        ("rabbit://u:a@b:c@host/", "rabbit://u:***@host/"),
        ("rabbit://u:p/ss#x@host:5672/", "rabbit://u:***@host:5672/"),
        ("rabbit://u:p%40%2F@host:5672/v", "rabbit://u:***@host:5672/v"),
        (
            "rabbit://u1:p1@h1:5672,u2:p@2@h2:5673/v",
            "rabbit://u1:***@h1:5672,u2:***@h2:5673/v",
        ),
        (
            "rabbit://a:b@[::1]:5672,c:d@[fe80::1]:5672/",
            "rabbit://a:***@[::1]:5672,c:***@[fe80::1]:5672/",
        ),
        ("guest:S3cretPW@127.0.0.1:5672", "guest:***@127.0.0.1:5672"),
        ("rabbit://u:p@ss,x@h:5672/", "rabbit://u:***@h:5672/"),  # raw comma: hide it all
        ("rabbit://h:5672/", "rabbit://h:5672/"),
        ("rabbit://", "rabbit://"),
        ("kombu+memory:////", "kombu+memory:////"),
        ("rabbit://user@h/", "rabbit://user@h/"),
    ],
)
def test_mask_url_hides_the_whole_password(url, masked):
    assert mask_url(url) == masked


def test_mask_secrets_masks_urls_in_text_and_the_runs_password_anywhere():
    busurl.remember_url_secrets("rabbit://u:" + busurl.quote("Zq9 x@y") + "@h:5672/")
    text = "login failed for Zq9 x@y at rabbit://u:Zq9%20x%40y@h:5672/ (Zq9%20x%40y)"
    assert mask_secrets(text) == "login failed for *** at rabbit://u:***@h:5672/ (***)"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        (
            "127.0.0.1:5672",
            "invalid transport URL 127.0.0.1:5672: no scheme (start it with rabbit://)",
        ),
        (
            "guest:S3cretPW@127.0.0.1:5672",
            "invalid transport URL guest:***@127.0.0.1:5672: no scheme (start it with rabbit://)",
        ),
        (
            "amqp://guest:guest@h:5672/",
            "invalid transport URL amqp://guest:***@h:5672/: unknown transport 'amqp' "
            "(for RabbitMQ write rabbit://); oslo.messaging has fake, kafka, kombu, rabbit",
        ),
        (
            "rabbit://guest:S3cret@127.0.0.1:99999/",
            "invalid transport URL rabbit://guest:***@127.0.0.1:99999/: port '99999' of host "
            "127.0.0.1 is not a number from 1 to 65535",
        ),
        (
            "rabbit://guest:S3cret@127.0.0.1:abc/",
            "invalid transport URL rabbit://guest:***@127.0.0.1:abc/: port 'abc' of host "
            "127.0.0.1 is not a number from 1 to 65535",
        ),
        (
            "rabbit://a:b@h1:5672,c:d@h2:0/",
            "invalid transport URL rabbit://a:***@h1:5672,c:***@h2:0/: port '0' of host h2 "
            "is not a number from 1 to 65535",
        ),
        (
            "rabbit://u:p@ss/w#rd@127.0.0.1:5672/",
            "invalid transport URL rabbit://u:***@127.0.0.1:5672/: '@' after the host; "
            "percent-encode '/', '?' and '#' in user names and passwords (%2F, %3F, %23)",
        ),
    ],
)
def test_urls_oslo_cannot_use_are_refused_in_one_masked_line(url, error):
    with pytest.raises(UsageError) as caught:
        busurl.parse(url, drivers=DRIVERS)
    assert str(caught.value) == error


def test_multi_host_urls_keep_each_hosts_credentials():
    url = "rabbit://u1:p%2F1@h1:5672,u2:p@2@[::1]:5673/nova?ssl=1"
    parsed = busurl.parse(url, drivers=DRIVERS)
    assert parsed.hosts == (
        BrokerHost("h1", 5672, "u1", "p/1"),
        BrokerHost("::1", 5673, "u2", "p@2"),
    )
    assert parsed.query == {"ssl": "1"}
    assert kombu_urls(parsed) == [
        "amqp://u1:p%2F1@h1:5672/nova",
        "amqp://u2:p%402@[::1]:5673/nova",
    ]


def test_no_host_means_guest_on_localhost_as_in_oslo():
    assert kombu_urls(busurl.parse("rabbit://", drivers=DRIVERS)) == [
        "amqp://guest:guest@localhost:5672/"
    ]


def test_a_hard_password_round_trips_through_oslo_and_kombu():
    url = url_for(HARD, vhost="a/b")
    assert oslo_passwords(url) == [HARD]
    (kombu_url,) = kombu_urls(busurl.parse(url, drivers=DRIVERS))
    connection = kombu.Connection(kombu_url)
    assert (connection.userid, connection.password) == ("u", HARD)
    assert (connection.hostname, connection.port, connection.virtual_host) == ("h", 5672, "a/b")
    assert mask_url(url) == "rabbit://u:***@h:5672/a%2Fb"


passwords = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
)


@settings(max_examples=300, deadline=None)
@given(password=passwords, user=st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True))
def test_any_password_is_masked_whole_and_round_trips(password, user):
    url = url_for(password, user=user)
    assert mask_url(url) == f"rabbit://{user}:***@h:5672/v"
    assert oslo_passwords(url) == [password]
    (kombu_url,) = kombu_urls(busurl.parse(url, drivers=DRIVERS))
    connection = kombu.Connection(kombu_url)
    assert (connection.userid, connection.password, connection.hostname) == (user, password, "h")


@settings(max_examples=300, deadline=None)
@given(password=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(
    lambda p: "," not in p and "\n" not in p))  # fmt: skip
def test_a_raw_password_oslo_accepts_is_masked_whole(password):
    # Written unencoded, as people do: oslo splits on the last "@", so "@" and ":" work raw.
    url = f"rabbit://u:{password}@h:5672/"
    assert mask_url(url) == "rabbit://u:***@h:5672/"


@settings(max_examples=100, deadline=None)
@given(p1=passwords, p2=passwords)
def test_multi_host_urls_mask_every_password(p1, p2):
    hosts = (BrokerHost("h1", 5672, "a", p1), BrokerHost("h2", 5673, "b", p2))
    url = format_url(BusURL("rabbit", hosts, "/"))
    assert mask_url(url) == "rabbit://a:***@h1:5672,b:***@h2:5673/%2F"
    parsed = busurl.parse(url, drivers=DRIVERS)
    assert [h.password for h in parsed.hosts] == oslo_passwords(url) == [p1, p2]


def _handshake_with_a_plain_port() -> ssl.SSLError:
    """The real error of a TLS handshake answered by a plain AMQP peer, as this Python words it."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"AMQP\x00\x00\x09\x01" * 8)
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        ours.settimeout(5)
        with pytest.raises(ssl.SSLError) as caught:
            context.wrap_socket(ours, server_hostname="localhost")
    return caught.value


def test_error_text_keeps_the_reason_and_drops_the_interpreters_source_location():
    exc = _handshake_with_a_plain_port()
    assert re.search(r"\(_ssl\.c:\d+\)", str(exc))  # what this interpreter says
    text = busurl.error_text(exc)
    assert "wrong version number" in text
    assert ".c:" not in text
    assert busurl.error_text(OSError("")) == "OSError"
