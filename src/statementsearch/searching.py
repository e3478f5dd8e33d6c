"""Running a parsed query on a Whoosh searcher: top hits, collapsing, filters as document sets, counts.

`StatementIndex` (index.py) owns searchers and turns what these functions return into results.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Literal

from .models import Duplicate, IssuerCount
from .postings import document_dates
from .ranking import Ranker, plan_for

SortOrder = Literal["relevance", "newest", "oldest"]


# Hits fetched beyond a page when collapsing, so that a duplicate or two among the top hits does not
# cost a second, deeper fetch (49 of the 300 benchmark queries needed one with no spare).
COLLAPSE_SPARE = 5

Ranked = tuple[int, float | None]
"""A hit as its document number and score (None when sorted by date)."""
TopFunction = Callable[[int], list[Ranked]]


def run(
    searcher: Any,
    q: Any,
    filters: Any,
    sort: SortOrder,
    count: int,
    collapse: bool,
    ranker: Ranker | None = None,
) -> list[Ranked]:
    """The first `count` hits in order, at most one per near-duplicate group when collapsing."""
    if filters is not None and not filters:
        return []  # Whoosh would read an empty filter set as "no filter"
    if not searcher.doc_count_all():
        return []  # an empty index's reader has no columns to collapse or sort by
    top = _top_function(searcher, q, filters, sort, ranker)
    return collapsed(searcher, top, count) if collapse else top(count)


def _top_function(searcher: Any, q: Any, filters: Any, sort: SortOrder, ranker: Ranker | None) -> TopFunction:
    """How to fetch the first N hits: by `ranking` for plain words, else by Whoosh."""
    plan = plan_for(q) if ranker is not None else None
    kwargs: dict[str, Any] = {"filter": filters, "terms": False}
    if sort != "relevance":
        from whoosh.sorting import FieldFacet, MultiFacet

        newest = sort == "newest"
        kwargs["sortedby"] = MultiFacet([FieldFacet("dateless"), FieldFacet("date", reverse=newest)])
    by_whoosh = whoosh_top(searcher, q, kwargs)
    if plan is None or ranker is None:
        return by_whoosh

    def by_ranking(depth: int) -> list[Ranked]:
        ranked: Sequence[Ranked] | None
        if sort == "relevance":
            ranked = ranker.top(plan, depth, filters)
        else:
            ranked = ranker.by_date(plan, depth, filters, newest=sort == "newest")
        return by_whoosh(depth) if ranked is None else list(ranked)

    return by_ranking


def whoosh_top(searcher: Any, q: Any, kwargs: dict[str, Any]) -> TopFunction:
    def top(depth: int) -> list[Ranked]:
        # A comprehension, not list(): list() asks Results for its length, which counts every match.
        return [
            (hit.docnum, hit.score if isinstance(hit.score, float) else None)
            for hit in searcher.search(q, limit=depth, **kwargs)
        ]

    return top


def collapsed(searcher: Any, top: TopFunction, count: int) -> list[Ranked]:
    """Keep the first hit of each group in ranked order, fetching deeper until `count` are kept.

    Whoosh's own `collapse=` scores every matching document (it cannot skip blocks), which made broad
    queries several times slower; near-duplicates are rare among top hits, so one fetch almost always
    suffices here and the top-k optimisations stay on.
    """
    groups = searcher.reader().column_reader("group")
    depth = count + COLLAPSE_SPARE
    while True:
        results = top(depth)
        seen: set[str] = set()
        kept = []
        for ranked in results:
            group = groups[ranked[0]]
            if group in seen:
                continue
            seen.add(group)
            kept.append(ranked)
            if len(kept) == count:
                return kept
        if len(results) < depth:
            return kept
        depth *= 4


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
        for docnum in reader.all_doc_ids():
            value = days[docnum]
            if value is None or (low is not None and value < low) or (high is not None and value > high):
                continue
            found.add(docnum + offset)
    return found


def leaf_matches(
    searcher: Any, q: Any, filters: Any, ranker: Ranker | None = None
) -> list[tuple[Any, list[int]]]:
    """Each segment's reader with the (segment-local) numbers of its matching releases; no scoring."""
    plan = plan_for(q) if ranker is not None else None
    if plan is not None and ranker is not None:
        found = ranker.leaf_matches(plan, filters)
        if found is not None:
            return found
    out = []
    for sub, offset in searcher.leaf_searchers():
        if not sub.doc_count_all():
            continue  # an empty index's one reader, which has no columns
        docs = q.docs(sub)
        if filters is not None:
            docs = (d for d in docs if d + offset in filters)
        out.append((sub.reader(), list(docs)))
    return out


def count_matches(
    searcher: Any, q: Any, filters: Any, collapse: bool, ranker: Ranker | None = None
) -> tuple[int, tuple[IssuerCount, ...]]:
    """Matches over the whole result set (groups when collapsing) and issuer counts."""
    issuer_counts: Counter[str] = Counter()
    groups: set[str] = set()
    matches = 0
    for reader, docs in leaf_matches(searcher, q, filters, ranker):
        issuers = reader.column_reader("issuer_key")
        matches += len(docs)
        issuer_counts.update(issuers[d] for d in docs)
        if collapse:
            group_column = reader.column_reader("group")
            groups.update(group_column[d] for d in docs)
    issuer_counts.pop("", None)
    total = len(groups) if collapse else matches
    return total, tuple(IssuerCount(i, c) for i, c in issuer_counts.most_common())


def matching_dates(searcher: Any, q: Any, filters: Any, ranker: Ranker | None = None) -> list[date]:
    out: list[date] = []
    for reader, docs in leaf_matches(searcher, q, filters, ranker):
        dates = reader.column_reader("date")
        dateless = reader.column_reader("dateless")
        out.extend(dates[d].date() for d in docs if not dateless[d])
    return out


def duplicates(searcher: Any, docnum: int, stored: dict[str, Any]) -> tuple[Duplicate, ...]:
    from whoosh.query import Term

    group = stored.get("group")
    # Most releases are alone in their group: the term's frequency says so without reading postings.
    if not group or searcher.doc_frequency("group", group) < 2:
        return ()
    others = [d for d in searcher.docs_for_query(Term("group", group)) if d != docnum]
    out = []
    for other in sorted(others):
        fields = searcher.stored_fields(other)
        out.append(Duplicate(fields["id"], fields.get("issuer", ""), iso_date(fields.get("date"))))
    return tuple(out)


def iso_date(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return None
