"""Near-duplicate releases: fingerprints, their similarity, and group ids for one indexing run.

Official statements are re-issued and re-posted: the same text comes back under another title, issuer or
date, with a new header line, a changed sentence, or as a web scrape that lost its punctuation. The index
groups such releases so that a search shows one hit per group.

How a fingerprint is made, and why each step is there:

1. Only the first `TEXT_LIMIT` characters of the body count. Reading all of 85,000 releases word by word
   in Python would cost more CPU than indexing can spare; the opening of a release tells re-issues apart
   from other releases just as well, and a re-issue that only adds a long tail is still a re-issue.
2. Lowercase, and every character that is not a letter or digit becomes a space (one space between
   words), so that a wire copy (`U.S. Sen. Smith's "bill"`) and a web scrape of it without punctuation
   (`U S Sen Smith s bill`) read the same.
3. The title, when the body repeats it near its start, is cut off together with whatever stands before it
   (site furniture, "For immediate release", a date): a re-issue under a new title or with a new header
   must not look different for that.
4. The features ("spots") are the stretches of text that follow a common function word (`the`, `of`,
   `said`, ...): the word and the next `SPOT_CHARS` characters. This is the SpotSigs idea (Theobald et
   al., SIGIR 2008): anchoring on function words samples the running prose of a release and mostly skips
   lists of names, menus and other boilerplate, which have few of them; it also lets one C-level regular
   expression find the features, which is several times cheaper than hashing every word shingle.
5. Each spot is hashed with CRC-32 (stable across processes and Python versions, unlike `hash()` of a
   str), and the `SKETCH_SIZE` smallest distinct hashes are the bottom-k sketch. Two sketches estimate
   the Jaccard similarity of the two spot sets (`similarity`).
6. The `ANCHOR_COUNT` smallest hashes are also the anchors: two releases whose spot sets overlap by
   Jaccard J share at least one of them with probability about 1 - (1 - J) ** ANCHOR_COUNT, so looking
   releases up by anchor (a dict here, index terms in the index) finds the candidates to compare.
"""

from __future__ import annotations

import base64
import heapq
import re
import struct
import zlib
from dataclasses import dataclass

__all__ = [
    "ANCHOR_COUNT",
    "DUPLICATE_THRESHOLD",
    "MIN_WORDS",
    "SKETCH_SIZE",
    "Fingerprint",
    "GroupAssigner",
    "decode",
    "encode",
    "fingerprint",
    "is_duplicate",
    "similarity",
    "spots",
]

TEXT_LIMIT = 4000
"""Characters of the body that are fingerprinted (the median release has ~2,100; see step 1 above)."""
TITLE_SEARCH = 400
"""How far into the normalised body the title is looked for (a header is a few lines at most)."""
MIN_TITLE_CHARS = 16
"""A shorter normalised title ("update", "statement") could match ordinary text: never cut at it."""
MIN_WORDS = 30
"""Fewer words than this (after the title and header are cut) and a release is not fingerprinted: short
notices resemble each other by their wording alone ("... is closed today"), not because they are one."""
MIN_SPOTS = 8
"""A text with fewer spots (not English, a list of names) gives too little evidence to group it."""
SPOT_CHARS = 24
"""Characters after the function word in each spot: about four words, like a 5-word shingle."""
SKETCH_SIZE = 64
"""Hashes kept per release. The estimate's standard error is sqrt(J(1-J)/64), about 0.06 at J = 0.5."""
ANCHOR_COUNT = 6
"""Anchors per release: above the threshold (J >= 0.5) a re-issue shares one with probability ~0.98."""
MAX_ENTRIES_PER_ANCHOR = 64
"""`GroupAssigner` keeps this many releases per anchor (the latest): an anchor that a template phrase
shares among thousands of releases must not make each new release compare against all of them."""

# Chosen on the corpora (85,399 releases) with bench/duplicates.py, by reading pairs around the line:
# see the module's report. FIXME: fill in after the bench run.
DUPLICATE_THRESHOLD = 0.5
"""Estimated Jaccard similarity of the spot sets at or above which two releases are one statement."""

_FUNCTION_WORDS = ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "of", "on", "or", "said", "that", "the", "this", "to", "was", "were", "which", "will", "with"]
_SPOT = re.compile(rb" (?=((?:" + b"|".join(w.encode() for w in _FUNCTION_WORDS) + rb") .{%d}))" % SPOT_CHARS)
"""A function word after a space, and the SPOT_CHARS characters after it (lookahead: spots overlap)."""
_WORD_BYTES = bytes(
    # ASCII letters and digits stay (lowercased); bytes of multi-byte UTF-8 characters stay (other
    # scripts, accented letters); every other ASCII byte (punctuation, control, space) becomes a space.
    c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122 or c >= 128) else 32
    for c in range(256)
)
_UNICODE_PUNCTUATION = re.compile(rb"\xe2[\x80\x81][\x80-\xbf]|\xc2[\x80-\xbf]")
"""UTF-8 of U+2000-U+206F (dashes, curly quotes, ellipsis) and U+0080-U+00BF (NBSP, guillemets, §):
punctuation, so spaces, as ASCII punctuation is."""
_FORMAT = "d1"
"""Version tag of `encode`'s output: fingerprints made another way must not be compared with these."""


@dataclass(frozen=True)
class Fingerprint:
    """What is kept of a release's text to recognise its near-duplicates."""

    sketch: tuple[int, ...]
    """The SKETCH_SIZE smallest CRC-32 hashes of the release's spots, ascending (all when fewer)."""
    anchors: tuple[str, ...]
    """The smallest hashes as 8 hex digits: terms under which candidates for comparison are found."""


def normalise(text: str) -> bytes:
    """Lowercase words separated by single spaces, as UTF-8: punctuation, case and layout do not count."""
    if text.isascii():
        data = text.encode("ascii")
    else:
        data = _UNICODE_PUNCTUATION.sub(b" ", text.lower().encode("utf-8", "replace"))
    return b" ".join(data.translate(_WORD_BYTES).split())


def _prose(title: str, body: str) -> bytes:
    """The normalised opening of the body, without the title and any header before it."""
    text = normalise(body[:TEXT_LIMIT])
    heading = normalise(title)
    if len(heading) >= MIN_TITLE_CHARS:
        at = text.find(heading, 0, TITLE_SEARCH + len(heading))
        if at >= 0 and (at == 0 or text[at - 1] == 32):
            text = text[at + len(heading) :]
    return text


def spots(title: str, body: str) -> frozenset[int] | None:
    """All spot hashes of a release (the set a sketch samples), or None when it is too short to judge."""
    text = _prose(title, body)
    if text.count(b" ") + 1 < MIN_WORDS:
        return None
    found = frozenset(map(zlib.crc32, _SPOT.findall(b" " + text)))
    return found if len(found) >= MIN_SPOTS else None


def fingerprint(title: str, body: str) -> Fingerprint | None:
    """The fingerprint of a release, or None when its text is too short to judge (see MIN_WORDS)."""
    found = spots(title, body)
    if found is None:
        return None
    return _from_sketch(tuple(heapq.nsmallest(SKETCH_SIZE, found)))


def _from_sketch(sketch: tuple[int, ...]) -> Fingerprint:
    return Fingerprint(sketch, tuple(f"{value:08x}" for value in sketch[:ANCHOR_COUNT]))


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated Jaccard similarity of the two releases' spot sets, from 0.0 to 1.0.

    Bottom-k estimate: of the k smallest hashes of the two sketches together, the share found in both.
    When neither sketch is full, they hold every spot and the result is the exact Jaccard similarity.
    """
    first, second = set(a.sketch), set(b.sketch)
    union = first | second
    if not union:
        return 0.0
    if len(first) >= SKETCH_SIZE or len(second) >= SKETCH_SIZE:
        cutoff = heapq.nsmallest(SKETCH_SIZE, union)[-1]
        shared = sum(1 for value in first & second if value <= cutoff)
        return shared / SKETCH_SIZE
    return len(first & second) / len(union)


def is_duplicate(a: Fingerprint, b: Fingerprint) -> bool:
    """True when the two releases are the same statement (similarity at or above DUPLICATE_THRESHOLD)."""
    return similarity(a, b) >= DUPLICATE_THRESHOLD


def encode(fp: Fingerprint) -> str:
    """A compact ASCII form to store in the index: version tag, then the sketch as base64 of uint32s."""
    packed = struct.pack(f">{len(fp.sketch)}I", *fp.sketch)
    return _FORMAT + base64.b64encode(packed).decode("ascii")


def decode(text: str) -> Fingerprint:
    """The fingerprint `encode` stored; ValueError for any other text (another version, damage)."""
    if not text.startswith(_FORMAT):
        raise ValueError(f"not a fingerprint of format {_FORMAT!r}: {text[:12]!r}")
    try:
        packed = base64.b64decode(text[len(_FORMAT) :], validate=True)
    except ValueError as exc:
        raise ValueError(f"damaged fingerprint: {exc}") from None
    if len(packed) % 4:
        raise ValueError("damaged fingerprint: length is not a whole number of hashes")
    return _from_sketch(struct.unpack(f">{len(packed) // 4}I", packed))
