"""Which files a reader reads (paths, folders, globs) and how several are merged in time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from osreplay.errors import UsageError
from osreplay.model.files import expand_inputs
from osreplay.model.merge import merge_in_time

T0 = datetime(2024, 3, 5, 10, tzinfo=timezone.utc)


def touch(path) -> str:
    path.write_text("")
    return str(path)


def test_paths_are_kept_as_given_and_in_order(tmp_path):
    b, a = touch(tmp_path / "b.ndjson"), touch(tmp_path / "a.ndjson")
    assert expand_inputs([b, "-", a]) == (b, "-", a)


def test_a_missing_path_is_kept_for_the_reader_to_report(tmp_path):
    missing = str(tmp_path / "gone.ndjson")
    assert expand_inputs([missing]) == (missing,)


def test_a_name_with_brackets_that_matches_nothing_is_a_missing_file(tmp_path):
    name = str(tmp_path / "a[2]b.ndjson")
    assert expand_inputs([name]) == (name,)


def test_an_existing_file_with_glob_characters_is_itself(tmp_path):
    odd, other = touch(tmp_path / "cap-*.ndjson"), touch(tmp_path / "cap-1.ndjson")
    assert expand_inputs([odd]) == (odd,)
    assert expand_inputs([str(tmp_path / "cap-[0-9].ndjson")]) == (other,)


def test_a_folder_gives_its_recordings_sorted(tmp_path):
    for name in ("cap-00002.ndjson.gz", "cap-00001.ndjson", "notes.txt", ".hidden.ndjson"):
        touch(tmp_path / name)
    (tmp_path / "sub.ndjson").mkdir()
    assert expand_inputs([str(tmp_path)]) == (
        str(tmp_path / "cap-00001.ndjson"),
        str(tmp_path / "cap-00002.ndjson.gz"),
    )


def test_a_glob_expands_in_sorted_order(tmp_path):
    for n in (3, 1, 2):
        touch(tmp_path / f"cap-{n:05d}.ndjson.gz")
    touch(tmp_path / "other.ndjson")
    assert expand_inputs([str(tmp_path / "cap-*.ndjson.gz")]) == tuple(
        str(tmp_path / f"cap-{n:05d}.ndjson.gz") for n in (1, 2, 3)
    )


def test_a_glob_matching_nothing_is_a_usage_error_naming_it(tmp_path):
    pattern = str(tmp_path / "cap-*.ndjson.gz")
    with pytest.raises(UsageError) as caught:
        expand_inputs([pattern])
    assert str(caught.value) == f"no file matches {pattern}"


def test_a_folder_without_recordings_is_a_usage_error(tmp_path):
    touch(tmp_path / "notes.txt")
    with pytest.raises(UsageError) as caught:
        expand_inputs([str(tmp_path)])
    assert str(caught.value) == (
        f"{tmp_path} is a folder without recordings (no *.ndjson or *.ndjson.gz file in it)"
    )


def at(seconds: float | None) -> datetime | None:
    return None if seconds is None else T0 + timedelta(seconds=seconds)


def items(name: str, *seconds: float | None) -> list[tuple[str, datetime | None]]:
    return [(f"{name}{i}", at(s)) for i, s in enumerate(seconds, 1)]


def merged(*streams) -> list[str]:
    return [name for name, _ in merge_in_time(streams, lambda item: item[1])]


def test_records_come_in_timestamp_order_across_files():
    assert merged(items("a", 1, 4, 5), items("b", 2, 3, 6)) == ["a1", "b1", "b2", "a2", "a3", "b3"]


def test_equal_times_keep_file_order_then_line_order():
    assert merged(items("a", 1, 1), items("b", 1), items("c", 0, 1)) == [
        "c1", "a1", "a2", "b1", "c2",
    ]  # fmt: skip


def test_a_file_keeps_its_own_order_even_when_it_is_not_sorted():
    # a2 is older than a1 (arrival order): it is never moved ahead of a1.
    assert merged(items("a", 5, 1), items("b", 3)) == ["b1", "a1", "a2"]


def test_an_untimed_record_stays_behind_the_record_before_it_in_its_file():
    assert merged(items("a", 1, None, 4), items("b", 2, 3)) == ["a1", "a2", "b1", "b2", "a3"]
    # At the start of a file it has no record before it: it goes first.
    assert merged(items("a", 1), items("b", None, 2)) == ["b1", "a1", "b2"]


def test_memory_holds_one_pending_record_per_file():
    pulled: list[str] = []

    def stream(name: str, count: int):
        for i in range(count):
            pulled.append(name)
            yield name, at(i)

    merge = merge_in_time([stream("a", 1000), stream("b", 1000)], lambda item: item[1])
    for given in range(1, 500):
        next(merge)
        # Everything pulled was given out, but for at most one record per file.
        assert given <= len(pulled) <= given + 2
