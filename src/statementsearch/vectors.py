"""A word's postings in a segment as numpy arrays: scored, intersected and cut to the best at C speed.

`ranking.Ranker` ranked a plan block by block in Python, a candidate's lookup and score per posting.
Decoding every block of a query's words into arrays, in a few numpy calls per word, costs less than
ranking posting by posting the fraction of them that block-max skipping left (BENCHMARKS.md, "A posting
pool of our own, and ranking at C speed"). So a word's postings are decoded once per searcher into
two arrays (documents, weights) and ranked whole: BM25 as vector arithmetic (the same IEEE operations
in the same order as `scoring.bm25`, so the same scores to the bit), words intersected with
`searchsorted`, releases held by several words summed in a dense array the size of the segment, and
only the few documents that can make a page reach Python (`ranking.TopK`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import block_layout
from .block_layout import DamagedBlockError
from .whoosh_internals import Block, RawBlock, decode, raw_blocks

ARRAYS_KEPT = 4_000_000
"""Postings a searcher keeps decoded (16 bytes each: 64 MB at most), the least recently used dropped."""
OFFER_CHUNK = 64
"""Documents taken at a time, best first, when each must pass a check (a phrase) before it is offered."""

_ID_TYPES: dict[int, np.dtype[Any]] = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}


class Postings(NamedTuple):
    """A word's postings in one segment: ascending document numbers and their weights."""

    ids: np.ndarray[Any, np.dtype[np.int64]]
    weights: np.ndarray[Any, np.dtype[np.float64]]


EMPTY = Postings(np.zeros(0, np.int64), np.zeros(0, np.float64))


class PostingsCache:
    """Decoded posting lists, least recently used dropped past `ARRAYS_KEPT` postings."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = ARRAYS_KEPT if limit is None else limit
        self.held = 0
        self._lists: OrderedDict[Any, Postings] = OrderedDict()

    def get(self, key: Any) -> Postings | None:
        found = self._lists.get(key)
        if found is not None:
            self._lists.move_to_end(key)
        return found

    def put(self, key: Any, postings: Postings) -> None:
        self._lists[key] = postings
        self.held += len(postings.ids)
        while self.held > self.limit and len(self._lists) > 1:
            _, dropped = self._lists.popitem(last=False)
            self.held -= len(dropped.ids)


def read_postings(
    reader: Any, field: str, text: str, blocks: Callable[[], Sequence[Block] | None]
) -> Postings | None:
    """A term's postings in one segment: from one read of its blocks, or (a list kept in its term's
    entry, blocks in Whoosh's layout) from `blocks()`; None when neither can read them."""
    raw = raw_blocks(reader, field, text)
    found = None if raw is None else postings_of_raw(raw)
    if found is not None:
        return found
    read = blocks()
    return None if read is None else postings_of(read)


def postings_of_raw(blocks: Sequence[RawBlock]) -> Postings | None:
    """A posting list's blocks (`whoosh_internals.raw_blocks`) as one pair of arrays, in a few numpy
    calls for the whole list; None when a block is not in `block_layout`'s layout."""
    if not blocks:
        return EMPTY
    gaps, weights = [], []
    for count, _, data in blocks:
        if not block_layout.is_own(data):
            return None
        block_gaps, block_weights = _own_parts(data, count)
        gaps.append(block_gaps)
        weights.append(block_weights)
    ids = np.concatenate(gaps).astype(np.int64)
    counts = np.fromiter((count for count, _, _ in blocks), np.int64, len(blocks))
    last_ids = np.fromiter((last_id for _, last_id, _ in blocks), np.int64, len(blocks))
    ends = np.cumsum(counts) - 1
    ids[ends[:-1] + 1] -= last_ids[:-1]  # a block's first id is absolute: make it a gap from the last
    np.cumsum(ids, out=ids)
    if len(ids) and not np.array_equal(ids[ends[counts > 0]], last_ids[counts > 0]):
        raise DamagedBlockError("a posting block does not end at the id its header says")
    return Postings(ids, np.concatenate(weights).astype(np.float64))


def _own_parts(raw: Any, count: int) -> tuple[Any, Any]:
    """A block's id gaps and weights as stored (`block_layout.unpack_ids_weights`'s checks but the last
    id's, which the caller makes for the whole list; DamagedBlockError when damaged)."""
    id_type, kind = _ID_TYPES.get(raw[1]), raw[2]
    if id_type is None or kind > block_layout.WEIGHTS_FLOATS:
        raise DamagedBlockError("not a posting block of this index's layout")
    at = block_layout.HEADER + count * id_type.itemsize
    weight_bytes = {block_layout.WEIGHTS_ONE: 0, block_layout.WEIGHTS_BYTES: count}.get(kind, 4 * count)
    if len(raw) < at + weight_bytes:
        raise DamagedBlockError("a posting block shorter than its header says")
    gaps = np.frombuffer(raw, id_type, count, block_layout.HEADER)
    if kind == block_layout.WEIGHTS_ONE:
        return gaps, np.ones(count, np.uint8)
    weight_type = "<u1" if kind == block_layout.WEIGHTS_BYTES else "<f4"
    return gaps, np.frombuffer(raw, weight_type, count, at)


def postings_of(blocks: Sequence[Block]) -> Postings:
    """A posting list's blocks as `whoosh_internals.decode` reads each (a list kept in its term's
    entry, blocks in Whoosh's layout), as one pair of arrays."""
    if not blocks:
        return EMPTY
    parts = [decode(block) for block in blocks]
    ids = np.concatenate([np.asarray(block_ids, np.int64) for block_ids, _ in parts])
    return Postings(ids, np.concatenate([np.asarray(weights, np.float64) for _, weights in parts]))


def bm25(
    weights: Any, norms: Any, idf: float, k1_plus_1: float, boost: float = 1.0
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Each posting's score, `scoring.bm25` as `ranking` writes it out: the same operations in the
    same order, so the same floats. `norms`: each posting's document's length norm."""
    scores: np.ndarray[Any, np.dtype[np.float64]] = idf * ((weights * k1_plus_1) / (weights + norms))
    return scores * boost if boost != 1.0 else scores


def positions_in(ids: Any, other: Any) -> tuple[Any, Any]:
    """Which of `ids` are in `other` (both ascending), and where in `other` they are."""
    if not len(other) or not len(ids):
        return np.zeros(len(ids), bool), np.zeros(0, np.int64)
    at = np.searchsorted(other, ids)
    np.minimum(at, len(other) - 1, out=at)
    found = other[at] == ids
    return found, at[found]


def mask_of(numbers: Any, size: int) -> Any:
    """Local document numbers (an iterable or an array; those outside the segment left out) as a
    mask over a segment of `size` documents."""
    if not isinstance(numbers, np.ndarray):
        numbers = np.fromiter(numbers, np.int64, len(numbers))
    mask = np.zeros(size, bool)
    mask[numbers[(numbers >= 0) & (numbers < size)]] = True
    return mask


def best(scores: Any, k: int, floor: float, tie: float) -> Any:
    """The positions of the scores that can make a top k whose entry score is `floor` so far: those
    at least the k-th best less `tie` (and at least `floor`), in no particular order."""
    if len(scores) > k:
        kth = float(np.partition(scores, len(scores) - k)[len(scores) - k])
        floor = max(floor, kth - tie)
    return np.flatnonzero(scores >= floor)


def best_first(ids: Any, scores: Any) -> Any:
    """Positions by score, best first, equal scores by document."""
    return np.lexsort((ids, -scores))
