"""Secrets in contexts and payloads are masked; everything else is left alone."""

from __future__ import annotations

import pytest

from osreplay.redact import MASK, Redactor, is_sensitive_ctxt_key


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
