"""The cases a new user tripped over (issue 15), timed on a whole-corpus index: wildcards, date filters,
a long query's match set.

    python bench/cases.py --index DIR [--rounds 3]

Each case runs in a fresh process (`StatementIndex.open`, then one `search` as the CLI calls it: facets,
snippets, suggestions), so a filter's first use is counted as a user meets it; then the same search again
in that process (cached filters, warm blocks). Prints the median of `--rounds` runs of each, the hits
and releases counted, and the notes the search gave (a wildcard's cut).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CASES: list[tuple[str, dict[str, str]]] = [
    ("so*", {}),
    ("pres*", {}),
    ("co*", {}),
    ("afghanistan", {}),
    ("afghanistan", {"since": "2010-01-01"}),
    ("afghanistan", {"since": "2010-01-01", "until": "2012-12-31"}),
    ("iraq", {"issuer": "Clinton"}),
    ("taliban leader killed ghazni", {}),
]

ONE = """
import json, sys, time
from statementsearch import StatementIndex
index, text, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
ix = StatementIndex.open(index)
times = []
for _ in range(2):
    started = time.perf_counter()
    result = ix.search(text, **options)
    times.append(time.perf_counter() - started)
print(json.dumps({"first": times[0], "again": times[1], "total": result.total, "releases": result.releases,
                  "notes": list(result.notes)}))
"""


def run(index: Path, text: str, options: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", ONE, str(index), text, json.dumps(options)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"{'case':52} {'first ms':>9} {'again ms':>9} {'results':>8} {'releases':>9}  notes")
    for text, options in CASES:
        runs = [run(args.index, text, options) for _ in range(args.rounds)]
        first = statistics.median(float(str(r["first"])) for r in runs) * 1e3
        again = statistics.median(float(str(r["again"])) for r in runs) * 1e3
        name = " ".join([text, *(f"--{key} {value!r}" for key, value in options.items())])
        last = runs[-1]
        notes = "; ".join(str(note) for note in last["notes"])  # type: ignore[attr-defined]
        print(f"{name:52} {first:9.0f} {again:9.0f} {last['total']:>8} {last['releases']:>9}  {notes}")


if __name__ == "__main__":
    main()
