"""Query time against plain Whoosh, alternated round by round so that machine noise hits both alike.

    python bench/query_ratio.py [--shared DIR] [--out bench/out] [--rounds 5]

Needs the indexes that `bench/baselines.py` and `bench/speed.py` leave in OUT. Each round runs, each in
a fresh process: plain Whoosh's 300 queries (`searcher.search` + `hit.highlights("body")` for the top
10, timed in its process as `baselines.py` times it), then `statementsearch batch --format jsonl --limit
10` over the same queries timed as a whole process (start-up, snippets and output included), then the
same 300 searches timed in process (`StatementIndex.search(limit=10, facets=False)`). Prints each round
and the median of the per-round ratios. On this 2-core machine single runs vary by 20-30%; the
alternation and the median are what make the ratio worth quoting.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import default_shared
from speed import batch_process

BENCH = Path(__file__).resolve().parent

PLAIN = """
import json, sys
sys.path.insert(0, {bench!r})
from corpus import read_queries
from plain_whoosh import run_queries
print(json.dumps(sum(run_queries({index!r}, read_queries({queries!r})))))
"""

OURS_IN_PROCESS = """
import json, sys
sys.path.insert(0, {bench!r})
from pathlib import Path
from corpus import read_queries
from speed import in_process_queries
print(json.dumps(sum(in_process_queries(Path({index!r}), read_queries({queries!r})))))
"""


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=default_shared())
    ap.add_argument("--out", type=Path, default=BENCH / "out")
    ap.add_argument("--rounds", type=int, default=5)
    return ap.parse_args()


def python_figure(code: str) -> float:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    args = parse_args()
    queries = args.shared / "queries" / "corpora-public.tsv"
    plain_index, ours = args.out / "plain_whoosh", args.out / "statementsearch_index"
    for needed in (plain_index, ours):
        if not needed.is_dir():
            sys.exit(f"{needed} is missing: run bench/baselines.py and bench/speed.py first")
    fill = {"bench": str(BENCH), "queries": str(queries)}
    rows = []
    print("round | plain Whoosh s | batch s | in process s | batch / plain | in process / plain")
    for n in range(1, args.rounds + 1):
        plain = python_figure(PLAIN.format(index=str(plain_index), **fill))
        run = batch_process(ours, args.out / "documents", queries)
        if run["exit"] != 0:
            sys.exit(f"statementsearch batch failed (exit {run['exit']})")
        batch = run["seconds"]
        inside = python_figure(OURS_IN_PROCESS.format(index=str(ours), **fill))
        rows.append((plain, batch, inside))
        print(f"{n} | {plain:.2f} | {batch:.2f} | {inside:.2f} | {batch / plain:.2f} | {inside / plain:.2f}")
    medians = [statistics.median(column) for column in zip(*rows, strict=True)]
    ratios = [statistics.median(r[k] / r[0] for r in rows) for k in (1, 2)]
    print("median | " + " | ".join(f"{m:.2f}" for m in medians + ratios))


if __name__ == "__main__":
    main()
