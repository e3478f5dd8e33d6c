"""Speed of statementsearch on the whole shared corpus, side by side with plain Whoosh and SQLite FTS5.

    python bench/speed.py [--shared DIR] [--out bench/out] [--reuse] [--updates 100] [--procs 2]

Measures, in one run: the full build (wall and CPU seconds, index size), a one-file update as a fraction
of the build, 100 single-file updates (segments and query time after them), `statementsearch batch
--format jsonl --limit 10` over the 300 public queries as a whole process, per-query p50/p95 in process
(snippets included), and queries with date filters and sorting. Baseline figures come from
`bench/baselines.py` (run first; `--reuse` keeps its indexes), read from OUT/baselines.json and printed
beside ours with ratios. Absolute times on this 2-core machine are noisy; the ratios are what count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from corpus import default_shared, dir_size_bytes, percentile, read_queries
from statementsearch import QueryError, StatementIndex

SEED = Path(__file__).resolve().parents[1] / "documents" / "000_fb62ce4d62dc1888.txt"
MB = 1_000_000


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=default_shared())
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    ap.add_argument("--reuse", action="store_true", help="keep an index already built in OUT")
    ap.add_argument("--updates", type=int, default=100, help="single-file updates to apply")
    ap.add_argument("--procs", type=int, default=2, help="writer processes for the full build")
    return ap.parse_args()


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (Whoosh's writer workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def documents_folder(shared: Path, out: Path) -> Path:
    """The corpus files (linked, never copied into the repo) plus one small text file to update."""
    docs = out / "documents"
    shutil.rmtree(docs, ignore_errors=True)
    docs.mkdir(parents=True)
    for corpus in sorted((shared / "corpora").glob("*/releases.jsonl.gz")):
        (docs / f"{corpus.parent.name}.jsonl.gz").symlink_to(corpus)
    shutil.copy(SEED, docs / "small.txt")
    return docs


def full_build(docs: Path, index_dir: Path, procs: int, reuse: bool) -> dict[str, Any]:
    if reuse and StatementIndex.exists(index_dir):
        return {"reused": True, "index_mb": dir_size_bytes(index_dir) / MB}
    shutil.rmtree(index_dir, ignore_errors=True)
    ix = StatementIndex.create(index_dir)
    wall, cpu = time.perf_counter(), cpu_seconds()
    summary = ix.build(docs, procs=procs)
    figures = {
        "build_seconds": time.perf_counter() - wall,
        "build_cpu_seconds": cpu_seconds() - cpu,
        "releases": summary.releases_written,
        "index_mb": dir_size_bytes(index_dir) / MB,
        "procs": procs,
    }
    ix.close()
    return figures


def touch_small_file(docs: Path, n: int) -> None:
    """Change the small file's content (a new release appended), as an editor would."""
    base = SEED.read_text(encoding="utf-8")
    extra = f"\nUpdate {n}\n\n(Source: Bench Office; issued Jan. 6, 2020)\n\nRevision number {n}.\n\n(ends)\n"
    (docs / "small.txt").write_text(base + extra, encoding="utf-8")


def one_file_updates(ix: StatementIndex, docs: Path, count: int) -> list[float]:
    times = []
    for n in range(count):
        touch_small_file(docs, n)
        started = time.perf_counter()
        summary = ix.update(docs)
        times.append(time.perf_counter() - started)
        assert summary.changed == 1, summary
    return times


def in_process_queries(index_dir: Path, queries: list[tuple[str, str]], **kwargs: Any) -> list[float]:
    """Each query's wall time, on a freshly opened index (as plain Whoosh's pass opens its own): no
    searcher, length norms or decoded blocks carried over from an earlier pass."""
    times = []
    with StatementIndex.open(index_dir) as ix:
        for _, text in queries:
            started = time.perf_counter()
            with contextlib.suppress(QueryError):
                ix.search(text, limit=10, facets=False, **kwargs)
            times.append(time.perf_counter() - started)
    return times


def batch_process(index_dir: Path, docs: Path, queries_file: Path) -> dict[str, Any]:
    """The whole `statementsearch batch` process, start-up and snippets included."""
    command = [
        sys.executable, "-m", "statementsearch", "batch", str(queries_file), "--format", "jsonl", "--limit", "10",
        "--index", str(index_dir), "--documents", str(docs),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    lines = done.stdout.splitlines()
    empty = sum(1 for line in lines if not json.loads(line)["snippet"])
    return {"seconds": seconds, "exit": done.returncode, "hits": len(lines), "empty_snippets": empty}


def startup_overhead(index_dir: Path, docs: Path) -> dict[str, float]:
    """`statementsearch search` wall time against a bare `python -c pass` (best of 5 each)."""

    def best(command: list[str]) -> float:
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False)
            runs.append(time.perf_counter() - started)
        return min(runs)

    bare = best([sys.executable, "-c", "pass"])
    search = best(
        [sys.executable, "-m", "statementsearch", "search", "soleimani", "--index", str(index_dir),
         "--documents", str(docs)]
    )  # fmt: skip
    return {"bare_python_s": bare, "search_s": search, "added_s": search - bare}


def summary_of(times: list[float]) -> dict[str, float]:
    return {
        "total_s": sum(times),
        "p50_ms": percentile(times, 50) * 1000,
        "p95_ms": percentile(times, 95) * 1000,
    }


def segments(ix: StatementIndex) -> int:
    return ix.stats(top=1).segments


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    queries_file = args.shared / "queries" / "corpora-public.tsv"
    queries = read_queries(queries_file)
    docs = documents_folder(args.shared, args.out)
    index_dir = args.out / "statementsearch_index"
    results: dict[str, Any] = {"build": full_build(docs, index_dir, args.procs, args.reuse)}
    print("build:", json.dumps(results["build"]), file=sys.stderr)

    ix = StatementIndex.open(index_dir)
    ix.update(docs)  # the small file, when the index was reused
    results["segments_after_build"] = segments(ix)
    results["queries"] = summary_of(in_process_queries(index_dir, queries))
    results["queries_filtered"] = summary_of(
        in_process_queries(index_dir, queries, since="2006-01-01", until="2007")
    )
    results["queries_newest"] = summary_of(in_process_queries(index_dir, queries, sort="newest"))
    results["batch"] = batch_process(index_dir, docs, queries_file)
    results["startup"] = startup_overhead(index_dir, docs)
    updates = one_file_updates(ix, docs, args.updates)
    results["one_file_update"] = summary_of(updates[:1]) | {"median_s": percentile(updates, 50)}
    results["segments_after_updates"] = segments(ix)
    results["queries_after_updates"] = summary_of(in_process_queries(index_dir, queries))
    results["baselines"] = _baselines(args.out)
    (args.out / "speed.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_table(results, args.updates)


def _baselines(out: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((out / "baselines.json").read_text(encoding="utf-8"))["baselines"])
    except (OSError, ValueError, KeyError):
        print(
            "no bench/out/baselines.json: run bench/baselines.py first for the side-by-side", file=sys.stderr
        )
        return {}


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def print_table(r: dict[str, Any], updates: int) -> None:
    base = r["baselines"]
    plain = base.get("plain_whoosh", {})
    fts = base.get("fts5", {})
    build = r["build"]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; absolute times are noisy")
    print()
    print("| figure | statementsearch | plain Whoosh | FTS5 | ours / plain |")
    print("|---|---|---|---|---|")
    print(
        f"| full build, s | {build.get('build_seconds', 0):.0f} (CPU {build.get('build_cpu_seconds', 0):.0f}) "
        f"| {plain.get('build_seconds') or 0:.0f} | {fts.get('build_seconds') or 0:.0f} "
        f"| {_ratio(build.get('build_seconds'), plain.get('build_seconds'))} |"
    )
    print(
        f"| index size, MB | {build['index_mb']:.0f} | {plain.get('index_mb', 0):.0f} | {fts.get('index_mb', 0):.0f} | - |"
    )
    q = r["queries"]
    print(
        f"| 300 queries in process, s (snippets) | {q['total_s']:.2f} | {plain.get('query_total_seconds', 0):.2f} "
        f"| {fts.get('query_total_seconds', 0):.2f} | {_ratio(q['total_s'], plain.get('query_total_seconds'))} |"
    )
    print(f"| p50 / p95 per query, ms | {q['p50_ms']:.1f} / {q['p95_ms']:.1f} | {plain.get('p50_ms', 0):.1f} / "
          f"{plain.get('p95_ms', 0):.1f} | {fts.get('p50_ms', 0):.1f} / {fts.get('p95_ms', 0):.1f} | - |")  # fmt: skip
    b = r["batch"]
    print(
        f"| `batch --format jsonl --limit 10`, whole process, s | {b['seconds']:.2f} | "
        f"{plain.get('query_total_seconds', 0):.2f} (queries only) | - | "
        f"{_ratio(b['seconds'], plain.get('query_total_seconds'))} |"
    )
    for key, label in (
        ("queries_filtered", "with --since 2006 --until 2007"),
        ("queries_newest", "--sort newest"),
    ):
        f = r[key]
        print(
            f"| 300 queries {label}, s (p50/p95 ms) | {f['total_s']:.2f} ({f['p50_ms']:.1f}/{f['p95_ms']:.1f}) | - | - | - |"
        )
    u = r["one_file_update"]
    if build.get("build_seconds"):
        share = f"1/{build['build_seconds'] / u['median_s']:.0f} of the build"
    else:
        share = "-"
    print(f"| one-file update, s (median of {updates}) | {u['median_s']:.2f} ({share}) | - | - | - |")
    after = r["queries_after_updates"]
    print(
        f"| after {updates} updates: segments, 300 queries s | {r['segments_after_updates']} segments "
        f"(were {r['segments_after_build']}), {after['total_s']:.2f} s | - | - | - |"
    )
    s = r["startup"]
    print(f"| CLI search start-up over bare python, s | {s['added_s']:.3f} | - | - | - |")
    print()
    print(f"batch: exit {b['exit']}, {b['hits']} hits, {b['empty_snippets']} empty snippets")


if __name__ == "__main__":
    main()
