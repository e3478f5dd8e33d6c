"""Near-duplicate releases: fingerprints, their similarity, and group ids for one indexing run.

Official statements are re-issued and re-posted: the same text comes back under another title, issuer or
date, with a new header line, a changed sentence, or as a web scrape that lost its punctuation. The index
groups such releases so that a search shows one hit per group. This module is pure (no index, no I/O);
bench/duplicates.py measures it on the corpora.

How a fingerprint is made, and why:

1. Only the first `TEXT_LIMIT` characters of the body count. Reading all 240 MB of the corpora in Python
   would cost more CPU than indexing can spare; the opening of a release tells a re-issue from another
   release as well as the whole does, and a re-issue that only adds a long tail is still a re-issue.
2. Normalising keeps only ASCII letters and digits, lowercased: no punctuation, no spaces. A wire copy
   (`U.S. Sen. Smith's "$1,500"`) and a web scrape of it (`U S Sen Smith s 1 500`) then read the same,
   and so do re-flowed lines and changed case. Deleting the spaces is also what keeps the next steps
   cheap: no list of words is ever built.
3. When the body repeats the title near its start, whatever stands before it (site furniture, "For
   immediate release", a date line) is cut off: a re-issue with a new header must not look different
   for that. The title itself stays, as many titles are just the first words of the body.
4. Shingles are content-defined: the text is cut at every "th" (the commonest letter pair in English,
   one every ~37 letters), and each shingle is two consecutive pieces: ~70 letters, about 12 words. An
   edit changes only the two or three shingles around it however the text shifts, and a C-level
   `bytes.split` finds them all: several times cheaper than hashing every word shingle in Python.
5. Each shingle is hashed with CRC-32 (stable across processes and Python versions, unlike `hash()` of
   a str). The `SKETCH_SIZE` smallest hashes are a bottom-k sketch, from which `similarity` estimates
   the Jaccard similarity of two releases' shingle sets.
6. The `ANCHOR_COUNT` smallest hashes are also the anchors: two releases with Jaccard similarity J share
   at least one with probability about 1 - (1 - J) ** ANCHOR_COUNT (0.998 at J = 0.8), so looking
   releases up by anchor (a dict here, index terms in the index) finds the candidates worth comparing.
7. The first numbers of the lead (amounts, counts) are kept too. Template releases ("Dayton receives
   $154,242 fire grant" / "Burkettsville receives $77,045 fire grant") share 80-95% of their text, as
   much as re-issues do, so no threshold on similarity keeps them apart; their numbers do. When the
   first number of each lead is missing from the other's, the two are not one statement, however
   similar the prose (`numbers_conflict`). Comparing only first numbers, each against the other's
   first few, tolerates the usual differences between copies: a number rounded in one headline
   ("over 340,000" / "$345,657"), a number the other copy states later.
"""

from __future__ import annotations

import base64
import operator
import re
import struct
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "ANCHOR_COUNT",
    "DUPLICATE_THRESHOLD",
    "SKETCH_SIZE",
    "Fingerprint",
    "GroupAssigner",
    "decode",
    "encode",
    "fingerprint",
    "is_duplicate",
    "numbers_conflict",
    "shingles",
    "similarity",
]

TEXT_LIMIT = 3000
"""Characters of the body that are fingerprinted (the median release has ~2,100; see step 1)."""
TITLE_SEARCH = 400
"""How far into the normalised body the title is looked for: a header is a few lines at most."""
MIN_TITLE_CHARS = 16
"""A shorter normalised title ("update", "statement") could match ordinary text: never cut at it."""
MIN_CHARS = 160
"""Fewer letters and digits than this (about 30 words) after the header is cut, and a release gets no
fingerprint: short notices resemble each other by their wording alone, not because they are one."""
MIN_SHINGLES = 5
"""Fewer shingles than this is too little evidence to judge (a text with almost no "th": not English)."""
SEPARATOR = b"th"
"""Where the text is cut into pieces (step 4). It makes the method one for English: a text in another
language has few shingles and often none, and then no fingerprint, so it is never grouped."""
SKETCH_SIZE = 64
"""Hashes kept per release. The estimate's standard error is at most sqrt(J(1-J)/64): 0.05 at J = 0.8."""
ANCHOR_COUNT = 4
"""Anchors per release. On the corpora, all 5,400 pairs at or above the threshold that share 4 or more
of their 64 hashes share an anchor too; 3 anchors missed 0.7% of the pairs at 0.7-0.8."""
LEAD_CHARS = 600
"""The lead, whose numbers are compared: the first 600 letters and digits (about four sentences), where
a template release states what is particular to it ("... will receive $77,045 ...")."""
NUMBER_COUNT = 4
"""Numbers kept per release: the first four of the lead, in text order."""
MAX_ENTRIES_PER_ANCHOR = 32
"""`GroupAssigner` keeps this many releases per anchor, the latest: an anchor that a template shares
among hundreds of releases must not make each new release compare against all of them."""

# Chosen with bench/duplicates.py on the corpora (85,399 releases): 25 candidate pairs drawn in each band
# of 0.05 (pairs whose numbers conflict left out, as they are never grouped), read by eye next to the
# word 5-shingle Jaccard similarity of their whole bodies. One statement in: 7 of 25 pairs at 0.70-0.75
# (the rest template releases that state no telling number, and a senator's releases sharing a long
# site header), ~16 of 25 at 0.75-0.80, 22 of 25 at 0.80-0.85, 24 of 25 at 0.85-0.90, 25 of 25 above.
# Merging two statements hides one of them from the results, while a missed re-issue only shows twice,
# so the line is where pairs become reliable: 0.8 (2,854 groups of 2 or more, 5,979 releases in them).
DUPLICATE_THRESHOLD = 0.8
"""Estimated Jaccard similarity of the shingle sets at or above which two releases can be one statement."""

_LOWER = bytes(c + 32 if 65 <= c <= 90 else c for c in range(256))
_NOT_WORD = bytes(c for c in range(128) if not (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122))
"""ASCII bytes other than letters and digits: deleted."""
_LETTERS_TO_SPACES = bytes(32 if 97 <= c <= 122 else c for c in range(256))
"""Leaves the digit runs of a normalised text, separated by spaces."""
_DATE_LIKE = re.compile(
    rb"(?:0?[1-9]|1[0-2])?(?:0?[1-9]|[12][0-9]|3[01])?(?:199[0-9]|20[0-3][0-9])"
    rb"|(?:199[0-9]|20[0-3][0-9])(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
)
"""A year, a day and year ("September 21, 2007" -> 212007), a month, day and year (9/12/2007), or an
ISO date: dates differ between a release and its re-issue, so they do not tell releases apart. (An
amount such as $51,998 reads as a date too, and is then not compared.)"""
_MIN_NUMBER, _MAX_NUMBER = 3, 8
"""Digits of a number that counts: "12" is too common to mean anything, 9 or more digits is a phone
number (which differs between two senators' copies of one joint release) rather than an amount."""
_HEX8 = "{:08x}".format
"""An anchor from a hash: 8 hex digits (a C-level `map` with this beats a generator of f-strings)."""
_FORMAT = "d1"
"""Version tag of `encode`'s output: fingerprints made another way must not be compared with these."""


@dataclass(frozen=True)
class Fingerprint:
    """What is kept of a release's text to recognise its near-duplicates (~370 characters encoded)."""

    sketch: tuple[int, ...]
    """The SKETCH_SIZE smallest CRC-32 hashes of the release's shingles, ascending (all when fewer)."""
    anchors: tuple[str, ...]
    """The ANCHOR_COUNT smallest hashes as 8 hex digits: terms under which to find candidates."""
    numbers: tuple[int, ...] = ()
    """CRC-32 hashes of the first NUMBER_COUNT numbers of the lead, in text order (step 7)."""


def _normalise(text: str) -> bytes:
    """ASCII letters and digits only, lowercased: punctuation, spaces, case and layout do not count.

    Other characters are dropped too: curly quotes and dashes are punctuation, their mojibake ("â€™")
    vanishes with them, and `encode` drops them in C, several times faster than lowering and filtering
    Unicode text would. (Accented letters go as well; in English text that costs nothing.)
    """
    return text.encode("ascii", "ignore").translate(_LOWER, _NOT_WORD)


def _prose(title: str, body: str) -> bytes:
    """The normalised opening of the body, from the title on when the body repeats it near its start."""
    text = _normalise(body[:TEXT_LIMIT])
    heading = _normalise(title)
    if len(heading) >= MIN_TITLE_CHARS:
        at = text.find(heading, 0, TITLE_SEARCH + len(heading))
        if at > 0:
            return text[at:]
    return text


def _shingle_set(text: bytes) -> frozenset[int] | None:
    """The shingle hashes of normalised text, or None when it is too short to judge."""
    if len(text) < MIN_CHARS:
        return None
    pieces = text.split(SEPARATOR)
    found = frozenset(map(zlib.crc32, map(operator.add, pieces, pieces[1:])))
    return found if len(found) >= MIN_SHINGLES else None


def shingles(title: str, body: str) -> frozenset[int] | None:
    """All shingle hashes of a release (the set a sketch samples), or None when it is too short to judge."""
    return _shingle_set(_prose(title, body))


def _numbers(text: bytes) -> tuple[int, ...]:
    """Hashes of the first numbers in the lead of normalised text that can tell releases apart (step 7)."""
    found: list[int] = []
    for run in text[:LEAD_CHARS].translate(_LETTERS_TO_SPACES).split():
        if _telling(run):
            value = zlib.crc32(run)
            if value not in found:
                found.append(value)
                if len(found) == NUMBER_COUNT:
                    break
    return tuple(found)


def _telling(number: bytes) -> bool:
    """Whether a number can tell two releases apart: not too short or too long, and not a date."""
    return _MIN_NUMBER <= len(number) <= _MAX_NUMBER and not _DATE_LIKE.fullmatch(number)


def fingerprint(title: str, body: str) -> Fingerprint | None:
    """The fingerprint of a release, or None when its text is too short to judge (see MIN_CHARS)."""
    text = _prose(title, body)
    found = _shingle_set(text)
    if found is None:
        return None
    return _make(tuple(sorted(found)[:SKETCH_SIZE]), _numbers(text))


def _make(sketch: tuple[int, ...], numbers: tuple[int, ...]) -> Fingerprint:
    """The fingerprint of a sketch: its anchors are its smallest hashes, so they need not be stored."""
    return Fingerprint(sketch, tuple(map(_HEX8, sketch[:ANCHOR_COUNT])), numbers)


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated Jaccard similarity of the two releases' shingle sets, from 0.0 to 1.0.

    Bottom-k estimate: below the smaller of the two sketches' largest hashes, both sketches hold every
    shingle hash of their release, so the Jaccard similarity there (a random sample of the union of at
    least SKETCH_SIZE shingles) estimates the whole. A sketch with fewer hashes holds all of them, and
    two such sketches give the exact value.
    """
    return _similarity(a.sketch, frozenset(a.sketch), b.sketch)


def _similarity(first: Sequence[int], first_set: frozenset[int], second: Sequence[int]) -> float:
    """`similarity` of two ascending sketches, the first also as a set (it is compared with many)."""
    if not first or not second:
        return 0.0
    cutoff = min(
        first[-1] if len(first) >= SKETCH_SIZE else 0xFFFFFFFF,
        second[-1] if len(second) >= SKETCH_SIZE else 0xFFFFFFFF,
    )
    below_first, below_second = bisect_right(first, cutoff), bisect_right(second, cutoff)
    shared = len(first_set.intersection(second[:below_second]))
    return shared / (below_first + below_second - shared)


def numbers_conflict(a: Fingerprint, b: Fingerprint) -> bool:
    """True when the first number of each lead is missing from the other's: two templates (step 7)."""
    return _conflict(a.numbers, b.numbers)


def is_duplicate(a: Fingerprint, b: Fingerprint) -> bool:
    """True when the releases are one statement: similar enough, and their numbers do not conflict."""
    return similarity(a, b) >= DUPLICATE_THRESHOLD and not numbers_conflict(a, b)


def encode(fp: Fingerprint) -> str:
    """A compact ASCII form to store in the index (~370 characters): tag, then base64 of the hashes."""
    sketch = base64.b64encode(_pack(fp.sketch)).decode("ascii")
    return f"{_FORMAT}{sketch}.{base64.b64encode(_pack(fp.numbers)).decode('ascii')}"


def decode(text: str) -> Fingerprint:
    """The fingerprint `encode` stored; ValueError for any other text (another version, damage)."""
    if not text.startswith(_FORMAT) or text.count(".") != 1:
        raise ValueError(f"not a fingerprint of format {_FORMAT!r}: {text[:12]!r}")
    sketch, numbers = (_unpack(part) for part in text[len(_FORMAT) :].split("."))
    if not sketch or list(sketch) != sorted(set(sketch)):
        raise ValueError("damaged fingerprint: its sketch is empty or out of order")
    return _make(sketch, numbers)


def _pack(values: Sequence[int]) -> bytes:
    """Hashes as big-endian uint32s, 4 bytes each."""
    return struct.pack(f">{len(values)}I", *values)


def _unpack(text: str) -> tuple[int, ...]:
    """The hashes `_pack` wrote, from base64; ValueError when damaged."""
    try:
        packed = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ValueError(f"damaged fingerprint: {exc}") from None
    if len(packed) % 4:
        raise ValueError("damaged fingerprint: its length is not a whole number of hashes")
    return struct.unpack(f">{len(packed) // 4}I", packed)


class _Entry(NamedTuple):
    """A release as `GroupAssigner` remembers it, in ~0.5 KB: hashes as arrays of uint32, not int objects."""

    release_id: str
    group: str
    sketch: array[int]
    numbers: array[int]


class GroupAssigner:
    """Group ids for the releases of one indexing run, given in the order they are indexed.

    A release joins the group of the most similar earlier release that `is_duplicate` accepts: earlier
    in this run (found through an in-memory table anchor -> releases) or among the `candidates` the
    caller found in the existing index by anchor terms. Otherwise it starts its own group, named by its
    id. Groups are never merged afterwards: a release's group id does not change once assigned.

    Memory: about 0.5 KB a release (44 MiB for the 85,399 corpus releases), as the hashes are kept in
    arrays, and most anchors belong to one release only and are stored without a list around it.
    """

    def __init__(self, threshold: float = DUPLICATE_THRESHOLD) -> None:
        self.threshold = threshold
        self._table: dict[int, _Entry | list[_Entry]] = {}

    def assign(
        self,
        release_id: str,
        fp: Fingerprint | None,
        candidates: Iterable[tuple[str, str, Fingerprint]] = (),
    ) -> str:
        """The group id of `release_id`; it is remembered for the releases that follow in this run.

        `candidates` are (release id, group id, fingerprint) of releases already in the index that share
        an anchor with `fp`. A release without a fingerprint (too short to judge) is its own group.
        """
        if fp is None:
            return release_id
        best_group, best_score = release_id, -1.0
        mine: frozenset[int] = frozenset()
        seen = {release_id}
        for other_id, group, sketch, numbers in self._others(fp, candidates):
            if other_id in seen or _conflict(fp.numbers, numbers):
                continue
            seen.add(other_id)
            mine = mine or frozenset(fp.sketch)
            score = _similarity(fp.sketch, mine, sketch)
            if score >= self.threshold and score > best_score:
                best_group, best_score = group, score
        # A release with a twin (similarity 1.0) adds nothing to the table: the twin finds the same
        # later re-issues, in this run or, when the twin came from the index, as one of their candidates.
        if best_score < 1.0:
            entry = _Entry(release_id, best_group, array("I", fp.sketch), array("I", fp.numbers))
            self._remember(entry, fp.sketch[:ANCHOR_COUNT])
        return best_group

    def _others(
        self, fp: Fingerprint, candidates: Iterable[tuple[str, str, Fingerprint]]
    ) -> Iterator[tuple[str, str, Sequence[int], Sequence[int]]]:
        """The releases of this run that share an anchor with `fp`, then the caller's candidates."""
        for anchor in fp.sketch[:ANCHOR_COUNT]:
            filed = self._table.get(anchor)
            if filed is not None:
                yield from [filed] if isinstance(filed, _Entry) else filed
        for other_id, group, other in candidates:
            yield other_id, group, other.sketch, other.numbers

    def _remember(self, entry: _Entry, anchors: Iterable[int]) -> None:
        """File the entry under each anchor, dropping the oldest entry of a full list."""
        for anchor in anchors:
            filed = self._table.get(anchor)
            if filed is None:
                self._table[anchor] = entry
            elif isinstance(filed, _Entry):
                self._table[anchor] = [filed, entry]
            else:
                if len(filed) >= MAX_ENTRIES_PER_ANCHOR:
                    del filed[0]
                filed.append(entry)


def _conflict(first: Sequence[int], second: Sequence[int]) -> bool:
    """`numbers_conflict` on the `numbers` of two fingerprints."""
    return bool(first) and bool(second) and first[0] not in second and second[0] not in first
