"""Ranking queries of words straight from the index's postings, with the same BM25F scores.

Whoosh ranks through a tree of matcher objects: several Python calls per posting per query word, which
was most of our query time (BENCHMARKS.md). Most readings are words, though: the query's words (at
least `min_optional` of them), maybe `"phrases"`, `title:`/`issuer:` words, explicit ORs of words, some
`-word`s. Those are ranked here: each word's postings in a segment are read whole into arrays
(`vectors`), scored against the segment's length norms, intersected or summed at C speed, and only
the few releases that can make the page reach Python (`TopK`), phrases checked on those, best first.
Anything else (sloppy phrases, nested groups, other fields) is left to Whoosh: `plan_for` says which.

The scores are the ones `scoring.Weighting` gives Whoosh's matchers, by the same arithmetic (tests compare
both paths on the same index), so the choice of path never changes a ranking. Ties: every document
whose score equals the k-th best is kept beyond k, so that the caller can order ties by a stable key.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from functools import partial
from operator import itemgetter
from typing import Any

import numpy as np
from whoosh import query as wq

from . import vectors
from .postings import Phrases, Word, document_dates
from .scoring import Params, SearcherStatistics, Statistics, idf, length_norm
from .whoosh_internals import Block, field_lengths
from .whoosh_internals import blocks as read_blocks

# The fields whose words are ranked here: Whoosh TEXT fields, scored by BM25F with their lengths.
RANKED_FIELDS = frozenset({"text", "title", "issuer"})
# Match sets a searcher keeps (its last few plans'), so that a search's hits, counts and facets share one.
MATCHES_KEPT = 4
# Block headers a searcher keeps per segment (about 280 bytes each: 14 MB at most); a common word has
# hundreds of blocks, a rare one a few.
BLOCK_CACHE_BLOCKS = 50_000
_TOLERANCE = 1 + 1e-6
"""A block's bound uses its max weight as stored (float64) while postings hold float32 weights: the
bound is widened by this factor so that rounding can never skip a block that holds a top hit."""

Item = tuple[Word, ...]
"""One word of a query as the terms that stand for it: a release holds the word when it holds any of
them, and scores the sum of those it holds (a wildcard's terms, an explicit OR of words)."""


@dataclass(frozen=True)
class Plan:
    """A reading reduced to words: every `required` item, at least `min_optional` of the `optional`
    items (the query's bare words), none of `excluded`; the words of each of `phrases` (all of them in
    `required` too) next to each other."""

    required: tuple[Item, ...] = ()
    optional: tuple[Item, ...] = ()
    min_optional: int = 0
    excluded: tuple[Word, ...] = ()
    phrases: tuple[tuple[Word, ...], ...] = ()

    def loosest(self) -> Plan:
        """Any release holding one optional word, or only the required items when there are some."""
        return replace(self, min_optional=0 if self.required or not self.optional else 1)

    def with_min(self, count: int) -> Plan:
        return replace(self, min_optional=count)

    def any_words(self) -> tuple[Word, ...] | None:
        """The words of a plan any one of which makes a match (single words, nothing required)."""
        if self.required or self.phrases or self.min_optional != 1 or not self.optional:
            return None
        if any(len(item) != 1 for item in self.optional):
            return None
        return tuple(item[0] for item in self.optional)

    def all_words(self) -> tuple[Word, ...] | None:
        """The words every match holds, when a match is exactly "all of these single words"."""
        items = self.required + (self.optional if self.min_optional >= len(self.optional) else ())
        if self.optional and self.min_optional < len(self.optional):
            return None
        if not items or any(len(item) != 1 for item in items):
            return None
        return tuple(item[0] for item in items)


def plan_for(reading: Any) -> Plan | None:
    """The plan of a reading made only of words, "exact phrases" and ORs of words; None for anything
    else (then Whoosh ranks it)."""
    optional = [_item(q) for q in reading.words]
    required: list[Item | None] = []
    phrases = []
    for q in reading.required:
        if _is_phrase(q):
            words = tuple(Word(q.fieldname, w) for w in q.words)
            phrases.append(words)
            required.extend((word,) for word in words)
        else:
            required.append(_item(q))
    excluded = [_item(q, any_field=True) for q in reading.excluded]
    if any(item is None for item in (*optional, *required, *excluded)) or reading.everything:
        return None
    return Plan(
        required=tuple(item for item in required if item is not None),
        optional=tuple(item for item in optional if item is not None),
        min_optional=reading.min_words,
        excluded=tuple(word for item in excluded if item is not None for word in item),
        phrases=tuple(phrases),
    )


def _item(q: Any, any_field: bool = False) -> Item | None:
    """A word, or an OR of words (boosts multiplied through), as an item; None for anything else.
    Excluded words (`any_field`) are only looked up, never scored: they may be of any field."""
    if _is_word(q, any_field):
        return (Word(q.fieldname, q.text, q.boost),)
    if type(q) is wq.Or and q.scale is None and all(_is_word(sub, any_field) for sub in q.subqueries):
        return tuple(Word(sub.fieldname, sub.text, sub.boost * q.boost) for sub in q.subqueries)
    return None


def _is_word(q: Any, any_field: bool = False) -> bool:
    return type(q) is wq.Term and (any_field or q.fieldname in RANKED_FIELDS) and isinstance(q.text, str)


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


TIE = 1e-9
"""Scores closer than this are equal, and ordered by the caller's stable key (`searching.tied`). A
release's score is a sum of its words' shares whose last bits depend on the order they were added, which
differs between paths, segments and shards; float32 weights and one-byte lengths cannot tell anything
near this apart."""


class TopK:
    """The k best (score, document) pairs, plus every other document tied with the k-th best score."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.heap: list[tuple[float, int]] = []
        self.ties: list[tuple[float, int]] = []

    def full(self) -> bool:
        return len(self.heap) == self.k

    def floor(self) -> float:
        """The score a document needs to be kept (a tie of the k-th best so far), -inf until k are."""
        return self.heap[0][0] - TIE if len(self.heap) == self.k else float("-inf")

    def offer(self, score: float, docnum: int) -> None:
        heap = self.heap
        item = (score, -docnum)
        if len(heap) < self.k:
            heapq.heappush(heap, item)
            return
        low = heap[0][0]
        if score > low:
            out = heapq.heapreplace(heap, item)
            floor = heap[0][0] - TIE
            if self.ties and heap[0][0] > low:
                self.ties = [tie for tie in self.ties if tie[0] >= floor]
            if out[0] >= floor:
                self.ties.append(out)
        elif score >= low - TIE:
            self.ties.append(item)

    def result(self) -> list[tuple[int, float]]:
        """Best first; equal scores by document number (the caller orders ties by a stable key)."""
        return [(-negdoc, score) for score, negdoc in sorted(self.heap + self.ties, reverse=True)]


def best_of(segments: Iterable[tuple[int, dict[int, float]]], k: int) -> list[tuple[int, float]]:
    """The k best of the scored documents of several segments (offset, local scores), and any tied
    with the k-th, best first (equal scores by document number): `heapq.nlargest` on each segment's
    own dict, no list of every match built."""
    segments = list(segments)
    best: list[tuple[float, int]] = []
    for offset, scores in segments:
        top = heapq.nlargest(k, scores.items(), key=itemgetter(1))
        best.extend((score, -(local + offset)) for local, score in top)
    best = heapq.nlargest(k, best)
    if len(best) < k:
        return [(-negdoc, score) for score, negdoc in best]
    floor = best[-1][0] - TIE
    chosen = {-negdoc for _, negdoc in best}
    for offset, scores in segments:
        best.extend((s, -(d + offset)) for d, s in scores.items() if s >= floor and d + offset not in chosen)
    return [(-negdoc, score) for score, negdoc in sorted(best, reverse=True)]


# --------------------------------------------------------------------------------------------- ranking


@dataclass
class _Segment:
    reader: Any
    offset: int
    deleted: frozenset[int]
    norms: dict[str, list[float]] = field(default_factory=dict)  # per field, per document
    blocks: dict[tuple[str, str], list[Block] | None] = field(default_factory=dict)  # per word
    cached_blocks: int = 0  # how many block headers `blocks` holds
    dates: list[int | None] | None = None  # per document: its date as Whoosh stores it, or None
    norm_arrays: dict[str, Any] = field(default_factory=dict)  # `norms` as numpy arrays
    deleted_mask: Any = None  # `deleted` as a numpy mask over the segment
    date_arrays: tuple[Any, Any] | None = None  # `dates` as numpy arrays (day or 0, whether dated)


class Ranker:
    """Ranks plans on one searcher (one per lease: it caches each segment's length norms and blocks).

    `statistics` are the collection statistics to score with: the searcher's own by default, all
    shards' for a shard of a sharded index."""

    def __init__(
        self, searcher: Any, params: Params | None = None, statistics: Statistics | None = None
    ) -> None:
        self._searcher = searcher
        self._params = params or Params.default()
        self._stats = statistics or SearcherStatistics(searcher)
        self._segments: list[_Segment] | None = None
        self._avgfl: dict[str, float] = {}
        self._idfs: dict[tuple[str, str], float] = {}
        self._matches: OrderedDict[tuple[Plan, int], tuple[Any, list[Any]]] = OrderedDict()
        self._postings_cache = vectors.PostingsCache()
        # The last few filters: each as an array of (global) numbers, and its mask over each segment.
        self._allowed: OrderedDict[int, tuple[AbstractSet[int], Any, dict[int, Any]]] = OrderedDict()

    # -- the three questions a search asks

    def top(
        self, plan: Plan, k: int, allowed: AbstractSet[int] | None = None, at_least: float | None = None
    ) -> list[tuple[int, float]] | None:
        """The k best (document, score) pairs and any tied with the k-th, best first; None when the
        index layout is not one this module reads (then Whoosh ranks).

        `at_least`: a score the k-th best is known to reach (k documents are known to score as much),
        which lets a plan of any-of-these-words skip what cannot reach it."""
        words = plan.all_words()
        floor = float("-inf")
        if words is None and at_least is not None and plan.any_words() is not None:
            floor = at_least - TIE  # any of these words: none below the k-th best known
        elif words is None:  # every match is scored anyway (for the counts): the best of them
            found = self.matches(plan, allowed)
            if found is None:
                return None
            return best_of(((offset, scores) for _, offset, scores in found), k)
        top = TopK(k)
        for segment in self._all_segments():
            if not self._top_matches(segment, plan, allowed, top, floor):
                return None
        return top.result()

    def matches(
        self, plan: Plan, allowed: AbstractSet[int] | None = None
    ) -> list[tuple[Any, int, dict[int, float]]] | None:
        """Each segment's reader and offset with its matches' (segment-local) scores; None as in `top`.

        The last few answers are kept: a search asks for the same plan's matches for its hits, its
        counts and its facets."""
        key = (plan, id(allowed))
        kept = self._matches.get(key)
        if kept is not None and kept[0] is allowed:
            self._matches.move_to_end(key)
            return kept[1]
        found = []
        for segment in self._all_segments():
            scores = self._scores(segment, plan, allowed)
            if scores is None:
                return None
            found.append((segment.reader, segment.offset, scores))
        self._matches[key] = (allowed, found)  # (the set kept alive, so that its id stays its own)
        if len(self._matches) > MATCHES_KEPT:
            self._matches.popitem(last=False)
        return found

    def by_date(
        self, plan: Plan, k: int, allowed: AbstractSet[int] | None = None, newest: bool = True
    ) -> list[tuple[int, float]] | None:
        """The first k matches by date (newest or oldest first; releases without a date last, equal
        dates by document), with their scores, and any tied with the k-th on date; None as in `top`.
        Phrases are checked in that order, only until the list is full."""
        parts = []
        for number, segment in enumerate(self._all_segments()):
            found = self._score_arrays(segment, plan, allowed)
            if found is None:
                return None
            ids, scores = found
            days, dated = self._date_arrays(segment)
            day = np.where(dated[ids], -days[ids] if newest else days[ids], 0)
            parts.append((ids, ids + segment.offset, scores, ~dated[ids], day, np.full(len(ids), number)))
        if not parts:
            return []
        table = [np.concatenate(column) for column in zip(*parts, strict=True)]
        order = np.lexsort((table[1], table[4], table[3]))  # undated last, then the day, then the number
        phrases = [self._phrases(segment, plan) for segment in self._all_segments()]
        found_list: list[tuple[int, float]] = []
        last: tuple[bool, int] | None = None
        for start in range(0, len(order), vectors.OFFER_CHUNK):
            chunk = order[start : start + vectors.OFFER_CHUNK]
            rows = zip(*(column[chunk].tolist() for column in table), strict=True)
            for local, docnum, score, no_date, key, segment_number in rows:
                if len(found_list) >= k and (no_date, key) != last:
                    return found_list
                check = phrases[segment_number]
                if check is None or check.hold(local):
                    found_list.append((docnum, score))
                    last = (no_date, key)
        return found_list

    def holders(self, item: Item, among: Sequence[int] | None = None) -> set[int] | None:
        """Every (global) document that holds one of the item's words, deleted ones left out; with
        `among`, only which of those documents do (the blocks that may hold them are all it decodes)."""
        found: set[int] = set()
        for segment in self._all_segments():
            if among is None:
                held = self._holders_of(segment, item)
                local = None if held is None else set(held.tolist())
            else:
                local = self._local_holders_among(segment, item, among)
            if local is None:
                return None
            found.update(d + segment.offset for d in local - segment.deleted)
        return found

    def _local_holders_among(self, segment: _Segment, item: Item, among: Sequence[int]) -> set[int] | None:
        size = segment.reader.doc_count_all()
        wanted = np.unique(np.fromiter((d - segment.offset for d in among), np.int64, len(among)))
        wanted = wanted[(wanted >= 0) & (wanted < size)]
        found: set[int] = set()
        for word in item if len(wanted) else ():
            postings = self._arrays(segment, word)
            if postings is None:
                return None
            held, _ = vectors.positions_in(wanted, postings.ids)
            found.update(wanted[held].tolist())
        return found

    def phrase_holds(self, words: tuple[Word, ...], docnum: int) -> bool:
        """Does the document hold the words next to each other, in order?"""
        for segment in self._all_segments():
            local = docnum - segment.offset
            if 0 <= local < segment.reader.doc_count_all():
                return Phrases(segment.reader, (words,), partial(self._blocks, segment)).hold(local)
        return False

    def best_score(self, item: Item) -> float | None:
        """The most any document can score for the item (its words' best blocks summed): a bound."""
        total = 0.0
        for word in item:
            best = 0.0
            for segment in self._all_segments():
                blocks = self._blocks(segment, word)
                if blocks is None:
                    return None
                best = max([best, *self._block_bounds(word, blocks)])
            total += best
        return total

    def dates(self) -> list[tuple[int, list[int | None]]]:
        """Each segment's offset with its documents' dates (for ordering ties)."""
        return [(segment.offset, self._dates(segment)) for segment in self._all_segments()]

    # -- statistics

    def _date_arrays(self, segment: _Segment) -> tuple[Any, Any]:
        """Each document's date (0 when it has none) and whether it has one, as arrays."""
        if segment.date_arrays is None:
            dates = self._dates(segment)
            days = np.fromiter((day or 0 for day in dates), np.int64, len(dates))
            dated = np.fromiter((day is not None for day in dates), bool, len(dates))
            segment.date_arrays = (days, dated)
        return segment.date_arrays

    def _dates(self, segment: _Segment) -> list[int | None]:
        """Each document's date (Whoosh's stored long) or None, read once per segment."""
        if segment.dates is None:
            segment.dates = document_dates(segment.reader)
        return segment.dates

    def _all_segments(self) -> list[_Segment]:
        if self._segments is None:
            readers = [(s.reader(), offset) for s, offset in self._searcher.leaf_searchers()]
            # An empty index has one empty reader of another kind: it has nothing to rank.
            self._segments = [_Segment(r, o, r.deleted_docs_set) for r, o in readers if r.doc_count_all()]
        return self._segments

    def _norm(self, name: str, length: float) -> float:
        if name not in self._avgfl:
            self._avgfl[name] = self._stats.average_length(name)
        return length_norm(self._params, length, self._avgfl[name])

    def _norms(self, segment: _Segment, name: str) -> list[float]:
        """Each document's length norm in a field, read once per segment from its lengths column."""
        norms = segment.norms.get(name)
        if norms is None:
            cache: dict[float, float] = {}
            norms = []
            for length in field_lengths(segment.reader, name):
                norm = cache.get(length)
                if norm is None:
                    norm = cache[length] = self._norm(name, length)
                norms.append(norm)
            segment.norms[name] = norms
        return norms

    def _blocks(self, segment: _Segment, word: Word) -> list[Block] | None:
        """A word's block headers in a segment, read once per searcher: reading them is a seek and an
        unpickle per block, and a query (or the next one, refining it) asks for the same words again."""
        key = (word.field, word.text)
        if key not in segment.blocks:
            blocks = read_blocks(segment.reader, word.field, word.text)
            segment.cached_blocks += len(blocks or ())
            if segment.cached_blocks > BLOCK_CACHE_BLOCKS:
                segment.blocks.clear()
                segment.cached_blocks = len(blocks or ())
            segment.blocks[key] = blocks
        return segment.blocks[key]

    def _idf(self, word: Word) -> float:
        key = (word.field, word.text)
        found = self._idfs.get(key)
        if found is None:
            stats = self._stats
            found = self._idfs[key] = idf(stats.doc_count(), stats.doc_frequency(word.field, word.text))
        return found

    # -- scoring a block

    def _scored(self, segment: _Segment, word: Word, ids: Any, weights: Any) -> list[float]:
        """The word's score for each posting of a block, in one comprehension (a call per posting cost
        a fifth of ranking); the arithmetic of `scoring.bm25`, written out."""
        term_idf, boost, norms = self._idf(word), word.boost, self._norms(segment, word.field)
        k1_plus_1 = self._params.k1 + 1
        scores = [term_idf * ((w * k1_plus_1) / (w + norms[d])) for d, w in zip(ids, weights, strict=True)]
        return [score * boost for score in scores] if boost != 1.0 else scores

    def _block_bounds(self, word: Word, blocks: list[Block]) -> list[float]:
        """The most a document of each block can score for `word` (widened for float32 rounding)."""
        term_idf, boost, k1_plus_1 = self._idf(word), word.boost, self._params.k1 + 1
        bounds = []
        for b in blocks:
            w = b.max_weight
            score = term_idf * ((w * k1_plus_1) / (w + self._norm(word.field, b.min_length)))
            bounds.append((score * boost if boost != 1.0 else score) * _TOLERANCE)
        return bounds

    # -- one segment

    def _top_matches(
        self, segment: _Segment, plan: Plan, allowed: AbstractSet[int] | None, top: TopK, at_least: float
    ) -> bool:
        """Top-k of a plan's matches in a segment, none scoring below `at_least` (every match scored at
        C speed, `_score_arrays`): only those that can make it reach `top`, phrases checked best first,
        only until the next release cannot reach the k-th hit."""
        found = self._score_arrays(segment, plan, allowed)
        if found is None:
            return False
        self._offer(segment, top, *found, self._phrases(segment, plan), at_least)
        return True

    # -- ranking at C speed (`vectors`)

    def _arrays(self, segment: _Segment, word: Word) -> vectors.Postings | None:
        """A word's postings in a segment as arrays, read once per searcher (None: a layout not read
        here)."""
        key = (segment.offset, word.field, word.text)
        found = self._postings_cache.get(key)
        if found is None:
            read = partial(self._blocks, segment, word)
            found = vectors.read_postings(segment.reader, word.field, word.text, read)
            if found is not None:
                self._postings_cache.put(key, found)
        return found

    def _rarest_arrays(
        self, segment: _Segment, words: tuple[Word, ...]
    ) -> list[tuple[Word, vectors.Postings]] | None:
        """The words with their postings, fewest first (None when one cannot be read here)."""
        lists = []
        for word in words:
            found = self._arrays(segment, word)
            if found is None:
                return None
            lists.append((word, found))
        return sorted(lists, key=lambda item: len(item[1].ids))

    def _vector_scores(self, segment: _Segment, word: Word, postings: vectors.Postings) -> Any:
        norms = segment.norm_arrays.get(word.field)
        if norms is None:
            norms = segment.norm_arrays[word.field] = np.asarray(self._norms(segment, word.field))
        k1_plus_1 = self._params.k1 + 1
        return vectors.bm25(postings.weights, norms[postings.ids], self._idf(word), k1_plus_1, word.boost)

    def _kept(
        self, segment: _Segment, ids: Any, scores: Any, excluded: Any, allowed: AbstractSet[int] | None
    ) -> tuple[Any, Any]:
        """The releases not deleted, not `excluded` (an array of local numbers) and (with a filter)
        allowed, with their scores: each looked up in a mask the size of the segment."""
        size = segment.reader.doc_count_all()
        mask = None
        if segment.deleted or len(excluded):
            if segment.deleted_mask is None:
                segment.deleted_mask = vectors.mask_of(segment.deleted, size)
            dropped = segment.deleted_mask
            if len(excluded):
                dropped = dropped | vectors.mask_of(excluded, size)
            mask = ~dropped[ids]
        if allowed is not None:
            inside = self._allowed_mask(segment, allowed)[ids]
            mask = inside if mask is None else mask & inside
        return (ids, scores) if mask is None else (ids[mask], scores[mask])

    def _allowed_mask(self, segment: _Segment, allowed: AbstractSet[int]) -> Any:
        """A filter's (global) documents as a mask over one segment; the last few filters' masks are
        kept: a search asks for the same filter's in each segment and for its page, fill and counts."""
        kept = self._allowed.get(id(allowed))
        if kept is None or kept[0] is not allowed:
            kept = self._allowed[id(allowed)] = (allowed, np.fromiter(allowed, np.int64, len(allowed)), {})
            if len(self._allowed) > MATCHES_KEPT:
                self._allowed.popitem(last=False)
        masks = kept[2]
        if segment.offset not in masks:
            masks[segment.offset] = vectors.mask_of(kept[1] - segment.offset, segment.reader.doc_count_all())
        return masks[segment.offset]

    def _offer(
        self,
        segment: _Segment,
        top: TopK,
        ids: Any,
        scores: Any,
        phrases: Phrases | None = None,
        at_least: float = float("-inf"),
    ) -> None:
        """Offer `top` the releases that can make it (none below `at_least`): with phrases to check,
        best first until one cannot reach the k-th hit; else those the k-th best score admits."""
        offset = segment.offset
        if phrases is None:
            chosen = vectors.best(scores, top.k, max(top.floor(), at_least), TIE)
            for local, score in zip(ids[chosen].tolist(), scores[chosen].tolist(), strict=True):
                top.offer(score, local + offset)
            return
        order = vectors.best_first(ids, scores)
        for start in range(0, len(order), vectors.OFFER_CHUNK):
            chunk = order[start : start + vectors.OFFER_CHUNK]
            for local, score in zip(ids[chunk].tolist(), scores[chunk].tolist(), strict=True):
                if score < max(top.floor(), at_least):
                    return
                if phrases.hold(local):
                    top.offer(score, local + offset)

    def _scores(
        self, segment: _Segment, plan: Plan, allowed: AbstractSet[int] | None
    ) -> dict[int, float] | None:
        """Every match of the plan in a segment with its score (segment-local document numbers)."""
        found = self._score_arrays(segment, plan, allowed)
        if found is None:
            return None
        kept = dict(zip(found[0].tolist(), found[1].tolist(), strict=True))
        phrases = self._phrases(segment, plan)
        return kept if phrases is None else {d: s for d, s in kept.items() if phrases.hold(d)}

    def _score_arrays(
        self, segment: _Segment, plan: Plan, allowed: AbstractSet[int] | None
    ) -> tuple[Any, Any] | None:
        """The plan's matches in a segment (by local number, ascending) with their scores, phrases
        not yet checked."""
        words = plan.all_words()
        if words is not None:
            found = self._all_of(segment, words)
        elif plan.required:
            found = self._with_optional(segment, plan)
        else:
            found = self._any_items(segment, plan.optional, plan.min_optional)
        excluded = self._holders_of(segment, plan.excluded)
        if found is None or excluded is None:
            return None
        return self._kept(segment, *found, excluded, allowed)

    def _phrases(self, segment: _Segment, plan: Plan) -> Phrases | None:
        """The check of a plan's phrases in a segment (None: it has none)."""
        if not plan.phrases:
            return None
        return Phrases(segment.reader, plan.phrases, partial(self._blocks, segment))

    def _all_of(self, segment: _Segment, words: tuple[Word, ...]) -> tuple[Any, Any] | None:
        """The releases holding every word, with their scores: the rarest word's, cut to those holding
        each other word in turn (rarest first) as each word's score is added."""
        lists = self._rarest_arrays(segment, words)
        if lists is None:
            return None
        (rarest, found), *others = lists
        ids, scores = found.ids, self._vector_scores(segment, rarest, found)
        for word, other in others:
            if not len(ids):
                break
            held, at = vectors.positions_in(ids, other.ids)
            ids = ids[held]
            scores = scores[held] + self._vector_scores(
                segment, word, vectors.Postings(ids, other.weights[at])
            )
        return ids, scores

    def _with_optional(self, segment: _Segment, plan: Plan) -> tuple[Any, Any] | None:
        """Releases holding every required item, with at least `min_optional` optional items (whose
        scores they add): required items rarest first, each item's score added in turn, as sums over
        the segment (adding 0.0 where an item is not held changes no score). A few arrays the size of
        the segment at a time, however many items the query has."""
        sizes = [self._item_postings(segment, item) for item in plan.required]
        if None in sizes:
            return None
        size = segment.reader.doc_count_all()
        held, totals = np.ones(size, bool), np.zeros(size)
        for _, item in sorted(zip(sizes, plan.required, strict=True), key=itemgetter(0)):
            found = self._item(segment, item)
            if found is None:
                return None
            held &= found[0]
            totals += found[1]
        counts = np.zeros(size, np.int32)
        for item in plan.optional:
            found = self._item(segment, item)
            if found is None:
                return None
            totals += found[1]
            counts += found[0]
        if plan.min_optional > 0 and plan.optional:
            held &= counts >= plan.min_optional
        ids = np.flatnonzero(held)
        return ids, totals[ids]

    def _any_items(self, segment: _Segment, items: tuple[Item, ...], need: int) -> tuple[Any, Any] | None:
        """Releases holding at least `need` of the items (any one when `need` <= 1), with their scores:
        every word held counts, an item held counts once towards `need`."""
        size = segment.reader.doc_count_all()
        held, totals, counts = np.zeros(size, bool), np.zeros(size), np.zeros(size, np.int32)
        for item in items:
            found = self._item(segment, item, totals)
            if found is None:
                return None
            held |= found[0]
            counts += found[0]
        if need > 1:
            held &= counts >= need
        ids = np.flatnonzero(held)
        return ids, totals[ids]

    def _item(self, segment: _Segment, item: Item, totals: Any = None) -> tuple[Any, Any] | None:
        """Which releases hold any of an item's words, and their words' scores summed (into `totals`
        when given)."""
        size = segment.reader.doc_count_all()
        held = np.zeros(size, bool)
        totals = np.zeros(size) if totals is None else totals
        for word in item:
            found = self._arrays(segment, word)
            if found is None:
                return None
            totals[found.ids] += self._vector_scores(segment, word, found)
            held[found.ids] = True
        return held, totals

    def _item_postings(self, segment: _Segment, item: Item) -> int | None:
        """How many postings an item's words have in a segment (None: one cannot be read here)."""
        lists = [self._arrays(segment, word) for word in item]
        return None if None in lists else sum(len(found.ids) for found in lists if found is not None)

    def _holders_of(self, segment: _Segment, words: Iterable[Word]) -> Any:
        """The segment's documents holding any of the words (deleted ones included), as an array that
        may repeat a document; no scoring. None when one cannot be read here."""
        found = [np.zeros(0, np.int64)]
        for word in words:
            postings = self._arrays(segment, word)
            if postings is None:
                return None
            found.append(postings.ids)
        return np.concatenate(found)
