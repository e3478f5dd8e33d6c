"""The writers' posting pool (`pooling.TermPool`): what it writes is byte for byte what Whoosh's pool
writes, whether it spills runs to disk or not, in one process or in the multi-process writer's."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.filedb.filestore import RamStorage

from statementsearch import StatementIndex, indexer, pooling

POSTED_FILES = (".trm", ".pst")
"""A segment's term dictionary and postings: what the pool's postings become."""


def _documents(folder: Path, seed_path: Path, records: list[dict[str, Any]]) -> Path:
    folder.mkdir()
    (folder / "seed.txt").write_bytes(seed_path.read_bytes())
    (folder / "records.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    return folder


def _synthetic_records(count: int) -> list[dict[str, Any]]:
    body = (
        "The ferry crossing at {n} reopened after the storm, the harbour office said on {n} May. "
        "Inspectors found {k} damaged moorings and the {w} berth stays shut until repairs end. "
    )
    words = ("north", "south", "east", "west", "old", "new", "main")
    bodies = [body.format(n=n, k=n % 7, w=words[n % 7]) * (1 + n % 5) for n in range(count)]
    return [{"id": f"r{n}", "title": f"Ferry {n}", "body": text} for n, text in enumerate(bodies)]


def _posted_bytes(index: Path) -> list[dict[str, bytes]]:
    """Each segment's term dictionary and postings, as bytes (segments by their document count)."""
    from whoosh.index import open_dir

    ix = open_dir(str(index))
    found = []
    for segment in ix._segments():
        storage = segment.open_compound_file(ix.storage) if segment.is_compound() else ix.storage
        parts = {}
        for ext in POSTED_FILES:
            with segment.open_file(storage, ext) as part:
                parts[ext] = part.read()
        found.append((segment.doc_count_all(), parts))
    return [parts for _, parts in sorted(found, key=lambda item: item[0])]


def _build(path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch, pool: Any, **update: Any) -> Path:
    with monkeypatch.context() as patch:
        patch.setattr(indexer, "TermPool", pool)
        with StatementIndex.create(path) as ix:
            ix.update(docs, **update)
    return path


def _assert_pooled_equals_whooshs(docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whooshs = _build(tmp_path / "whoosh", docs, monkeypatch, None)  # no pool class: Whoosh's own
    pooled = _build(tmp_path / "pooled", docs, monkeypatch, pooling.TermPool)
    theirs, ours = _posted_bytes(whooshs), _posted_bytes(pooled)
    assert len(ours) == len(theirs) == 1 and ours[0][".pst"]
    assert ours == theirs


def test_a_pooled_segment_is_byte_for_byte_whooshs(
    tmp_path: Path, seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = _documents(tmp_path / "documents", seed_path, _synthetic_records(400))
    _assert_pooled_equals_whooshs(docs, tmp_path, monkeypatch)


@pytest.mark.shared
def test_a_pooled_segment_of_corpus_releases_is_byte_for_byte_whooshs(
    tmp_path: Path, seed_path: Path, corpus_sample: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = _documents(tmp_path / "documents", seed_path, corpus_sample)
    _assert_pooled_equals_whooshs(docs, tmp_path, monkeypatch)


def test_a_pool_past_its_limit_spills_runs_and_writes_the_same(
    tmp_path: Path, seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pool limited to 1 MB spills sorted runs to disk and merges them back term by term: the segment
    is the one a pool that never spilled writes."""
    spills = []
    spill = pooling.TermPool._spill

    def counted(self: pooling.TermPool) -> None:
        spills.append(self._size)
        spill(self)

    docs = _documents(tmp_path / "documents", seed_path, _synthetic_records(400))
    unlimited = _build(tmp_path / "unlimited", docs, monkeypatch, pooling.TermPool)
    monkeypatch.setattr(pooling.TermPool, "_spill", counted)
    monkeypatch.setattr(indexer, "writer_limit_mb", lambda procs: 1)
    limited = _build(tmp_path / "limited", docs, monkeypatch, pooling.TermPool)
    assert len(spills) >= 3
    assert _posted_bytes(limited) == _posted_bytes(unlimited)
    assert not list((limited / "MAIN.tmp").glob("*.terms"))  # the runs are removed after the commit


def test_the_multi_process_writers_gather_in_the_term_pool(
    tmp_path: Path, seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoosh's multi-process writer gives its sub-writers the writer's arguments: each writing
    process gathers its postings in the pool, and the index answers as one built in one process."""
    marks = tmp_path / "marks"
    marks.mkdir()

    class MarkingPool(pooling.TermPool):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            (marks / str(os.getpid())).touch()

    docs = _documents(tmp_path / "documents", seed_path, _synthetic_records(400))
    monkeypatch.setattr(indexer, "PARALLEL_MIN_BYTES", 0)
    parallel = _build(tmp_path / "parallel", docs, monkeypatch, MarkingPool, procs=2)
    writers = {int(mark.name) for mark in marks.iterdir()} - {os.getpid()}
    assert len(writers) == 2
    single = _build(tmp_path / "single", docs, monkeypatch, None, procs=1)
    with StatementIndex.open(parallel) as ours, StatementIndex.open(single) as theirs:
        for query in ("ferry storm", '"damaged moorings"', "west berth", "soleimani"):
            mine = ours.search(query, limit=50, collapse=False)
            whooshs = theirs.search(query, limit=50, collapse=False)
            assert mine.total == whooshs.total > 0
            assert [(h.id, round(h.score, 6)) for h in mine.hits] == [
                (h.id, round(h.score, 6)) for h in whooshs.hits
            ]


postings = st.lists(
    st.tuples(
        st.sampled_from(["body", "text", "title"]),
        st.sampled_from([b"a", b"ab", b"b", b"road", b"z"]),
        st.integers(min_value=0, max_value=40),
        st.sampled_from([1.0, 2.0, 0.5]),
        st.binary(max_size=3),
    ),
    max_size=200,
)


@settings(max_examples=60, deadline=None)
@given(items=postings, limit_bytes=st.sampled_from([None, 400, 2000]))
def test_the_pool_gives_postings_in_whooshs_sorted_order(
    items: list[tuple[str, bytes, int, float, bytes]], limit_bytes: int | None
) -> None:
    """Postings in any order (documents out of turn, the same document twice), held or spilled: the
    pool gives them back in the order Whoosh's pool sorts them to."""
    limitmb = 128 if limit_bytes is None else limit_bytes / 2**20
    pool = pooling.TermPool(RamStorage(), limitmb=limitmb)
    for item in items:
        pool.add(item)
    assert list(pool.iter_postings()) == sorted(items)
    assert pool.fieldnames == {item[0] for item in items}
    pool.cleanup()
    assert pool.runs == []
