"""`StatementIndex` (index.py): opening, creating and closing an index, damaged ones, results as plain
data, paging bounds, show, similar, and searches from several threads."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import shutil
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from helpers import CJTF, DOD, SEED, hit_ids, repost_cjtf, vanishing_once
from statementsearch import (
    IndexCorruptError,
    IndexMissingError,
    IndexWriteError,
    QueryError,
    ReleaseNotFoundError,
    StatementIndex,
)
from statementsearch.index import MARKER_FILE

# ---------------------------------------------------------------------------------------------- lifecycle


@pytest.fixture
def seed_docs(tmp_path: Path) -> Path:
    docs = tmp_path / "documents"
    docs.mkdir()
    shutil.copy(SEED, docs)
    return docs


def test_exists_only_where_an_index_was_created(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    assert not StatementIndex.exists(folder)  # missing
    folder.mkdir()
    assert not StatementIndex.exists(folder)  # empty
    (tmp_path / "file").write_text("x")
    assert not StatementIndex.exists(tmp_path / "file")  # a file
    (folder / MARKER_FILE).write_text("{}")
    assert not StatementIndex.exists(folder)  # a marker alone (a creation killed midway)
    StatementIndex.create(folder).close()
    assert StatementIndex.exists(folder)
    assert StatementIndex.exists(str(folder))


def test_open_of_a_missing_index_raises_or_creates(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="no index at"):
        StatementIndex.open(tmp_path / "index")
    assert not (tmp_path / "index").exists()
    with StatementIndex.open(tmp_path / "index", create=True) as ix:
        assert ix.search("*").total == 0
    assert StatementIndex.exists(tmp_path / "index")


def test_create_refuses_an_existing_index_unless_told_to_overwrite(tmp_path: Path, seed_docs: Path) -> None:
    with StatementIndex.create(tmp_path / "index") as ix:
        ix.update(seed_docs)
    with pytest.raises(IndexWriteError, match="already exists"):
        StatementIndex.create(tmp_path / "index")
    with StatementIndex.open(tmp_path / "index") as ix:
        assert ix.stats().releases == 2  # refused: nothing changed
    with StatementIndex.create(tmp_path / "index", overwrite=True) as ix:
        assert ix.stats().releases == 0 and ix.search("soleimani").hits == ()
    with StatementIndex.open(tmp_path / "index") as ix:
        assert ix.stats().files == 0 and ix.update(seed_docs).added == 1


def test_create_never_writes_into_a_folder_of_other_files(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(IndexWriteError, match="holds other files"):
            StatementIndex.create(tmp_path / "mine", overwrite=overwrite)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


LOOKUPS: dict[str, Callable[[StatementIndex], object]] = {
    "search": lambda ix: ix.search("soleimani"),
    "show": lambda ix: ix.show(DOD),
    "similar": lambda ix: ix.similar(DOD),
    "stats": lambda ix: ix.stats(),
    "timeline": lambda ix: ix.timeline("soleimani"),
}


@pytest.mark.parametrize("lookup", LOOKUPS.values(), ids=LOOKUPS.keys())
def test_a_closed_index_refuses_lookups_with_a_clear_error(
    tmp_path: Path, seed_docs: Path, lookup: Callable[[StatementIndex], object]
) -> None:
    """In the thread that used it (whose searcher the close closed) and in a new one alike."""
    ix = StatementIndex.create(tmp_path / "index")
    ix.update(seed_docs)
    assert ix.search("soleimani").total == 1  # this thread now holds a searcher
    ix.close()
    with pytest.raises(IndexMissingError, match="has been closed"):
        lookup(ix)
    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            lookup(ix)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], IndexMissingError), errors


def test_leaving_the_with_block_closes_the_index(tmp_path: Path, seed_docs: Path) -> None:
    with StatementIndex.create(tmp_path / "index") as ix:
        ix.update(seed_docs)
        assert hit_ids(ix, "soleimani") == [DOD]
    with pytest.raises(IndexMissingError, match="has been closed"):
        ix.search("soleimani")
    with StatementIndex.open(tmp_path / "index") as again:  # closing one object leaves the index usable
        assert hit_ids(again, "soleimani") == [DOD]


@pytest.mark.parametrize("how", ["created", "emptied"])
def test_an_empty_index_answers_every_lookup(tmp_path: Path, seed_docs: Path, how: str) -> None:
    """A new index, or one whose every file was removed (its one reader then has no columns)."""
    with StatementIndex.create(tmp_path / "index") as ix:
        if how == "emptied":
            ix.update(seed_docs)
            (seed_docs / SEED.name).unlink()
            assert ix.update(seed_docs).releases_deleted == 2
        for query, sort, collapse, since in itertools.product(
            ("soleimani", "*", "sol*", "soleimani OR quds"),
            ("relevance", "newest"),
            (True, False),
            (None, "2020"),
        ):
            result = ix.search(query, sort=sort, collapse=collapse, since=since)  # type: ignore[arg-type]
            assert (result.total, result.hits, result.issuers) == (0, (), ())
        assert ix.timeline("soleimani") == ()
        stats = ix.stats()
        assert (stats.releases, stats.files, stats.issuers, stats.first_date) == (0, 0, 0, None)
        with pytest.raises(ReleaseNotFoundError):
            ix.similar(DOD)


def _main_toc(index: Path) -> Path:
    (toc,) = index.glob("_MAIN_*.toc")
    return toc


def _segment(index: Path) -> Path:
    (segment,) = index.glob("*.seg")
    return segment


DAMAGES: dict[str, Callable[[Path], object]] = {
    "toc overwritten": lambda ix: _main_toc(ix).write_bytes(b"garbage" * 20),
    "toc truncated": lambda ix: os.truncate(_main_toc(ix), 20),
    "toc emptied": lambda ix: _main_toc(ix).write_bytes(b""),
    "segment deleted": lambda ix: _segment(ix).unlink(),
    "segment overwritten": lambda ix: _segment(ix).write_bytes(b"\0" * 4096),
    "segment truncated": lambda ix: os.truncate(_segment(ix), 100),
    "marker garbled": lambda ix: (ix / MARKER_FILE).write_text("{"),
    "marker deleted": lambda ix: (ix / MARKER_FILE).unlink(),
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_index_raises_index_corrupt_error(
    tmp_path: Path, seed_docs: Path, damage: Callable[[Path], object]
) -> None:
    """Whatever file is damaged, opening the index or its first search raises IndexCorruptError with one
    line that says how to recover, never Whoosh's own exception."""
    index = tmp_path / "index"
    with StatementIndex.create(index) as ix:
        ix.update(seed_docs)
    damage(index)
    with pytest.raises(IndexCorruptError) as raised, StatementIndex.open(index) as ix:
        ix.search("soleimani")
    message = str(raised.value)
    assert "--rebuild" in message and "\n" not in message and str(index) in message


def test_a_damaged_posting_block_raises_index_corrupt_error(tmp_path: Path, seed_docs: Path) -> None:
    """Damage inside the postings, which opening the index does not read, is reported as damage by the
    search that reads it."""
    from statementsearch import block_layout, whoosh_internals

    index = tmp_path / "index"
    with StatementIndex.create(index) as ix:
        ix.update(seed_docs)
        with ix._searcher() as lease:
            (leaf, _), *_ = lease.searcher.reader().leaf_readers()
            blocks = whoosh_internals.blocks(leaf, "text", "attack")
            assert blocks and blocks[0].inline is None
            raw = whoosh_internals.block_bytes(blocks[0])
    assert block_layout.is_own(raw)
    segment = _segment(index)
    data = segment.read_bytes()
    at = data.index(raw)
    segment.write_bytes(data[: at + 1] + b"\x03" + data[at + 2 :])  # an id width no block has
    with pytest.raises(IndexCorruptError) as raised, StatementIndex.open(index) as ix:
        ix.search("attacks")
    assert "--rebuild" in str(raised.value) and str(index) in str(raised.value)


def test_random_damage_to_a_segment_answers_or_says_damaged(tmp_path: Path, seed_docs: Path) -> None:
    """Bytes overwritten anywhere in the segment file (40 seeded places and lengths): each search
    answers, or raises IndexCorruptError; never another exception (12 in 60 raised Whoosh's IndexError
    from a term key naming no field, before `_CompactTermsReader` said so)."""
    import random

    built = tmp_path / "built"
    with StatementIndex.create(built) as ix:
        ix.update(seed_docs)
    outcomes = []
    for trial in range(40):
        index = tmp_path / f"damaged{trial}"
        shutil.copytree(built, index)
        segment = _segment(index)
        data, chance = bytearray(segment.read_bytes()), random.Random(trial)
        start, length = chance.randrange(len(data)), chance.choice([1, 4, 16, 256, 4096])
        data[start : start + length] = bytes(chance.randrange(256) for _ in data[start : start + length])
        segment.write_bytes(bytes(data))
        try:
            with StatementIndex.open(index) as ix:
                for query in ("soleimani", "attacks", '"united states"', "president~1", "iran*"):
                    ix.search(query)
                    ix.timeline(query)
                ix.stats()
            outcomes.append("answered")
        except IndexCorruptError as exc:
            assert "--rebuild" in str(exc) and "\n" not in str(exc)
            outcomes.append("damaged")
    assert outcomes.count("damaged") > 10  # the damage was met, not only where nothing reads


# ---------------------------------------------------------------------------------------------- results


def test_results_serialise_with_asdict(seed_ix: StatementIndex) -> None:
    data = json.loads(json.dumps(dataclasses.asdict(seed_ix.search("soleimani"))))
    assert data["hits"][0]["id"] == DOD and data["total"] == 1


def test_limit_bounds(seed_ix: StatementIndex) -> None:
    with pytest.raises(QueryError):
        seed_ix.search("attacks", limit=0)
    with pytest.raises(QueryError):
        seed_ix.search("attacks", offset=-1)
    assert seed_ix.search("attacks", limit=10**12).limit == 10_000


def test_show_returns_the_whole_release(seed_ix: StatementIndex) -> None:
    release = seed_ix.show(CJTF)
    assert release.title == "CJTF-OIR Statement on the Ongoing Defeat Daesh Mission"
    assert release.body.startswith("SOUTHWEST ASIA ---") and release.date == date(2020, 1, 5)
    with pytest.raises(ReleaseNotFoundError):
        seed_ix.show("nope")


def test_concurrent_searches_from_threads(seed_ix: StatementIndex) -> None:
    errors: list[BaseException] = []
    results: list[list[str]] = []

    def worker() -> None:
        try:
            for _ in range(30):
                results.append(hit_ids(seed_ix, "soleimani OR daesh", sort="oldest"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 120
    assert all(r == [DOD, CJTF] for r in results)


# ---------------------------------------------------------------------------------------------- similar


def test_similar_returns_the_related_seed_release_first(mixed: tuple[StatementIndex, Path]) -> None:
    ix, _ = mixed
    result = ix.similar(DOD)
    assert result.hits[0].id == CJTF
    assert DOD not in [h.id for h in result.hits]
    with pytest.raises(ReleaseNotFoundError):
        ix.similar("nope")


def test_similar_limit_and_collapse(mixed: tuple[StatementIndex, Path]) -> None:
    """With CJTF's statement re-issued, similar(DOD) shows that group once, or both with collapse off."""
    ix, docs = mixed
    repost_cjtf(ix, docs)
    collapsed = ix.similar(DOD)
    assert [h.id for h in collapsed.hits][:1] in ([CJTF], ["repost.txt#1"])
    assert {d.id for d in collapsed.hits[0].duplicates} | {collapsed.hits[0].id} == {CJTF, "repost.txt#1"}
    assert len({CJTF, "repost.txt#1"} & {h.id for h in collapsed.hits}) == 1
    everything = ix.similar(DOD, collapse=False)
    assert {h.id for h in everything.hits[:2]} == {CJTF, "repost.txt#1"}
    assert len(everything.hits) == len(collapsed.hits) + 1
    assert [h.id for h in ix.similar(DOD, limit=1, collapse=False).hits] == [everything.hits[0].id]
    with pytest.raises(QueryError):
        ix.similar(DOD, limit=0)


# ---------------------------------------------------------------------------------------------- races


def test_a_file_vanishing_under_open_or_first_search_is_retried(
    tmp_path: Path, seed_docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whichever file of the index a concurrent commit deletes while it is being opened (its table of
    contents, read more than once, or a segment's files), opening and the first search retry and give
    the same answer, never a FileNotFoundError."""
    index = tmp_path / "index"
    with StatementIndex.create(index) as ix:
        ix.update(seed_docs)
    with monkeypatch.context() as patch:
        opened = vanishing_once(patch, nth=0)
        with StatementIndex.open(index) as ix:
            expected = hit_ids(ix, "soleimani")
    assert any(name.endswith(".toc") for name in opened) and len(opened) >= 3
    for nth in range(1, len(opened) + 1):
        with monkeypatch.context() as patch:
            vanishing_once(patch, nth)
            with StatementIndex.open(index) as ix:
                assert hit_ids(ix, "soleimani") == expected, f"file {nth} vanished"
