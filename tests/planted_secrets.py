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
        "pwd": "PLANTED-42",
        "token_id": "t-0001",
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
            # keystone with [security_compliance] report_invalid_password_hash = event,
            # exactly as pycadf's Attachment serialises it
            "attachments": [
                {
                    "typeURI": "mime:text/plain",
                    "name": "partial_password_hash",
                    "content": "PLANTED-54",
                }
            ],
        },
        {
            # ironic driver_info
            "driver_info": {
                "snmp_auth_key": "PLANTED-20",
                "snmp_priv_key": "PLANTED-21",
                "ipmi_password": "PLANTED-22",
                "ipmi_username": "admin",
                "snmp_version": "3",
            },
            # cinder's RBD connection info, and a keyring pasted into a note
            "connection_info": {
                "driver_volume_type": "rbd",
                "data": {
                    "name": "volumes/volume-1",
                    "auth_username": "cinder",
                    "secret_type": "ceph",
                    "secret_uuid": "PLANTED-23",
                    "keyring": "[client.cinder]\n\tkey = PLANTED-24\n",
                },
            },
            "note": "use this keyring: [client.cinder]\n\tkey = PLANTED-25\n",
            # neutron VPNaaS, heat stack parameters
            "ipsec_site_connection": {"psk": "PLANTED-26", "peer_address": "203.0.113.9"},
            "parameters": {
                "ssh_private_key": "PLANTED-27",
                "api_key": "PLANTED-28",
                "key_name": "mykey",
                "public_key": "ssh-rsa AAAAB3NzaC1yc2E user@host",
                "fingerprint": "aa:bb:cc:dd",
            },
            "encryption_key": "PLANTED-29",
            "auth_key": "PLANTED-30",
            # swift temporary URLs, S3 presigned URLs
            "headers": {
                "X-Account-Meta-Temp-URL-Key": "PLANTED-31",
                "X-Container-Meta-Temp-URL-Key-2": "PLANTED-32",
            },
            "temp_url_key": "PLANTED-33",
            "temp_url": "https://swift.example/v1/AUTH_p/c/o?temp_url_sig=PLANTED-34"
            "&temp_url_expires=1700000000",
            "s3_url": "https://s3.example/b/o?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Signature=PLANTED-35&X-Amz-Expires=60",
            "s3_legacy": "https://s3.example/b/o?AWSAccessKeyId=AKIAX&Expires=1&Signature=PLANTED-36",
            "tls_key": "PLANTED-37",
            "pem": "PLANTED-38",
            "privateKey": "PLANTED-39",
            "description": "cert for the lb: -----BEGIN RSA PRIVATE KEY-----\nMIIEPLANTED-40x\n"
            "-----END RSA PRIVATE KEY----- (rotate yearly)",
            "pwd": "PLANTED-41",
            "credentials": {"api_key": "PLANTED-43", "username": "svc"},
            # what oslo.utils' mask_dict_password masks
            "aws_secret_access_key": "PLANTED-44",
            "AWS_SECRET_ACCESS_KEY": "PLANTED-45",
            "SecretAccessKey": "PLANTED-46",
            "secret_key": "PLANTED-47",
            "cmd": "mysql --password PLANTED-48 -h db.example",
            "passwords": ["PLANTED-49", "PLANTED-50"],
            "command": "mysql -u root -pPLANTED-51 nova",
            "dump": "mysqldump -u root -p PLANTED-52 nova",
            "message": "login failed: password=PLANTED-53 user=bob",
            "field": {"name": "admin_password", "value": "PLANTED-55"},
            "metadata": [
                {"key": "db_password", "value": "PLANTED-56"},
                {"key": "flavor", "value": "m1.small"},
            ],
            "callback": "http://hooks.example/notify?password=PLANTED-57&x=1",
            # ordinary data that looks a little like secrets
            "password_expires_at": "2030-01-01T00:00:00",
            "token_id": "t-0001",
            "secret_type": "opaque",
            "email": "bob@example.com",
            "repo": "ssh://git@review.example:29418/openstack/nova",
            "mkdir": "mkdir -p /var/lib/nova",
            "alarm_actions": ["trust+http://3b1f0c:delete@aodh.example:8042/"],
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
    (("payload", 2, "driver_info", "ipmi_username"), "admin"),
    (("payload", 2, "connection_info", "data", "secret_type"), "ceph"),
    (("payload", 2, "ipsec_site_connection", "peer_address"), "203.0.113.9"),
    (("payload", 2, "parameters", "key_name"), "mykey"),
    (("payload", 2, "parameters", "public_key"), "ssh-rsa AAAAB3NzaC1yc2E user@host"),
    (("payload", 2, "parameters", "fingerprint"), "aa:bb:cc:dd"),
    (
        ("payload", 2, "temp_url"),
        "https://swift.example/v1/AUTH_p/c/o?temp_url_sig=***&temp_url_expires=1700000000",
    ),
    (
        ("payload", 2, "description"),
        "cert for the lb: -----BEGIN RSA PRIVATE KEY-----\n***\n"
        "-----END RSA PRIVATE KEY----- (rotate yearly)",
    ),
    (("payload", 2, "credentials", "username"), "svc"),
    (("payload", 2, "cmd"), "mysql --password *** -h db.example"),
    (("payload", 2, "command"), "mysql -u root -p*** nova"),
    (("payload", 2, "message"), "login failed: password=*** user=bob"),
    (("payload", 2, "field"), {"name": "admin_password", "value": "***"}),
    (("payload", 2, "metadata", 1), {"key": "flavor", "value": "m1.small"}),
    (("payload", 2, "password_expires_at"), "2030-01-01T00:00:00"),
    (("payload", 2, "token_id"), "t-0001"),
    (("payload", 2, "secret_type"), "opaque"),
    (("payload", 2, "email"), "bob@example.com"),
    (("payload", 2, "repo"), "ssh://git@review.example:29418/openstack/nova"),
    (("payload", 2, "mkdir"), "mkdir -p /var/lib/nova"),
    (("payload", 2, "alarm_actions", 0), "trust+http://3b1f0c:delete@aodh.example:8042/"),
    (("payload", 1, "attachments", 0, "name"), "partial_password_hash"),
    (("payload", 1, "attachments", 0, "typeURI"), "mime:text/plain"),
]

PLANTED = [f"PLANTED-{n:02d}" for n in range(1, 58)]

#: Out of reach, by design (docs/redact.md): a secret with no key, flag or pattern that
#: names it. Each must reach the file unchanged: a test that finds it masked would mean a
#: rule now guesses, and guessing masks data too.
OUT_OF_REACH = {
    # a base64 blob with no name
    "blob": "UExBTlRFRC1PVVQtMDEgaW4gYmFzZTY0",
    # a JWT in free text
    "note": "use eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl to log in",
    # a key name in another language (Spanish "password")
    "contrasena": "UExBTlRFRC1PVVQtMDI",
}


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
