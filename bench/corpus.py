"""Benchmark inputs shared by every engine: the corpus records, the query file, and percentiles.

Kept free of any search-engine import so that the baselines and the project's own speed script read
exactly the same records and queries, and compute percentiles the same way.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

CORPUS_GLOB = "corpora/*/releases.jsonl.gz"
_WORD = re.compile(r"[^\W_]+")
Record = dict[str, Any]
"""One corpus record: id, title, issuer, date, body."""


def default_shared() -> Path:
    """Return ../shared beside the repo root, where the read-only benchmark data lives (never in the repo)."""
    return Path(__file__).resolve().parents[1].parent / "shared"


def corpus_files(shared: Path) -> list[Path]:
    """List the corpus files in a fixed (sorted) order, so that `--limit-docs N` always means the same N."""
    files = sorted(shared.glob(CORPUS_GLOB))
    if not files:
        raise FileNotFoundError(f"no {CORPUS_GLOB} under {shared}")
    return files


def iter_corpus_records(shared: Path) -> Iterator[Record]:
    """Yield every record (id, title, issuer, date, body) of every corpus, streamed to keep memory flat."""
    return iter_records(corpus_files(shared))


def iter_records(paths: Iterable[Path]) -> Iterator[Record]:
    """Yield every record of these gzip JSON Lines files, in order, streamed."""
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def read_queries(path: Path | str) -> list[tuple[str, str]]:
    """Read `qid TAB text` lines; a line without a tab is an error, not a silently skipped query."""
    queries: list[tuple[str, str]] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            qid, sep, text = line.partition("\t")
            if not sep:
                raise ValueError(f"{path}:{lineno}: expected 'qid<TAB>text', got {line!r}")
            queries.append((qid.strip(), text.strip()))
    return queries


def percentile(values: Sequence[float], p: float) -> float:
    """Return the p-th percentile (0-100) with linear interpolation, as numpy's default does.

    Written here so the benchmark needs no numpy and every engine's p50/p95 is computed the same way.
    """
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be in [0, 100], got {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def dir_size_bytes(path: Path) -> int:
    """Total size of the files under path (or of path itself): the on-disk cost of an index."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def with_progress(records: Iterable[Record], label: str, every: int = 10_000) -> Iterator[Record]:
    """Pass records through, printing a count to stderr every `every` records.

    A full Whoosh build takes minutes; this shows it is alive. stderr keeps stdout for the results.
    """
    start = time.perf_counter()
    count = 0
    for count, record in enumerate(records, 1):
        if count % every == 0:
            elapsed = time.perf_counter() - start
            print(f"{label}: {count:,} docs ({elapsed:.0f} s)", file=sys.stderr, flush=True)
        yield record
    print(f"{label}: {count:,} docs read", file=sys.stderr, flush=True)


def word_shingles(body: str) -> frozenset[tuple[str, ...]]:
    """Word 5-shingles of a whole body (lower-cased letters and digits): every word read, no sampling.

    An engine-free measure of "the same statement", independent of the project's own near-duplicate
    sketches, so it can check them (duplicates.py) and judge every engine's rankings alike (domain.py).
    A body of fewer than five words has no shingle, and is like nothing.
    """
    words = _WORD.findall(body.lower())
    return frozenset(zip(words, words[1:], words[2:], words[3:], words[4:], strict=False))


def shingle_overlap(
    first: frozenset[tuple[str, ...]], second: frozenset[tuple[str, ...]]
) -> tuple[float, float]:
    """(Jaccard similarity, containment in the smaller) of two shingle sets; (0, 0) when one is empty."""
    if not first or not second:
        return 0.0, 0.0
    shared = len(first & second)
    return shared / len(first | second), shared / min(len(first), len(second))
