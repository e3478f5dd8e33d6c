"""The manifest cache beside the index: read back as written, and ignored whenever it cannot be trusted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statementsearch import StatementIndex
from statementsearch.manifest import (
    SEEN_FILE,
    FileState,
    SeenFailure,
    SeenFiles,
    indexed_files,
    load_seen,
    save_seen,
)

SEEN = SeenFiles(
    files={"caf%E9.txt": FileState("caf%E9.txt", 3091, 1_796_094_172_579_447_017, "a83e")},
    failures={"broken.txt": SeenFailure(4, 1_796_094_172_579_576_710, "eaee", "empty file")},
)


def test_the_cache_reads_back_as_written_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    save_seen(tmp_path, SEEN)
    assert load_seen(tmp_path) == SEEN
    assert [p.name for p in tmp_path.iterdir()] == [SEEN_FILE]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"version": 1, "files": {"a.txt": [1, 2]}, "failures": {}}',
        '{"version": 1, "files": {}}',
    ],
)
def test_a_damaged_cache_is_taken_as_empty(tmp_path: Path, content: str) -> None:
    (tmp_path / SEEN_FILE).write_text(content, encoding="utf-8")
    assert load_seen(tmp_path) == SeenFiles()


def test_a_cache_of_another_version_is_taken_as_empty(tmp_path: Path) -> None:
    """Entries of the same shape may mean something else in another version: none is trusted."""
    save_seen(tmp_path, SEEN)
    data = json.loads((tmp_path / SEEN_FILE).read_text(encoding="utf-8"))
    (tmp_path / SEEN_FILE).write_text(json.dumps({**data, "version": 2}), encoding="utf-8")
    assert load_seen(tmp_path) == SeenFiles()


def test_a_missing_cache_is_empty(tmp_path: Path) -> None:
    assert load_seen(tmp_path / "nowhere") == SeenFiles()


def release_text(title: str, body: str) -> str:
    return f"{title}\n\n(Source: US Navy; issued Jan. 3, 2020)\n\n{body}\n\n(ends)\n\n"


def test_files_whose_releases_are_all_deleted_leave_the_manifest(tmp_path: Path) -> None:
    """Deletions kept in their segment (small segments are usually merged away, which hides them)."""
    docs = tmp_path / "documents"
    docs.mkdir()
    (docs / "a.txt").write_text(release_text("Alpha", "First."), encoding="utf-8")
    (docs / "b.txt").write_text(release_text("Bravo", "One.") + release_text("Bravo two", "Two."), "utf-8")
    with StatementIndex.create(tmp_path / "index") as ix:
        ix.update(docs)
        writer = ix._ix.writer()
        writer.delete_by_term("path", "a.txt")
        writer.delete_by_term("id", "b.txt#1")  # b.txt keeps one live release
        writer.commit(merge=False)
        with ix._ix.reader() as reader:
            assert reader.has_deletions()
        assert set(indexed_files(ix._ix)) == {"b.txt"}
