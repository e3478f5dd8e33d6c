"""Reader processes searching in a loop while a writer updates the index: the soak run behind
tests/test_concurrency.py (small sizes) and bench/soak.py (the issue's sizes).

Every committed state of the index has a fingerprint: the (id, title) pairs and the total of one search.
The writer records the fingerprint of each state it commits; each reader records the fingerprint of each
result it sees. A read is consistent when its fingerprint is one of the committed ones: it saw the old or
the new state, never a file's new releases beside its stale ones, never a count from another state.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers import stop
from render import release_text

QUERY = "statement"
"""A word of every release the soak writes."""
STARTUP_SECONDS = 60.0
"""How long a reader may take to open the index and finish its first search (a loaded machine)."""

READER_SCRIPT = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[5])
from soak import fingerprint
from statementsearch import StatementIndex

index_dir, stop, reopen, out = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
hard_stop = time.monotonic() + float(sys.argv[6])
seen, errors, reads = {}, [], 0
ix = StatementIndex.open(index_dir)
print("ready", flush=True)
while not stop.exists() and time.monotonic() < hard_stop:
    stage = "open"
    try:
        searched = StatementIndex.open(index_dir) if reopen else ix
        stage = "search"
        key = fingerprint(searched)
        seen[key] = seen.get(key, 0) + 1
        reads += 1
        if reopen:
            searched.close()
    except Exception as exc:
        errors.append(f"{stage}: {type(exc).__name__}: {exc}")
ix.close()
Path(out).write_text(json.dumps({"reads": reads, "errors": errors, "seen": seen}))
"""


def fingerprint(ix: Any) -> str:
    """What one search shows of the index state: every matching (id, title), and the total."""
    result = ix.search(QUERY, limit=10_000, collapse=False)
    shown = sorted((hit.id, hit.title) for hit in result.hits)
    return hashlib.blake2b(json.dumps([result.total, shown]).encode(), digest_size=12).hexdigest()


def soak_release(title: str, body: str) -> str:
    return release_text(title, "Soak Agency", "Jan. 3, 2020", body)


def write_base(docs: Path, files: int = 12) -> None:
    """Files the updates never touch, so each search has some work."""
    docs.mkdir(parents=True, exist_ok=True)
    for number in range(files):
        text = "".join(
            soak_release(f"Base statement {number}.{part}", f"Steady statement text {number} {part}. " * 40)
            for part in range(2)
        )
        (docs / f"base-{number:03}.txt").write_text(text, encoding="utf-8")


def apply_update(docs: Path, step: int) -> None:
    """Update `step`: one file rewritten with another number of releases, one added, one removed."""
    parts = step % 3 + 1
    changing = "".join(
        soak_release(f"Changing statement v{step} part {part}", f"Version {step} statement body. " * 30)
        for part in range(parts)
    )
    (docs / "changing.txt").write_text(changing, encoding="utf-8")
    (docs / f"added-{step:03}.txt").write_text(
        soak_release(f"Added statement {step}", "An added statement. " * 30), encoding="utf-8"
    )
    (docs / f"added-{step - 2:03}.txt").unlink(missing_ok=True)


@dataclass
class SoakResult:
    readers: int
    seconds: float
    updates_applied: int = 0
    reads: int = 0
    reads_per_reader: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inconsistent_reads: int = 0
    states_committed: int = 0
    states_seen: int = 0
    update_seconds: list[float] = field(default_factory=list)

    def figures(self) -> str:
        slowest = max(self.update_seconds, default=0.0)
        return (
            f"{self.readers} readers x {self.seconds:.0f} s, {self.updates_applied} updates applied "
            f"(slowest {slowest:.2f} s): {self.reads:,} reads {self.reads_per_reader}, "
            f"{len(self.errors)} errors, "
            f"{self.inconsistent_reads} inconsistent reads, "
            f"{self.states_seen} of {self.states_committed} committed states seen"
        )


def _start_reader(work: Path, number: int, seconds: float) -> subprocess.Popen[str]:
    args = [
        str(work / "index"),
        str(work / "stop"),
        str(number % 2),  # odd readers open the index anew for each search, like separate commands
        str(work / f"reader-{number}.json"),
        str(Path(__file__).resolve().parent),
        str(seconds + STARTUP_SECONDS + 120),
    ]
    return subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, *args], stdout=subprocess.PIPE, text=True, env=os.environ
    )


def _wait_ready(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline().strip()  # the reader prints 'ready' or dies (EOF)
    if line != "ready":
        raise RuntimeError(f"reader {process.pid} did not start: {line!r} (exit {process.wait()})")


def run_soak(work: Path, readers: int, seconds: float, updates: int) -> SoakResult:
    """Start `readers` processes, apply `updates` updates spread over `seconds`, then stop the readers."""
    from statementsearch import StatementIndex

    shutil.rmtree(work, ignore_errors=True)
    docs = work / "documents"
    write_base(docs)
    apply_update(docs, 0)
    result = SoakResult(readers, seconds)
    with StatementIndex.create(work / "index") as ix:
        ix.update(docs)
        committed = {fingerprint(ix)}
        processes = [_start_reader(work, n, seconds) for n in range(readers)]
        try:
            for process in processes:
                _wait_ready(process)
            _write_loop(ix, docs, seconds, updates, committed, result)
        finally:
            (work / "stop").touch()
            try:
                codes = [process.wait(timeout=STARTUP_SECONDS + 60) for process in processes]
            finally:
                for process in processes:  # any reader that did not stop is killed
                    stop(process)
    _collect(work, codes, committed, result)
    return result


def _write_loop(
    ix: Any, docs: Path, seconds: float, updates: int, committed: set[str], result: SoakResult
) -> None:
    """Apply the updates at an even pace over `seconds`, recording each committed state."""
    started = time.monotonic()
    for step in range(1, updates + 1):
        apply_update(docs, step)
        began = time.monotonic()
        summary = ix.update(docs)
        result.update_seconds.append(time.monotonic() - began)
        if summary.releases_written or summary.releases_deleted:
            result.updates_applied += 1
        committed.add(fingerprint(ix))
        pause = started + seconds * step / updates - time.monotonic()
        if pause > 0:
            time.sleep(pause)


def _collect(work: Path, codes: list[int], committed: set[str], result: SoakResult) -> None:
    seen: Counter[str] = Counter()
    for number, code in enumerate(codes):
        path = work / f"reader-{number}.json"
        if code != 0 or not path.exists():
            result.errors.append(f"reader {number} exited with {code} without a report")
            continue
        report = json.loads(path.read_text())
        result.reads_per_reader.append(report["reads"])
        result.errors.extend(report["errors"])
        seen.update(report["seen"])
    result.reads = sum(result.reads_per_reader)
    result.inconsistent_reads = sum(count for key, count in seen.items() if key not in committed)
    result.states_committed = len(committed)
    result.states_seen = len(set(seen) & committed)
