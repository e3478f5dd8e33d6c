"""How fast the reader turns files into releases: all ~85,000 releases of ../shared/corpora through read_file.

By default it reads the corpora's own JSON Lines (gzip) files. With --text it first renders every record
into text-format files (the seed's format, mixed variants, not timed) and times reading those instead,
which is the path real archives take.

Run from the repository root:  python bench/reader_speed.py [--shared ../shared] [--text]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

from render import corpus_files, group_records, load_corpus_records, random_variant, render_text_file  # noqa: E402
from statementsearch.reader import read_file  # noqa: E402


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="default ../shared")
    parser.add_argument("--text", action="store_true", help="time rendered text files instead of JSON Lines")
    return parser.parse_args()


def _time_reads(paths: list[Path], root: Path | None) -> tuple[int, int, float]:
    """Read every path once; return (releases, files with an error, seconds)."""
    releases = errors = 0
    started = time.perf_counter()
    for path in paths:
        report = read_file(path, root=root)
        releases += len(report.releases)
        errors += report.error is not None
    return releases, errors, time.perf_counter() - started


def _render_all(shared: Path, folder: Path) -> list[Path]:
    """Every corpus record written as text files of 1-6 releases (seeded variants)."""
    rng = random.Random(1)
    records = load_corpus_records(shared, 10**9)
    paths = []
    for number, group in enumerate(group_records(records, rng)):
        path = folder / f"{number // 1000:03d}" / f"{number:06d}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(render_text_file(group, random_variant(rng)))
        paths.append(path)
    return paths


def main() -> int:
    args = _arguments()
    files = corpus_files(args.shared)
    if not files:
        print(f"no corpora under {args.shared}: pass --shared", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        if args.text:
            print("rendering text files (not timed) ...", file=sys.stderr)
            files = _render_all(args.shared, Path(folder))
        releases, errors, seconds = _time_reads(files, Path(folder) if args.text else None)
    kind = "rendered text" if args.text else "JSON Lines (gzip)"
    print(f"{kind}: {len(files)} files, {releases} releases, {errors} errors, {seconds:.1f} s")
    print(f"{releases / seconds:,.0f} releases/second")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
