"""Near-duplicate releases: fingerprints, their similarity, and the groups of a set of releases.

Official statements are re-issued and re-posted: the same text comes back under another title, issuer or
date, with a header or footer added, a sentence dropped or changed, or as a web scrape that lost its
punctuation. The index groups such releases so that a search shows one hit per group. This module is pure
(no index, no I/O); bench/duplicates.py measures it on the corpora.

How a fingerprint is made, and why:

1. The whole body counts (up to `TEXT_LIMIT` characters, far beyond any statement): an edit near the start
   must not shift what is compared, and a sentence dropped at the end must count as little as one dropped
   at the start. Everything below runs in C-level bytes methods, so the whole body costs about what the
   opening 3,000 characters cost before (bench/duplicates.py prints the CPU time).
2. Normalising keeps only ASCII letters and digits, lowercased: no punctuation, no spaces. A wire copy
   (`U.S. Sen. Smith's "$1,500"`) and a web scrape of it (`U S Sen Smith s 1 500`) then read the same,
   and so do re-flowed lines and changed case. Deleting the spaces is also what keeps the next steps
   cheap: no list of words is ever built.
3. When the body repeats the title near its start, whatever stands before it (site furniture, "For
   immediate release", a date line) is cut off. The title itself stays, as many titles are just the
   first words of the body. A "For immediate release" near the start is cut off with all before it.
4. Shingles are content-defined: a shingle starts after every "th" and every "er" (the commonest letter
   pairs of English, together one every ~20 letters) and is the next `SHINGLE_CHARS` letters, about five
   words. An edit changes only the shingles that overlap it, wherever it is and however the text shifts,
   so a dropped sentence costs about as much as in word 5-shingles. Shorter windows would be shared by
   unrelated releases ("thedepartmentofhomeland"); longer ones, or cutting at "th" alone, let a template
   that swaps a list of names or a town look as similar as a re-issue (bench/duplicates.py, eye-checked).
   Cutting, joining and slicing are `bytes.replace`, `bytes.split` and C-level `map`s.
5. Each shingle is hashed with CRC-32 (stable across processes and Python versions, unlike `hash()` of
   a str). The `SKETCH_SIZE` smallest hashes are a bottom-k sketch, from which `similarity` estimates
   the Jaccard similarity of two releases' shingle sets.
6. Anchors find the candidates worth comparing: each pair of the `ANCHOR_BASE` smallest hashes is one
   anchor, so two releases are compared when at least two of their five smallest hashes agree. A single
   hash would do for re-issues, but a five-word phrase that thousands of releases share ("the
   Department of Homeland") is then often someone's anchor; a pair of such phrases is rare. On the
   corpora this cut the candidate pairs three-fold and lost none above the threshold. Here the pairs
   are keys of a dict; the index files each release under its five smallest hashes (`anchor_terms`)
   and takes as candidates the releases found under two of them: the same pairs, with half as many
   terms per release and a third as many in all (a term costs ~80 bytes of the index's dictionary).
7. Numbers tell template releases apart. "Dayton receives $154,242 fire grant" / "Burkettsville receives
   $77,045 fire grant", or the 34th and the 38th list of fire companies funded, share 80-95% of their
   text, as much as re-issues do, so no threshold on similarity keeps them apart; their numbers do. The
   first `NUMBER_COUNT` numbers of the text are kept, in text order, and two releases conflict (are not
   one statement, however similar the prose) when the first number of each is missing from the other's,
   or when fewer than half of the shorter list are shared (`numbers_conflict`). This tolerates the usual
   differences between copies: a number in a dropped sentence or an added header, a number the other copy
   states later.
8. An office's boilerplate is no evidence. Releases of one office (one issuer) share what its site puts on
   every page (a press-room header, an "About Jackie" box) and its templates; scraped with little text of
   their own, two of its statements are then as alike as re-issues. A shingle found in releases of
   `BOILERPLATE_RELEASES` or more different headlines of one office is that office's boilerplate (copies
   under one headline count once, so a statement the office re-posts many times is not its own
   boilerplate), counted over the whole set of releases (so groups stay a function of the set), and each
   fingerprint also keeps an `own` sketch: the bottom-k of its shingles that are not boilerplate. Two
   releases of one office are one statement only when their own texts are `OWN_FLOOR` alike too; releases
   of two offices (joint releases, wire copies) are judged as wholes. The price: a release with (almost)
   nothing of its own is no one's duplicate within its office, and neither are copies of a text the
   office posted under `BOILERPLATE_RELEASES` or more headlines (that text is then its boilerplate).
"""

from __future__ import annotations

import base64
import operator
import re
import struct
import zlib
from array import array
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations, filterfalse, islice
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ANCHOR_BASE",
    "ANCHOR_SHARED",
    "BOILERPLATE_RELEASES",
    "DUPLICATE_THRESHOLD",
    "SKETCH_SIZE",
    "Fingerprint",
    "GroupEntry",
    "Shingling",
    "anchor_terms",
    "assign_groups",
    "boilerplate_by_office",
    "boilerplate_of",
    "canonical_key",
    "decode",
    "encode",
    "fingerprint",
    "fingerprint_of",
    "fingerprints",
    "is_duplicate",
    "numbers_conflict",
    "same_office",
    "shingles",
    "shingling",
    "similarity",
]

TEXT_LIMIT = 200_000
"""Characters of the body that are fingerprinted: all of any statement (the corpora's longest has 77,447);
only a pasted report is cut, and its first 200,000 characters tell its copies apart well enough."""
TITLE_SEARCH = 400
"""How far into the normalised body the title is looked for: a header is a few lines at most."""
MIN_TITLE_CHARS = 16
"""A shorter normalised title ("update", "statement") could match ordinary text: never cut at it."""
RELEASE_MARK = b"forimmediaterelease"
"""The commonest header line of a press release: the header ends with it (step 3)."""
MIN_CHARS = 160
"""Fewer letters and digits than this (about 30 words) after the header is cut, and a release gets no
fingerprint: short notices resemble each other by their wording alone, not because they are one."""
MIN_SHINGLES = 5
"""Fewer shingles than this is too little evidence to judge (a text with almost no "th": not English)."""
SEPARATOR = b"th"
"""Where shingles start (step 4), with every `OTHER_SEPARATOR` turned into one first. It makes the method
one for English: a text in another language has few shingles and often none, and is then never grouped."""
OTHER_SEPARATOR = b"er"
SHINGLE_CHARS = 24
"""Letters and digits in a shingle: about five words (step 4)."""
SKETCH_SIZE = 64
"""Hashes kept per release. The estimate's standard error is at most sqrt(J(1-J)/64): 0.05 at J = 0.8.
A release with fewer shingles keeps them all, and two such releases are compared exactly."""
ANCHOR_BASE = 5
"""Anchors are the pairs of this many smallest hashes: 10 per release (step 6)."""
ANCHOR_SHARED = 2
"""Anchor terms two releases share when they share an anchor: the two hashes of a pair (step 6)."""
NUMBER_COUNT = 16
"""Numbers kept per release: the first 16 of its text, in text order (step 7)."""
BOILERPLATE_RELEASES = 4
"""A shingle found in releases of this many different headlines of one office is that office's
boilerplate (step 8)."""
OWN_FLOOR = 0.6
"""Two releases of one office alike as wholes are one statement only when their own texts are at least
this alike too (step 8)."""

# Chosen with bench/duplicates.py on the corpora (85,399 releases): candidate pairs drawn in bands of 0.05
# of estimated similarity (pairs whose numbers conflict left out, as they are never grouped) and read by
# eye next to the word 5-shingle Jaccard similarity and containment of their whole bodies; see
# BENCHMARKS.md "Near-duplicates". Below 0.8 most pairs are template releases that state no telling
# number (honour rolls, grant notices naming another town); from 0.8 most are one statement. Rendered
# re-issues of corpus releases (header or footer added, one sentence dropped or changed anywhere) whose
# word 5-shingle Jaccard similarity with the original is 0.85 or more reach 0.8 in 98-99% of cases
# (tests/test_dedup.py holds real and rendered pairs on both sides).
DUPLICATE_THRESHOLD = 0.8
"""Estimated Jaccard similarity of the shingle sets at or above which two releases can be one statement."""

_LOWER = bytes(c + 32 if 65 <= c <= 90 else c for c in range(256))
_NOT_WORD = bytes(c for c in range(128) if not (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122))
"""ASCII bytes other than letters and digits: deleted."""
_LETTERS_TO_SPACES = bytes(32 if 97 <= c <= 122 else c for c in range(256))
"""Leaves the digit runs of a normalised text, separated by spaces."""
_YEAR = r"(?P<{}>199[0-9]|20[0-3][0-9])"
_DATE_LIKE = re.compile(
    rf"(?:0?[1-9]|1[0-2])?(?:0?[1-9]|[12][0-9]|3[01])?{_YEAR.format('year')}"
    rf"|{_YEAR.format('iso')}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])".encode()
)
"""A year, a day and year ("September 21, 2007" -> 212007), a month, day and year (9/12/2007), or an
ISO date: dates differ between a release and its re-issue, so they do not tell releases apart."""
DATE_YEARS = 1
"""A date-like number is taken for a date only when its year is within this many years of the release's
own (any year when the release has no date): "$51,998" in a release of 2004 is an amount, not 5/1998."""
_MIN_NUMBER, _MAX_NUMBER = 3, 8
"""Digits of a number that counts: "12" is too common to mean anything, 9 or more digits is a phone
number (which differs between two senators' copies of one joint release) rather than an amount."""
_WINDOW = operator.itemgetter(slice(SHINGLE_CHARS))
"""A shingle from the text after a separator: its first SHINGLE_CHARS letters (a C-level slice)."""
_FORMAT = "d4"
"""Version tag of `encode`'s output: fingerprints made another way must not be compared with these
("d1" sketched the opening 3,000 characters with longer shingles, "d2" had no sketch of the office's own
text)."""
_SAME = "="
"""`encode`'s mark for an own sketch equal to the whole sketch (no boilerplate among its hashes)."""
NO_BOILERPLATE: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Fingerprint:
    """What is kept of a release's text to recognise its near-duplicates (~430 characters encoded, ~780
    when its office's boilerplate is among its hashes)."""

    sketch: tuple[int, ...]
    """The SKETCH_SIZE smallest CRC-32 hashes of the release's shingles, ascending (all when fewer)."""
    numbers: tuple[int, ...]
    """CRC-32 hashes of the first NUMBER_COUNT numbers of the text, in text order (step 7)."""
    own: tuple[int, ...]
    """The sketch of the shingles that are not its office's boilerplate (step 8): equal to `sketch` when
    none of them is, empty when fewer than MIN_SHINGLES are left (nothing of its own to judge by)."""

    @property
    def anchors(self) -> tuple[str, ...]:
        """Each pair of the ANCHOR_BASE smallest hashes as 16 hex digits: two releases sharing one are
        candidates (step 6)."""
        return tuple(f"{a:08x}{b:08x}" for a, b in _anchor_pairs(self.sketch))


class Shingling(NamedTuple):
    """What a release's text gives its fingerprint, before its office's boilerplate is known: every
    shingle hash, ascending and once each (~0.4 KB per release), its telling numbers (step 7), and its
    headline's hash (copies under one headline count once towards boilerplate, step 8)."""

    hashes: array[int]
    numbers: tuple[int, ...]
    headline: int = 0


def _normalise(text: str) -> bytes:
    """ASCII letters and digits only, lowercased: punctuation, spaces, case and layout do not count.

    Other characters are dropped too: curly quotes and dashes are punctuation, their mojibake ("â€™")
    vanishes with them, and `encode` drops them in C, several times faster than lowering and filtering
    Unicode text would. (Accented letters go as well; in English text that costs nothing.)
    """
    return text.encode("ascii", "ignore").translate(_LOWER, _NOT_WORD)


def _prose(title: str, body: str) -> bytes:
    """The normalised body, from the title on when the body repeats it near its start, and after a
    "for immediate release" near its start."""
    text = _normalise(body[:TEXT_LIMIT])
    heading = _normalise(title)
    if len(heading) >= MIN_TITLE_CHARS:
        at = text.find(heading, 0, TITLE_SEARCH + len(heading))
        if at > 0:
            text = text[at:]
    at = text.rfind(RELEASE_MARK, 0, TITLE_SEARCH + len(RELEASE_MARK))
    return text[at + len(RELEASE_MARK) :] if at >= 0 else text


def _shingle_set(text: bytes) -> frozenset[int] | None:
    """The shingle hashes of normalised text (step 4), or None when it is too short to judge."""
    if len(text) < MIN_CHARS:
        return None
    pieces = text.replace(OTHER_SEPARATOR, SEPARATOR).split(SEPARATOR)
    # Two separators in a row ("other than", "together", "whether the" read "oth|th|an"...) leave two
    # empty pieces: their window is empty, the same in every such text, and the smallest hash of all.
    windows = filter(None, map(_WINDOW, map(operator.add, pieces, pieces[1:])))
    found = frozenset(map(zlib.crc32, windows))
    return found if len(found) >= MIN_SHINGLES else None


def shingles(title: str, body: str) -> frozenset[int] | None:
    """All shingle hashes of a release (the set a sketch samples), or None when it is too short to judge."""
    return _shingle_set(_prose(title, body))


def _numbers(text: bytes, year: int | None) -> tuple[int, ...]:
    """Hashes of the first numbers of normalised text that can tell releases apart (step 7)."""
    found: list[int] = []
    for run in text.translate(_LETTERS_TO_SPACES).split():
        if _telling(run, year):
            value = zlib.crc32(run)
            if value not in found:
                found.append(value)
                if len(found) == NUMBER_COUNT:
                    break
    return tuple(found)


def _telling(number: bytes, year: int | None) -> bool:
    """Whether a number can tell two releases apart: not too short or too long, and not a date."""
    if not _MIN_NUMBER <= len(number) <= _MAX_NUMBER:
        return False
    match = _DATE_LIKE.fullmatch(number)
    if match is None:
        return True
    if year is None:
        return False
    return abs(int(match.group("year") or match.group("iso")) - year) > DATE_YEARS


def shingling(title: str, body: str, day: date | None = None) -> Shingling | None:
    """A release's shingles and numbers, or None when its text is too short to judge (see MIN_CHARS).

    `day`, the release's date, tells its own dates from amounts that read like dates (`DATE_YEARS`).
    """
    text = _prose(title, body)
    found = _shingle_set(text)
    if found is None:
        return None
    numbers = _numbers(text, day.year if day else None)
    return Shingling(array("I", sorted(found)), numbers, zlib.crc32(_normalise(title)))


def boilerplate_of(shinglings: Sequence[Shingling]) -> frozenset[int]:
    """The shingles found in releases of BOILERPLATE_RELEASES or more different headlines of one
    office (step 8): the releases under one headline (an office's re-posts) count once.

    Counted with numpy over each headline's sorted hashes: an office of thousands of releases holds
    millions of shingles, which Python's sets and counters took seconds of every build to go over."""
    by_headline: defaultdict[int, list[array[int]]] = defaultdict(list)
    for found in shinglings:
        by_headline[found.headline].append(found.hashes)
    if len(by_headline) < BOILERPLATE_RELEASES:
        return NO_BOILERPLATE
    each = [_distinct([_as_numpy(hashes) for hashes in found]) for found in by_headline.values()]
    values, counts = np.unique(np.concatenate(each), return_counts=True)
    return frozenset(values[counts >= BOILERPLATE_RELEASES].tolist())


def _as_numpy(hashes: array[int]) -> NDArray[Any]:
    """A shingling's hashes as a numpy array over the same memory (no copy)."""
    return np.frombuffer(hashes, dtype=np.uint32 if hashes.itemsize == 4 else f"u{hashes.itemsize}")


def _distinct(arrays: list[NDArray[Any]]) -> NDArray[Any]:
    """The values of the arrays, once each. Most headlines have one release, whose hashes are already
    ascending and once each (a `Shingling`'s): checked, not sorted again."""
    if len(arrays) == 1 and bool((arrays[0][1:] > arrays[0][:-1]).all()):
        return arrays[0]
    return np.unique(np.concatenate(arrays))


def boilerplate_by_office(releases: Iterable[tuple[str, Shingling]]) -> dict[str, frozenset[int]]:
    """Each office's boilerplate, from (office, shingling) of every one of its releases; releases of no
    named office ("") have none, as nothing says which of them share a site."""
    by_office: defaultdict[str, list[Shingling]] = defaultdict(list)
    for office, found in releases:
        if office:
            by_office[office].append(found)
    return {office: boilerplate_of(found) for office, found in by_office.items()}


def fingerprints(found: Mapping[str, tuple[str, Shingling | None]]) -> dict[str, Fingerprint | None]:
    """The fingerprint of every release of a set, from id -> (office, shingling): each with the
    boilerplate of its office, counted over the set (None for a release too short to judge)."""
    table = boilerplate_by_office((office, text) for office, text in found.values() if text is not None)
    return {
        release_id: fingerprint_of(text, table.get(office, NO_BOILERPLATE)) if text is not None else None
        for release_id, (office, text) in found.items()
    }


def fingerprint(
    title: str, body: str, day: date | None = None, boilerplate: frozenset[int] = NO_BOILERPLATE
) -> Fingerprint | None:
    """The fingerprint of a release, or None when its text is too short to judge (see MIN_CHARS).

    `boilerplate` is its office's (`boilerplate_of` the releases of that office); without it, the
    release is judged as if its office had no other release.
    """
    found = shingling(title, body, day)
    return None if found is None else fingerprint_of(found, boilerplate)


def fingerprint_of(found: Shingling, boilerplate: frozenset[int] = NO_BOILERPLATE) -> Fingerprint:
    """The fingerprint of a release's shingling, given its office's boilerplate (step 8)."""
    sketch = tuple(found.hashes[:SKETCH_SIZE])
    if not boilerplate or boilerplate.isdisjoint(found.hashes):
        return _make(sketch, found.numbers, sketch)
    own = tuple(islice(filterfalse(boilerplate.__contains__, found.hashes), SKETCH_SIZE))
    return _make(sketch, found.numbers, own if len(own) >= MIN_SHINGLES else ())


def _make(sketch: tuple[int, ...], numbers: tuple[int, ...], own: tuple[int, ...]) -> Fingerprint:
    """The fingerprint of a sketch (one tuple for `own` when it is the sketch)."""
    return Fingerprint(sketch, numbers, sketch if own == sketch else own)


def anchor_terms(fp: Fingerprint) -> tuple[str, ...]:
    """The ANCHOR_BASE smallest hashes as 8 hex digits: the index's terms for a release's anchors. A
    release found under ANCHOR_SHARED of another's shares an anchor with it (step 6)."""
    return tuple(f"{value:08x}" for value in fp.sketch[:ANCHOR_BASE])


def _anchor_pairs(sketch: Sequence[int]) -> Iterable[tuple[int, int]]:
    """The pairs of the ANCHOR_BASE smallest hashes (step 6)."""
    return combinations(sketch[:ANCHOR_BASE], 2)


def similarity(a: Fingerprint, b: Fingerprint, *, same_office: bool = False) -> float:
    """Estimated Jaccard similarity of the two releases' shingle sets, from 0.0 to 1.0; for two releases
    of one office, of the shingles that are not that office's boilerplate (0.0 when either has none).

    Bottom-k estimate: below the smaller of the two sketches' largest hashes, both sketches hold every
    shingle hash of their release, so the Jaccard similarity there (a random sample of the union of at
    least SKETCH_SIZE shingles) estimates the whole. A sketch with fewer hashes holds all of them, and
    two such sketches give the exact value.
    """
    first, second = (a.own, b.own) if same_office else (a.sketch, b.sketch)
    return _similarity(first, frozenset(first), second)


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
    """True when the numbers of two releases say they are two statements: two templates (step 7)."""
    return _conflict(a.numbers, b.numbers)


def _conflict(first: Sequence[int], second: Sequence[int]) -> bool:
    """`numbers_conflict` on the `numbers` of two fingerprints."""
    if not first or not second:
        return False
    if first[0] not in second and second[0] not in first:
        return True
    shared = len(set(first).intersection(second))
    return 2 * shared < min(len(first), len(second))


def is_duplicate(
    a: Fingerprint, b: Fingerprint, threshold: float = DUPLICATE_THRESHOLD, *, same_office: bool = False
) -> bool:
    """True when the releases are one statement: their numbers do not conflict, and they are similar
    enough; two releases of one office by their own text too (step 8)."""
    return _duplicates(_Probe.of(a), _Filed.of(b), threshold, same_office)


class _Probe(NamedTuple):
    """A fingerprint compared with many others: its sketches also as sets."""

    fp: Fingerprint
    sketch: frozenset[int]
    own: frozenset[int]

    @classmethod
    def of(cls, fp: Fingerprint) -> _Probe:
        return cls(fp, frozenset(fp.sketch), frozenset(fp.own))


class _Filed(NamedTuple):
    """What a comparison needs of the other fingerprint: ~0.5 KB, hashes in arrays of uint32 (`assign_groups`
    keeps one per original)."""

    sketch: Sequence[int]
    own: Sequence[int]
    numbers: Sequence[int]

    @classmethod
    def of(cls, fp: Fingerprint) -> _Filed:
        return cls(fp.sketch, fp.own, fp.numbers)

    @classmethod
    def compact(cls, fp: Fingerprint) -> _Filed:
        sketch = array("I", fp.sketch)
        own = sketch if fp.own == fp.sketch else array("I", fp.own)
        return cls(sketch, own, array("I", fp.numbers))


def _duplicates(mine: _Probe, other: _Filed, threshold: float, same_office: bool) -> bool:
    """`is_duplicate`, the one rule `assign_groups` applies too."""
    fp = mine.fp
    if _conflict(fp.numbers, other.numbers):
        return False
    whole = _similarity(fp.sketch, mine.sketch, other.sketch)
    if not same_office:
        return whole >= threshold
    # One office: alike as wholes, and their own texts alike too (0.0 when either has none).
    return whole >= threshold and _similarity(fp.own, mine.own, other.own) >= OWN_FLOOR


def encode(fp: Fingerprint) -> str:
    """A compact ASCII form to store in the index: tag, then base64 of the sketch, the numbers and the own
    sketch (`=` when it is the sketch), separated by dots (~430 characters, ~780 with an own sketch)."""
    own = _SAME if fp.own == fp.sketch else _text(fp.own)
    return f"{_FORMAT}{_text(fp.sketch)}.{_text(fp.numbers)}.{own}"


def _text(values: Sequence[int]) -> str:
    return base64.b64encode(_pack(values)).decode("ascii")


def decode(text: str) -> Fingerprint:
    """The fingerprint `encode` stored; ValueError for any other text (another version, damage)."""
    if not text.startswith(_FORMAT) or text.count(".") != 2:
        raise ValueError(f"not a fingerprint of format {_FORMAT!r}: {text[:12]!r}")
    sketch_text, numbers_text, own_text = text[len(_FORMAT) :].split(".")
    sketch, numbers = _unpack(sketch_text), _unpack(numbers_text)
    own = sketch if own_text == _SAME else _unpack(own_text)
    if not sketch or not _ascending(sketch) or not _ascending(own):
        raise ValueError("damaged fingerprint: its sketch is empty or out of order")
    return _make(sketch, numbers, own)


def _ascending(values: Sequence[int]) -> bool:
    return all(map(operator.lt, values, values[1:]))


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


# ------------------------------------------------------------------------------------------ groups


class GroupEntry(NamedTuple):
    """A release as `assign_groups` needs it: its id, its date, its fingerprint (None: too short) and its
    office (its issuer; "" for none), whose boilerplate its fingerprint's own sketch leaves out."""

    release_id: str
    day: date | None
    fingerprint: Fingerprint | None
    office: str = ""


def same_office(a: GroupEntry, b: GroupEntry) -> bool:
    """Whether two releases are of one named office, and so are compared by their own text (step 8)."""
    return bool(a.office) and a.office == b.office


def canonical_key(release_id: str, day: date | None) -> tuple[bool, str, str]:
    """The order in which releases become originals: date ascending, undated last, then id."""
    return (day is None, day.isoformat() if day else "", release_id)


class _Original(NamedTuple):
    """An original as `assign_groups` files it, in ~0.5 KB: hashes as arrays of uint32, not int objects."""

    rank: int
    release_id: str
    office: str
    filed: _Filed


def assign_groups(entries: Iterable[GroupEntry], threshold: float = DUPLICATE_THRESHOLD) -> dict[str, str]:
    """The group id of every release: a function of the set of releases alone, not of their order.

    Releases are taken in `canonical_key` order. A release joins the group of the earliest *original*
    (a release that joined no group before it) that shares an anchor with it and `is_duplicate` accepts
    (comparing own sketches when both are of one office); otherwise it is an original, and its group id
    is its own id. So every member of a group is a near-duplicate of the group's original, which is its
    earliest release and names it: a chain A~B~C where C is no duplicate of A gives the groups {A, B}
    and {C}, whichever is read first.

    The same entries give the same result in any order, in one process or gathered from many (a
    sharded build runs this once over all releases before routing them). An incremental update runs it
    over every release connected to what changed by duplicate links (see `indexer`): the groups of the
    others cannot change. Memory: about 0.5 KB per release, as the hashes are kept in arrays.
    """
    ordered = sorted(entries, key=lambda entry: canonical_key(entry.release_id, entry.day))
    table: dict[int, list[_Original]] = {}
    groups: dict[str, str] = {}
    for rank, entry in enumerate(ordered):
        fp = entry.fingerprint
        if fp is None:
            groups[entry.release_id] = entry.release_id
            continue
        anchors = [a << 32 | b for a, b in _anchor_pairs(fp.sketch)]  # hashes < 2**32: one int a pair
        original = _earliest_original(
            entry.office, fp, [table.get(anchor, ()) for anchor in anchors], threshold
        )
        if original is not None:
            groups[entry.release_id] = original.release_id
            continue
        groups[entry.release_id] = entry.release_id
        filed = _Original(rank, entry.release_id, entry.office, _Filed.compact(fp))
        for anchor in anchors:
            table.setdefault(anchor, []).append(filed)
    return groups


def _earliest_original(
    office: str, fp: Fingerprint, filed: list[Sequence[_Original]], threshold: float
) -> _Original | None:
    """The earliest original among those filed under `fp`'s anchors (one list per anchor) that it
    duplicates, if any.

    Each anchor's list is in canonical order, so a list is read only up to the best found so far.
    """
    best: _Original | None = None
    mine: _Probe | None = None  # made for the first comparison: most releases have no candidate
    compared: set[int] = set()
    for originals in filed:
        for original in originals:
            if best is not None and original.rank >= best.rank:
                break
            if original.rank in compared:
                continue
            compared.add(original.rank)
            mine = mine or _Probe.of(fp)
            if _duplicates(mine, original.filed, threshold, bool(office) and office == original.office):
                best = original
                break
    return best
