"""Running a reading on a Whoosh searcher: match sets, ranked and date-ordered hits, collapsing, counts.

`Matching` answers every question a search asks about one reading on one searcher, by the posting-block
ranker when the reading is words (`ranking.plan_for`) and by Whoosh's matchers otherwise; both give the
same matches and scores. Order is deterministic whatever the build: equal scores (and equal dates) are
ordered by the earliest issued, then by release id (`Columns.key`), never by internal document numbers,
which differ between builds of the same documents.

`StatementIndex` (index.py) owns searchers and turns what this module returns into results.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, Literal

from .models import Duplicate, IssuerCount
from .postings import document_dates
from .query import Reading
from .ranking import TIE, Plan, Ranker, plan_for

SortOrder = Literal["relevance", "newest", "oldest"]

# Hits fetched beyond a page when collapsing, so that a duplicate or two among the top hits does not
# cost a second, deeper fetch (49 of the 300 benchmark queries needed one with no spare).
COLLAPSE_SPARE = 5

Ranked = tuple[int, float]
"""A hit as its document number and score."""
TopFunction = Callable[[int], list[Ranked]]

_UNDATED = 1 << 62
"""The date key of a release without a date: after every real date in either direction."""


class Columns:
    """Per-document values of one searcher's index (group, issuer, id, date) by global document
    number, read from each segment's columns once; an empty index simply has none."""

    def __init__(self, searcher: Any) -> None:
        leaves = [(s.reader(), offset) for s, offset in searcher.leaf_searchers()]
        self._leaves = [(reader, offset) for reader, offset in leaves if reader.doc_count_all()]
        self._offsets = [offset for _, offset in self._leaves]
        self._columns: dict[tuple[str, int], Any] = {}
        self._whole: dict[tuple[str, int], list[Any]] = {}
        self._dates: dict[int, list[int | None]] = {}

    def leaves(self) -> list[tuple[Any, int]]:
        return self._leaves

    def _locate(self, docnum: int) -> tuple[int, int]:
        n = bisect_right(self._offsets, docnum) - 1
        return n, docnum - self._offsets[n]

    def column(self, name: str, n: int) -> Any:
        key = (name, n)
        found = self._columns.get(key)
        if found is None:
            found = self._columns[key] = self._leaves[n][0].column_reader(name)
        return found

    def value(self, name: str, docnum: int) -> Any:
        n, local = self._locate(docnum)
        return self.column(name, n)[local]

    def values(self, name: str, offset: int, docs: list[int]) -> list[Any]:
        """A column's values for many (segment-local) documents of the segment at `offset`: for a large
        share of the segment, the whole column is read once (1 µs a value) and kept with the searcher."""
        n = self._offsets.index(offset)
        reader = self._leaves[n][0]
        if len(docs) * 8 < reader.doc_count_all():
            column = self.column(name, n)
            return [column[d] for d in docs]
        key = (name, n)
        whole = self._whole.get(key)
        if whole is None:
            whole = self._whole[key] = list(self.column(name, n))
        return [whole[d] for d in docs]

    def dates_of(self, n: int) -> list[int | None]:
        found = self._dates.get(n)
        if found is None:
            found = self._dates[n] = document_dates(self._leaves[n][0])
        return found

    def date(self, docnum: int) -> int | None:
        n, local = self._locate(docnum)
        return self.dates_of(n)[local]

    def key(self, docnum: int) -> tuple[int, str]:
        """The stable order of releases that tie: earliest issued first (undated last), then by id."""
        return stable_key(self.date(docnum), self.value("id", docnum))


def stable_key(day: int | None, release_id: str) -> tuple[int, str]:
    """`Columns.key` of a release with this date (as stored; None: undated) and id."""
    return (_UNDATED if day is None else day, release_id)


def relevance_key(score: float, day: int | None, release_id: str) -> tuple[float, int, str]:
    """The order of `Matching.top`: best first, ties in the stable order (a sharded index merges its
    shards' hits by it)."""
    return (-tied(score), *stable_key(day, release_id))


def date_key(score: float, day: int | None, release_id: str, newest: bool) -> tuple[bool, int, float, str]:
    """The order of `Matching.by_date`: by date (undated last), equal dates by score, then by id."""
    return (day is None, (-1 if newest else 1) * (day or 0), -tied(score), release_id)


@dataclass
class Matching:
    """One reading on one searcher, within the releases `allowed` (None: all)."""

    searcher: Any
    reading: Reading
    allowed: AbstractSet[int] | None
    columns: Columns
    ranker: Ranker | None = None

    def __post_init__(self) -> None:
        self.plan: Plan | None = plan_for(self.reading) if self.ranker is not None else None
        self._tops: dict[tuple[int, float | None], list[Ranked]] = {}

    def with_reading(self, reading: Reading) -> Matching:
        return Matching(self.searcher, reading, self.allowed, self.columns, self.ranker)

    # -- order

    def any(self) -> bool:
        """Does anything match? (A plan whose every match is scored keeps them: no second pass.)"""
        if self.plan is not None and self.ranker is not None and self.plan.all_words() is None:
            found = self.ranker.matches(self.plan, self.allowed)
            if found is not None:
                return any(scores for _, _, scores in found)
        return bool(self.top(1))

    def top(self, k: int, at_least: float | None = None) -> list[Ranked]:
        """The k best matches, best first; equal scores in the stable order of `Columns.key`.
        `at_least`: a score k matches are known to reach (see `Ranker.top`). Kept for the reading's
        next question: a search asks for its page, then a filled list asks for the same matches."""
        if self.allowed is not None and not self.allowed:
            return []
        found = self._tops.get((k, at_least))
        if found is None:
            ranked = self._by_plan(k, at_least)
            if ranked is None:
                ranked = self._by_whoosh(k)
            found = self._tops[k, at_least] = _ordered(ranked, k, self.columns.key)
        return list(found)

    def _by_plan(self, k: int, at_least: float | None) -> list[Ranked] | None:
        if self.plan is None or self.ranker is None:
            return None
        return self.ranker.top(self.plan, k, self.allowed, at_least)

    def _by_whoosh(self, k: int) -> list[Ranked]:
        """Whoosh's top hits within the match set, fetched until every document tied with the k-th is
        in (Whoosh breaks ties by document number, which is not stable between builds)."""
        docs = self.match_set()
        if not docs:
            return []
        if self.reading.everything:
            return [(docnum, 0.0) for docnum in docs]
        q = self.reading.scoring_query()
        depth = k
        while True:
            hits = [
                (hit.docnum, float(hit.score or 0.0))
                for hit in self.searcher.search(q, limit=depth, filter=docs, terms=False)
            ]
            if len(hits) < depth or hits[-1][1] < hits[min(k, depth) - 1][1] - TIE:
                return hits
            depth *= 4

    def by_date(self, k: int, newest: bool) -> list[Ranked]:
        """The first k matches by date (undated last), equal dates by score, then by id."""
        if self.allowed is not None and not self.allowed:
            return []
        ranked = None
        if self.plan is not None and self.ranker is not None:
            ranked = self.ranker.by_date(self.plan, k, self.allowed, newest)
        if ranked is None:
            ranked = [(d, s) for d, s in self._scored_matches().items()]
        columns = self.columns

        def key(item: Ranked) -> tuple[bool, int, float, str]:
            return date_key(item[1], columns.date(item[0]), columns.value("id", item[0]), newest)

        return sorted(ranked, key=key)[:k]

    def _scored_matches(self) -> dict[int, float]:
        docs = self.match_set()
        if self.reading.everything or not docs:
            return dict.fromkeys(docs, 0.0)
        hits = self.searcher.search(self.reading.scoring_query(), limit=None, filter=docs, terms=False)
        return {hit.docnum: float(hit.score or 0.0) for hit in hits}

    # -- sets

    def leaf_matches(self) -> list[tuple[Any, int, list[int]]]:
        """Each segment's reader and offset with the (segment-local) numbers of its matches."""
        if self.allowed is not None and not self.allowed:
            return []
        if self.plan is not None and self.ranker is not None:
            found = self.ranker.matches(self.plan, self.allowed)
            if found is not None:
                return [(reader, offset, sorted(scores)) for reader, offset, scores in found]
        docs = sorted(self.match_set())
        out = []
        for reader, offset in self.columns.leaves():
            end = offset + reader.doc_count_all()
            out.append((reader, offset, [d - offset for d in docs if offset <= d < end]))
        return out

    def match_set(self) -> set[int]:
        """Every matching release (global document numbers), by Whoosh's matchers clause by clause."""
        reading = self.reading
        if reading.everything:
            docs = {d for reader, offset in self.columns.leaves() for d in _live(reader, offset)}
        else:
            docs = self._clause_matches()
        if reading.excluded:
            docs -= set().union(*(self._docs(q) for q in reading.excluded))
        return docs if self.allowed is None else docs & set(self.allowed)

    def _clause_matches(self) -> set[int]:
        reading = self.reading
        required = [self._docs(q) for q in reading.required]
        base = set.intersection(*required) if required else None
        if not reading.words:
            return base or set()
        counts: Counter[int] = Counter()
        for q in reading.words:
            held = self._docs(q)
            counts.update(held if base is None else held & base)
        if reading.min_words <= 0:
            return base if base is not None else set(counts)
        return {d for d, n in counts.items() if n >= reading.min_words}

    def _docs(self, q: Any) -> set[int]:
        return set(self.searcher.docs_for_query(q))

    def holders(self, index: int, among: Sequence[int] | None = None) -> set[int]:
        """The releases holding the reading's `index`-th word (with `among`: those of them that do;
        others may be left out)."""
        if self.plan is not None and self.ranker is not None:
            found = self.ranker.holders(self.plan.optional[index], among)
            if found is not None:
                return found
        return self._docs(self.reading.words[index])

    def best_partial(self) -> float | None:
        """The most a release holding too few of the words to match can score (None when unknown):
        when the k-th match scores more, no such release can rank among the first k."""
        plan, ranker = self.plan, self.ranker
        if plan is None or ranker is None or not plan.optional or plan.min_optional < 1:
            return None
        required = [ranker.best_score(item) for item in plan.required]
        optional = [ranker.best_score(item) for item in plan.optional]
        if any(best is None for best in (*required, *optional)):
            return None
        largest = sorted((best for best in optional if best is not None), reverse=True)
        return sum(best for best in required if best is not None) + sum(largest[: plan.min_optional - 1])


def relaxed(matching: Matching, has_correction: Callable[[str], bool]) -> Matching | None:
    """When nothing matches the reading, the same query needing only as many of its words as some
    release holds: the releases that hold most of them. None when nothing can be relaxed: no words,
    no release holds any (nor the required clauses alone), or a word found nowhere has a spelling
    correction (then did-you-mean answers instead, as it always has)."""
    if not relaxable(matching.reading):
        return None
    checked = cache(has_correction)  # asked again by `relaxed_reading`: spelling is not free
    reading = relaxed_reading(matching.reading, relaxation(matching, checked), checked)
    return matching.with_reading(reading) if reading is not None else None


def relaxable(reading: Reading) -> bool:
    return bool(reading.words) and not reading.everything


@dataclass(frozen=True)
class Relaxation:
    """What relaxing a reading needs to know of the releases, in a form the shards of a sharded index
    each give of theirs and `combine` adds up."""

    held: tuple[bool, ...]
    """Whether some release holds each of the reading's words."""
    best: int | None
    """The most words a release matching the loosest reading holds (None: no release matches it)."""
    lacking: frozenset[int]
    """The words that some release holding `best` of them lacks."""

    @staticmethod
    def combine(parts: Iterable[Relaxation]) -> Relaxation:
        parts = list(parts)
        held = tuple(any(flags) for flags in zip(*(part.held for part in parts), strict=True))
        best = max((part.best for part in parts if part.best is not None), default=None)
        at_best = [part.lacking for part in parts if best is not None and part.best == best]
        lacking = frozenset().union(*at_best)
        return Relaxation(held, best, lacking)


def relaxation(matching: Matching, has_correction: Callable[[str], bool] | None = None) -> Relaxation:
    """The releases' side of relaxing the reading. With `has_correction`, a word found nowhere that has a
    correction stops it early (`relaxed_reading` then gives None whatever else is found)."""
    reading = matching.reading
    held = [matching.holders(i) for i in range(len(reading.words))]
    flags = tuple(bool(docs) for docs in held)
    unknown = [reading.typed[i] for i, docs in enumerate(held) if not docs]
    if has_correction is not None and any(has_correction(word) for word in unknown):
        return Relaxation(flags, None, frozenset())
    loose = {
        offset + local
        for _reader, offset, docs in matching.with_reading(reading.loosest()).leaf_matches()
        for local in docs
    }
    if not loose:
        return Relaxation(flags, None, frozenset())
    counts: Counter[int] = Counter()
    for docs in held:
        counts.update(docs & loose)
    best = max(counts.values(), default=0)
    chosen = {d for d in loose if counts.get(d, 0) >= best}
    return Relaxation(flags, best, frozenset(i for i, docs in enumerate(held) if not chosen <= docs))


def relaxed_reading(
    reading: Reading, found: Relaxation, has_correction: Callable[[str], bool]
) -> Reading | None:
    """The reading relaxed as `found` allows (see `relaxed`), or None."""
    if any(not held and has_correction(reading.typed[i]) for i, held in enumerate(found.held)):
        return None
    if found.best is None:
        return None
    return reading.relax(found.best, tuple(reading.typed[i] for i in sorted(found.lacking)))


def may_lack(reading: Reading, fill: bool) -> bool:
    """Can a hit lack some of the query's words? Only in a relaxed reading, a filled list or a long
    query's (which needs only `min_words`): otherwise `missing_words` need not look."""
    return bool(reading.relaxed) or fill or reading.min_words < len(reading.words)


def missing_words(matching: Matching, docnums: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """For each release, the query's words it does not hold (only releases lacking some are listed)."""
    reading = matching.reading
    docnums = list(docnums)
    held = [matching.holders(i, among=docnums) for i in range(len(reading.words))]
    out = {}
    for docnum in docnums:
        lacking = tuple(reading.typed[i] for i, docs in enumerate(held) if docnum not in docs)
        if lacking:
            out[docnum] = lacking
    return out


def _live(reader: Any, offset: int) -> Iterable[int]:
    return (d + offset for d in reader.all_doc_ids())


def _ordered(ranked: list[Ranked], k: int, key: Callable[[int], tuple[int, str]]) -> list[Ranked]:
    """The first k of hits ordered by score, ties (scores equal to `ranking.TIE`) in the stable order of
    `key` (keys are read only for documents whose score ties with another's)."""
    ranked = sorted(ranked, key=lambda item: -item[1])
    out: list[Ranked] = []
    start = 0
    while start < len(ranked) and len(out) < k:
        end = start + 1
        level = tied(ranked[start][1])
        while end < len(ranked) and tied(ranked[end][1]) == level:
            end += 1
        group = ranked[start:end]
        if len(group) > 1:
            group.sort(key=lambda item: key(item[0]))
        out.extend(group)
        start = end
    return out[:k]


def tied(score: float) -> float:
    """The score as ordering compares it: equal for scores that differ only in their last bits."""
    return round(score, 9)


def run(matching: Matching, sort: SortOrder, count: int, collapse: bool, fill: bool = False) -> list[Ranked]:
    """The first `count` hits in order, at most one per near-duplicate group when collapsing; `fill`
    ranks every release holding any of the words (relevance order only)."""
    top: TopFunction
    if sort == "relevance":
        top = filled(matching) if fill else matching.top
    else:
        top = lambda depth: matching.by_date(depth, newest=sort == "newest")  # noqa: E731
    if not collapse:
        return top(count)
    return collapsed(lambda docnum: matching.columns.value("group", docnum), top, count)


def filled(matching: Matching) -> TopFunction:
    """A ranked list of every release holding one of the query's words (or its required clauses),
    best first, whose matches are ranked exactly as `Matching.top` ranks them. Computed from the
    matches alone when no release lacking a word could rank among them (most queries)."""
    loosest = matching.reading.loosest()
    if loosest == matching.reading:  # nothing to fill with (a phrase, or only required clauses)
        return matching.top
    loose = matching.with_reading(loosest)

    def top(depth: int) -> list[Ranked]:
        strict = matching.top(depth)
        if len(strict) < depth:  # no score is known that the depth-th loose match reaches
            return loose.top(depth, at_least=float("-inf"))
        bound = matching.best_partial()
        if bound is not None and strict[-1][1] > bound:
            return strict
        # The strict matches are loose ones too: the depth-th loose match scores at least as much.
        return loose.top(depth, at_least=strict[-1][1])

    return top


def collapsed(group_of: Callable[[int], str], top: TopFunction, count: int) -> list[Ranked]:
    """Keep the first hit of each group in order, fetching deeper until `count` are kept.

    Whoosh's own `collapse=` scores every matching document (it cannot skip blocks), which made broad
    queries several times slower; near-duplicates are rare among top hits, so one fetch almost always
    suffices here and the top-k optimisations stay on.
    """
    depth = count + COLLAPSE_SPARE
    while True:
        results = top(depth)
        seen: set[str] = set()
        kept = []
        for ranked in results:
            group = group_of(ranked[0])
            if group in seen:
                continue
            seen.add(group)
            kept.append(ranked)
            if len(kept) == count:
                return kept
        if len(results) < depth:
            return kept
        depth *= 4


# ---------------------------------------------------------------------------------------------- filters


def allowed_docs(searcher: Any, filters: Any) -> set[int]:
    from whoosh.query import And, DateRange, NullQuery

    if isinstance(filters, type(NullQuery)):  # an issuer filter that matches no issuer
        return set()
    if isinstance(filters, And):
        parts = [allowed_docs(searcher, sub) for sub in filters.subqueries]
        return set.intersection(*parts)
    if isinstance(filters, DateRange) and filters.fieldname == "date":
        return dated_between(searcher, filters.startdate, filters.enddate)
    return set(searcher.docs_for_query(filters))


def dated_between(searcher: Any, start: datetime | None, end: datetime | None) -> set[int]:
    """Releases with a date in [start, end] (None: open), from the date column of each segment."""
    from whoosh.util.times import datetime_to_long

    low = datetime_to_long(start) if start is not None else None
    high = datetime_to_long(end) if end is not None else None
    found: set[int] = set()
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        days = document_dates(reader)
        deleted = reader.deleted_docs_set if reader.has_deletions() else ()
        for docnum, value in enumerate(days):
            if value is None or (low is not None and value < low) or (high is not None and value > high):
                continue
            if docnum not in deleted:
                found.add(docnum + offset)
    return found


# ---------------------------------------------------------------------------------------------- counts


@dataclass(frozen=True)
class Counts:
    """What describes a whole match set: groups (results), releases, and releases per issuer."""

    results: int
    releases: int
    issuers: tuple[IssuerCount, ...]


@dataclass
class Tally:
    """The counts of a match set in a form that adds up across the shards of a sharded index: releases,
    releases per issuer, and near-duplicate groups, by name (`groups`) or, for groups known to have
    only this release, as a number (`alone`)."""

    releases: int = 0
    issuers: Counter[str] = field(default_factory=Counter)
    groups: set[str] = field(default_factory=set)
    alone: int = 0

    def add(self, other: Tally) -> None:
        self.releases += other.releases
        self.issuers.update(other.issuers)
        self.groups.update(other.groups)
        self.alone += other.alone

    def counts(self, collapse: bool) -> Counts:
        issuer_counts = Counter(self.issuers)
        issuer_counts.pop("", None)
        ordered = sorted(issuer_counts.items(), key=lambda item: (-item[1], item[0]))
        return Counts(
            results=len(self.groups) + self.alone if collapse else self.releases,
            releases=self.releases,
            issuers=tuple(IssuerCount(i, c) for i, c in ordered),
        )


def count_matches(matching: Matching, collapse: bool) -> Counts:
    """Matches over the whole result set (groups when collapsing) and issuer counts (releases)."""
    return tally(matching, collapse).counts(collapse)


def tally(matching: Matching, collapse: bool, shared: AbstractSet[str] | None = None) -> Tally:
    """The counts of the match set. With `shared` (a shard's: the groups that may have releases in other
    shards too), groups are named only when in it, and counted otherwise."""
    found = Tally()
    columns = matching.columns
    for _reader, offset, docs in matching.leaf_matches():
        found.releases += len(docs)
        found.issuers.update(columns.values("issuer_key", offset, docs))
        if not collapse:
            continue
        groups = columns.values("group", offset, docs)
        if shared is None:
            found.groups.update(groups)
            continue
        for group in groups:
            if group in shared:
                found.groups.add(group)
            else:
                found.alone += 1
    return found


def matching_dates(matching: Matching) -> list[date]:
    out: list[date] = []
    for reader, _offset, docs in matching.leaf_matches():
        days = document_dates(reader)
        out.extend(_to_date(days[d]) for d in docs if days[d] is not None)
    return out


def _to_date(value: Any) -> date:
    from whoosh.util.times import long_to_datetime

    return long_to_datetime(value).date()  # type: ignore[no-any-return]


def duplicates(searcher: Any, columns: Columns, docnum: int, stored: dict[str, Any]) -> tuple[Duplicate, ...]:
    """The other releases of a hit's group, earliest issued first (then by id)."""
    group = stored.get("group")
    # Most releases are alone in their group: the term's frequency says so without reading postings.
    if not group or searcher.doc_frequency("group", group) < 2:
        return ()
    return tuple(member for _key, member in group_members(searcher, columns, group, docnum))


def group_members(
    searcher: Any, columns: Columns, group: str, leaving_out: int | None = None
) -> list[tuple[tuple[int, str], Duplicate]]:
    """The releases of a group (but `leaving_out`), each with its stable key (`Columns.key`), in that
    order: a sharded index merges its shards' lists by the key."""
    from whoosh.query import Term

    docnums = sorted(
        (d for d in searcher.docs_for_query(Term("group", group)) if d != leaving_out), key=columns.key
    )
    out = []
    for docnum in docnums:
        fields = searcher.stored_fields(docnum)
        member = Duplicate(
            fields["id"], fields.get("issuer", ""), iso_date(fields.get("date")), fields.get("title", "")
        )
        out.append((columns.key(docnum), member))
    return out


def iso_date(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return None
