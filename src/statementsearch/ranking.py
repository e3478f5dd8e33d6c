"""Ranking keyword queries straight from Whoosh's posting blocks, with the same BM25F scores.

Whoosh ranks through a tree of matcher objects: several Python calls per posting per query word, and on
the corpus its block skipping rarely fired, so that tree was most of our query time (BENCHMARKS.md).
Most queries are plain words, though: every word required (short queries), any word counted (long ones),
maybe `"phrases"`, `issuer:word` or some `-word`s. Those are ranked here from the blocks `postings.py`
reads: a block's postings are scored in one comprehension against a per-document table of length norms,
and a block whose best possible score cannot enter the top k is never decoded (block-max, exact).
Sorting by date uses the same match sets. Anything else (wildcards, fuzzy terms, sloppy phrases) is
left to Whoosh: `plan_for` says which.

The scores are the ones Whoosh's `BM25FScorer` computes, by the same arithmetic (tests compare both
paths on the same index), so the choice of path never changes a ranking.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from whoosh import query as wq

from .postings import Block, Phrases, Word, decode, document_dates, length_bytes
from .postings import blocks as read_blocks
from .schema import BM25_B, BM25_K1

# The fields whose words are ranked here: Whoosh TEXT fields, scored by BM25F with their lengths.
RANKED_FIELDS = frozenset({"text", "title", "issuer"})
_K1_PLUS_1 = BM25_K1 + 1
# Decoded blocks a searcher keeps (about 1.8 kB each: 15 MB at most).
DECODED_CACHE_BLOCKS = 8192
# Block headers a searcher keeps per segment (about 280 bytes each: 14 MB at most); a common word has
# hundreds of blocks, a rare one a few.
BLOCK_CACHE_BLOCKS = 50_000
_TOLERANCE = 1 + 1e-6
"""A block's bound uses its max weight as stored (float64) while postings hold float32 weights: the
bound is widened by this factor so that rounding can never skip a block that holds a top hit."""


@dataclass(frozen=True)
class Plan:
    """A query reduced to words: all of `required`, or any of `optional` when nothing is required,
    and none of `excluded`; the words of each of `phrases` (all required too) next to each other."""

    required: tuple[Word, ...] = ()
    optional: tuple[Word, ...] = ()
    excluded: tuple[Word, ...] = ()
    phrases: tuple[tuple[Word, ...], ...] = ()


def plan_for(q: Any) -> Plan | None:
    """The plan of a query made only of words, "exact phrases", AND, OR and NOT; None for anything else."""
    if isinstance(q, wq.AndNot):
        positive, negative = plan_for(q.a), _any_words(q.b)
        if positive is None or negative is None or q.boost != 1.0:
            return None
        return Plan(positive.required, positive.optional, positive.excluded + negative, positive.phrases)
    parts = q.subqueries if type(q) is wq.And and q.boost == 1.0 else [q]
    if all(_is_word(part) or _is_phrase(part) for part in parts):
        phrases = tuple(tuple(Word(p.fieldname, w) for w in p.words) for p in parts if _is_phrase(p))
        required = tuple(
            w for part in parts for w in (_phrase_words(part) if _is_phrase(part) else [_word(part)])
        )
        return Plan(required=required, phrases=phrases)
    words = _any_words(q)
    return Plan(optional=words) if words is not None and type(q) is wq.Or else None


def _is_phrase(q: Any) -> bool:
    """A phrase as Whoosh's `Phrase` matches it: its words in order at consecutive positions, scored
    as the sum of its words' scores."""
    return (
        type(q) is wq.Phrase
        and q.fieldname in RANKED_FIELDS
        and q.slop == 1
        and q.boost == 1.0
        and len(q.words) > 0
        and all(isinstance(word, str) for word in q.words)
    )


def _phrase_words(q: Any) -> list[Word]:
    return [Word(q.fieldname, word) for word in q.words]


def _is_word(q: Any) -> bool:
    return type(q) is wq.Term and q.fieldname in RANKED_FIELDS and isinstance(q.text, str)


def _word(q: Any) -> Word:
    return Word(q.fieldname, q.text, q.boost)


def _any_words(q: Any) -> tuple[Word, ...] | None:
    """The words of a query that matches any of them: one word, or a plain OR of words."""
    if _is_word(q):
        return (_word(q),)
    if type(q) is wq.Or and q.boost == 1.0 and q.scale is None and all(_is_word(s) for s in q.subqueries):
        return tuple(_word(sub) for sub in q.subqueries)
    return None


def _bm25(idf: float, boost: float, weight: float, norm: float) -> float:
    """One word's share of a score, as Whoosh's `bm25()` times the word's boost computes it."""
    score = idf * ((weight * _K1_PLUS_1) / (weight + norm))
    return score * boost if boost != 1.0 else score


def _scored(idf: float, boost: float, ids: list[int], weights: Any, norms: list[float]) -> list[float]:
    """`_bm25` over a block's postings, in one comprehension (a call per posting cost a fifth of ranking)."""
    scores = [idf * ((w * _K1_PLUS_1) / (w + norms[d])) for d, w in zip(ids, weights, strict=True)]
    return [score * boost for score in scores] if boost != 1.0 else scores


def _kept(
    scores: Iterable[tuple[int, float]], dropped: AbstractSet[int], offset: int, allowed: set[int] | None
) -> dict[int, float]:
    """The (segment-local) scores of documents not dropped (deleted, excluded) and within the filter
    (global document numbers)."""
    return {d: s for d, s in scores if d not in dropped and (allowed is None or d + offset in allowed)}


def _offer(heap: list[tuple[float, int]], k: int, score: float, docnum: int) -> None:
    """Keep `heap` the k best (score, -docnum) pairs: ties go to the lower document, as in Whoosh."""
    item = (score, -docnum)
    if len(heap) < k:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


# --------------------------------------------------------------------------------------------- ranking


@dataclass
class _Segment:
    reader: Any
    offset: int
    deleted: frozenset[int]
    norms: dict[str, list[float]] = field(default_factory=dict)  # per field, per document
    blocks: dict[tuple[str, str], list[Block] | None] = field(default_factory=dict)  # per word
    cached_blocks: int = 0  # how many block headers `blocks` holds
    dates: list[int | None] | None = None  # per document: its date as Whoosh stores it, or None when dateless


class Ranker:
    """Ranks plans on one searcher (one per lease: it caches each segment's length norms)."""

    def __init__(self, searcher: Any) -> None:
        self._searcher = searcher
        self._segments: list[_Segment] | None = None
        self._avgfl: dict[str, float] = {}
        self._decoded: OrderedDict[tuple[int, int], tuple[Any, Any]] = OrderedDict()

    def top(self, plan: Plan, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]] | None:
        """The k best (document, score) pairs, best first; None when the index layout is not one this
        module reads (then Whoosh ranks)."""
        heap: list[tuple[float, int]] = []
        for segment in self._all_segments():
            if not plan.required:
                scores = self._scores(segment, plan, allowed)
                for local, score in (scores or {}).items():
                    _offer(heap, k, score, local + segment.offset)
                ok = scores is not None
            elif len(plan.required) == 1 and not plan.excluded and not plan.phrases:
                ok = self._top_one_word(segment, plan.required[0], k, allowed, heap)
            else:
                ok = self._top_all_words(segment, plan, k, allowed, heap)
            if not ok:
                return None
        return [(-negdoc, score) for score, negdoc in sorted(heap, reverse=True)]

    def leaf_matches(self, plan: Plan, allowed: set[int] | None = None) -> list[tuple[Any, list[int]]] | None:
        """Each segment's reader with the (segment-local) numbers of its matches, for counts and facets;
        None as in `top`."""
        found = []
        for segment in self._all_segments():
            scores = self._scores(segment, plan, allowed)
            if scores is None:
                return None
            found.append((segment.reader, sorted(scores)))
        return found

    def by_date(
        self, plan: Plan, k: int, allowed: set[int] | None = None, newest: bool = True
    ) -> list[tuple[int, None]] | None:
        """The first k matches by date (newest or oldest first; releases without a date last, ties by
        document number), as Whoosh's sort on the `dateless` and `date` columns orders them; None as
        in `top`."""
        keyed = []
        for segment in self._all_segments():
            scores = self._scores(segment, plan, allowed)
            if scores is None:
                return None
            dates, offset = self._dates(segment), segment.offset
            for local in scores:
                day = dates[local]
                if day is None:
                    keyed.append((True, 0, local + offset))
                else:
                    keyed.append((False, -day if newest else day, local + offset))
        return [(docnum, None) for _, _, docnum in heapq.nsmallest(k, keyed)]

    def _dates(self, segment: _Segment) -> list[int | None]:
        """Each document's date (Whoosh's stored long) or None, read once per segment."""
        if segment.dates is None:
            segment.dates = document_dates(segment.reader)
        return segment.dates

    # -- statistics

    def _all_segments(self) -> list[_Segment]:
        if self._segments is None:
            readers = [(s.reader(), offset) for s, offset in self._searcher.leaf_searchers()]
            # An empty index has one empty reader of another kind: it has nothing to rank.
            self._segments = [_Segment(r, o, r.deleted_docs_set) for r, o in readers if r.doc_count_all()]
        return self._segments

    def _norm(self, name: str, length: float) -> float:
        """BM25's length normalisation, written as Whoosh's `bm25()` computes it (same float results)."""
        if name not in self._avgfl:
            self._avgfl[name] = self._searcher.avg_field_length(name) or 1
        return BM25_K1 * ((1 - BM25_B) + BM25_B * length / self._avgfl[name])

    def _norms(self, segment: _Segment, name: str) -> list[float]:
        """Each document's length norm in a field, read once per segment from its lengths column."""
        norms = segment.norms.get(name)
        if norms is None:
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
            from whoosh.util.numeric import byte_to_length

            table = [self._norm(name, byte_to_length(b)) for b in range(256)]
            lengths = segment.reader._perdoc._cached_reader(_lenfield(name), LENGTHS_COLUMN)
            count = segment.reader.doc_count_all()
            norms = [table[b] for b in length_bytes(lengths, count)]
            segment.norms[name] = norms
        return norms

    def _decode(self, block: Block) -> tuple[Any, Any]:
        """A block's ids and weights, from a least-recently-used cache of decoded blocks: a query asks
        for a block again when it fetches deeper to fill a page after collapsing duplicates, and
        consecutive queries (an analyst refining one) share words. Arrays keep a block near 1.5 kB."""
        if block.inline is not None:
            return decode(block)
        key = (id(block.data[0]), block.data[1])
        found = self._decoded.get(key)
        if found is not None:
            self._decoded.move_to_end(key)
            return found
        ids, weights = decode(block)
        found = self._decoded[key] = (array("i", ids), array("d", weights))
        if len(self._decoded) > DECODED_CACHE_BLOCKS:
            self._decoded.popitem(last=False)
        return found

    def _blocks(self, segment: _Segment, word: Word) -> list[Block] | None:
        """A word's block headers in a segment, read once per searcher: reading them is a seek and an
        unpickle per block, and a query (or the next one, refining it) asks for the same words again."""
        key = (word.field, word.text)
        if key not in segment.blocks:
            blocks = read_blocks(segment.reader, word)
            segment.cached_blocks += len(blocks or ())
            if segment.cached_blocks > BLOCK_CACHE_BLOCKS:
                segment.blocks.clear()
                segment.cached_blocks = len(blocks or ())
            segment.blocks[key] = blocks
        return segment.blocks[key]

    def _idf(self, word: Word) -> float:
        return float(self._searcher.idf(word.field, word.text))

    # -- one segment

    def _top_one_word(
        self, segment: _Segment, word: Word, k: int, allowed: set[int] | None, heap: list[tuple[float, int]]
    ) -> bool:
        """Block-max top-k for one word: blocks in order of their best possible score, stopping when
        the next block's best cannot beat the k-th hit."""
        blocks = self._blocks(segment, word)
        if blocks is None:
            return False
        idf, boost, norms, offset = (
            self._idf(word),
            word.boost,
            self._norms(segment, word.field),
            segment.offset,
        )
        bounds = self._block_bounds(word, blocks)
        deleted = segment.deleted
        for bound, block in sorted(zip(bounds, blocks, strict=True), key=lambda pair: -pair[0]):
            if len(heap) == k and bound < heap[0][0]:
                break
            ids, weights = self._decode(block)
            scores = _scored(idf, boost, ids, weights, norms)
            floor = heap[0][0] if len(heap) == k else float("-inf")
            for local, score in zip(ids, scores, strict=True):
                if score >= floor and local not in deleted and (allowed is None or local + offset in allowed):
                    _offer(heap, k, score, local + offset)
                    if len(heap) == k:
                        floor = heap[0][0]
        return True

    def _top_all_words(
        self, segment: _Segment, plan: Plan, k: int, allowed: set[int] | None, heap: list[tuple[float, int]]
    ) -> bool:
        """Block-max top-k for words that must all match. The rarest word's blocks split the documents
        into ranges; a range's bound is its block's best score plus, for each other word, the best
        bound among that word's blocks overlapping the range (block headers only). Ranges are scored
        in order of their bound, stopping when the next cannot beat the k-th hit. On the benchmark's
        queries the bounds are loose (block maxima of common words sit near BM25's ceiling) and only
        27 of 5,155 ranges were skipped: the gain is that the best ranges come first, so phrases are
        checked for few documents. (A bound per candidate document was tried too: thousands of
        candidates still needed scoring, and it was slower than intersecting everything.)"""
        lists = self._rarest_first(segment, plan.required)
        excluded = self._any_of(segment, plan.excluded)
        if lists is None or excluded is None:
            return False
        (rarest, rarest_blocks), offset = lists[0], segment.offset
        others = [
            (word, blocks, [b.max_id for b in blocks], self._block_bounds(word, blocks))
            for word, blocks in lists[1:]
        ]
        dropped = segment.deleted | excluded.keys()
        phrases = (
            Phrases(segment.reader, plan.phrases, partial(self._blocks, segment)) if plan.phrases else None
        )
        ranges = []
        low = 0
        for block, bound in zip(rarest_blocks, self._block_bounds(rarest, rarest_blocks), strict=True):
            firsts = []
            for _, blocks, max_ids, bounds in others:
                first, last = bisect_left(max_ids, low), bisect_left(max_ids, block.max_id)
                if first == len(blocks):
                    bound = float("-inf")  # the other word ends before this range: nothing matches here
                    break
                bound += max(bounds[first : last + 1])
                firsts.append(first)
            ranges.append((bound, block, firsts))
            low = block.max_id + 1
        for bound, block, firsts in sorted(ranges, key=lambda item: -item[0]):
            if bound == float("-inf") or (len(heap) == k and bound < heap[0][0]):
                break
            ids, weights = self._decode(block)
            contributions = zip(ids, self._contributions(segment, rarest, ids, weights), strict=True)
            scores = _kept(contributions, dropped, offset, allowed)
            for (word, blocks, _, _), first in zip(others, firsts, strict=True):
                if not scores:
                    break
                scores = self._intersect(segment, scores, blocks, word, first)
            # Best first, so that phrases are checked only for documents that can still make the top k.
            for local, score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
                if len(heap) == k and (score, -(local + offset)) < heap[0]:
                    break
                if phrases is None or phrases.hold(local):
                    _offer(heap, k, score, local + offset)
        return True

    def _block_bounds(self, word: Word, blocks: list[Block]) -> list[float]:
        """The most a document of each block can score for `word` (widened for float32 rounding)."""
        idf, boost = self._idf(word), word.boost
        return [
            _bm25(idf, boost, b.max_weight, self._norm(word.field, b.min_length)) * _TOLERANCE for b in blocks
        ]

    def _scores(
        self, segment: _Segment, plan: Plan, allowed: set[int] | None, check_phrases: bool = True
    ) -> dict[int, float] | None:
        """Every match of the plan in a segment with its score (segment-local document numbers); with
        `check_phrases` false, phrases are only required to have all their words (the caller checks)."""
        if plan.required:
            local = self._all_of(segment, plan.required)
        else:
            local = self._any_of(segment, plan.optional)
        excluded = self._any_of(segment, plan.excluded)
        if local is None or excluded is None:  # (phrase words are required words: read already)
            return None
        kept = _kept(local.items(), segment.deleted | excluded.keys(), segment.offset, allowed)
        if plan.phrases and check_phrases:
            phrases = Phrases(segment.reader, plan.phrases, partial(self._blocks, segment))
            kept = {d: s for d, s in kept.items() if phrases.hold(d)}
        return kept

    def _contributions(self, segment: _Segment, word: Word, ids: list[int], weights: Any) -> list[float]:
        return _scored(self._idf(word), word.boost, ids, weights, self._norms(segment, word.field))

    def _any_of(self, segment: _Segment, words: tuple[Word, ...]) -> dict[int, float] | None:
        scores: dict[int, float] = {}
        for word in words:
            blocks = self._blocks(segment, word)
            if blocks is None:
                return None
            for block in blocks:
                ids, weights = self._decode(block)
                for d, s in zip(ids, self._contributions(segment, word, ids, weights), strict=True):
                    scores[d] = scores.get(d, 0.0) + s
        return scores

    def _all_of(self, segment: _Segment, words: tuple[Word, ...]) -> dict[int, float] | None:
        """Intersect the words' postings, rarest first; a later word's block is decoded only when it
        may hold one of the documents still in the running."""
        lists = self._rarest_first(segment, words)
        if lists is None:
            return None
        first, blocks = lists[0]
        scores: dict[int, float] = {}
        for block in blocks:
            ids, weights = self._decode(block)
            scores.update(zip(ids, self._contributions(segment, first, ids, weights), strict=True))
        for word, blocks in lists[1:]:
            if not scores:
                break
            scores = self._intersect(segment, scores, blocks, word)
        return scores

    def _rarest_first(
        self, segment: _Segment, words: tuple[Word, ...]
    ) -> list[tuple[Word, list[Block]]] | None:
        """The words with their blocks, fewest postings first (None when one cannot be read here)."""
        lists = []
        for word in words:
            blocks = self._blocks(segment, word)
            if blocks is None:
                return None
            lists.append((word, blocks))
        return sorted(lists, key=lambda item: sum(b.count for b in item[1]))

    def _intersect(
        self, segment: _Segment, scores: dict[int, float], blocks: list[Block], word: Word, first: int = 0
    ) -> dict[int, float]:
        """The candidates in `scores` that hold `word` too, its score added; blocks before `first` are
        known to end before the first candidate."""
        candidates = sorted(scores)
        idf, boost, norms = self._idf(word), word.boost, self._norms(segment, word.field)
        kept: dict[int, float] = {}
        low = blocks[first - 1].max_id + 1 if first else 0
        for block in blocks[first:]:
            if low > candidates[-1]:
                break
            start, end = bisect_left(candidates, low), bisect_right(candidates, block.max_id)
            low = block.max_id + 1
            if start == end:
                continue
            ids, weights = self._decode(block)
            here = dict(zip(ids, weights, strict=True))
            # `_bm25` written out: a call per candidate cost a third of intersecting.
            if boost == 1.0:
                kept.update(
                    (d, scores[d] + idf * ((w * _K1_PLUS_1) / (w + norms[d])))
                    for d in candidates[start:end]
                    if (w := here.get(d)) is not None
                )
            else:
                kept.update(
                    (d, scores[d] + idf * ((w * _K1_PLUS_1) / (w + norms[d])) * boost)
                    for d in candidates[start:end]
                    if (w := here.get(d)) is not None
                )
        return kept
