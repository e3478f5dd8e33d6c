"""The index's fields, their analysis and their boosts.

Boosts are index-time field boosts: Whoosh multiplies a term's frequency by them before BM25's
saturation, which is the BM25F way of saying "a word in the title counts as N words in the body".
Each value is a named constant with the reason for it; `bench/relevance.py` measures changes to them.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from whoosh import fields, query
from whoosh.scoring import BM25F

from .analysis import EnglishAnalyzer, words

# Bumped whenever fields or analysis change in a way an old index cannot serve; an index with another
# version is rebuilt by `index` (and refused with a clear message by search).
SCHEMA_VERSION = 1

# A headline states the subject of a release in a few words, so a title word is strong evidence.
TITLE_BOOST = 2.0
# Issuer words ("Department of Defense") should find a release without drowning body matches:
# the issuer is a short field that matches many releases with the same weight.
ISSUER_BOOST = 1.5
# Year and month words ("January 2020") let a date in the query count; weak, every release has one.
DATE_BOOST = 0.5
BODY_BOOST = 1.0

# BM25F parameters. K1 lower than Lucene's 1.2 and B lower than 0.75: releases vary from two-line
# notices to long transcripts, and full length normalisation punishes the long ones too much.
BM25_K1 = 1.2
BM25_B = 0.75

ANALYZER = EnglishAnalyzer()

# The fields a bare query word is looked up in.
DEFAULT_FIELDS = ("title", "issuer", "when", "body")


class TextField(fields.TEXT):  # type: ignore[misc]
    """TEXT whose indexing takes the analyzer's one-loop fast path, with spelling words from that pass.

    Produces the same postings as `fields.TEXT.index` with the same analyzer (a test checks that).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(analyzer=ANALYZER, phrase=True, **kwargs)
        self._spelling_source: tuple[str, list[str]] | None = None

    def index(self, value: str, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        analyzer = self.analyzer
        text_words = words(value)
        self._spelling_source = (value, text_words)
        positions: dict[str, list[int]] = defaultdict(list)
        for position, term in enumerate(analyzer.terms_of_words(text_words)):
            positions[term].append(position)
        fmt = self.format
        boost = fmt.field_boost
        encode = fmt.encode
        for term, poslist in positions.items():
            yield term.encode("utf-8"), len(poslist), len(poslist) * boost, encode(poslist)

    def spellable_words(self, value: str) -> Iterator[str]:
        """Unstemmed indexed words, reusing the word list of the `index()` call on the same value."""
        source = self._spelling_source
        text_words = source[1] if source is not None and source[0] is value else words(value)
        self._spelling_source = None
        return iter(sorted(set(ANALYZER.unstemmed(text_words))))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_spelling_source"] = None
        return state


class DateField(fields.DATETIME):  # type: ignore[misc]
    """A DATETIME whose query syntax takes the user's date forms (`date:2020`, `date:"Jan 2020"`).

    Values are naive midnight datetimes; a query value names a whole period (see `dates`).
    """

    def parse_query(self, fieldname: str, qstring: str, boost: float = 1.0) -> query.Query:
        from .dates import parse_user_period

        first, last = parse_user_period(qstring)
        return date_range(fieldname, first, last, boost)

    def parse_range(
        self,
        fieldname: str,
        start: str | None,
        end: str | None,
        startexcl: bool,
        endexcl: bool,
        boost: float = 1.0,
    ) -> query.Query:
        from .dates import since_date, until_date

        first = since_date(start) if start else None
        last = until_date(end) if end else None
        return date_range(fieldname, first, last, boost)


def date_range(fieldname: str, first: date | None, last: date | None, boost: float = 1.0) -> query.Query:
    """Releases dated from `first` through `last`, both inclusive; None leaves that end open."""
    start = datetime(first.year, first.month, first.day) if first else None
    end = datetime(last.year, last.month, last.day, 23, 59, 59) if last else None
    return query.DateRange(fieldname, start, end, boost=boost)


def build_schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        path=fields.ID(stored=True),
        position=fields.STORED(),
        content_hash=fields.STORED(),
        # "path\tsize\tmtime_ns\tfile_hash": the indexer's manifest, committed atomically with the releases.
        file_state=fields.ID(),
        title=TextField(stored=True, field_boost=TITLE_BOOST, spelling=True),
        issuer=TextField(stored=True, field_boost=ISSUER_BOOST),
        issuer_key=fields.ID(sortable=True),
        when=TextField(field_boost=DATE_BOOST),
        date=DateField(stored=True, sortable=True),
        # "1" for a release without a date: sorting by date puts those last in either order.
        dateless=fields.ID(sortable=True),
        body=TextField(stored=True, field_boost=BODY_BOOST, spelling=True),
        # Near-duplicate group: the id of the group's first release (its own id when it has no duplicate).
        group=fields.ID(stored=True, sortable=True),
    )


def scoring() -> BM25F:
    return BM25F(B=BM25_B, K1=BM25_K1)


def date_words(day: date | None) -> str:
    """What a release's date contributes to bare-word search: its year and month names."""
    if day is None:
        return ""
    return f"{day.year} {calendar.month_name[day.month]} {calendar.month_abbr[day.month]}"


def to_datetime(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day) if day else None
