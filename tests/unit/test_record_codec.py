"""record decodes message bodies with orjson: the same objects kombu's own decoder and
oslo's envelope reading (``deserialize_msg``) give, and the same refusals."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kombu import serialization
from oslo_messaging._drivers.common import deserialize_msg

from osreplay.bus.codec import decode_json_with_orjson


@pytest.fixture(autouse=True)
def orjson_decoder():
    assert decode_json_with_orjson()
    yield
    serialization.register_json()  # kombu's own again for the rest of the session


def decoded(body: str | bytes):
    """What oslo's driver makes of ``body`` with the registered decoder (its envelope read)."""
    return deserialize_msg(serialization.loads(body, "application/json", "utf-8"))


def outcome(body: str | bytes):
    """What the registered decoder gives for ``body``: the object's repr, or the error."""
    try:
        return repr(decoded(body))
    except (serialization.DecodeError, ValueError, RecursionError):
        return "DecodeError"


def same(body: str) -> None:
    """Our decoder and kombu's agree on ``body``, as text (what py-amqp hands over for a
    message that names its encoding) and as bytes."""
    for data in (body, body.encode("utf-8", "surrogatepass")):
        ours = outcome(data)
        serialization.register_json()
        try:
            kombus = outcome(data)
        finally:
            decode_json_with_orjson()
        assert ours == kombus  # repr: NaN, key order and int/float kinds compared too


values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(),
        st.text(max_size=8),
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=10,
)


@given(value=values)
def test_an_oslo_envelope_decodes_to_what_kombu_gives(value):
    inner = json.dumps({"payload": value, "_context_request_id": "req-1"})
    same(json.dumps({"oslo.version": "2.0", "oslo.message": inner}))


@given(value=values)
def test_any_json_body_decodes_to_what_kombu_gives(value):
    same(json.dumps(value))


@pytest.mark.parametrize(
    "body",
    [
        '{"n": NaN, "i": Infinity}',
        '{"big": 123456789012345678901234567890}',
        '{"s": "\\udcff"}',
        '{"a": 1, "a": 2}',
        '{"when": {"__type__": "datetime", "__value__": "2024-05-01T12:00:00"}}',
        '{"unterminated": ',
        "[" * 2000 + "]" * 2000,
        "[" * 150 + "]" * 150,
        '{"id": 12345678901234567890}',
        '{"id": 123456789012345678901234567890, "f": 0.5}',
        '{"f": 1e400}',
    ],
    ids=[
        "nan",
        "big-int",
        "lone-surrogate",
        "duplicate-key",
        "kombu-type",
        "cut",
        "deep",
        "nested",
        "u64",
        "big-int-and-float",
        "huge-float",
    ],
)
def test_bodies_orjson_reads_differently_or_refuses_decode_as_kombu_decodes_them(body):
    same(body)


def test_an_oslo_envelope_is_read_by_orjson_even_with_long_digit_runs_in_its_message():
    # The message is a string inside the envelope: its ids are no numbers to orjson.
    import orjson

    from osreplay.bus import codec

    inner = {"payload": {"user_id": "0" * 32, "n": 10**30, "f": 0.5}, "_unique_id": "1" * 32}
    body = json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()
    for data in (body, body.decode()):
        assert codec._orjson_may_read(data)
        assert codec._exact(orjson.loads(data), data)
    for big in (b'{"n": 1234567890123456789012}', '{"n": 1234567890123456789012}'):
        assert not codec._exact(orjson.loads(big), big)  # read as 1.2345678901234568e+21


def test_an_oslo_envelope_as_py_amqp_hands_it_over_never_reaches_kombus_decoder(monkeypatch):
    from kombu.utils import json as kombu_json

    def refuse(data):
        raise AssertionError("decoded by kombu")

    monkeypatch.setattr(kombu_json, "loads", refuse)
    decode_json_with_orjson()  # takes kombu's decoder as it is now
    inner = json.dumps({"payload": {"user_id": "0" * 32}, "_context_request_id": "req-1"})
    body = json.dumps({"oslo.version": "2.0", "oslo.message": inner})
    for data in (body, body.encode()):
        # handed on unwrapped, as oslo's deserialize_msg would: no second parse
        assert serialization.loads(data, "application/json", "utf-8") == json.loads(inner)
