"""Ranking queries of words straight from Whoosh's posting blocks, with the same BM25F scores.

Whoosh ranks through a tree of matcher objects: several Python calls per posting per query word, and on
the corpus its block skipping rarely fired, so that tree was most of our query time (BENCHMARKS.md).
Most readings are words, though: the query's words (at least `min_optional` of them), maybe
`"phrases"`, `title:`/`issuer:` words, explicit ORs of words, some `-word`s. Those are ranked here from
the blocks `whoosh_internals` reads: a block's postings are scored in one comprehension against a
per-document table of length norms, and a block whose best possible score cannot enter the top k is
never decoded (block-max, exact). Anything else (sloppy phrases, nested groups, other fields) is left to
Whoosh: `plan_for` says which.

The scores are the ones `scoring.Weighting` gives Whoosh's matchers, by the same arithmetic (tests compare
both paths on the same index), so the choice of path never changes a ranking. Ties: every document
whose score equals the k-th best is kept beyond k, so that the caller can order ties by a stable key.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from functools import partial
from operator import itemgetter
from typing import Any

from whoosh import query as wq

from .postings import Phrases, Word, document_dates
from .scoring import Params, SearcherStatistics, Statistics, idf, length_norm
from .whoosh_internals import Block, decode, field_lengths
from .whoosh_internals import blocks as read_blocks

# The fields whose words are ranked here: Whoosh TEXT fields, scored by BM25F with their lengths.
RANKED_FIELDS = frozenset({"text", "title", "issuer"})
# Decoded blocks a searcher keeps (about 1.8 kB each: 15 MB at most).
DECODED_CACHE_BLOCKS = 8192
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


def _kept(
    scores: Iterable[tuple[int, float]],
    dropped: AbstractSet[int],
    offset: int,
    allowed: AbstractSet[int] | None,
) -> dict[int, float]:
    """The (segment-local) scores of documents not dropped (deleted, excluded) and within the filter
    (global document numbers)."""
    return {d: s for d, s in scores if d not in dropped and (allowed is None or d + offset in allowed)}


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
        self._decoded: OrderedDict[tuple[int, int], tuple[Any, Any]] = OrderedDict()
        self._matches: OrderedDict[tuple[Plan, int], tuple[Any, list[Any]]] = OrderedDict()

    # -- the three questions a search asks

    def top(
        self, plan: Plan, k: int, allowed: AbstractSet[int] | None = None, at_least: float | None = None
    ) -> list[tuple[int, float]] | None:
        """The k best (document, score) pairs and any tied with the k-th, best first; None when the
        index layout is not one this module reads (then Whoosh ranks).

        `at_least`: a score the k-th best is known to reach (k documents are known to score as much),
        which lets a plan of any-of-these-words skip what cannot reach it."""
        words = plan.all_words()
        if words is None and at_least is not None and (any_words := plan.any_words()) is not None:
            top = TopK(k)
            for segment in self._all_segments():
                if not self._top_any_words(segment, plan, any_words, allowed, top, at_least - TIE):
                    return None
            return top.result()
        if words is None:  # every match is scored anyway: the best of them, at C speed
            found = self.matches(plan, allowed)
            if found is None:
                return None
            return best_of(((offset, scores) for _, offset, scores in found), k)
        top = TopK(k)
        for segment in self._all_segments():
            if len(words) == 1 and not plan.excluded and not plan.phrases:
                ok = self._top_one_word(segment, words[0], allowed, top)
            else:
                ok = self._top_all_words(segment, plan, words, allowed, top)
            if not ok:
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
        """The first k matches by date (newest or oldest first; releases without a date last), with
        their scores, and any tied with the k-th on date; None as in `top`."""
        keyed = []
        for segment in self._all_segments():
            scores = self._scores(segment, plan, allowed)
            if scores is None:
                return None
            dates, offset = self._dates(segment), segment.offset
            for local, score in scores.items():
                day = dates[local]
                key = (1, 0) if day is None else (0, -day if newest else day)
                keyed.append((key, local + offset, score))
        keyed.sort(key=lambda item: item[0])
        if len(keyed) > k:
            last = keyed[k - 1][0]
            keyed = [item for n, item in enumerate(keyed) if n < k or item[0] == last]
        return [(docnum, score) for _, docnum, score in keyed]

    def holders(self, item: Item, among: Sequence[int] | None = None) -> set[int] | None:
        """Every (global) document that holds one of the item's words, deleted ones left out; with
        `among`, only which of those documents do (the blocks that may hold them are all it decodes)."""
        found: set[int] = set()
        for segment in self._all_segments():
            if among is None:
                local = self._local_holders(segment, item)
            else:
                local = self._local_holders_among(segment, item, among)
            if local is None:
                return None
            found.update(d + segment.offset for d in local - segment.deleted)
        return found

    def _local_holders_among(self, segment: _Segment, item: Item, among: Sequence[int]) -> set[int] | None:
        size = segment.reader.doc_count_all()
        wanted = [d - segment.offset for d in among if 0 <= d - segment.offset < size]
        found: set[int] = set()
        for word in item if wanted else ():
            blocks = self._blocks(segment, word)
            if blocks is None:
                return None
            max_ids = [b.max_id for b in blocks]
            for local in wanted:
                at = bisect_left(max_ids, local)
                if at < len(blocks) and local in self._decode(blocks[at])[0]:
                    found.add(local)
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
        found = self._decoded[key] = (
            array("i", ids),
            weights if isinstance(weights, array) else array("d", weights),
        )
        if len(self._decoded) > DECODED_CACHE_BLOCKS:
            self._decoded.popitem(last=False)
        return found

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

    def _top_one_word(
        self, segment: _Segment, word: Word, allowed: AbstractSet[int] | None, top: TopK
    ) -> bool:
        """Block-max top-k for one word: blocks in order of their best possible score, stopping when
        the next block's best cannot reach the k-th hit."""
        blocks = self._blocks(segment, word)
        if blocks is None:
            return False
        offset, deleted = segment.offset, segment.deleted
        bounds = self._block_bounds(word, blocks)
        for bound, block in sorted(zip(bounds, blocks, strict=True), key=lambda pair: -pair[0]):
            if bound < top.floor():
                break
            ids, weights = self._decode(block)
            floor = top.floor()
            for local, score in zip(ids, self._scored(segment, word, ids, weights), strict=True):
                if score >= floor and local not in deleted and (allowed is None or local + offset in allowed):
                    top.offer(score, local + offset)
                    floor = top.floor()
        return True

    def _top_all_words(
        self,
        segment: _Segment,
        plan: Plan,
        words: tuple[Word, ...],
        allowed: AbstractSet[int] | None,
        top: TopK,
    ) -> bool:
        """Block-max top-k for words that must all match. The rarest word's blocks split the documents
        into ranges; a range's bound is its block's best score plus, for each other word, the best
        bound among that word's blocks overlapping the range (block headers only). Ranges are scored
        in order of their bound, stopping when the next cannot reach the k-th hit. On the benchmark's
        queries the bounds are loose (block maxima of common words sit near BM25's ceiling) and only
        27 of 5,155 ranges were skipped: the gain is that the best ranges come first, so phrases are
        checked for few documents."""
        lists = self._rarest_first(segment, words)
        excluded = self._local_holders(segment, plan.excluded)
        if lists is None or excluded is None:
            return False
        (rarest, rarest_blocks), offset = lists[0], segment.offset
        others = [
            (word, blocks, [b.max_id for b in blocks], self._block_bounds(word, blocks))
            for word, blocks in lists[1:]
        ]
        dropped = segment.deleted | excluded
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
            if bound == float("-inf") or bound < top.floor():
                break
            ids, weights = self._decode(block)
            contributions = zip(ids, self._scored(segment, rarest, ids, weights), strict=True)
            scores = _kept(contributions, dropped, offset, allowed)
            for (word, blocks, _, _), first in zip(others, firsts, strict=True):
                if not scores:
                    break
                scores = self._intersect(segment, scores, blocks, word, first)
            # Best first, so that phrases are checked only for documents that can still make the top k.
            for local, score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
                if score < top.floor():
                    break
                if phrases is None or phrases.hold(local):
                    top.offer(score, local + offset)
        return True

    def _top_any_words(
        self,
        segment: _Segment,
        plan: Plan,
        words: tuple[Word, ...],
        allowed: AbstractSet[int] | None,
        top: TopK,
        at_least: float,
    ) -> bool:
        """Top-k for documents holding any of the words, none scoring below `at_least` (MaxScore).

        The words whose best scores add up to less than the floor (the k-th best so far, or
        `at_least`), the commonest as a rule, cannot make a document reach it alone: only documents
        holding one of the other ("essential") words are candidates, and the common words' scores are
        added for the candidates still able to reach it, their blocks decoded only where a candidate
        lies. A list filled past the strict matches (`searching.filled`) knows `at_least` from its k-th
        strict match; with no floor known yet, the documents holding the word of the best bound are
        ranked first, and their k-th best is the floor for the rest."""
        lists = []
        for word in words:
            blocks = self._blocks(segment, word)
            if blocks is None:
                return False
            if blocks:
                lists.append((word, blocks, max(self._block_bounds(word, blocks))))
        excluded = self._local_holders(segment, plan.excluded)
        if excluded is None:
            return False
        lists.sort(key=lambda item: item[2])
        dropped, ranked = segment.deleted | excluded, set()
        if max(top.floor(), at_least) == float("-inf") and len(lists) > 1:
            *lists, (word, _, _) = lists
            seeded = self._candidates(segment, [word], dropped, allowed)
            if seeded is None:
                return False
            self._offer_completed(segment, seeded, lists, top, float("-inf"))
            ranked = set(seeded)
        floor = max(top.floor(), at_least)
        split = 0
        while split < len(lists) and sum(best for _, _, best in lists[: split + 1]) < floor:
            split += 1
        candidates = self._candidates(segment, [word for word, _, _ in lists[split:]], dropped, allowed)
        if candidates is None:
            return False
        fresh = {d: s for d, s in candidates.items() if d not in ranked}
        self._offer_completed(segment, fresh, lists[:split], top, floor)
        return True

    def _candidates(
        self,
        segment: _Segment,
        words: list[Word],
        dropped: AbstractSet[int],
        allowed: AbstractSet[int] | None,
    ) -> dict[int, float] | None:
        """The documents holding any of the words, with those words' scores (dropped ones left out)."""
        scores: dict[int, float] = {}
        for word in words:
            if not self._add_word(segment, word, scores):
                return None
        return _kept(scores.items(), dropped, segment.offset, allowed)

    def _offer_completed(
        self,
        segment: _Segment,
        candidates: dict[int, float],
        lesser: list[tuple[Word, list[Block], float]],
        top: TopK,
        floor: float,
    ) -> None:
        """Add the lesser words' scores (best bound last) to the candidates, dropping each that can no
        longer reach `floor` as it goes, and offer the rest to `top`."""
        for n in range(len(lesser), -1, -1):  # n: how many lesser words are still to add
            rest = sum(best for _, _, best in lesser[:n])
            candidates = {d: s for d, s in candidates.items() if s + rest >= floor}
            if n == 0 or not candidates:
                break
            word, blocks, _ = lesser[n - 1]
            candidates = self._intersect(segment, candidates, blocks, word, keep_lacking=True)
        for local, score in candidates.items():
            top.offer(score, local + segment.offset)

    def _scores(
        self, segment: _Segment, plan: Plan, allowed: AbstractSet[int] | None
    ) -> dict[int, float] | None:
        """Every match of the plan in a segment with its score (segment-local document numbers)."""
        words = plan.all_words()
        if words is not None:
            local = self._all_of(segment, words)
        elif plan.required:
            local = self._with_optional(segment, plan)
        else:
            local = self._any_items(segment, plan.optional, plan.min_optional)
        excluded = self._local_holders(segment, plan.excluded)
        if local is None or excluded is None:
            return None
        kept = _kept(local.items(), segment.deleted | excluded, segment.offset, allowed)
        if plan.phrases:
            phrases = Phrases(segment.reader, plan.phrases, partial(self._blocks, segment))
            kept = {d: s for d, s in kept.items() if phrases.hold(d)}
        return kept

    def _with_optional(self, segment: _Segment, plan: Plan) -> dict[int, float] | None:
        """Documents holding every required item, with at least `min_optional` optional items (whose
        scores they add)."""
        base: dict[int, float] | None = None
        for item in sorted(plan.required, key=lambda item: self._postings(segment, item)):
            item_scores = self._any_items(segment, (item,), 0)
            if item_scores is None:
                return None
            base = (
                item_scores
                if base is None
                else {d: s + item_scores[d] for d, s in base.items() if d in item_scores}
            )
            if not base:
                return {}
        if not plan.optional or base is None:
            return base or {}
        scores = dict(base)
        counts: dict[int, int] = {}
        for item in plan.optional:
            item_scores = self._any_items(segment, (item,), 0)
            if item_scores is None:
                return None
            for d, s in item_scores.items():
                if d in base:
                    scores[d] += s
                    counts[d] = counts.get(d, 0) + 1
        need = plan.min_optional
        return {d: s for d, s in scores.items() if need <= 0 or counts.get(d, 0) >= need}

    def _postings(self, segment: _Segment, item: Item) -> int:
        return sum(b.count for word in item for b in (self._blocks(segment, word) or ()))

    def _any_items(self, segment: _Segment, items: tuple[Item, ...], need: int) -> dict[int, float] | None:
        """Documents holding at least `need` of the items (any one when `need` <= 1), with their scores:
        every word held counts, an item held counts once towards `need`."""
        scores: dict[int, float] = {}
        counts: dict[int, int] | None = {} if need > 1 else None
        for item in items:
            if len(item) == 1 or counts is None:
                for word in item:  # a word's postings name each document once: count as they come
                    if not self._add_word(segment, word, scores, counts):
                        return None
                continue
            here = self._any_of(segment, item)
            if here is None:
                return None
            for d, s in here.items():
                scores[d] = scores.get(d, 0.0) + s
                counts[d] = counts.get(d, 0) + 1
        if counts is not None:
            return {d: s for d, s in scores.items() if counts[d] >= need}
        return scores

    def _add_word(
        self, segment: _Segment, word: Word, scores: dict[int, float], counts: dict[int, int] | None = None
    ) -> bool:
        """Add a word's score to each document holding it (and count it, when counting)."""
        blocks = self._blocks(segment, word)
        if blocks is None:
            return False
        get = scores.get
        for block in blocks:
            ids, weights = self._decode(block)
            for d, s in zip(ids, self._scored(segment, word, ids, weights), strict=True):
                scores[d] = get(d, 0.0) + s
            if counts is not None:
                count = counts.get
                for d in ids:
                    counts[d] = count(d, 0) + 1
        return True

    def _local_holders(self, segment: _Segment, words: Iterable[Word]) -> set[int] | None:
        """The segment's documents holding any of the words (deleted ones included); no scoring."""
        found: set[int] = set()
        for word in words:
            blocks = self._blocks(segment, word)
            if blocks is None:
                return None
            for block in blocks:
                found.update(self._decode(block)[0])
        return found

    def _any_of(self, segment: _Segment, words: Iterable[Word]) -> dict[int, float] | None:
        scores: dict[int, float] = {}
        for word in words:
            if not self._add_word(segment, word, scores):
                return None
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
            scores.update(zip(ids, self._scored(segment, first, ids, weights), strict=True))
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
        self,
        segment: _Segment,
        scores: dict[int, float],
        blocks: list[Block],
        word: Word,
        first: int = 0,
        keep_lacking: bool = False,
    ) -> dict[int, float]:
        """The candidates in `scores` that hold `word` too, its score added (with `keep_lacking`, the
        others as they were); blocks before `first` are known to end before the first candidate."""
        candidates = sorted(scores)
        term_idf, boost, norms = self._idf(word), word.boost, self._norms(segment, word.field)
        k1_plus_1 = self._params.k1 + 1
        kept: dict[int, float] = dict(scores) if keep_lacking else {}
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
            # `scoring.bm25` written out: a call per candidate cost a third of intersecting.
            if boost == 1.0:
                kept.update(
                    (d, scores[d] + term_idf * ((w * k1_plus_1) / (w + norms[d])))
                    for d in candidates[start:end]
                    if (w := here.get(d)) is not None
                )
            else:
                kept.update(
                    (d, scores[d] + term_idf * ((w * k1_plus_1) / (w + norms[d])) * boost)
                    for d in candidates[start:end]
                    if (w := here.get(d)) is not None
                )
        return kept
