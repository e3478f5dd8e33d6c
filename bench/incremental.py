"""Incremental updates on an index of many files: what one changed or touched file costs.

    python bench/incremental.py [--files 10000] [--rounds 20] [--out bench/out/incremental]

Generates FILES small text files (one release each, generated words), builds their index once, then
times, as medians of ROUNDS: an update with nothing to do, one file edited, one file touched (new mtime,
same bytes), and once every file touched (each is hashed, none rewritten). Per-file costs (scanning,
the manifest, the cache beside the index) show at this many files; per-release costs are the build's.
Run it with `PYTHONPATH=<other checkout>/src` to time another version of statementsearch the same way.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import statementsearch
from statementsearch import StatementIndex, UpdateSummary

WORDS = [
    *("defense", "navy", "army", "embassy", "treaty", "budget", "senate", "grant", "funding", "wildfire"),
    *("bridge", "flood", "relief", "troops", "province", "patrol", "coalition", "security", "council"),
    *("minister", "report", "hearing", "veterans", "health", "school", "water", "energy", "pipeline"),
    *("border", "customs", "trade", "tariff", "farm", "rural", "county", "district", "harbor", "airport"),
]


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "incremental")
    return ap.parse_args()


def release(number: int, rng: random.Random, revision: int = 0) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(120))
    title = f"Statement {number} on {rng.choice(WORDS)} and {rng.choice(WORDS)}"
    issued = f"Jan. {1 + number % 28}, 2020"
    return f"{title}\n\n(Source: Agency {number % 40}; issued {issued})\n\n{body} r{revision}.\n\n(ends)\n"


def write_documents(folder: Path, count: int) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    rng = random.Random(7)
    for number in range(count):
        sub = folder / f"batch-{number // 1000:02}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"r-{number:06}.txt").write_text(release(number, rng), encoding="utf-8")


def timed(action: Callable[[], UpdateSummary]) -> tuple[float, UpdateSummary]:
    started = time.perf_counter()
    summary = action()
    return time.perf_counter() - started, summary


def later(path: Path, seconds: int) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


def main() -> None:
    args = parse_args()
    docs, index_dir = args.out / "documents", args.out / "index"
    write_documents(docs, args.files)
    shutil.rmtree(index_dir, ignore_errors=True)
    ix = StatementIndex.create(index_dir)
    build, _ = timed(lambda: ix.update(docs))
    target = docs / "batch-00" / "r-000000.txt"
    rng = random.Random(11)
    nothing, edited, touched = [], [], []
    for n in range(args.rounds):
        nothing.append(timed(lambda: ix.update(docs))[0])
        target.write_text(release(0, rng, revision=n + 1), encoding="utf-8")
        seconds, summary = timed(lambda: ix.update(docs))
        assert summary.changed == 1, summary
        edited.append(seconds)
        later(target, n + 1)
        seconds, summary = timed(lambda: ix.update(docs))
        assert summary.changed == 0, summary
        touched.append((seconds, summary.releases_written))
    for path in docs.rglob("*.txt"):
        later(path, 1000)
    all_touched, summary = timed(lambda: ix.update(docs))
    ix.close()
    print(f"statementsearch from {Path(statementsearch.__file__).parent}")
    print(f"{args.files:,} files, one release each; build {build:.1f} s; medians of {args.rounds} rounds:")
    print(f"| update with nothing to do | {statistics.median(nothing):.3f} s |")
    print(f"| one file edited | {statistics.median(edited):.3f} s |")
    written = statistics.median(w for _, w in touched)
    print(f"| one file touched | {statistics.median(s for s, _ in touched):.3f} s ({written:.0f} written) |")
    print(f"| every file touched | {all_touched:.2f} s ({summary.releases_written:,} releases written) |")


if __name__ == "__main__":
    main()
