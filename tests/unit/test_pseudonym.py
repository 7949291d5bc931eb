"""The keyed pseudonymiser behind `redact --pseudonymise` and `replay --fresh-ids`."""

from __future__ import annotations

import ipaddress

from osreplay.secrets.pseudonym import UUID, Pseudonymiser, key_from_seed

DASHED = "9A8B7C6D-5E4F-4A3B-8C2D-1E0F9A8B7C6D"


def test_a_uuid_keeps_its_spelling_and_is_the_same_with_or_without_dashes():
    p = Pseudonymiser(key_from_seed("k"))
    dashed = p.text(DASHED)
    bare = p.text(DASHED.lower().replace("-", ""))
    request = p.text("req-" + DASHED.lower())
    assert dashed != DASHED and dashed.isupper() and dashed.count("-") == 4
    assert dashed[14] == "4" and dashed[19] in "89AB"  # version and variant kept
    assert bare == dashed.lower().replace("-", "")
    assert request == "req-" + dashed.lower()


def test_ip_addresses_stay_addresses_of_their_family_and_distinct():
    p = Pseudonymiser(key_from_seed("k"))
    originals = [f"10.{i // 256}.{i % 256}.7" for i in range(20000)]
    out = [p.text(f"from {ip}:8080") for ip in originals]
    addresses = [text.split()[1].rsplit(":", 1)[0] for text in out]
    assert all(isinstance(ipaddress.ip_address(a), ipaddress.IPv4Address) for a in addresses)
    assert len(set(addresses)) == len(originals)
    assert all(new != old for new, old in zip(addresses, originals, strict=True))
    v6 = p.text("fe80::1ff:fe23:4567:890a")
    assert (
        isinstance(ipaddress.ip_address(v6), ipaddress.IPv6Address)
        and v6 != "fe80::1ff:fe23:4567:890a"
    )
    assert p.text("2014-01-17 11:30:41.456481") == "2014-01-17 11:30:41.456481"
    assert p.text("fa:16:3e:00:00:01") == "fa:16:3e:00:00:01"  # a MAC, not an address


def test_names_keep_their_character_classes_and_identity_keys_only():
    p = Pseudonymiser(key_from_seed("k"))
    out = p.record(
        {
            "publisher_id": "nova-compute:Compute-3.example.org",
            "payload": {"host": "Compute-3.example.org", "name": "m1.small",
                        "initiator": {"name": "alice", "id": "alice"}, "user_name": "alice"},
        }
    )  # fmt: skip
    host = out["payload"]["host"]
    assert host != "Compute-3.example.org"
    assert [c.isupper() for c in host] == [c.isupper() for c in "Compute-3.example.org"]
    assert host[7:10] == "-3." or (host[7] == "-" and host[8].isdigit() and host[9] == ".")
    assert out["publisher_id"] == "nova-compute:" + host
    assert out["payload"]["name"] == "m1.small"
    alice = out["payload"]["user_name"]
    assert out["payload"]["initiator"] == {"name": alice, "id": alice} and alice != "alice"


def test_memory_is_bounded_by_distinct_values_not_records():
    p = Pseudonymiser(key_from_seed("k"))
    record = {"ctxt": {"request_id": "req-" + DASHED, "user_id": "a" * 32}, "payload": {}}
    for _ in range(1000):
        p.record(record)
    assert p.distinct == 2


def test_kinds_limits_what_is_replaced():
    p = Pseudonymiser(key_from_seed("k"), kinds={UUID})
    out = p.record({"publisher_id": "compute.host1", "payload": {"host": "h", "ip": "10.0.0.1"}})
    assert out == {"publisher_id": "compute.host1", "payload": {"host": "h", "ip": "10.0.0.1"}}
