"""Parse accuracy of the text-format reader on corpus records rendered in random archive variants.

Renders N files (1-6 releases each) from ../shared/corpora with a fixed seed, reads them back with
`read_file`, and compares every release field by field with what the format says a correct reader returns
(tests/render.py). Prints accuracy per field and overall, then the first mismatches so they can be fixed.

Run from the repository root:  python bench/parse_accuracy.py [--files 2000] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

from render import (  # noqa: E402
    Variant,
    actual_fields,
    body_has_end_mark,
    expected_fields,
    group_records,
    load_corpus_records,
    normalise,
    random_variant,
    render_text_file,
)
from statementsearch.reader import read_file  # noqa: E402

FIELDS = ("title", "issuer", "date", "body")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="rendered files (default 2000)")
    parser.add_argument("--seed", type=int, default=20200103)
    parser.add_argument("--show", type=int, default=5, help="mismatches to print (default 5)")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="default ../shared")
    return parser.parse_args()


def _render(shared: Path, files: int, seed: int) -> list[tuple[list[dict[str, Any]], Variant]]:
    """Files to write: records grouped 1-6 a file (3.5 on average), each group with its own variant."""
    rng = random.Random(seed)
    records = load_corpus_records(shared, files * 6, seed)
    groups = group_records(records, rng)[:files]
    return [(group, random_variant(rng)) for group in groups]


def _excerpt(text: str, other: str) -> str:
    """Text around the first character where `text` and `other` differ."""
    at = next(
        (i for i, (a, b) in enumerate(zip(text, other, strict=False)) if a != b), min(len(text), len(other))
    )
    return repr(text[max(0, at - 60) : at + 60])


def _compare(plan: list[tuple[list[dict[str, Any]], Variant]], folder: Path, show: int) -> Counter[str]:
    """Write, read and compare every file; count right fields; print the first `show` mismatches."""
    counts: Counter[str] = Counter()
    shown = 0
    for number, (records, variant) in enumerate(plan):
        path = folder / f"{number:05d}.txt"
        path.write_bytes(render_text_file(records, variant))
        report = read_file(path, root=folder)
        releases = report.releases
        counts["files"] += 1
        counts["file_count_right"] += len(releases) == len(records)
        for index, record in enumerate(records):
            want = expected_fields(record, variant)
            got = actual_fields(releases[index]) if index < len(releases) else dict.fromkeys(FIELDS)
            counts["releases"] += 1
            counts["end_mark_in_body"] += body_has_end_mark(record)
            counts["raw_body_right"] += got["body"] == normalise(record["body"])
            wrong = [field for field in FIELDS if got[field] != want[field]]
            for field in FIELDS:
                counts[field] += field not in wrong
            counts["all"] += not wrong
            if wrong and shown < show:
                shown += 1
                print(
                    f"--- mismatch {shown}: {record.get('id')} in file {number} ({variant}); {report.error}"
                )
                for field in wrong:
                    print(f"  {field}: want {_excerpt(str(want[field]), str(got[field]))}")
                    print(f"  {' ' * len(field)}   got {_excerpt(str(got[field]), str(want[field]))}")
    return counts


def main() -> int:
    args = _arguments()
    if not (args.shared / "corpora").is_dir():
        print(f"no corpora under {args.shared}: pass --shared", file=sys.stderr)
        return 2
    started = time.perf_counter()
    plan = _render(args.shared, args.files, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        counts = _compare(plan, Path(folder), args.show)
    total = counts["releases"]
    print(f"\n{counts['files']} files, {total} releases, {time.perf_counter() - started:.1f} s")
    for field in (*FIELDS, "all"):
        print(f"  {field:7s} {counts[field] / total:8.2%}  ({total - counts[field]} wrong)")
    print(f"  release count right in {counts['file_count_right']} of {counts['files']} files")
    print(
        f"  {counts['end_mark_in_body']} releases have an end-mark line inside their own body: the format"
        f" cuts them there (expected so); against the uncut body {counts['raw_body_right'] / total:.2%}"
        " of bodies match"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
