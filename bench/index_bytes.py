"""Where an index's bytes go: each segment part (postings, term dictionary, columns) and, per field, its
terms, their entries' bytes and their postings' bytes.

    python bench/index_bytes.py INDEX_DIR [INDEX_DIR ...]

Works on a statementsearch index and on a plain Whoosh one (bench/plain_whoosh.py), so the two can be
put side by side. Opening an index unpickles its table of contents: use it on indexes you built.
"""

from __future__ import annotations

import argparse
import struct
from collections import Counter
from pathlib import Path
from typing import Any

MB = 1e6


def segment_parts(ix: Any) -> Counter[str]:
    """Bytes of each kind of segment file (by extension), over all segments."""
    sizes: Counter[str] = Counter()
    for segment in ix._segments():
        storage = segment.open_compound_file(ix.storage) if segment.is_compound() else ix.storage
        prefix = segment.make_filename("")
        for name in storage.list():
            if segment.is_compound() or name.startswith(prefix):
                sizes[name.rsplit(".", 1)[-1]] += storage.file_length(name)
    return sizes


def field_bytes(ix: Any) -> dict[str, Counter[str]]:
    """Per field: terms, bytes of their keys and entries in the term dictionary, bytes of postings."""
    from statementsearch.whoosh_internals import CompactTermInfo

    found: dict[str, Counter[str]] = {}
    with ix.reader() as reader:
        for segment_reader, _ in reader.leaf_readers():
            terms = segment_reader._terms
            names = {struct.pack("!H", number): name for name, number in terms._fieldmap.items()}
            for key, value in terms._tindex.items():
                counts = found.setdefault(names[key[:2]], Counter())
                counts["terms"] += 1
                counts["keys"] += len(key)
                counts["entries"] += len(value)
                info = CompactTermInfo.from_bytes(value)
                if not info.is_inlined():
                    counts["postings"] += info._length[0]
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("indexes", type=Path, nargs="+")
    args = ap.parse_args()
    from whoosh import index

    for path in args.indexes:
        ix = index.open_dir(str(path))
        parts = segment_parts(ix)
        print(f"{path}: {sum(parts.values()) / MB:.1f} MB in {len(list(ix._segments()))} segments")
        for ext, size in parts.most_common():
            print(f"  {ext:8} {size / MB:8.1f} MB")
        fields = field_bytes(ix)
        for name in sorted(fields, key=lambda f: -sum(fields[f][k] for k in ("keys", "entries", "postings"))):
            c = fields[name]
            print(
                f"  {name:14} {c['terms']:>9,} terms  keys {c['keys'] / MB:6.1f} MB  entries"
                f" {c['entries'] / MB:6.1f} MB  postings {c['postings'] / MB:7.1f} MB"
            )


if __name__ == "__main__":
    main()
