"""Transport URLs and config files a user gets wrong: one masked line on stderr, exit 2.

Nothing here reaches a broker: each URL is refused before any connection is tried.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import osreplay.replay.replayer  # noqa: F401  # oslo imported now, while osreplay silences eventlet
from osreplay.cli import main

ROOT = Path(__file__).resolve().parents[2]
LINE = '{"event_type":"x.y","publisher_id":"p","priority":"INFO","payload":{}}\n'

REFUSED = [
    (
        "rabbit://guest:S3cretPW@127.0.0.1:99999/",
        "Error: invalid transport URL rabbit://guest:***@127.0.0.1:99999/: port '99999' of "
        "host 127.0.0.1 is not a number from 1 to 65535",
    ),
    (
        "rabbit://guest:S3cretPW@127.0.0.1:abc/",
        "Error: invalid transport URL rabbit://guest:***@127.0.0.1:abc/: port 'abc' of host "
        "127.0.0.1 is not a number from 1 to 65535",
    ),
    (
        "127.0.0.1:5672",
        "Error: invalid transport URL 127.0.0.1:5672: no scheme (start it with rabbit://)",
    ),
    (
        "guest:S3cretPW@127.0.0.1:5672",
        "Error: invalid transport URL guest:***@127.0.0.1:5672: no scheme (start it with "
        "rabbit://)",
    ),
    (
        "rabbit://u:S3cret/PW#x@127.0.0.1:5672/",
        "Error: invalid transport URL rabbit://u:***@127.0.0.1:5672/: '@' after the host; "
        "percent-encode '/', '?' and '#' in user names and passwords (%2F, %3F, %23)",
    ),
    (
        "rabbit://guest:S3cretPW@127.0.0.1:5672/?no_such_option=1",
        "Error: invalid option in transport URL "
        "rabbit://guest:***@127.0.0.1:5672/?no_such_option=1: no such option no_such_option "
        "in group [oslo_messaging_rabbit]",
    ),
]


def run(command: str, *args: str, tmp_path: Path, env: dict[str, str] | None = None):
    if command == "record":
        args = (*args, "--duration", "1", "-o", str(tmp_path / "out.ndjson"))
    else:
        (tmp_path / "in.ndjson").write_text(LINE)
        args = (*args, "--rate", "0", str(tmp_path / "in.ndjson"))
    env = {"OSREPLAY_TRANSPORT_URL": "", **(env or {})}
    return CliRunner().invoke(main, [command, *args], env=env, prog_name="osreplay")


@pytest.mark.parametrize("command", ["record", "replay"])
@pytest.mark.parametrize(("url", "error"), REFUSED)
def test_a_url_oslo_cannot_use_is_one_masked_line(command, url, error, tmp_path):
    result = run(command, "--url", url, tmp_path=tmp_path)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", error + "\n")
    assert not (tmp_path / "out.ndjson").exists()


def test_an_amqp_url_says_to_write_rabbit_without_a_stevedore_warning(tmp_path):
    # A subprocess: the warning came from logging, set up by the real entry point.
    result = subprocess.run(
        [sys.executable, "-m", "osreplay", "record", "--url", "amqp://guest:S3cretPW@h:5672/",
         "-o", str(tmp_path / "o")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "Error: invalid transport URL amqp://guest:***@h:5672/: unknown transport 'amqp' "
        "(for RabbitMQ write rabbit://); oslo.messaging has fake, kafka, kombu, rabbit\n"
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("command", ["record", "replay"])
def test_with_a_config_file_the_url_from_the_environment_is_named(command, tmp_path):
    conf = tmp_path / "nova.conf"
    conf.write_text("[DEFAULT]\ndebug = true\n")
    port = closed_port()
    env = {"OSREPLAY_TRANSPORT_URL": f"rabbit://guest:S3cretPW@127.0.0.1:{port}/"}
    result = run(command, "--config-file", str(conf), tmp_path=tmp_path, env=env)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Transport URL rabbit://guest:***@127.0.0.1:{port}/ from $OSREPLAY_TRANSPORT_URL",
        f"Error: cannot connect to rabbit://guest:***@127.0.0.1:{port}/: "
        "[Errno 111] Connection refused",
    ]


@pytest.mark.parametrize("section", ["DEFAULT", "oslo_messaging_notifications"])
def test_the_config_file_and_section_that_gave_the_url_are_named(section, tmp_path):
    port = closed_port()
    conf = tmp_path / "nova.conf"
    conf.write_text(f"[{section}]\ntransport_url = rabbit://nova:S3cretPW@127.0.0.1:{port}/\n")
    result = run("record", "--config-file", str(conf), tmp_path=tmp_path, env={})
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Transport URL rabbit://nova:***@127.0.0.1:{port}/ from {conf} [{section}]",
        f"Error: cannot connect to rabbit://nova:***@127.0.0.1:{port}/: "
        "[Errno 111] Connection refused",
    ]


@pytest.mark.parametrize("command", ["record", "replay"])
def test_a_missing_tls_file_is_named_before_any_connection(command, tmp_path):
    conf = tmp_path / "nova.conf"
    conf.write_text(
        f"[DEFAULT]\ntransport_url = rabbit://nova:S3cretPW@127.0.0.1:{closed_port()}/\n"
        f"[oslo_messaging_rabbit]\nssl = true\nssl_ca_file = {tmp_path}/missing-ca.pem\n"
    )
    result = run(command, "--config-file", str(conf), tmp_path=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: cannot read [oslo_messaging_rabbit] ssl_ca_file {tmp_path}/missing-ca.pem: "
        "no such file"
    )


def test_a_config_file_without_transport_url_is_named_in_a_warning(tmp_path):
    conf = tmp_path / "nova.conf"
    conf.write_text("[DEFAULT]\ndebug = true\n")
    result = run("replay", "--config-file", str(conf), "--dry-run", tmp_path=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"Warning: no transport_url in {conf}; using rabbit://guest:***@localhost:5672/ "
        "from the default"
    )


@pytest.mark.parametrize("command", ["record", "replay"])
def test_a_cluster_in_a_config_file_is_refused_only_when_no_host_answers(command, tmp_path):
    first, second = closed_port(), closed_port()
    url = f"rabbit://nova:S3cretPW@127.0.0.1:{first},nova:S3cretPW@127.0.0.1:{second}/"
    conf = tmp_path / "nova.conf"
    conf.write_text(f"[oslo_messaging_notifications]\ntransport_url = {url}\n")
    result = run(command, "--config-file", str(conf), tmp_path=tmp_path, env={})
    assert result.exit_code == 2
    masked = url.replace("S3cretPW", "***")
    assert result.stderr.splitlines() == [
        f"Transport URL {masked} from {conf} [oslo_messaging_notifications]",
        f"Error: cannot connect to {masked}: 127.0.0.1:{first}: [Errno 111] Connection "
        f"refused; 127.0.0.1:{second}: [Errno 111] Connection refused",
    ]
