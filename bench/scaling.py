"""Does a build's cost per release stay flat as the corpus grows? Builds of 1/9, 1/3 and all of it.

    python bench/scaling.py [--shared DIR] [--out bench/out/scaling] [--procs 2] [--plain]
                            [--fractions 9,3,1]

Each fraction takes every n-th release of each shared corpus file (so the three sources keep their
shares) and writes it as `.jsonl.gz`, the shared files' own format. For each: a fresh `statementsearch
index` as a subprocess (wall and CPU seconds of it and its children, peak memory of the largest process,
index size), its milliseconds per release, and with `--plain` plain Whoosh's build of the same records
(bench/plain_whoosh.py, one writer, as in bench/baselines.py) beside it. The last lines compare each
fraction's cost per release with the smallest one's: the issue's goal is within 15% from 1/3 to all.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import corpus_files, default_shared, dir_size_bytes

MB = 1_000_000


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=default_shared())
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "scaling")
    ap.add_argument("--procs", type=int, default=2, help="writer processes (statementsearch --procs)")
    ap.add_argument("--plain", action="store_true", help="also build plain Whoosh on each fraction")
    ap.add_argument("--fractions", default="9,3,1", help="n of each 1/n, comma-separated")
    return ap.parse_args()


def write_fraction(shared: Path, every: int, folder: Path) -> int:
    """Every `every`-th record of each corpus file into `folder` (gzip JSON Lines); how many."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    count = 0
    for path in corpus_files(shared):
        with (
            gzip.open(path, "rt", encoding="utf-8") as src,
            gzip.open(folder / f"{path.parent.name}.jsonl.gz", "wt", encoding="utf-8") as dst,
        ):
            lines = (line for line in src if line.strip())
            for n, line in enumerate(lines):
                if n % every == 0:
                    dst.write(line if line.endswith("\n") else line + "\n")
                    count += 1
    return count


def timed_build(documents: Path, index: Path, procs: int) -> dict[str, float]:
    """`statementsearch index` in a fresh process: wall, CPU (with its workers) and peak memory."""
    if index.exists():
        shutil.rmtree(index)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [sys.executable, "-m", "statementsearch", "index", "--index", str(index)]
    command += ["--documents", str(documents), "--procs", str(procs)]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mb": after.ru_maxrss / 1024,
        "size_mb": dir_size_bytes(index) / MB,
    }


def plain_build(documents: Path, index: Path) -> dict[str, float]:
    """Plain Whoosh's build of the same records, in a fresh process as the baselines script does it."""
    if index.exists():
        shutil.rmtree(index)
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "from pathlib import Path\n"
        "from corpus import iter_records\n"
        "from plain_whoosh import build\n"
        "records = iter_records(sorted(Path(sys.argv[1]).glob('*.jsonl.gz')))\n"
        "print(build(Path(sys.argv[2]), records))\n"
    )
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", script, str(documents), str(index)], check=True, stdout=subprocess.DEVNULL
    )
    return {"wall_s": time.perf_counter() - start, "size_mb": dir_size_bytes(index) / MB}


def main() -> int:
    args = parse_args()
    if not (args.shared / "corpora").is_dir():
        print(f"no shared corpora under {args.shared}: nothing to measure", file=sys.stderr)
        return 2
    rows: list[dict[str, Any]] = []
    for every in (int(n) for n in args.fractions.split(",")):
        documents = args.out / f"documents-1of{every}"
        releases = write_fraction(args.shared, every, documents)
        row: dict[str, Any] = {"fraction": f"1/{every}", "releases": releases}
        row["ours"] = timed_build(documents, args.out / f"index-1of{every}", args.procs)
        if args.plain:
            row["plain"] = plain_build(documents, args.out / f"plain-1of{every}")
        rows.append(row)
        print(describe(row), flush=True)
    first = rows[0]["ours"]["wall_s"] / rows[0]["releases"]
    for row in rows[1:]:
        ratio = row["ours"]["wall_s"] / row["releases"] / first
        print(f"cost per release at {row['fraction']}: {ratio:.2f}x that at {rows[0]['fraction']}")
    (args.out / "scaling.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


def describe(row: dict[str, Any]) -> str:
    ours, n = row["ours"], row["releases"]
    line = (
        f"{row['fraction']:>4} {n:>6} releases: build {ours['wall_s']:.1f} s "
        f"({1000 * ours['wall_s'] / n:.2f} ms/release wall, {1000 * ours['cpu_s'] / n:.2f} CPU), "
        f"peak {ours['peak_mb']:.0f} MB, index {ours['size_mb']:.0f} MB"
    )
    if "plain" in row:
        plain = row["plain"]
        line += (
            f"; plain Whoosh {plain['wall_s']:.1f} s ({ours['wall_s'] / plain['wall_s']:.2f}x), "
            f"{plain['size_mb']:.0f} MB ({ours['size_mb'] / plain['size_mb']:.2f}x)"
        )
    return line


if __name__ == "__main__":
    sys.exit(main())
