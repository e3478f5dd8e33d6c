"""Concurrency: reader processes searching while a writer updates; two writers at once; a dead writer's lock.

The soak size is small by default, for CI; set STATEMENTSEARCH_SOAK_READERS, STATEMENTSEARCH_SOAK_SECONDS
and STATEMENTSEARCH_SOAK_UPDATES for a longer run (bench/soak.py runs the issue's sizes and prints figures).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import Spawn
from soak import apply_update, run_soak, write_base
from statementsearch import StatementIndex
from statementsearch.cli import main
from statementsearch.indexer import LOCK_FILE

READERS = int(os.environ.get("STATEMENTSEARCH_SOAK_READERS", "4"))
SECONDS = float(os.environ.get("STATEMENTSEARCH_SOAK_SECONDS", "5"))
UPDATES = int(os.environ.get("STATEMENTSEARCH_SOAK_UPDATES", "10"))
DEADLINE = 60.0
"""Generous bound for a subprocess to reach a point on a loaded machine (polled, never slept)."""


def test_readers_see_only_committed_states_while_a_writer_updates(tmp_path: Path) -> None:
    result = run_soak(tmp_path / "soak", READERS, SECONDS, UPDATES)
    assert result.errors == []
    assert result.updates_applied == UPDATES
    assert all(reads > 0 for reads in result.reads_per_reader), result.figures()
    assert result.inconsistent_reads == 0, result.figures()
    # The reads overlapped the updates: more than one committed state was seen.
    assert result.states_seen >= 2, result.figures()


# ---------------------------------------------------------------------------------------------- writers

HOLDER_SCRIPT = """
import sys, time
from pathlib import Path
from statementsearch import StatementIndex

index_dir, docs, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
said = []


def progress(done, total):
    if not said:
        said.append(True)
        print("writing", flush=True)
        deadline = time.monotonic() + 120
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.02)


StatementIndex.open(index_dir).update(docs, progress=progress)
"""


@pytest.fixture
def place(tmp_path: Path) -> Path:
    """Documents and their index, then the documents changed (so the next update has work to do)."""
    docs = tmp_path / "documents"
    write_base(docs, files=20)
    apply_update(docs, 0)
    with StatementIndex.create(tmp_path / "index") as ix:
        ix.update(docs)
    for step in (1, 2, 3):
        apply_update(docs, step)
    return tmp_path


def disk_state(place: Path) -> set[tuple[str, str]]:
    """(id, content_hash) of every release on disk, as a fresh index holds them."""
    fresh = place / f"fresh-{time.monotonic_ns()}"
    with StatementIndex.create(fresh) as ix:
        ix.update(place / "documents")
        return index_state(ix)


def index_state(ix: StatementIndex) -> set[tuple[str, str]]:
    hits = ix.search("*", limit=10_000, collapse=False, facets=False).hits
    return {(hit.id, ix.show(hit.id).content_hash) for hit in hits}


def assert_index_matches_disk(place: Path) -> None:
    with StatementIndex.open(place / "index") as ix:
        assert index_state(ix) == disk_state(place)


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def locations(place: Path) -> list[str]:
    return ["--index", str(place / "index"), "--documents", str(place / "documents")]


@pytest.fixture
def holder(place: Path, spawn: Spawn) -> Iterator[subprocess.Popen[str]]:
    """A writer process stopped inside its update (holding the lock) until `place/go` exists; let go
    when the test ends (and killed by `spawn` if it does not finish then)."""
    process = spawn(
        [
            sys.executable,
            "-c",
            HOLDER_SCRIPT,
            str(place / "index"),
            str(place / "documents"),
            str(place / "go"),
        ],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "writing"
    yield process
    (place / "go").touch()
    process.wait(timeout=DEADLINE)


def has_open(pid: int, path: Path) -> bool:
    """Does process `pid` hold `path` open (Linux /proc)?"""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    return any(os.path.realpath(fd) == str(path.resolve()) for fd in fds if fd.is_symlink())


def wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def test_second_writer_fails_at_once_naming_the_holder(place: Path, holder: subprocess.Popen[str]) -> None:
    code, stderr = cli("index", *locations(place))
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("statementsearch: "), stderr
    assert f"process {holder.pid}" in lines[0] and "--wait" in lines[0]
    (place / "go").touch()
    assert holder.wait(timeout=DEADLINE) == 0
    assert_index_matches_disk(place)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see the waiter at the lock")
def test_second_writer_with_wait_waits_then_finishes(
    place: Path, holder: subprocess.Popen[str], spawn: Spawn
) -> None:
    (place / "documents" / "late.txt").write_text(
        "Late statement\n\n(Source: Late Office; issued 2020-05-05)\n\nA late statement.\n", encoding="utf-8"
    )
    waiter = spawn(
        [sys.executable, "-m", "statementsearch", "index", "--wait", "120", *locations(place)],
        stderr=subprocess.PIPE,
    )
    wait_until(lambda: has_open(waiter.pid, place / "index" / LOCK_FILE), "the waiter opens the lock file")
    assert waiter.poll() is None  # it is waiting for the holder, not failing
    (place / "go").touch()
    assert holder.wait(timeout=DEADLINE) == 0
    _, stderr = waiter.communicate(timeout=DEADLINE)
    assert waiter.returncode == 0, stderr
    assert_index_matches_disk(place)
    with StatementIndex.open(place / "index") as ix:
        assert [hit.id for hit in ix.search("late").hits] == ["late.txt#1"]


@pytest.mark.parametrize("wait", [None, "120"], ids=["no-wait", "wait"])
def test_two_writers_started_together_never_corrupt_the_index(
    place: Path, wait: str | None, spawn: Spawn
) -> None:
    """Both finish (one after the other) or, without --wait, one may fail clearly; the index is whole."""
    extra = ["--wait", wait] if wait else []
    command = [sys.executable, "-m", "statementsearch", "index", *extra, *locations(place)]
    writers = [spawn(command, stderr=subprocess.PIPE) for _ in range(2)]
    outcomes = [(w.wait(timeout=DEADLINE * 2), w.communicate()[1]) for w in writers]
    for code, stderr in outcomes:
        assert code in ((0,) if wait else (0, 2)), stderr
        assert "Traceback" not in stderr
        if code == 2:
            lines = stderr.strip().splitlines()
            assert len(lines) == 1 and "is being written by process" in lines[0], stderr
    assert 0 in [code for code, _ in outcomes]
    assert_index_matches_disk(place)


def test_lock_of_a_killed_writer_is_recovered(place: Path, holder: subprocess.Popen[str]) -> None:
    """kill -9 of a writer inside its update: the next writer goes ahead at once, saying so."""
    os.kill(holder.pid, signal.SIGKILL)
    assert holder.wait(timeout=DEADLINE) == -signal.SIGKILL
    code, stderr = cli("index", *locations(place))
    assert code == 0, stderr
    assert f"cleared a stale lock left by process {holder.pid}" in stderr
    assert_index_matches_disk(place)


def test_lock_file_of_a_dead_process_copied_in_is_cleared(place: Path) -> None:
    """A lock file naming a dead pid (e.g. an index folder copied from a crashed machine)."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, timeout=DEADLINE
    )
    (place / "index" / LOCK_FILE).write_text(f"{int(dead.stdout)} 2020-01-01T00:00:00\n")
    code, stderr = cli("index", *locations(place))
    assert code == 0 and "stale lock" in stderr
    assert_index_matches_disk(place)


def test_searches_from_the_cli_work_while_a_writer_holds_the_lock(
    place: Path, holder: subprocess.Popen[str]
) -> None:
    code, _ = cli("search", "statement", "--json", *locations(place))
    assert code == 0
    # The index folder is shared: nothing left behind by the search disturbs the writer.
    (place / "go").touch()
    assert holder.wait(timeout=DEADLINE) == 0
    assert_index_matches_disk(place)


# ---------------------------------------------------------------------------------------------- open races


@pytest.fixture
def commit_at_toc_open(place: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the race deterministic: the first time this process opens a TOC, another process commits a
    new generation first (whose clean-up deletes the TOC about to be opened). Returns the TOCs raced."""
    from whoosh.filedb.filestore import FileStorage

    real_open = FileStorage.open_file
    raced: list[str] = []

    def open_file(self: FileStorage, name: str, *args: object, **kwargs: object) -> object:
        if name.endswith(".toc") and not raced:
            raced.append(name)
            command = [sys.executable, "-m", "statementsearch", "index", *locations(place)]
            subprocess.run(command, check=True, capture_output=True, timeout=DEADLINE)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(FileStorage, "open_file", open_file)
    return raced


def test_index_opens_while_another_process_commits(place: Path, commit_at_toc_open: list[str]) -> None:
    with StatementIndex.open(place / "index") as ix:
        assert ix.search("statement").total > 0
    assert commit_at_toc_open  # the race did happen


def test_cli_search_while_another_process_commits(place: Path, commit_at_toc_open: list[str]) -> None:
    code, stderr = cli("search", "statement", *locations(place))
    assert commit_at_toc_open
    assert code == 0, stderr


def test_a_writer_that_has_not_yet_written_its_pid_is_still_named(tmp_path: Path) -> None:
    """The window between another writer's flock and its pid landing in the file: wait for the pid."""
    import fcntl
    import threading

    from statementsearch.errors import IndexLockedError
    from statementsearch.indexer import writer_lock

    with open(tmp_path / LOCK_FILE, "a+", encoding="ascii") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held, pid not written yet

        def write_pid_late() -> None:
            time.sleep(0.3)
            other.write("424242 2026-01-01T00:00:00\n")
            other.flush()

        late = threading.Thread(target=write_pid_late)
        late.start()
        with pytest.raises(IndexLockedError, match="process 424242"), writer_lock(tmp_path):
            pass
        late.join()
