"""Secrets in contexts and payloads are masked; everything else is left alone."""

from __future__ import annotations

import pytest
from planted_secrets import ORDINARY, PLANTED, planted_context, planted_payloads, value_at

from osreplay.model.notification import dumps_line
from osreplay.secrets.rules import (
    MASK,
    Redactor,
    is_secret_key,
    is_sensitive_ctxt_key,
    redact_record,
)


@pytest.mark.parametrize(
    "key",
    [
        "auth_token",
        "service_token",
        "auth_token_info",
        "password",
        "aws_creds",
        "trust_id",
        # oslo.utils' own list, matched as oslo does (a fragment of the key, any case)
        "admin_password",
        "Secret",
        "keystone_token",
    ],
)
def test_secret_context_keys_are_masked(key):
    ctxt = {key: "s3cr3t", "user": "alice", "roles": ["admin"]}
    assert Redactor().ctxt(ctxt) == {key: MASK, "user": "alice", "roles": ["admin"]}
    assert is_sensitive_ctxt_key(key)


def test_context_is_not_copied_when_nothing_is_secret():
    ctxt = {"user": "alice", "auth_token": None, "request_id": "req-1"}
    assert Redactor().ctxt(ctxt) is ctxt


def test_nested_context_values_are_masked():
    ctxt = {"user": "u", "extra": {"password": "p", "x": 1}}
    assert Redactor().ctxt(ctxt) == {"user": "u", "extra": {"password": MASK, "x": 1}}
    assert ctxt["extra"]["password"] == "p"  # the input is not modified


def test_cadf_credential_token_and_partial_password_hash_are_masked():
    payload = {
        "typeURI": "http://schemas.dmtf.org/cloud/audit/1.0/event",
        "initiator": {
            "id": "u1",
            "credential": {"token": "gAAAAAB-real-token", "identity_status": "Confirmed"},
        },
        "reason": {"reasonCode": "401"},
        "attachments": [{"content": {"partial_password_hash": "abc123"}}],
    }
    masked = Redactor().payload(payload)
    assert masked["initiator"]["credential"] == {"token": MASK, "identity_status": "Confirmed"}
    assert masked["attachments"][0]["content"]["partial_password_hash"] == MASK
    assert masked["reason"] is payload["reason"]
    assert payload["initiator"]["credential"]["token"] == "gAAAAAB-real-token"


def test_a_hostile_message_set_keeps_no_planted_secret_and_every_ordinary_value():
    records = [
        {"event_type": "e", "publisher_id": "p", "priority": "INFO", "payload": payload,
         "ctxt": planted_context()}
        for payload in planted_payloads()
    ]  # fmt: skip
    masked = [redact_record(record) for record in records]
    text = "".join(dumps_line(record) for record in masked)
    assert [secret for secret in PLANTED if secret in text] == []
    for path, value in ORDINARY:
        assert value_at(masked, path) == value, path
    assert "PLANTED-10" in dumps_line(records[0])  # the input is not modified


@pytest.mark.parametrize(
    "key",
    ["password", "admin_password", "adminPass", "secret", "token", "Token", "X-Auth-Token",
     "Authorization", "x_subject_token", "new_password", "dbPassword", "Credential",
     "private_key", "Cookie"],
)  # fmt: skip
def test_secret_payload_keys_in_any_spelling(key):
    assert is_secret_key(key)
    assert Redactor().payload({"deep": [{key: "s3cr3t"}]}) == {"deep": [{key: MASK}]}


@pytest.mark.parametrize(
    "key",
    ["password_expires_at", "token_count", "secret_ref", "key_name", "tokens_issued",
     "trust_id", "passes", "user", "id"],
)  # fmt: skip
def test_ordinary_payload_keys_stay(key):
    assert not is_secret_key(key)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mysql+pymysql://nova:s3@db/nova", "mysql+pymysql://nova:***@db/nova"),
        ("rabbit://a:x@h1:5672,b:y@h2:5672/vh", "rabbit://a:***@h1:5672,b:***@h2:5672/vh"),
        ("GET /v3/x?password=s3&a=1", "GET /v3/x?password=***&a=1"),
        ("token=abc; next", "token=***; next"),
        ('{"admin_password": "s3", "name": "vm"}', '{"admin_password": "***", "name": "vm"}'),
        ("Authorization: Bearer eyJ.abc", "Authorization: Bearer ***"),
        ("X-Auth-Token: gAAAA", "X-Auth-Token: ***"),
        ("token_count=3 at 12:00", "token_count=3 at 12:00"),
        ("see https://host.example/path?q=1", "see https://host.example/path?q=1"),
        ("http://user@host/", "http://user@host/"),
        ("time 2024-05-01 12:00:00", "time 2024-05-01 12:00:00"),
    ],
)
def test_secrets_inside_strings(text, masked):
    assert Redactor().payload({"v": text}) == {"v": masked}
    assert Redactor().ctxt({"v": text}) == {"v": masked}


def test_payload_password_like_keys_are_data_and_stay():
    # A payload describing a user's password expiry is not a secret; only known leaks go.
    payload = {"password_expires_at": "2030-01-01", "token_count": 3}
    assert Redactor().payload(payload) is payload


def test_redact_key_adds_keys_everywhere():
    redactor = Redactor(extra_keys=["X-Api-Key"])
    assert redactor.ctxt({"x-api-key": "k", "user": "u"}) == {"x-api-key": MASK, "user": "u"}
    assert redactor.payload([{"deep": {"X-API-KEY": "k"}}]) == [{"deep": {"X-API-KEY": MASK}}]


def test_no_redact_keeps_everything():
    redactor = Redactor(enabled=False)
    ctxt = {"auth_token": "t"}
    payload = {"initiator": {"credential": {"token": "t"}}}
    assert redactor.ctxt(ctxt) is ctxt
    assert redactor.payload(payload) is payload


def test_scalars_and_empty_values_pass_through():
    redactor = Redactor()
    for value in (None, 1, "text", [], {}, [1, "a"]):
        assert redactor.payload(value) == value


def test_the_text_hint_finds_every_payload_that_needs_a_walk():
    redactor = Redactor(extra_keys=["X-Api-Key"])
    assert redactor.may_hold_payload_secret('{"payload": {"credential": {"token": "t"}}}')
    assert redactor.may_hold_payload_secret('{"a": [{"Partial_Password_Hash": "h"}]}')
    assert redactor.may_hold_payload_secret('{"x-api-key": "k"}')
    assert not redactor.may_hold_payload_secret('{"payload": {"n": 3, "name": "vm-1"}}')
    assert not Redactor(enabled=False).may_hold_payload_secret('{"credential": {}}')
