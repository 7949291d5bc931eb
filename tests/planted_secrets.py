"""A hostile message set: secrets planted where real services put them, and ordinary data.

Shared by the redaction unit tests and the real-broker recording test. Every secret is
``PLANTED-<n>``, so a test can assert that none of them reaches a file.
"""

from __future__ import annotations

from typing import Any

CADF_EVENT = "http://schemas.dmtf.org/cloud/audit/1.0/event"


def planted_context() -> dict[str, Any]:
    """A context with secrets in lists, nested objects and URLs (older oslo sends it all)."""
    return {
        "user_id": "u-1",
        "project_id": "p-1",
        "request_id": "req-0a1b",
        "roles": ["admin", "member"],
        "auth_token": "PLANTED-01",
        "auth_plugins": [{"name": "password", "token": "PLANTED-02"}],
        "transport_url": "rabbit://nova:PLANTED-03@ctl1:5672,nova:PLANTED-04@ctl2:5672/",
        "service_catalog": [
            {"type": "image", "endpoints": [{"url": "https://svc:PLANTED-05@glance:9292/"}]},
            {"type": "compute", "endpoints": [{"url": "https://nova.example:8774/v2.1"}]},
        ],
        "timestamp": "2024-05-01T12:00:00.000001",
    }


def planted_payloads() -> list[dict[str, Any]]:
    """Payloads with secrets by key (many spellings), inside strings, and CADF credentials."""
    return [
        {
            "password": "PLANTED-06",
            "admin_password": "PLANTED-07",
            "adminPass": "PLANTED-08",
            "secret": "PLANTED-09",
            "token": "PLANTED-10",
            "Token": "PLANTED-11",
            "headers": {"X-Auth-Token": "PLANTED-12", "Accept": "application/json"},
            "request": ["GET /v3/users", "Authorization: Bearer PLANTED-13"],
            "connection": "mysql+pymysql://nova:PLANTED-14@db.example/nova?charset=utf8",
            "message": "login failed for bob password=PLANTED-15 from 10.0.0.9",
            "password_expires_at": "2030-01-01T00:00:00",
            "token_count": 3,
            "secret_ref": "https://barbican.example:9311/v1/secrets/4f1a",
            "key_name": "mykey",
            "description": "reset your password at the portal: https://portal.example/reset",
        },
        {
            "typeURI": CADF_EVENT,
            "id": "e-1",
            "eventType": "activity",
            "action": "authenticate",
            "outcome": "failure",
            "requestPath": "/v3/auth/tokens?password=PLANTED-16&nocatalog=1",
            "initiator": {
                "id": "u-1",
                "typeURI": "service/security/account/user",
                "credential": [{"token": "PLANTED-17", "identity_status": "Confirmed"}],
            },
            "observer": {"id": "target", "Credential": {"token": "PLANTED-18"}},
            "target": {"id": "t-1", "credential": "PLANTED-19"},
        },
    ]


#: Ordinary values that must come through untouched, as (path, value).
ORDINARY = [
    (("payload", 0, "headers", "Accept"), "application/json"),
    (("payload", 0, "request", 0), "GET /v3/users"),
    (("payload", 0, "password_expires_at"), "2030-01-01T00:00:00"),
    (("payload", 0, "token_count"), 3),
    (("payload", 0, "secret_ref"), "https://barbican.example:9311/v1/secrets/4f1a"),
    (("payload", 0, "key_name"), "mykey"),
    (
        ("payload", 0, "description"),
        "reset your password at the portal: https://portal.example/reset",
    ),
    (("payload", 0, "connection"), "mysql+pymysql://nova:***@db.example/nova?charset=utf8"),
    (("payload", 0, "message"), "login failed for bob password=*** from 10.0.0.9"),
    (("payload", 0, "request", 1), "Authorization: Bearer ***"),
    (("payload", 1, "requestPath"), "/v3/auth/tokens?password=***&nocatalog=1"),
    (("payload", 1, "initiator", "credential"), [{"token": "***", "identity_status": "Confirmed"}]),
    (("payload", 1, "initiator", "id"), "u-1"),
    (("ctxt", "roles"), ["admin", "member"]),
    (("ctxt", "transport_url"), "rabbit://nova:***@ctl1:5672,nova:***@ctl2:5672/"),
    (("ctxt", "service_catalog", 1, "endpoints", 0, "url"), "https://nova.example:8774/v2.1"),
    (("ctxt", "timestamp"), "2024-05-01T12:00:00.000001"),
    (("ctxt", "request_id"), "req-0a1b"),
]

PLANTED = [f"PLANTED-{n:02d}" for n in range(1, 20)]


def value_at(records: list[dict[str, Any]], path: tuple[Any, ...]) -> Any:
    """``("payload", i, …)``: in the i-th record's payload; ``("ctxt", …)``: in the first's."""
    if path[0] == "payload":
        node: Any = records[path[1]]["payload"]
        rest = path[2:]
    else:
        node = records[0]["ctxt"]
        rest = path[1:]
    for part in rest:
        node = node[part]
    return node
