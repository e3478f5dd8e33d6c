"""Near-duplicate detection on all ~85,000 corpus releases: its speed, its groups, and whether they are right.

Runs every release of ../shared/corpora through `dedup.shingling`, `dedup.boilerplate_by_office` (each
office's issuer's boilerplate), `dedup.fingerprint_of` and `dedup.assign_groups`, as the indexer does (a
first pass over all releases, then the groups of the set), and prints:

- the CPU time of each stage of fingerprinting (the budget: well under 10 s for all releases), with a
  calibration loop to compare machines by, the memory the first pass holds, how much boilerplate the
  offices have, the CPU time of assigning groups, and the memory the assigner holds;
- how many groups have more than one member, how many releases they hold, and their sizes;
- 10 groups drawn with a fixed seed, each member with id, issuer, date and the start of title and
  body, to be read by eye;
- candidate pairs (releases sharing an anchor) in bands of estimated similarity around the threshold, a
  few of each band with the estimated similarity, the exact Jaccard similarity of their shingle sets
  (what the sketches estimate), for two releases of one office the same of their own text (without the
  office's boilerplate), the Jaccard similarity and containment of the word 5-shingles of the whole
  bodies (an independent measure that reads every word), and whether they are judged one statement;
- whether the anchors find the pairs above the threshold: of the pairs that share any of their 64
  sketch hashes, how many share an anchor;
- every group link (a member and its group's original) whose whole bodies do not
  look like one statement (word 5-shingle Jaccard < 0.5 and containment < 0.8): to be read by eye.

Run from the repository root:  python bench/duplicates.py [--shared ../shared] [--threshold 0.8]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "bench")]

from corpus import shingle_overlap, word_shingles  # noqa: E402
from statementsearch import dedup  # noqa: E402

Record = dict[str, Any]
Fingerprints = list[dedup.Fingerprint | None]
Boilerplate = dict[str, frozenset[int]]

SEED = 20240601
SAMPLE_GROUPS = 10
SHOWN_MEMBERS = 4
PAIRS_PER_BAND = 6
BAND = 0.05
BANDS_BELOW = 4
DOUBTFUL_JACCARD = 0.5
DOUBTFUL_CONTAINMENT = 0.8
MAX_PAIRS_PER_ANCHOR = 200
"""Candidate pairs per anchor in the band listing (a template's anchor is shared by hundreds)."""
MAX_POSTING = 300
"""The anchor recall check pairs up releases by every sketch hash shared by at most this many."""


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1].parent / "shared"
    parser.add_argument("--shared", type=Path, default=default, help="default: ../shared beside the repo")
    parser.add_argument("--threshold", type=float, default=dedup.DUPLICATE_THRESHOLD)
    parser.add_argument("--show-doubtful", type=int, default=30, help="doubtful links to print (30)")
    return parser.parse_args()


def _records(shared: Path) -> Iterator[Record]:
    """Every corpus record: corpus files in sorted order, records in file order."""
    files = sorted(shared.glob("corpora/*/releases.jsonl.gz"))
    if not files:
        sys.exit(f"no corpora/*/releases.jsonl.gz under {shared}")
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)


def _text(record: Record, key: str) -> str:
    return record.get(key) or ""


def _office(record: Record) -> str:
    return _text(record, "issuer")


def _day(record: Record) -> date | None:
    return date.fromisoformat(record["date"]) if record.get("date") else None


def _calibration() -> float:
    """CPU seconds of a fixed pure-Python loop: compares this machine with another one."""
    started = time.process_time()
    total = 0
    for number in range(2_000_000):
        total += number & 7
    return time.process_time() - started


def _fingerprints(records: list[Record]) -> tuple[Fingerprints, Boilerplate]:
    """Fingerprint every record with its office's boilerplate, printing the CPU time of each stage."""
    calibration = _calibration()
    started, wall = time.process_time(), time.perf_counter()
    found = [dedup.shingling(_text(r, "title"), _text(r, "body"), _day(r)) for r in records]
    shingled = time.process_time()
    table = dedup.boilerplate_by_office((_office(r), f) for r, f in zip(records, found, strict=True) if f)
    counted = time.process_time()
    fps = [
        dedup.fingerprint_of(f, table.get(_office(r), dedup.NO_BOILERPLATE)) if f else None
        for r, f in zip(records, found, strict=True)
    ]
    done, wall = time.process_time(), time.perf_counter() - wall
    print(
        f"fingerprinting {len(records):,} releases: {done - started:.2f} s CPU ({wall:.2f} s wall), ", end=""
    )
    print(f"{(done - started) / len(records) * 1e6:.0f} us each; calibration loop: {calibration:.2f} s CPU")
    print(f"  shingling {shingled - started:.2f} s, counting each office's boilerplate ", end="")
    print(f"{counted - shingled:.2f} s, fingerprints {done - counted:.2f} s (CPU)")
    held = sum(sys.getsizeof(f.hashes) + sys.getsizeof(f) for f in found if f)
    print(f"  shingles the first pass holds: {held / 2**20:.1f} MiB")
    print(f"  too short to judge (no fingerprint): {sum(fp is None for fp in fps):,}")
    offices = sum(1 for found_boilerplate in table.values() if found_boilerplate)
    print(
        f"  offices with boilerplate (shingles under >= {dedup.BOILERPLATE_RELEASES} of their headlines): ",
        end="",
    )
    print(f"{offices:,} of {len(table):,}, {sum(map(len, table.values())):,} shingles")
    own = sum(1 for fp in fps if fp and fp.own != fp.sketch)
    bare = sum(1 for fp in fps if fp and not fp.own)
    print(
        f"  releases holding some of their office's boilerplate: {own:,}; with nothing of their own: {bare:,}"
    )
    return fps, table


def _assign(records: list[Record], fps: Fingerprints, threshold: float) -> list[str]:
    """Group ids in record order, printing the CPU time; then the memory it held, from a traced rerun."""
    entries = [dedup.GroupEntry(r["id"], _day(r), fp, _office(r)) for r, fp in zip(records, fps, strict=True)]
    started = time.process_time()
    found = dedup.assign_groups(entries, threshold)
    print(f"assigning groups: {time.process_time() - started:.2f} s CPU")
    tracemalloc.start()
    dedup.assign_groups(entries, threshold)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  peak memory of assign_groups: {peak / 2**20:.1f} MiB")
    return [found[r["id"]] for r in records]


def _members(groups: list[str]) -> dict[str, list[int]]:
    """Group id -> positions of its members, for the groups of more than one release."""
    members: dict[str, list[int]] = defaultdict(list)
    for position, group in enumerate(groups):
        members[group].append(position)
    return {group: found for group, found in members.items() if len(found) > 1}


def _print_sizes(members: dict[str, list[int]]) -> None:
    sizes = Counter(len(found) for found in members.values())
    held = sum(map(len, members.values()))
    print(f"groups with more than one member: {len(members):,}, holding {held:,} releases")
    shown = []
    for low, high in ((2, 2), (3, 3), (4, 5), (6, 10), (11, 20), (21, 50), (51, 10**9)):
        count = sum(n for size, n in sizes.items() if low <= size <= high)
        label = str(low) if low == high else f"{low}-{high}" if high < 10**9 else f"{low}+"
        shown.append(f"{label}: {count:,}")
    print("  sizes: " + ", ".join(shown) + f"; largest: {sorted(sizes, reverse=True)[:8]}")


def _line(record: Record) -> str:
    title = " ".join(_text(record, "title").split())[:100]
    body = " ".join(_text(record, "body").split())[:100]
    head = f"{record['id']} | {record.get('issuer')} | {record.get('date')}"
    return f"{head}\n      T: {title}\n      B: {body}"


def _print_samples(records: list[Record], members: dict[str, list[int]]) -> None:
    chosen = random.Random(SEED).sample(sorted(members), min(SAMPLE_GROUPS, len(members)))
    print(f"\n{len(chosen)} sample groups (seed {SEED}):")
    for number, group in enumerate(chosen, 1):
        found = members[group]
        more = f", the first {SHOWN_MEMBERS} shown" if len(found) > SHOWN_MEMBERS else ""
        print(f"[{number}] {len(found)} releases{more}")
        for position in found[:SHOWN_MEMBERS]:
            print("    " + _line(records[position]))


def _whole(a: Record, b: Record) -> tuple[float, float]:
    """(Jaccard similarity, containment) of the word 5-shingles of two whole bodies."""
    return shingle_overlap(word_shingles(_text(a, "body")), word_shingles(_text(b, "body")))


def _exact(a: Record, b: Record, table: Boilerplate) -> tuple[float, float | None]:
    """Exact Jaccard similarity of two releases' shingle sets, what the sketches estimate; for releases of
    one office, also of their own shingles (those not in the office's boilerplate)."""
    first = dedup.shingles(_text(a, "title"), _text(a, "body")) or frozenset()
    second = dedup.shingles(_text(b, "title"), _text(b, "body")) or frozenset()
    own: float | None = None
    if _office(a) and _office(a) == _office(b):
        furniture = table.get(_office(a), dedup.NO_BOILERPLATE)
        own = _jaccard(first - furniture, second - furniture)
    return _jaccard(first, second), own


def _jaccard(first: frozenset[int], second: frozenset[int]) -> float:
    union = first | second
    return len(first & second) / len(union) if union else 0.0


def _same_office(records: list[Record], a: int, b: int) -> bool:
    return bool(_office(records[a])) and _office(records[a]) == _office(records[b])


def _judged(records: list[Record], fps: Fingerprints, a: int, b: int) -> bool:
    """Whether `dedup.is_duplicate` takes the two releases for one statement."""
    first, second = fps[a], fps[b]
    if first is None or second is None:
        return False
    return dedup.is_duplicate(first, second, same_office=_same_office(records, a, b))


def _candidate_pairs(fps: Fingerprints) -> list[tuple[float, int, int]]:
    """(estimated similarity, earlier, later) of the pairs that share an anchor."""
    table: dict[str, list[int]] = defaultdict(list)
    pairs: dict[tuple[int, int], float] = {}
    for position, fp in enumerate(fps):
        if fp is None:
            continue
        for anchor in fp.anchors:
            earlier = table[anchor]
            for other in earlier[-MAX_PAIRS_PER_ANCHOR:]:
                other_fp = fps[other]
                if (other, position) not in pairs and other_fp is not None:
                    pairs[other, position] = dedup.similarity(other_fp, fp)
            earlier.append(position)
    return [(score, a, b) for (a, b), score in pairs.items()]


def _print_pair(
    records: list[Record], fps: Fingerprints, table: Boilerplate, score: float, a: int, b: int
) -> None:
    jaccard, containment = _whole(records[a], records[b])
    exact, exact_own = _exact(records[a], records[b], table)
    first, second = fps[a], fps[b]
    own = ""
    if exact_own is not None and first is not None and second is not None:
        own = f" | same office, own text: est {dedup.similarity(first, second, same_office=True):.2f}"
        own += f" exact {exact_own:.2f}"
    verdict = "ONE STATEMENT" if _judged(records, fps, a, b) else "apart"
    print(
        f"    est {score:.2f} exact {exact:.2f}{own} | words J {jaccard:.2f} C {containment:.2f} -> {verdict}"
    )
    for position in (a, b):
        title = " ".join(_text(records[position], "title").split())[:80]
        print(f"      {records[position]['id']} | {records[position].get('issuer')} | {title}")


def _print_bands(records: list[Record], fps: Fingerprints, table: Boilerplate, threshold: float) -> None:
    pairs = _candidate_pairs(fps)
    rng = random.Random(SEED)
    print(f"\ncandidate pairs (sharing an anchor): {len(pairs):,}, in bands around the threshold {threshold}")
    print("  est: estimated similarity; exact: Jaccard of the shingle sets; own text: the same without the")
    print("  office's boilerplate; words J/C: Jaccard and containment of the word 5-shingles of the whole")
    print("  bodies; -> whether dedup.is_duplicate takes them for one statement")
    low = threshold - BANDS_BELOW * BAND
    while low < 1.0:
        high = low + BAND if low + BAND < 1.0 - 1e-9 else 1.01
        band = [pair for pair in pairs if low - 1e-9 <= pair[0] < high - 1e-9]
        judged = sum(1 for _score, a, b in band if _judged(records, fps, a, b))
        same = sum(1 for _score, a, b in band if _same_office(records, a, b))
        print(f"  [{low:.2f}, {min(high, 1.0):.2f}{']' if high > 1 else ')'}: {len(band):,} pairs ", end="")
        print(f"({same:,} of one office), {judged:,} judged one statement; a sample:")
        for score, a, b in sorted(rng.sample(band, min(PAIRS_PER_BAND, len(band)))):
            _print_pair(records, fps, table, score, a, b)
        low += BAND


def _print_anchor_recall(fps: Fingerprints, threshold: float) -> None:
    """Of the pairs above the threshold that share any sketch hash, the share that also share an anchor."""
    postings: dict[int, list[int]] = defaultdict(list)
    for position, fp in enumerate(fps):
        for value in fp.sketch if fp else ():
            postings[value].append(position)
    shared: Counter[tuple[int, int]] = Counter()
    for found in postings.values():
        if len(found) <= MAX_POSTING:
            shared.update(combinations(found, 2))
    above = found_by_anchor = 0
    for (a, b), count in shared.items():
        first, second = fps[a], fps[b]
        if count >= 4 and first and second and dedup.similarity(first, second) >= threshold:
            above += 1
            found_by_anchor += bool(set(first.anchors) & set(second.anchors))
    print(f"\nanchor recall: of {above:,} pairs with similarity >= {threshold} that share 4 or more sketch")
    print(f"  hashes (each in <= {MAX_POSTING} sketches), {found_by_anchor:,} share an anchor")


def _links(
    records: list[Record], fps: Fingerprints, members: dict[str, list[int]]
) -> list[tuple[int, int, float]]:
    """(member, its group's original, similarity that joined them) for every member but the original."""
    position_of = {record["id"]: position for position, record in enumerate(records)}
    links = []
    for group, found in members.items():
        original = position_of[group]
        original_fp = fps[original]
        for position in found:
            fp = fps[position]
            if position != original and fp is not None and original_fp is not None:
                same = _same_office(records, position, original)
                links.append((position, original, dedup.similarity(fp, original_fp, same_office=same)))
    return links


def _print_doubtful(records: list[Record], links: list[tuple[int, int, float]], show: int) -> None:
    doubtful = []
    for position, best, score in links:
        jaccard, containment = _whole(records[position], records[best])
        if jaccard < DOUBTFUL_JACCARD and containment < DOUBTFUL_CONTAINMENT:
            doubtful.append((jaccard, containment, score, position, best))
    print(f"\ngroup links: {len(links):,}; doubtful on the whole bodies (word 5-shingle Jaccard ", end="")
    print(f"< {DOUBTFUL_JACCARD} and containment < {DOUBTFUL_CONTAINMENT}): {len(doubtful):,}")
    for jaccard, containment, score, position, best in sorted(doubtful)[:show]:
        print(f"  est {score:.2f} words J {jaccard:.2f} C {containment:.2f}")
        print("    " + _line(records[best]))
        print("    " + _line(records[position]))


def main() -> None:
    args = _arguments()
    records = list(_records(args.shared))
    print(f"{len(records):,} releases from {args.shared}; threshold {args.threshold}")
    fps, table = _fingerprints(records)
    groups = _assign(records, fps, args.threshold)
    members = _members(groups)
    _print_sizes(members)
    _print_samples(records, members)
    _print_bands(records, fps, table, args.threshold)
    _print_anchor_recall(fps, args.threshold)
    _print_doubtful(records, _links(records, fps, members), args.show_doubtful)


if __name__ == "__main__":
    main()
