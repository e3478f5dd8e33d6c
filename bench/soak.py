"""Soak: reader processes searching in a loop while a writer applies updates, at the issue's sizes.

Each reader records the state of every result it sees; each must be a state the writer committed (see
tests/soak.py, shared with tests/test_concurrency.py, which runs the same at CI sizes). Prints the figures
and exits 1 when any read failed or saw a state that was never committed.

Run from the repository root:  python bench/soak.py [--readers 4] [--seconds 30] [--updates 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

from soak import run_soak  # noqa: E402


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=4, help="reader processes (default 4)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the readers run (default 30)")
    parser.add_argument("--updates", type=int, default=50, help="updates applied meanwhile (default 50)")
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="statementsearch-soak-") as work:
        result = run_soak(Path(work) / "soak", args.readers, args.seconds, args.updates)
    print(f"readers:            {result.readers} x {result.seconds:.0f} s")
    print(f"reads done:         {result.reads:,} ({', '.join(map(str, result.reads_per_reader))})")
    print(f"errors:             {len(result.errors)}")
    print(f"inconsistent reads: {result.inconsistent_reads}")
    print(f"updates applied:    {result.updates_applied} of {args.updates}")
    print(f"states seen:        {result.states_seen} of {result.states_committed} committed")
    if result.update_seconds:
        mean = sum(result.update_seconds) / len(result.update_seconds)
        print(f"update time:        mean {mean:.2f} s, slowest {max(result.update_seconds):.2f} s")
    for error in result.errors[:10]:
        print(f"  {error}")
    return 1 if result.errors or result.inconsistent_reads else 0


if __name__ == "__main__":
    sys.exit(main())
