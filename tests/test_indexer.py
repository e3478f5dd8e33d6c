"""Full and incremental builds on real files in temp dirs: exactly the right releases found or gone."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import SEED, Spawn
from render import release_text
from statementsearch import IndexLockedError, StatementIndex, grouping, indexer
from statementsearch.indexer import LOCK_FILE, load_manifest, writer_lock
from statementsearch.manifest import SEEN_FILE
from statementsearch.models import FileFailure, FileReport


def ids(ix: StatementIndex, query: str = "*") -> set[str]:
    return {hit.id for hit in ix.search(query, limit=1000, collapse=False).hits}


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "documents"
    (folder / "dod").mkdir(parents=True)
    shutil.copy(SEED, folder / "seed.txt")
    (folder / "dod" / "a.txt").write_text(
        release_text(
            "Pentagon briefs on Baghdad embassy",
            "US Department of Defense",
            "Jan. 2, 2020",
            "Embassy guards reinforced in Baghdad.",
        )
        + release_text(
            "Navy exercise concludes", "US Navy", "Feb. 3, 2020", "A naval exercise in the Gulf concluded."
        ),
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def ix(tmp_path: Path, docs: Path) -> StatementIndex:
    index = StatementIndex.create(tmp_path / "index")
    index.update(docs)
    return index


def test_build_indexes_every_release(ix: StatementIndex) -> None:
    assert ids(ix) == {"seed.txt#1", "seed.txt#2", "dod/a.txt#1", "dod/a.txt#2"}
    assert set(load_manifest(ix._ix)) == {"seed.txt", "dod/a.txt"}


def test_second_update_reads_nothing(ix: StatementIndex, docs: Path) -> None:
    summary = ix.update(docs)
    assert (summary.added, summary.changed, summary.removed, summary.unchanged) == (0, 0, 0, 2)
    assert summary.releases_written == 0


def test_changed_file_is_reindexed(ix: StatementIndex, docs: Path) -> None:
    target = docs / "dod" / "a.txt"
    target.write_text(
        release_text("Submarine visit", "US Navy", "March 1, 2020", "A submarine visited the port."),
        encoding="utf-8",
    )
    summary = ix.update(docs)
    assert (summary.added, summary.changed, summary.removed, summary.unchanged) == (0, 1, 0, 1)
    assert ids(ix) == {"seed.txt#1", "seed.txt#2", "dod/a.txt#1"}
    assert ids(ix, "submarine") == {"dod/a.txt#1"}
    # Only the old text held both words: the query is now answered with releases holding one of them.
    old_words = ix.search("embassy reinforced")
    assert old_words.relaxed and "dod/a.txt#1" not in {h.id for h in old_words.hits}


def test_added_and_deleted_and_renamed_files(ix: StatementIndex, docs: Path) -> None:
    (docs / "new.txt").write_text(
        release_text("Coast Guard rescue", "US Coast Guard", "2020-03-04", "Crew rescued."), encoding="utf-8"
    )
    (docs / "dod" / "a.txt").unlink()
    (docs / "seed.txt").rename(docs / "renamed.txt")
    summary = ix.update(docs)
    assert (summary.added, summary.removed) == (2, 2)
    assert ids(ix) == {"new.txt#1", "renamed.txt#1", "renamed.txt#2"}
    assert ids(ix, "soleimani") == {"renamed.txt#1"}


def test_touched_file_is_confirmed_by_its_hash_and_not_rewritten(
    ix: StatementIndex, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generation, files = ix._ix.latest_generation(), sorted(ix.path.iterdir())
    os.utime(docs / "seed.txt", ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    summary = ix.update(docs)
    assert (summary.changed, summary.unchanged) == (0, 2)
    assert (summary.releases_written, summary.releases_deleted) == (0, 0)
    assert ix._ix.latest_generation() == generation  # no commit: the releases were not touched
    assert sorted(ix.path.iterdir()) == files  # nor a writer opened (a cancelled one leaves files)
    assert ids(ix) == {"seed.txt#1", "seed.txt#2", "dod/a.txt#1", "dod/a.txt#2"}
    # The new mtime is recorded: the next update does not even read the file.
    reads = count_reads(monkeypatch)
    assert ix.update(docs).unchanged == 2 and reads == []


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files the indexer reads or hashes from now on."""
    reads: list[str] = []
    for name in ("read_file", "file_hash"):
        real = getattr(indexer, name)

        def counted(path: Path, *args: Any, real: Any = real) -> Any:
            reads.append(path.name)
            return real(path, *args)

        monkeypatch.setattr(indexer, name, counted)
    return reads


def test_a_cache_older_than_the_index_costs_a_read_never_a_wrong_answer(
    ix: StatementIndex, docs: Path
) -> None:
    """The size and mtime cache beside the index, left behind by a run killed after its commit, and a
    file then put back as it was (bytes and mtime): the cache is not trusted against the index."""
    target, cache = docs / "dod" / "a.txt", ix.path / SEEN_FILE
    v1, st1, cache_v1 = target.read_bytes(), target.stat(), cache.read_bytes()
    target.write_text(release_text("Submarine visit", "US Navy", "March 1, 2020", "Submarine."), "utf-8")
    assert ix.update(docs).changed == 1 and ids(ix, "submarine") == {"dod/a.txt#1"}
    cache.write_bytes(cache_v1)  # as if the update had been killed before writing its cache
    target.write_bytes(v1)
    os.utime(target, ns=(st1.st_atime_ns, st1.st_mtime_ns))
    summary = ix.update(docs)
    assert (summary.changed, summary.unchanged) == (1, 1)
    assert ids(ix, "submarine") == set() and ids(ix, "reinforced") == {"dod/a.txt#1"}


def test_a_lost_cache_costs_one_hash_per_file_and_no_rewrite(ix: StatementIndex, docs: Path) -> None:
    generation = ix._ix.latest_generation()
    (ix.path / SEEN_FILE).write_text("{not json", encoding="utf-8")
    summary = ix.update(docs)
    assert (summary.unchanged, summary.releases_written) == (2, 0)
    assert ix._ix.latest_generation() == generation
    assert ix.update(docs).unchanged == 2 and (ix.path / SEEN_FILE).read_text().startswith("{")


def test_unreadable_file_keeps_its_releases_and_is_reported(ix: StatementIndex, docs: Path) -> None:
    (docs / "dod" / "a.txt").write_bytes(b"\x00\x01binary\x00" * 10)
    summary = ix.update(docs)
    assert summary.failed == 1 and summary.failures[0].path == "dod/a.txt"
    assert "dod/a.txt#1" in ids(ix)


def test_a_file_failing_as_before_is_marked_repeated_until_it_changes(ix: StatementIndex, docs: Path) -> None:
    broken = docs / "broken.txt"
    broken.write_bytes(b"\x00binary")
    reason = "binary or undecodable file (NUL bytes)"
    assert ix.update(docs).failures == (FileFailure("broken.txt", reason),)
    generation = ix._ix.latest_generation()
    assert ix.update(docs).failures == (FileFailure("broken.txt", reason, repeated=True),)
    assert ix._ix.latest_generation() == generation  # remembering it opened no writer
    assert ix.stats().unreadable == (FileFailure("broken.txt", reason),)
    broken.write_bytes(b"\x00other binary")  # changed, still broken: said again
    assert ix.update(docs).failures == (FileFailure("broken.txt", reason),)
    broken.write_text(release_text("Mended", "US Navy", "2020-03-04", "Readable now."), encoding="utf-8")
    assert ix.update(docs).failures == () and ix.stats().unreadable == ()


def write_latin1_file(folder: Path) -> None:
    """A file named in Latin-1 bytes, as old archives and zip files made on Windows give them."""
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as handle:
        handle.write(release_text("Cafe reopens", "City Hall", "Jan. 5, 2020", "Espresso returns.").encode())


def test_a_file_named_in_latin1_is_indexed_updated_and_removed(ix: StatementIndex, docs: Path) -> None:
    write_latin1_file(docs)
    summary = ix.update(docs)
    assert (summary.added, summary.failed) == (1, 0)
    assert ids(ix, "espresso") == {"caf%E9.txt#1"}
    assert ix.show("caf%E9.txt#1").path == "caf%E9.txt"
    assert "caf%E9.txt" in load_manifest(ix._ix)
    summary = ix.update(docs)
    assert (summary.unchanged, summary.releases_written) == (3, 0)
    os.remove(os.path.join(os.fsencode(docs), b"caf\xe9.txt"))
    assert ix.update(docs).removed == 1 and ids(ix, "espresso") == set()


def test_a_file_that_raises_while_read_is_reported_and_the_others_indexed(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = indexer.read_file

    def read_file(path: Path, root: Path | None = None, wanted: Any = None) -> FileReport:
        if path.name == "a.txt":
            raise RuntimeError("injected\nfailure")
        return real(path, root, wanted)

    monkeypatch.setattr(indexer, "read_file", read_file)
    fresh = StatementIndex.create(tmp_path / "fresh")
    summary = fresh.update(docs)
    reason = "could not be indexed (RuntimeError: injected failure)"
    assert summary.failures == (FileFailure("dod/a.txt", reason),)
    assert ids(fresh) == {"seed.txt#1", "seed.txt#2"}


def test_a_file_whose_fingerprint_raises_is_reported_and_leaves_no_group_behind(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first pass (near-duplicate fingerprints) isolates a failing file as the second does: none of
    its releases, not even those fingerprinted before the failure, is anyone's group original."""
    from statementsearch.reader import read_file

    dod = read_file(SEED).releases[0]
    earlier = release_text("REPOST: " + dod.title, "US Central Command", "Jan. 2, 2020", dod.body)
    (docs / "early.txt").write_text(earlier + release_text("Broken", "X", "2020-01-09", "Y."), "utf-8")
    real = grouping.shingling

    def failing(title: str, body: str, day: Any = None) -> Any:
        if title == "Broken":
            raise RuntimeError("injected")
        return real(title, body, day)

    monkeypatch.setattr(grouping, "shingling", failing)
    fresh = StatementIndex.create(tmp_path / "fresh")
    summary = fresh.update(docs)
    assert summary.failures == (FileFailure("early.txt", "could not be indexed (RuntimeError: injected)"),)
    assert ids(fresh) == {"seed.txt#1", "seed.txt#2", "dod/a.txt#1", "dod/a.txt#2"}
    assert fresh.search("soleimani").hits[0].duplicates == ()
    with fresh._ix.searcher() as searcher:
        assert {fields["group"] for fields in searcher.all_stored_fields()} <= ids(fresh)


def test_a_file_the_writer_fails_on_keeps_its_old_releases_and_the_others_go_in(
    ix: StatementIndex, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer raises on one file's document after taking it whole: that file must leave no trace."""
    from whoosh.writing import SegmentWriter

    real = SegmentWriter.add_document

    def add_document(self: Any, **fields: Any) -> None:
        real(self, **fields)
        if fields["path"] == "dod/a.txt":
            raise RuntimeError("injected")

    monkeypatch.setattr(SegmentWriter, "add_document", add_document)
    (docs / "dod" / "a.txt").write_text(
        release_text("Submarine visit", "US Navy", "March 1, 2020", "A submarine visited."), encoding="utf-8"
    )
    (docs / "new.txt").write_text(
        release_text("Coast Guard rescue", "US Coast Guard", "2020-03-04", "Crew rescued."), encoding="utf-8"
    )
    summary = ix.update(docs)
    assert summary.failures == (FileFailure("dod/a.txt", "could not be indexed (RuntimeError: injected)"),)
    assert (summary.added, summary.changed, summary.releases_written) == (1, 0, 1)
    assert ids(ix, "submarine") == set() and ids(ix, "reinforced") == {"dod/a.txt#1"}
    assert ids(ix, "rescued") == {"new.txt#1"}


def test_the_parallel_writer_is_never_handed_a_document_it_cannot_index(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoosh's worker processes drop their whole batch, silently, on one document they cannot index: a
    text that is not valid Unicode is caught before, and only its file fails."""
    real = indexer.read_file

    def read_file(path: Path, root: Path | None = None, wanted: Any = None) -> FileReport:
        report = real(path, root, wanted)
        if path.name != "a.txt":
            return report
        broken = dataclasses.replace(report.releases[0], body="a lone \udce9 surrogate")
        return dataclasses.replace(report, releases=(broken, *report.releases[1:]))

    monkeypatch.setattr(indexer, "read_file", read_file)
    monkeypatch.setattr(indexer, "PARALLEL_MIN_BYTES", 0)
    fresh = StatementIndex.create(tmp_path / "fresh")
    summary = fresh.update(docs, procs=2)
    assert [f.path for f in summary.failures] == ["dod/a.txt"]
    assert "surrogate" in summary.failures[0].reason
    assert ids(fresh) == {"seed.txt#1", "seed.txt#2"}


def test_rebuild_gives_the_same_releases(ix: StatementIndex, docs: Path) -> None:
    before = ids(ix)
    summary = ix.build(docs)
    assert summary.rebuilt and summary.releases_written == 4
    assert ids(ix) == before


def test_live_index_sees_a_deletion_made_by_another_process(ix: StatementIndex, docs: Path) -> None:
    """The whoosh3 `Searcher.refresh()` caveat: a live StatementIndex must not return deleted releases."""
    assert ids(ix, "navy") == {"dod/a.txt#2"}
    (docs / "dod" / "a.txt").unlink()
    script = "import sys; import statementsearch as s; s.StatementIndex.open(sys.argv[1]).update(sys.argv[2])"
    subprocess.run([sys.executable, "-c", script, str(ix.path), str(docs)], check=True, timeout=120)
    assert ids(ix, "navy") == set()
    assert ids(ix) == {"seed.txt#1", "seed.txt#2"}


def test_second_writer_fails_clearly_while_first_holds_the_lock(
    ix: StatementIndex, docs: Path, spawn: Spawn
) -> None:
    holder = spawn(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from statementsearch.indexer import writer_lock
                with writer_lock(Path({str(ix.path)!r})):
                    print("locked", flush=True)
                    time.sleep(3)
                """
            ),
        ],
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(IndexLockedError, match=f"process {holder.pid}"):
        ix.update(docs)
    # Waiting long enough succeeds once the holder is done.
    assert ix.update(docs, wait=10).unchanged == 2
    assert holder.wait(timeout=10) == 0


def test_stale_lock_of_dead_process_is_cleared_with_a_notice(ix: StatementIndex, docs: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, timeout=120
    )
    (ix.path / LOCK_FILE).write_text(f"{dead.stdout.strip()} 2020-01-01T00:00:00\n")
    notices: list[str] = []
    ix.update(docs, notice=notices.append)
    assert notices and "stale lock" in notices[0]


def test_writer_lock_is_reentrant_free_after_release(tmp_path: Path) -> None:
    with writer_lock(tmp_path):
        pass
    with writer_lock(tmp_path):
        pass


KILL_SCRIPT = """
import os, signal, sys
from statementsearch import StatementIndex
ix = StatementIndex.open(sys.argv[1], create=True)
limit = int(sys.argv[3])
def progress(done, total):
    if done >= limit:
        os.kill(os.getpid(), signal.SIGKILL)
ix.update(sys.argv[2], progress=progress, rebuild=sys.argv[4] == "rebuild")
"""


def write_many_files(folder: Path, count: int, prefix: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        body = f"Statement number {n} about {prefix} operations in region {n % 7}. " * 20
        (folder / f"{prefix}-{n:03}.txt").write_text(
            release_text(f"{prefix.title()} release {n}", f"Agency {n % 5}", "Jan. 3, 2020", body),
            encoding="utf-8",
        )


@pytest.mark.parametrize("mode", ["update", "rebuild"])
def test_build_killed_midway_leaves_previous_state_and_next_run_completes(tmp_path: Path, mode: str) -> None:
    docs = tmp_path / "documents"
    write_many_files(docs, 30, "alpha")
    index_dir = tmp_path / "index"
    first = StatementIndex.open(index_dir, create=True)
    first.update(docs)
    before = ids(first)
    write_many_files(docs, 60, "beta")
    total = sum(p.stat().st_size for p in docs.glob("beta-*"))
    result = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(index_dir), str(docs), str(total // 2), mode], timeout=120
    )
    assert result.returncode == -9
    survivor = StatementIndex.open(index_dir)
    assert ids(survivor) == before  # nothing half-written is visible
    survivor.update(docs)
    fresh = StatementIndex.create(tmp_path / "fresh")
    fresh.update(docs)
    assert ids(survivor) == ids(fresh) and len(ids(fresh)) == 90


def test_searches_during_updates_never_fail(ix: StatementIndex, docs: Path) -> None:
    errors: list[BaseException] = []
    counts: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                counts.append(ix.search("soleimani OR navy OR submarine", collapse=False).total)
            except BaseException as exc:  # any error fails the test
                errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    target = docs / "dod" / "a.txt"
    try:
        for n in range(15):
            extra = release_text("Submarine visit", "US Navy", "March 1, 2020", "Submarine.") if n % 2 else ""
            target.write_text(
                release_text("Navy exercise", "US Navy", "Feb. 3, 2020", f"Navy drill {n}.") + extra,
                encoding="utf-8",
            )
            ix.update(docs)
    finally:  # the readers stop even when an update fails
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert counts and set(counts) <= {2, 3}


@pytest.mark.parametrize("procs", [1, 2])
def test_a_term_of_one_release_keeps_its_posting_in_the_term_entry(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch, procs: int
) -> None:
    """A posting list of one release is inlined in the term dictionary (no block of its own in the
    postings file), by the single and the parallel writer alike, and such words are still found."""
    from whoosh.index import open_dir

    monkeypatch.setattr(indexer, "PARALLEL_MIN_BYTES", 0)
    fresh = StatementIndex.create(tmp_path / "fresh")
    fresh.update(docs, procs=procs)
    with open_dir(str(tmp_path / "fresh")).reader() as reader:
        kinds = {
            (reader.doc_frequency(field, text) == 1, reader.term_info(field, text).is_inlined())
            for field, text in reader.all_terms()
        }
    assert kinds == {(True, True), (False, False)}
    merged = False
    for n in range(8):  # until Whoosh merges segments: inlined lists are read back and written again
        (docs / f"extra{n}.txt").write_text(release_text(f"Extra {n}", "US Navy", "Feb. 4, 2020", "Drill."))
        fresh.update(docs)
        with open_dir(str(tmp_path / "fresh")).reader() as reader:
            merged = merged or len(reader.leaf_readers()) < n + 2
    assert merged
    with open_dir(str(tmp_path / "fresh")).reader() as reader:
        assert reader.term_info("id", "dod/a.txt#2").is_inlined()
    assert ids(fresh, "naval") == {"dod/a.txt#2"}
    assert ids(fresh, '"guards reinforced"') == {"dod/a.txt#1"}
    assert fresh.show("dod/a.txt#2").title == "Navy exercise concludes"


def test_the_parallel_writer_is_chosen_on_the_text_a_gzip_file_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gzip file whose text crosses the threshold is built by the parallel writer though its bytes on
    disk do not (the corpora unpack ~3.3x); a plain file as big on disk is built by one process."""
    import gzip
    import json

    lines = [
        json.dumps({"id": f"s{n}", "title": f"Statement {n}", "body": f"Words of statement {n}. " * 40})
        + "\n"
        for n in range(30)
    ]
    text = "".join(lines).encode()
    packed = gzip.compress(text)
    threshold = (len(packed) + len(text)) // 2
    plain = [line for n, line in enumerate(lines) if (n + 1) * len(lines[-1]) < threshold]
    assert len(packed) < threshold < len(text) and 0 < len("".join(plain).encode()) < threshold
    chosen: list[bool] = []
    real_open = indexer._open_writer

    def open_writer(ix: Any, procs: int, parallel: bool) -> Any:
        chosen.append(parallel)
        return real_open(ix, procs, parallel)

    monkeypatch.setattr(indexer, "_open_writer", open_writer)
    monkeypatch.setattr(indexer, "PARALLEL_MIN_BYTES", threshold)
    for name, data, count in (
        ("releases.jsonl.gz", packed, 30),
        ("releases.jsonl", "".join(plain).encode(), len(plain)),
    ):
        folder = tmp_path / name / "documents"
        folder.mkdir(parents=True)
        (folder / name).write_bytes(data)
        summary = StatementIndex.create(tmp_path / name / "index").update(folder, procs=2)
        assert summary.releases_written == count
    assert chosen == [True, False]


@pytest.mark.parametrize(
    ("memory_mb", "procs", "expected"),
    [(24_000, 2, 4_000), (8_192, 2, 1_365), (8_192, 1, 2_048), (2_048, 4, 512), (262_144, 1, 8_192)],
)
def test_the_writers_memory_is_half_the_machines_shared_by_its_processes(
    monkeypatch: pytest.MonkeyPatch, memory_mb: int, procs: int, expected: int
) -> None:
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": memory_mb * 256}
    monkeypatch.setattr(indexer.os, "sysconf", lambda name: pages[name])
    assert indexer.writer_limit_mb(procs) == expected


def test_a_platform_without_sysconf_gets_the_smallest_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sysconf(name: str) -> int:
        raise ValueError(name)

    monkeypatch.setattr(indexer.os, "sysconf", no_sysconf)
    assert indexer.writer_limit_mb(2) == indexer.WRITER_MIN_MB


def test_each_writer_gets_the_pool_its_machine_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whoosh.index import create_in

    from statementsearch.schema import build_schema

    asked: list[int] = []
    monkeypatch.setattr(indexer, "writer_limit_mb", lambda procs: asked.append(procs) or 700)
    (tmp_path / "ix").mkdir()
    writer = indexer._open_writer(create_in(str(tmp_path / "ix"), build_schema()), 2, parallel=False)
    try:
        assert writer.pool.limit == 700 * 2**20 and asked == [1]
    finally:
        writer.cancel()


def test_a_write_collects_garbage_less_often_and_gives_the_thresholds_back(
    tmp_path: Path, docs: Path
) -> None:
    """While a writer writes, the collector's thresholds are at least `GC_THRESHOLDS` (a full
    collection walks every posting a writer holds); after the write, and after a write that fails or
    while another is still under way, the process has the thresholds it had."""
    import gc

    own = (900, 11, 12)
    before = gc.get_threshold()
    gc.set_threshold(*own)
    try:
        seen: list[tuple[int, ...]] = []
        index = StatementIndex.create(tmp_path / "index")
        index.update(docs, progress=lambda *_: seen.append(gc.get_threshold()))
        assert seen and set(seen) == {tuple(map(max, indexer.GC_THRESHOLDS, own))}
        assert gc.get_threshold() == own
        with pytest.raises(RuntimeError), indexer.collecting_less():
            with indexer.collecting_less():
                pass
            assert gc.get_threshold() != own  # the outer write is still under way
            raise RuntimeError("a write that fails")
        assert gc.get_threshold() == own
    finally:
        gc.set_threshold(*before)
