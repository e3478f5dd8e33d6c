"""Build and time the two reference engines (plain Whoosh, SQLite FTS5) on the shared corpus.

    python bench/baselines.py [--shared DIR] [--out bench/out] [--limit-docs N] [--reuse]

Prints build seconds, index size, total query seconds and p50/p95 per query, and writes the same figures
to OUT/baselines.json so that the project's speed script can print its own numbers beside them. The
figures are measured on every run, never written down: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import whoosh

# Run as `python bench/baselines.py` (bench/ is then on sys.path) or imported from elsewhere.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fts5
import plain_whoosh
from corpus import (
    default_shared,
    dir_size_bytes,
    iter_corpus_records,
    percentile,
    read_queries,
    with_progress,
)

QUERIES_REL = Path("queries") / "corpora-public.tsv"
WHOOSH_DIR = "plain_whoosh"
FTS5_FILE = "fts5.sqlite3"
RESULTS_FILE = "baselines.json"
MB = 1_000_000  # sizes are reported in MB (10**6 bytes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line of the runner; defaults work from any working directory."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=default_shared(), help="shared data dir (../shared)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out", help="output dir")
    ap.add_argument("--limit-docs", type=int, default=None, metavar="N", help="index only the first N docs")
    ap.add_argument("--queries", type=Path, default=None, help="qid<TAB>text file (default: shared's)")
    ap.add_argument("--reuse", action="store_true", help="keep indexes already in OUT instead of rebuilding")
    return ap.parse_args(argv)


def records(shared: Path, limit: int | None, label: str) -> Iterator[dict[str, Any]]:
    """The corpus records, cut to `limit` and reporting progress, as fed to each build."""
    return with_progress(islice(iter_corpus_records(shared), limit), label)


def previous_results(out: Path) -> dict[str, Any]:
    """Baselines of the last run, used only to keep build seconds of an index reused with --reuse."""
    try:
        return dict(json.loads((out / RESULTS_FILE).read_text(encoding="utf-8"))["baselines"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def prepare_index(
    name: str,
    path: Path,
    build: Callable[[Path, Iterator[dict[str, Any]]], float],
    count: Callable[[Path], int],
    args: argparse.Namespace,
    previous: dict[str, Any],
) -> dict[str, Any]:
    """Build one engine's index (or reuse it with --reuse) and return its build figures.

    A rebuild removes the old index first so that size and time are those of a clean build.
    """
    reused = args.reuse and path.exists()
    build_seconds: float | None
    if reused:
        print(f"{name}: reusing {path}", file=sys.stderr)
        build_seconds = previous.get(name, {}).get("build_seconds")
    else:
        _remove(path)
        build_seconds = build(path, records(args.shared, args.limit_docs, f"{name} build"))
    docs = count(path)
    if reused and previous.get(name, {}).get("docs") != docs:
        build_seconds = None  # the old build time was for another index
    if args.limit_docs is not None and docs != args.limit_docs:
        print(
            f"{name}: note: index holds {docs:,} docs, --limit-docs is {args.limit_docs:,}", file=sys.stderr
        )
    return {
        "docs": docs,
        "build_seconds": build_seconds,
        "build_reused": reused,
        "index_mb": dir_size_bytes(path) / MB,
    }


def _remove(path: Path) -> None:
    """Delete an old index (a directory or a single file) before a rebuild."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def query_figures(times: list[float], failed: list[str]) -> dict[str, Any]:
    """Summarise per-query seconds: total, p50/p95/mean in ms, and which queries failed."""
    return {
        "queries": len(times),
        "failed_queries": len(failed),
        "failed_qids": failed,
        "query_total_seconds": sum(times),
        "p50_ms": percentile(times, 50) * 1000,
        "p95_ms": percentile(times, 95) * 1000,
        "mean_ms": sum(times) / len(times) * 1000,
    }


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    """Build both baselines, run the queries through each variant, and return the figures by name."""
    queries = read_queries(args.queries or args.shared / QUERIES_REL)
    previous = previous_results(args.out)
    whoosh_dir, fts_file = args.out / WHOOSH_DIR, args.out / FTS5_FILE
    w_build = prepare_index(
        "plain_whoosh", whoosh_dir, plain_whoosh.build, plain_whoosh.doc_count, args, previous
    )
    f_build = prepare_index("fts5", fts_file, fts5.build, fts5.doc_count, args, previous)
    runs: list[tuple[str, dict[str, Any], Callable[[list[str]], list[float]]]] = [
        ("plain_whoosh", w_build, lambda e: plain_whoosh.run_queries(whoosh_dir, queries, errors=e)),
        (
            "plain_whoosh_no_highlights",
            w_build,
            lambda e: plain_whoosh.run_queries(whoosh_dir, queries, highlights=False, errors=e),
        ),
        ("fts5", f_build, lambda e: fts5.run_queries(fts_file, queries, errors=e)),
    ]
    results: dict[str, Any] = {}
    for name, build_figures, run in runs:
        print(f"{name}: running {len(queries)} queries", file=sys.stderr)
        failed: list[str] = []
        results[name] = {**build_figures, **query_figures(run(failed), failed)}
    return results


def metadata(args: argparse.Namespace) -> dict[str, Any]:
    """Where and how the figures were measured, so that two runs can be compared knowingly."""
    return {
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "whoosh": whoosh.versionstring(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "machine": platform.platform(),
        "shared": str(args.shared),
        "queries_file": str(args.queries or args.shared / QUERIES_REL),
        "limit_docs": args.limit_docs,
        "units": {"build_seconds": "s", "index_mb": "10**6 bytes", "*_ms": "ms per query"},
    }


def write_results(out: Path, results: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write OUT/baselines.json atomically, so a reader never sees half a file."""
    out.mkdir(parents=True, exist_ok=True)
    dest = out / RESULTS_FILE
    tmp = dest.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"meta": meta, "baselines": results}, indent=2) + "\n", encoding="utf-8")
    tmp.replace(dest)
    return dest


def format_table(results: dict[str, Any]) -> str:
    """The figures as a fixed-width table for the terminal."""
    head = f"{'baseline':<28} {'docs':>7} {'build s':>8} {'index MB':>9} {'queries':>7} {'failed':>6} "
    head += f"{'total s':>8} {'p50 ms':>7} {'p95 ms':>7}"
    lines = [head]
    for name, r in results.items():
        build = "reused" if r["build_seconds"] is None else f"{r['build_seconds']:.1f}"
        lines.append(
            f"{name:<28} {r['docs']:>7,} {build:>8} {r['index_mb']:>9.1f} {r['queries']:>7} "
            f"{r['failed_queries']:>6} {r['query_total_seconds']:>8.2f} "
            f"{r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point: measure, print the table, save the JSON."""
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = run_all(args)
    print(format_table(results))
    print(f"wrote {write_results(args.out, results, metadata(args))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
