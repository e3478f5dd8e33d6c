"""The index's fields, their analysis and their boosts.

Boosts are index-time field boosts: Whoosh multiplies a term's frequency by them before BM25's
saturation, which is the BM25F way of saying "a word in the title counts as N words in the body".
Each value is a named constant with the reason for it; `bench/relevance.py` measures changes to them.
"""

from __future__ import annotations

import calendar
import operator
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import accumulate
from typing import Any

from whoosh import fields, formats, query

from . import varints
from .analysis import EnglishAnalyzer, words
from .models import Release

# Bumped whenever fields or analysis change in a way an old index cannot serve; an index with another
# version is refused with a clear message, and `index --rebuild` recreates it.
# 4: a sortable `id` column (stable tie-breaks); 5: another stop list. 6: `file_state` holds path and hash
# only (size and mtime moved to a cache beside the index, so a touched file is not rewritten); names that
# are not UTF-8 or hold control characters are escaped in ids. 7: issuer words left out of `text`, and
# another title boost. 8: near-duplicate fingerprints of format "d3", with a sketch of the text that is
# not the office's boilerplate (see `dedup`). 9: the words as typed for spelling in a field of their own
# (`vocabulary`) with the releases that hold them: Whoosh's spelling field filed every word under a
# segment's first release, so deleting that release lost the segment's whole vocabulary at a merge; and
# fingerprints of format "d4", without the empty shingle that every text with two separators in a row
# shared (15% of the corpus held it among its five smallest hashes, the anchors' base); a release filed
# under its five smallest hashes instead of their ten pairs (`dedup.anchor_terms`). 10: posting blocks in
# `block_layout`'s layout (ids and weights as arrays, values apart) instead of a compressed pickle.
SCHEMA_VERSION = 10

# Bare query words are looked up in one field, `text`, that holds a release's title, issuer, date words
# and body, each occurrence weighted by its section's boost: a term's weight in a release is the sum of
# those boosts, saturated once by BM25 (true BM25F). Whoosh's multi-field way (one OR of four fields per
# word) scored the same idea 2-4 times slower, since every word then drives four posting lists.
#
# The section boosts and BM25's parameters were chosen together, to generalise (BENCHMARKS.md
# "Relevance", bench/relevance_cv.py): on the three shared test collections and five variants of each that
# change their shape (titles dropped, bodies cut to 30 words, queries cut to their 2-3 rarest words,
# upper-cased, one word among stop words), the configuration whose worst ratio to a plain BM25 reference
# is best, among those at or above the reference on every collection as it is; near-equal worst ratios
# (within 0.005) decided by 30 analysts' needs judged on the real corpus (bench/domain.py,
# bench/section_boosts.py). Chosen the same way on any two collections, it held on the third.
#
# A title occurrence counts as two body occurrences: a headline states the subject. 3 ranked a little
# higher where titles exist but lost most where a query is one or two rare words (a headline holding the
# word outranks releases about it: CISI's 0.95-0.97 of the reference at 3); on the real corpus 1, 2 and 3
# were within 0.6% of each other.
TITLE_BOOST = 2.0
# 0: issuer words are not part of `text` at all (`issuer:` and `--issuer` search them). With a boost, a
# person's name in a query pulled in that person's own releases about other things ("hagel nomination"
# ranked Sen. Hagel's 2005-07 statements on others' nominations 2-9): every issuer boost tried (0.5-1.5)
# ranked the corpus needs lower than none.
ISSUER_BOOST = 0.0
# Year and month words ("January 2020") let a date in the query count; weak, every release has one.
DATE_BOOST = 0.5
BODY_BOOST = 1.0
# Positions left empty between sections, so that a phrase never runs from the title into the body.
SECTION_GAP = 100

# K1 1.5 and B 0.4 (Lucene's defaults are 1.2 and 0.75, the reference run's 0.9 and 0.4): worst ratio
# 0.983 over the collections and their variants, every collection 1.02-1.06 of the reference; B 0.75
# won on CISI's full questions but lost most on one-word queries and short documents.
BM25_K1 = 1.5
BM25_B = 0.4

ANALYZER = EnglishAnalyzer()

# The field a bare query word is looked up in.
DEFAULT_FIELD = "text"

Section = tuple[str, float]
"""A piece of a release's text and the boost of each of its words."""


class VarintPositions(formats.Positions):  # type: ignore[misc]
    """Whoosh's positions format written as varints (the count, then the gaps between positions)
    instead of a count and a pickled list: a third of the bytes, read without unpickling."""

    def encode(self, poslist: list[int]) -> bytes:
        if len(poslist) == 1:  # most postings: their bytes from a table
            return varints.encode_one_of_one(poslist[0])
        return varints.encode_small([len(poslist), *map(operator.sub, poslist, [0, *poslist])])

    def decode_positions(self, valuestring: bytes) -> list[int]:
        numbers, _ = varints.decode(valuestring)
        return list(accumulate(numbers[1:]))

    def decode_frequency(self, valuestring: bytes) -> int:
        return varints.decode(valuestring, count=1)[0][0]


class TextField(fields.TEXT):  # type: ignore[misc]
    """TEXT whose indexing takes the analyzer's one-loop fast path, keeping that pass's words for the
    `vocabulary` field (`spellable_words`).

    A value is a string, or a list of (text, boost) sections (see `DEFAULT_FIELD`). For a string it
    produces the same postings as `fields.TEXT.index` with the same analyzer (a test checks that).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(analyzer=ANALYZER, phrase=True, **kwargs)
        self.format = VarintPositions(field_boost=kwargs.get("field_boost", 1.0))
        self._spelling_source: tuple[object, list[str]] | None = None

    def index(self, value: str | list[Section], **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        sections = [(value, 1.0)] if isinstance(value, str) else value
        positions: dict[str, list[int]] = defaultdict(list)
        weights: dict[str, float] = defaultdict(float)
        all_words: list[str] = []
        start = 0
        for text, boost in sections:
            text_words = words(text)
            all_words.extend(text_words)
            terms = self.analyzer.terms_of_words(text_words)
            for position, term in enumerate(terms, start):
                positions[term].append(position)
                weights[term] += boost
            start += len(terms) + SECTION_GAP
        self._spelling_source = (value, all_words)
        field_boost = self.format.field_boost
        encode = self.format.encode
        for term, poslist in positions.items():
            yield term.encode("utf-8"), len(poslist), weights[term] * field_boost, encode(poslist)

    def spellable_words(self, value: str | list[Section]) -> Iterator[str]:
        """Unstemmed indexed words, reusing the word list of the `index()` call on the same value."""
        source = self._spelling_source
        if source is not None and source[0] is value:
            text_words = source[1]
        else:
            texts = [value] if isinstance(value, str) else [text for text, _ in value]
            text_words = [word for text in texts for word in words(text)]
        self._spelling_source = None
        return iter(sorted(ANALYZER.unstemmed(text_words)))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_spelling_source"] = None
        return state


class VocabularyField(fields.FieldType):  # type: ignore[misc]
    """The words of a `TextField` that stemming changes, as typed, each filed under the releases that
    hold it: with the text field's own terms, the vocabulary did-you-mean looks in (`spelling`).

    Whoosh's own spelling field (`TEXT(spelling=True)`) files every such word under document 0 of its
    segment, whichever document holds it; when that document is deleted, a merge drops every word of
    the segment. Here each posting names its release, so a word lasts as long as a release holding it.
    Existence postings (no frequency, no positions): only whether a release holds the word counts.
    """

    def __init__(self, source: TextField) -> None:
        self.source = source
        self.format = formats.Existence()
        self.analyzer = source.analyzer
        self.scorable = False
        self.stored = False
        self.unique = False
        self.column_type = None
        self.vector = None

    def index(self, value: str | list[Section], **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        for word in self.source.spellable_words(value):
            yield word.encode("utf-8"), 1, 1.0, b""


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
    text = TextField()
    return fields.Schema(
        # Sortable: the id column breaks ties between equal scores in a stable order (searching.Columns).
        id=fields.ID(stored=True, unique=True, sortable=True),
        path=fields.ID(stored=True),
        position=fields.STORED(),
        content_hash=fields.STORED(),
        # "path\tfile_hash": the indexer's manifest, committed atomically with the releases (see `manifest`).
        file_state=fields.ID(),
        # Title, issuer, date words and body with their boosts: where bare query words are looked up.
        text=text,
        # The words of `text` that stemming changes, as typed (given the same value as `text`, and
        # indexed after it: Whoosh indexes a document's fields in the order of their names).
        vocabulary=VocabularyField(text),
        # Title and issuer on their own, for `title:` and `issuer:` queries.
        title=TextField(stored=True),
        issuer=TextField(stored=True),
        issuer_key=fields.ID(sortable=True),
        date=DateField(stored=True, sortable=True),
        # "1" for a release without a date: sorting by date puts those last in either order.
        dateless=fields.ID(sortable=True),
        body=fields.STORED(),
        # Near-duplicate group: the id of its original, the group's earliest release (dedup.assign_groups).
        group=fields.ID(stored=True, sortable=True),
        # Near-duplicate fingerprint (see `dedup`): anchors find candidates, the stored sketches compare them.
        # Existence postings: a release is filed under a hash or not.
        anchors=fields.IDLIST(),
        fingerprint=fields.STORED(),
    )


def text_sections(title: str, issuer: str, day: date | None, body: str) -> list[Section]:
    """The `text` field's value for a release: its sections with a boost above 0 (a word held only in a
    section of boost 0 would match a query while adding nothing to its score)."""
    sections = [
        (title, TITLE_BOOST),
        (issuer, ISSUER_BOOST),
        (date_words(day), DATE_BOOST),
        (body, BODY_BOOST),
    ]
    return [(text, boost) for text, boost in sections if boost > 0]


def date_words(day: date | None) -> str:
    """What a release's date contributes to bare-word search: its year and month names."""
    if day is None:
        return ""
    return f"{day.year} {calendar.month_name[day.month]} {calendar.month_abbr[day.month]}"


def to_datetime(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day) if day else None


# ------------------------------------------------------------------------------ a release as a document


@dataclass(frozen=True)
class Grouping:
    """A release's near-duplicate group and what finds it again: anchor terms and the encoded fingerprint."""

    group: str
    anchors: tuple[str, ...] = ()
    fingerprint: str = ""


def release_document(release: Release, file_state: str, group: Grouping | None = None) -> dict[str, Any]:
    """The Whoosh document of one release."""
    sections = text_sections(release.title, release.issuer, release.date, release.body)
    doc: dict[str, Any] = {
        "id": release.id,
        "path": release.path,
        "position": release.position,
        "content_hash": release.content_hash,
        "file_state": file_state,
        "text": sections,
        "vocabulary": sections,
        "title": release.title,
        "issuer": release.issuer,
        "body": release.body,
        "group": group.group if group else release.id,
    }
    if group is not None and group.anchors:
        doc["anchors"] = " ".join(group.anchors)
        doc["fingerprint"] = group.fingerprint
    if release.issuer:
        doc["issuer_key"] = release.issuer
    if release.date is not None:
        doc["date"] = to_datetime(release.date)
    else:
        doc["dateless"] = "1"
    return doc


def release_from_stored(stored: dict[str, Any]) -> Release:
    """The release whose stored fields these are (everything `release_document` needs to write it again)."""
    day = stored.get("date")
    return Release(
        id=stored["id"],
        title=stored.get("title", ""),
        issuer=stored.get("issuer", ""),
        date=day.date() if isinstance(day, datetime) else None,
        body=stored.get("body", ""),
        path=stored.get("path", ""),
        position=int(stored.get("position", 0)),
        content_hash=stored.get("content_hash", ""),
    )
