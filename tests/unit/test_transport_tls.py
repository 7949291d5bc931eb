"""TLS settings for osreplay's own connections, computed as oslo's rabbit driver does.

(oslo_messaging/_drivers/impl_rabbit.py, ``Connection._fetch_ssl_params``: ``ssl`` off
gives False; on with no file, True; a CA file requires the certificate and, for a single
host, checks its name; URL query options override the config file's.)
"""

from __future__ import annotations

import ssl

import pytest

import osreplay.replay.sender  # noqa: F401  # oslo imported now, while osreplay silences eventlet
from osreplay.bus.transport import resolve, ssl_options
from osreplay.errors import ConfigError, UsageError


@pytest.fixture
def pems(tmp_path):
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("not read until a connection is made\n")
    return tmp_path


def conf_file(tmp_path, body: str) -> str:
    path = tmp_path / "nova.conf"
    path.write_text(body)
    return str(path)


def test_tls_is_off_by_default():
    assert ssl_options(resolve(url="rabbit://u:p@h:5672/", environ={})) is False


def test_ssl_in_the_url_alone_turns_tls_on_without_verification():
    assert ssl_options(resolve(url="rabbit://u:p@h:5671/?ssl=1", environ={})) is True


def test_the_config_files_options_give_the_files_and_check_the_host(pems):
    conf = conf_file(
        pems,
        "[DEFAULT]\ntransport_url = rabbit://u:p@broker.example:5671/\n"
        f"[oslo_messaging_rabbit]\nssl = true\nssl_ca_file = {pems}/ca.pem\n"
        f"ssl_cert_file = {pems}/cert.pem\nssl_key_file = {pems}/key.pem\n",
    )
    assert ssl_options(resolve(config_files=[conf], environ={})) == {
        "ca_certs": f"{pems}/ca.pem",
        "certfile": f"{pems}/cert.pem",
        "keyfile": f"{pems}/key.pem",
        "cert_reqs": ssl.CERT_REQUIRED,
        "server_hostname": "broker.example",
    }


def test_the_url_query_overrides_the_config_file_and_several_hosts_skip_the_name(pems):
    conf = conf_file(pems, "[oslo_messaging_rabbit]\nssl = false\n")
    url = f"rabbit://a:b@h1:5671,c:d@h2:5671/?ssl=true&ssl_ca_file={pems}/ca.pem"
    assert ssl_options(resolve(url=url, config_files=[conf], environ={})) == {
        "ca_certs": f"{pems}/ca.pem",
        "cert_reqs": ssl.CERT_REQUIRED,
        "server_hostname": None,
    }


def test_in_process_transports_never_use_tls():
    assert ssl_options(resolve(url="kombu+memory:////?ssl=1", environ={})) is False


def test_an_unknown_url_option_is_a_usage_error():
    with pytest.raises(UsageError, match=r"no such option ssl_typo in group"):
        ssl_options(resolve(url="rabbit://u:S3cretPW@h:5671/?ssl_typo=1", environ={}))


def test_a_missing_certificate_file_is_named(tmp_path):
    url = f"rabbit://u:p@h:5671/?ssl=1&ssl_cert_file={tmp_path}/nope.pem"
    with pytest.raises(ConfigError) as caught:
        ssl_options(resolve(url=url, environ={}))
    assert str(caught.value) == (
        f"cannot read [oslo_messaging_rabbit] ssl_cert_file {tmp_path}/nope.pem: no such file"
    )
