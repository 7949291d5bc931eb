"""`osreplay redact`: scrub a recording with record's rules, optionally pseudonymise it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from osreplay.cli import main
from osreplay.secrets.pseudonym import HOST_KEYS, NAME_KEYS
from osreplay.validate.validator import Validator

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "fixtures"
# OSREPLAY_CORPUS points at the corpus from a checkout elsewhere (a git worktree).
CORPUS = Path(os.environ.get("OSREPLAY_CORPUS", ROOT.parent / "shared" / "corpus"))

UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?<![0-9A-Za-z])[0-9a-fA-F]{32}(?![0-9A-Za-z])"
)
IPV4_RE = re.compile(r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9]|\.\d)")


def run(*args: str):
    return CliRunner().invoke(main, ["redact", *args], prog_name="osreplay")


def write_lines(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# Secrets the current rules catch, planted where services leak them.
PLANTED = [
    {
        "event_type": "compute.instance.create.end",
        "publisher_id": "compute.host1",
        "priority": "INFO",
        "payload": {"instance_id": "x"},
        "ctxt": {
            "auth_token": "SECRET-auth-token-1",
            "user_name": "alice",
            "nested": {"db_password": "SECRET-db-password-2"},
            "service_token": "SECRET-service-token-3",
        },
    },
    {
        # an oslo v1 wire body: the context flattened into _context_* keys
        "event_type": "compute.instance.delete.end",
        "publisher_id": "compute.host1",
        "priority": "INFO",
        "payload": {},
        "_unique_id": "0" * 32,
        "_context_auth_token": "SECRET-flat-token-4",
        "_context_password": "SECRET-flat-password-5",
    },
    {
        "event_type": "identity.authenticate",
        "publisher_id": "identity.host1",
        "priority": "INFO",
        "payload": {
            "typeURI": "http://schemas.dmtf.org/cloud/audit/1.0/event",
            "initiator": {"credential": {"token": "SECRET-cadf-token-6", "type": "token"}},
            "partial_password_hash": "SECRET-hash-7",
            "site": {"Vendor-Code": "SECRET-custom-8"},
        },
    },
    {
        # a bare CADF event, as keystone's audit middleware writes it
        "typeURI": "http://schemas.dmtf.org/cloud/audit/1.0/event",
        "eventType": "activity",
        "id": "x",
        "initiator": {"id": "u", "credential": {"token": "SECRET-bare-cadf-9"}},
    },
]


def test_redact_masks_every_planted_secret_with_records_rules(tmp_path):
    source = write_lines(tmp_path / "leaky.ndjson", PLANTED)
    out = tmp_path / "clean.ndjson"
    result = run(str(source), "-o", str(out), "--redact-key", "vendor_code")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == (
        f"Redacted 4 records from {source} into {out}: 4 with secrets masked\n"
    )
    text = out.read_text()
    assert "SECRET" not in text
    records = read_records(out)
    assert records[0]["ctxt"]["auth_token"] == "***"
    assert records[0]["ctxt"]["nested"]["db_password"] == "***"
    assert records[0]["ctxt"]["user_name"] == "alice"  # not pseudonymised without the flag
    assert records[1]["ctxt"] == {"auth_token": "***", "password": "***"}
    assert "_unique_id" not in records[1]
    assert records[2]["payload"]["initiator"]["credential"]["token"] == "***"
    assert records[3]["initiator"]["credential"]["token"] == "***"


def test_without_redact_key_a_custom_key_stays(tmp_path):
    source = write_lines(tmp_path / "leaky.ndjson", PLANTED[2:3])
    out = tmp_path / "clean.ndjson"
    assert run(str(source), "-o", str(out)).exit_code == 0
    assert "SECRET-custom-8" in out.read_text()
    assert "SECRET-cadf-token-6" not in out.read_text()


def test_unreadable_lines_are_dropped_and_listed(tmp_path):
    source = tmp_path / "mixed.ndjson"
    source.write_text(json.dumps(PLANTED[0]) + "\n{oops\n")
    out = tmp_path / "clean.ndjson"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Dropped line 2 of {source}: not valid JSON: Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1) ('{oops') (unreadable, so it could not be "
        "scrubbed)",
        f"Redacted 1 record from {source} into {out}: 1 with secrets masked, "
        "1 unreadable line dropped",
    ]
    assert len(read_records(out)) == 1


def test_usage_errors(tmp_path):
    source = write_lines(tmp_path / "a.ndjson", PLANTED[:1])
    result = run(str(source), "--seed", "s")
    assert result.exit_code == 2
    assert result.stderr == "Error: --seed keys the pseudonyms: it needs --pseudonymise\n"
    result = run(str(source), "-o", str(source))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: -o {source} is the input file: write the redacted copy elsewhere\n"
    )
    assert read_records(source) == PLANTED[:1]
    result = run(str(tmp_path / "missing.ndjson"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot open {tmp_path / 'missing.ndjson'}: no such file\n"


# --- pseudonymise --------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    source = FIXTURES / "nova-server-boot.ndjson"
    outs = []
    for name, seed in (("a", "s1"), ("b", "s1"), ("c", "s2")):
        out = tmp_path / f"{name}.ndjson"
        assert run(str(source), "-o", str(out), "--pseudonymise", "--seed", seed).exit_code == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]
    # no seed: a random key, so two runs differ
    random_runs = []
    for name in ("d", "e"):
        out = tmp_path / f"{name}.ndjson"
        assert run(str(source), "-o", str(out), "--pseudonymise").exit_code == 0
        random_runs.append(out.read_bytes())
    assert random_runs[0] != random_runs[1]


def test_pseudonyms_keep_chains_linked_and_shapes(tmp_path):
    source = FIXTURES / "nova-server-boot.ndjson"
    out = tmp_path / "p.ndjson"
    result = run(str(source), "-o", str(out), "--pseudonymise", "--seed", "s")
    assert result.exit_code == 0
    assert result.stderr == (
        f"Redacted 4 records from {source} into {out}: 0 with secrets masked, "
        "9 distinct values pseudonymised\n"
    )
    before, after = read_records(source), read_records(out)
    data = [r["payload"]["nova_object.data"] for r in after]
    uuids = {d.get("uuid") or d.get("instance_uuid") for d in data}
    assert len(uuids) == 1  # the same instance in every record, under one pseudonym
    (instance,) = uuids
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", instance
    )
    original = before[1]["payload"]["nova_object.data"]
    renamed = data[1]
    assert renamed["host"] != original["host"]
    assert re.fullmatch(r"[a-z]{7}-\d", renamed["host"])  # compute-2 stays host-shaped
    assert after[1]["publisher_id"] == "nova-compute:" + renamed["host"]
    assert re.fullmatch(r"[0-9a-f]{32}", renamed["tenant_id"])
    assert renamed["tenant_id"] != renamed["user_id"]
    assert renamed["display_name"] == original["display_name"]  # not an identity


def _originals(records: list[dict]) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    text = json.dumps(records)
    uuids = {u.lower().replace("-", "") for u in UUID_RE.findall(text)}
    ips = set(IPV4_RE.findall(text))
    names: set[tuple[str, str]] = set()

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif (
            isinstance(value, str)
            and key is not None
            and key.lower() in NAME_KEYS | HOST_KEYS
            and value not in ("", "-", "None", "null")
        ):
            names.add((key, value))

    walk(records)
    return uuids, ips, names


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not beside the checkout")
def test_redact_over_the_corpus_keeps_verdicts_and_leaves_no_original(tmp_path):
    files = sorted(p for p in CORPUS.rglob("*.json") if p.name != "MANIFEST.json")
    source = tmp_path / "corpus.ndjson"
    with source.open("w", encoding="utf-8") as handle:
        for path in files:
            handle.write(json.dumps(json.loads(path.read_text(encoding="utf-8"))) + "\n")
    plain, pseudo = tmp_path / "plain.ndjson", tmp_path / "pseudo.ndjson"
    assert run(str(source), "-o", str(plain)).exit_code == 0
    result = run(str(source), "-o", str(pseudo), "--pseudonymise", "--seed", "corpus")
    assert result.exit_code == 0, result.output

    validator = Validator()
    verdicts = [
        [v.status for v in validator.validate_file(str(path))] for path in (source, plain, pseudo)
    ]
    assert verdicts[0] == verdicts[1] == verdicts[2]
    assert len(verdicts[0]) == len(files)

    # The designate captures carry real context tokens: none survives.
    originals = [json.loads(line) for line in source.read_text().splitlines()]
    tokens = {
        r["_context_auth_token"] for r in originals if isinstance(r.get("_context_auth_token"), str)
    }
    assert tokens
    text = pseudo.read_text()
    assert not any(token in plain.read_text() for token in tokens)

    uuids, ips, names = _originals(originals)
    assert len(uuids) > 100 and ips and names
    found = {u.lower().replace("-", "") for u in UUID_RE.findall(text)}
    assert not uuids & found
    assert not ips & set(IPV4_RE.findall(text))
    _, _, names_after = _originals(read_records(pseudo))
    assert not names & names_after


def test_memory_grows_with_distinct_values_not_records(tmp_path):
    import io
    import tracemalloc

    from osreplay.console.redact import RedactConsole
    from osreplay.secrets import scrub

    def peak(records: int) -> tuple[int, int]:
        source = tmp_path / f"big-{records}.ndjson"
        with source.open("w", encoding="utf-8") as handle:
            for i in range(records):
                row = {**PLANTED[0], "payload": {"instance_id": f"{i % 50:032x}", "i": i}}
                handle.write(json.dumps(row) + "\n")
        options = scrub.RedactOptions(
            (str(source),), str(tmp_path / "out.ndjson"), pseudonymise=True, seed="s"
        )
        tracemalloc.start()
        try:
            summary = scrub.run(options, RedactConsole(io.StringIO()))
            return tracemalloc.get_traced_memory()[1], summary.pseudonyms
        finally:
            tracemalloc.stop()

    small, distinct_small = peak(1_000)
    large, distinct_large = peak(10_000)
    assert distinct_small == distinct_large == 52  # 50 instances, a user name, a host
    assert large < small * 1.5 + 100_000, (small, large)


def test_a_run_that_fails_half_way_leaves_the_output_as_it_was(tmp_path):
    import gzip

    source = tmp_path / "cut.ndjson.gz"
    rows = [{**PLANTED[0], "payload": {"i": i, "pad": "x" * 200}} for i in range(2000)]
    data = gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode())
    source.write_bytes(data[: len(data) // 2])  # a gzip stream cut in the middle
    out = tmp_path / "clean.ndjson"
    out.write_text("an earlier copy\n")
    result = run(str(source), "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: cannot read {source} after line ")
    assert out.read_text() == "an earlier copy\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.ndjson", "cut.ndjson.gz"]


def test_an_output_in_a_missing_directory_is_named_as_given(tmp_path):
    source = write_lines(tmp_path / "a.ndjson", PLANTED[:1])
    out = tmp_path / "no" / "such.ndjson"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot write {out}: its directory does not exist\n"


def test_gzip_output(tmp_path):
    import gzip

    source = write_lines(tmp_path / "a.ndjson", PLANTED[:1])
    out = tmp_path / "clean.ndjson.gz"
    assert run(str(source), "-o", str(out)).exit_code == 0
    assert json.loads(gzip.decompress(out.read_bytes()))["ctxt"]["auth_token"] == "***"


def test_many_unreadable_lines_are_listed_up_to_twenty_then_counted(tmp_path):
    source = tmp_path / "junk.ndjson"
    source.write_text("[1]\n" * 25 + json.dumps(PLANTED[0]) + "\n")
    out = tmp_path / "clean.ndjson"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 22
    assert lines[0] == (
        f"Dropped line 1 of {source}: not a JSON object (a JSON array) "
        "(unreadable, so it could not be scrubbed)"
    )
    assert lines[-2:] == [
        f"Dropped 5 more unreadable lines of {source}",
        f"Redacted 1 record from {source} into {out}: 1 with secrets masked, "
        "25 unreadable lines dropped",
    ]


def test_a_missing_input_with_an_existing_output(tmp_path):
    out = write_lines(tmp_path / "out.ndjson", PLANTED[:1])
    result = run(str(tmp_path / "missing.ndjson"), "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot open {tmp_path / 'missing.ndjson'}: no such file\n"
    assert read_records(out) == PLANTED[:1]


def test_redact_removes_the_hostile_planted_secrets(tmp_path):
    # The hostile message set of the redaction rules' own tests, as a recording made with
    # --no-redact: `osreplay redact` applies the same rules, so nothing planted survives.
    from planted_secrets import ORDINARY, PLANTED, planted_context, planted_payloads, value_at

    rows = [
        {"event_type": "e", "publisher_id": "p", "priority": "INFO", "payload": payload,
         "ctxt": planted_context()}
        for payload in planted_payloads()
    ]  # fmt: skip
    source = write_lines(tmp_path / "hostile.ndjson", rows)
    assert [s for s in PLANTED if s in source.read_text()] == PLANTED
    out = tmp_path / "clean.ndjson"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert [secret for secret in PLANTED if secret in out.read_text()] == []
    cleaned = read_records(out)
    for path, value in ORDINARY:
        assert value_at(cleaned, path) == value, path
    pseudo = tmp_path / "pseudo.ndjson"
    assert run(str(source), "-o", str(pseudo), "--pseudonymise").exit_code == 0
    assert [secret for secret in PLANTED if secret in pseudo.read_text()] == []


def test_terminal_controls_in_the_data_are_written_escaped_and_read_back_the_same(tmp_path):
    record = {
        "event_type": "compute.instance.update",
        "publisher_id": "nova-compute:\u202ehost",
        "priority": "INFO",
        "payload": {"display_name": "vm\u009b2J\u2066é", "note": "ok\u2069"},
    }
    source = write_lines(tmp_path / "in.ndjson", [record])

    result = run(str(source))

    assert result.exit_code == 0, result.output
    assert not any(c in result.stdout for c in "\u202e\u009b\u2066\u2069")
    assert "\\u202ehost" in result.stdout and "é" in result.stdout
    [line] = result.stdout.splitlines()
    assert json.loads(line)["payload"] == record["payload"]
    assert json.loads(line)["publisher_id"] == record["publisher_id"]
