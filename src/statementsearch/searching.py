"""Running a parsed query on a Whoosh searcher: top hits, collapsing, filters as document sets, counts.

`StatementIndex` (index.py) owns searchers and turns what these functions return into results.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Literal

from .models import Duplicate, IssuerCount

SortOrder = Literal["relevance", "newest", "oldest"]


def run(searcher: Any, q: Any, filters: Any, sort: SortOrder, count: int, collapse: bool) -> list[Any]:
    """The first `count` hits in order, at most one per near-duplicate group when collapsing."""
    if filters is not None and not filters:
        return []  # Whoosh would read an empty filter set as "no filter"
    kwargs: dict[str, Any] = {"filter": filters, "terms": False}
    if sort != "relevance":
        from whoosh.sorting import FieldFacet, MultiFacet

        newest = sort == "newest"
        kwargs["sortedby"] = MultiFacet([FieldFacet("dateless"), FieldFacet("date", reverse=newest)])
    if not collapse:
        # A comprehension, not list(): list() asks Results for its length, which counts every match.
        return [hit for hit in searcher.search(q, limit=count, **kwargs)]
    return collapsed(searcher, q, kwargs, count)


def collapsed(searcher: Any, q: Any, kwargs: dict[str, Any], count: int) -> list[Any]:
    """Keep the first hit of each group in ranked order, fetching deeper until `count` are kept.

    Whoosh's own `collapse=` scores every matching document (it cannot skip blocks), which made broad
    queries several times slower; near-duplicates are rare among top hits, so one fetch almost always
    suffices here and the top-k optimisations stay on.
    """
    groups = searcher.reader().column_reader("group")
    depth = count
    while True:
        results = searcher.search(q, limit=depth, **kwargs)
        seen: set[str] = set()
        kept = []
        for hit in results:
            group = groups[hit.docnum]
            if group in seen:
                continue
            seen.add(group)
            kept.append(hit)
            if len(kept) == count:
                return kept
        if results.scored_length() < depth:
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
        dates = reader.column_reader("date", translate=False)
        dateless = reader.column_reader("dateless")
        for docnum in reader.all_doc_ids():
            value = dates[docnum]
            if dateless[docnum] or (low is not None and value < low) or (high is not None and value > high):
                continue
            found.add(docnum + offset)
    return found


def leaf_matches(searcher: Any, q: Any, filters: Any) -> Iterator[tuple[Any, list[int]]]:
    """Each segment's reader with the (segment-local) numbers of its matching releases; no scoring."""
    allowed = filters
    for sub, offset in searcher.leaf_searchers():
        docs = q.docs(sub)
        if allowed is not None:
            docs = (d for d in docs if d + offset in allowed)
        yield sub.reader(), list(docs)


def count_matches(searcher: Any, q: Any, filters: Any, collapse: bool) -> tuple[int, tuple[IssuerCount, ...]]:
    """Matches over the whole result set (groups when collapsing) and issuer counts."""
    issuer_counts: Counter[str] = Counter()
    groups: set[str] = set()
    matches = 0
    for reader, docs in leaf_matches(searcher, q, filters):
        issuers = reader.column_reader("issuer_key")
        matches += len(docs)
        issuer_counts.update(issuers[d] for d in docs)
        if collapse:
            group_column = reader.column_reader("group")
            groups.update(group_column[d] for d in docs)
    issuer_counts.pop("", None)
    total = len(groups) if collapse else matches
    return total, tuple(IssuerCount(i, c) for i, c in issuer_counts.most_common())


def matching_dates(searcher: Any, q: Any, filters: Any) -> list[date]:
    out: list[date] = []
    for reader, docs in leaf_matches(searcher, q, filters):
        dates = reader.column_reader("date")
        dateless = reader.column_reader("dateless")
        out.extend(dates[d].date() for d in docs if not dateless[d])
    return out


def duplicates(searcher: Any, docnum: int, stored: dict[str, Any]) -> tuple[Duplicate, ...]:
    from whoosh.query import Term

    group = stored.get("group")
    if not group:
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
