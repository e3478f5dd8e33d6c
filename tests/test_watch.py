"""Keeping an index current (watch.py, `StatementIndex.watch`, `statementsearch watch`): files added,
changed and removed are picked up; Ctrl-C stops the command cleanly; `wait` (`--wait`) is how long each
update waits for another writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import Spawn, poll
from render import release_text
from statementsearch import IndexLockedError, StatementIndex
from statementsearch.indexer import writer_lock
from statementsearch.models import UpdateSummary

WatchThread = tuple[threading.Thread, threading.Event, list[UpdateSummary], list[BaseException]]


def start_watching(ix: StatementIndex, docs: Path, **kwargs: object) -> WatchThread:
    """`ix.watch(docs)` in a thread, with its summaries and the exception it ended with (if any)."""
    stop = threading.Event()
    updates: list[UpdateSummary] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            ix.watch(docs, stop=stop, on_update=updates.append, **kwargs)  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, stop, updates, errors


def add_late_release(docs: Path) -> None:
    """One more farm release for `mixed`, in a new file."""
    text = release_text("Late farm notice", "Sen. Jane Doe (IA)", "May 5, 2020", "More farm news.")
    (docs / "late.txt").write_text(text, encoding="utf-8")


def stop_watching(watch: WatchThread) -> None:
    thread, stop, _, _ = watch
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the watcher did not stop"


@pytest.fixture
def watching(
    mixed: tuple[StatementIndex, Path],
) -> Iterator[tuple[StatementIndex, Path, list[UpdateSummary]]]:
    """`mixed` watched by a thread that is stopped when the test ends, passed or failed."""
    ix, docs = mixed
    watch = start_watching(ix, docs)
    try:
        assert poll(lambda: len(watch[2]) >= 1), watch[3]
        yield ix, docs, watch[2]
    finally:
        stop_watching(watch)


def test_watch_picks_up_new_changed_and_deleted_files(
    watching: tuple[StatementIndex, Path, list[UpdateSummary]],
) -> None:
    ix, docs, _ = watching
    with StatementIndex.open(ix.path) as searcher:  # another reader, as another process would have
        (docs / "new.txt").write_text(
            release_text("Submarine visit", "US Navy", "May 1, 2020", "A submarine visited."),
            encoding="utf-8",
        )
        assert poll(lambda: searcher.search("submarine").total == 1)
        (docs / "new.txt").write_text(
            release_text("Frigate visit", "US Navy", "May 2, 2020", "A frigate visited."), encoding="utf-8"
        )
        assert poll(
            lambda: searcher.search("frigate").total == 1 and searcher.search("submarine", limit=1).total == 0
        )
        (docs / "new.txt").unlink()
        assert poll(lambda: searcher.search("frigate").total == 0)


def test_watch_command_stops_cleanly_on_ctrl_c(mixed: tuple[StatementIndex, Path], spawn: Spawn) -> None:
    ix, docs = mixed
    add_late_release(docs)
    proc = spawn(
        [sys.executable, "-m", "statementsearch", "watch", "--index", str(ix.path), "--documents", str(docs)],
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    assert "watching" in proc.stderr.readline()
    summary = proc.stderr.readline()  # the first update's
    assert "1 added" in summary and "1 release written" in summary, summary
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=15) == 0
    assert "stopped" in proc.stderr.read()
    with StatementIndex.open(ix.path) as after:
        assert after.search("farm").total == 5


# ---------------------------------------------------------------------------------------------- waiting


def test_watch_with_no_wait_fails_at_once_while_another_writer_writes(
    mixed: tuple[StatementIndex, Path],
) -> None:
    ix, docs = mixed
    with writer_lock(ix.path):
        watch = start_watching(ix, docs, wait=0)
        try:
            watch[0].join(timeout=20)  # well below the 30 s the watcher would wait by default
            assert not watch[0].is_alive(), "the watcher waited for the lock"
        finally:
            stop_watching(watch)
    errors = watch[3]
    assert len(errors) == 1 and isinstance(errors[0], IndexLockedError), errors
    assert f"process {os.getpid()}" in str(errors[0])


def test_watch_waits_for_another_writer_then_updates(mixed: tuple[StatementIndex, Path]) -> None:
    ix, docs = mixed
    add_late_release(docs)
    with writer_lock(ix.path):
        watch = start_watching(ix, docs, wait=120)
        waited = not poll(lambda: bool(watch[2] or watch[3]), seconds=1.0)
    try:
        assert waited, f"the watcher did not wait for the lock: {watch[2] or watch[3]}"
        assert poll(lambda: bool(watch[2] or watch[3]), seconds=60), "no update after the lock was released"
        assert watch[3] == [] and watch[2][0].added == 1
    finally:
        stop_watching(watch)


def test_watch_command_passes_its_wait_on(mixed: tuple[StatementIndex, Path], spawn: Spawn) -> None:
    """`watch --wait 0` while another writer holds the lock: exit 2 with one line at once. (When the
    option was parsed and not passed on, the command waited for the library's default 30 s instead,
    and the 25 s below ran out.)"""
    ix, docs = mixed
    command = [sys.executable, "-m", "statementsearch", "watch", "--wait", "0"]
    command += ["--index", str(ix.path), "--documents", str(docs)]
    with writer_lock(ix.path):
        proc = spawn(command, stderr=subprocess.PIPE)
        try:
            code = proc.wait(timeout=25)
        except subprocess.TimeoutExpired:
            code = None
    assert code == 2, "watch --wait 0 did not fail while the lock was held"
    assert proc.stderr is not None
    lines = proc.stderr.read().strip().splitlines()
    assert lines[-1].startswith("statementsearch: ") and f"process {os.getpid()}" in lines[-1], lines
    assert "Traceback" not in "\n".join(lines)
