"""Virtual hosts for tests: RabbitMQ's management HTTP API, else the local ``rabbitmqctl``.

The API is reached on the broker named by the transport URL, with its credentials, so a
broker in a container or a CI service works as well as a local one. ``rabbitmqctl`` only
reaches the node on this machine: it is the fallback where the API does not answer.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote

from osreplay.errors import OsreplayError

MANAGEMENT_PORT = 15672


class VhostError(OsreplayError):
    """A virtual host could not be created (the message names the broker and why)."""


class NoManagementAPI(Exception):
    """Nothing answers at the management API's address."""


@dataclass(frozen=True)
class ManagementAPI:
    """RabbitMQ's management HTTP API at ``base`` (``http://host:15672``)."""

    base: str
    username: str
    password: str
    timeout: float = 10.0

    def _call(self, method: str, path: str, body: object | None = None) -> int:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (urllib.error.URLError, OSError) as exc:
            raise NoManagementAPI(f"{self.base}: {getattr(exc, 'reason', exc)}") from None

    def add_vhost(self, name: str, *, user: str) -> None:
        """Create ``name`` and give ``user`` every right on it; VhostError when refused."""
        status = self._call("PUT", f"/api/vhosts/{quote(name, safe='')}", {})
        if status == 404:
            raise NoManagementAPI(f"{self.base}: no /api/vhosts (404)")
        if status not in (201, 204):
            raise VhostError(self._refused("create virtual host", name, status))
        rights = {"configure": ".*", "write": ".*", "read": ".*"}
        path = f"/api/permissions/{quote(name, safe='')}/{quote(user, safe='')}"
        status = self._call("PUT", path, rights)
        if status not in (201, 204):
            self.delete_vhost(name)
            raise VhostError(self._refused(f"give {user} rights on", name, status))

    def delete_vhost(self, name: str) -> None:
        self._call("DELETE", f"/api/vhosts/{quote(name, safe='')}")

    def _refused(self, what: str, name: str, status: int) -> str:
        why = {401: "the credentials were refused", 403: "the user is not an administrator"}
        return f"the management API at {self.base} would not {what} {name}: " + why.get(
            status, f"HTTP {status}"
        )


def rabbitmqctl(*args: str) -> bool:
    """``rabbitmqctl -q ARGS`` on this machine: True when it ran and succeeded."""
    if not shutil.which("rabbitmqctl"):
        return False
    try:
        done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class Vhosts:
    """Creates and deletes virtual hosts: through the API, else with ``rabbitmqctl``."""

    def __init__(self, api: ManagementAPI) -> None:
        self.api = api
        self.used = "management API"

    def add(self, name: str, *, user: str) -> None:
        try:
            self.api.add_vhost(name, user=user)
            return
        except NoManagementAPI as exc:
            absent = str(exc)
        self.used = "rabbitmqctl"
        if not shutil.which("rabbitmqctl"):
            raise VhostError(
                f"no management API answers ({absent}) and rabbitmqctl is not installed: "
                "enable it with rabbitmq-plugins enable rabbitmq_management"
            )
        if not rabbitmqctl("add_vhost", name):
            raise VhostError(f"no management API answers ({absent}) and rabbitmqctl "
                             "cannot create a virtual host on this machine's node")
        if not rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*"):
            rabbitmqctl("delete_vhost", name)
            raise VhostError(f"rabbitmqctl cannot give {user} rights on a new virtual host")

    def delete(self, name: str) -> None:
        if self.used == "rabbitmqctl":
            rabbitmqctl("delete_vhost", name)
        else:
            self.api.delete_vhost(name)


__all__ = ["MANAGEMENT_PORT", "ManagementAPI", "NoManagementAPI", "VhostError", "Vhosts"]
