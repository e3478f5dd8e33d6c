"""What the ranker reads beneath Whoosh's matchers (postings.py): phrase checks from decoded positions,
and the per-document date and id columns, segment by segment on the synthetic index of three segments."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from whoosh.util.times import datetime_to_long

from statementsearch import StatementIndex
from statementsearch.analysis import EnglishAnalyzer
from statementsearch.postings import Phrases, Word, document_dates, document_ids
from statementsearch.schema import DEFAULT_FIELD, text_sections
from statementsearch.whoosh_internals import blocks
from synthetic import SyntheticIndex


@pytest.fixture
def leaves(segmented_ix: StatementIndex) -> Iterator[list[tuple[Any, int]]]:
    """Each segment's reader with its offset."""
    with segmented_ix._searcher() as lease:
        yield [(sub.reader(), offset) for sub, offset in lease.searcher.leaf_searchers()]


def live(reader: Any) -> list[int]:
    return [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]


def test_document_dates_and_ids_per_segment(segmented: SyntheticIndex, leaves: list[tuple[Any, int]]) -> None:
    """Each live document's date (Whoosh's long, None for an undated release) and id, by its number
    within its own segment."""
    seen = set()
    for reader, _ in leaves:
        days, ids = document_dates(reader), document_ids(reader)
        assert len(days) == reader.doc_count_all()
        for docnum in live(reader):
            release = segmented.releases[ids[docnum]]
            day = release.date
            assert days[docnum] == (
                None if day is None else datetime_to_long(datetime(day.year, day.month, day.day))
            )
            seen.add(release.id)
    assert seen == set(segmented.releases)


def section_terms(stored: dict[str, Any]) -> list[list[str]]:
    """The terms of each section of a release's text field (title, issuer, date words, body)."""
    day = stored.get("date")
    title, issuer, body = (stored.get(name, "") for name in ("title", "issuer", "body"))
    return [
        EnglishAnalyzer().terms(text) for text, _ in text_sections(title, issuer, day and day.date(), body)
    ]


def adjacent_pairs(sections: list[list[str]]) -> set[tuple[str, str]]:
    """The term pairs next to each other within one section."""
    return {pair for terms in sections for pair in itertools.pairwise(terms)}


def across_sections(sections: list[list[str]]) -> list[tuple[str, str]]:
    """The last term of each section with the first of the next: never a phrase."""
    present = [terms for terms in sections if terms]
    return [(one[-1], two[0]) for one, two in itertools.pairwise(present)]


def test_phrases_hold_exactly_where_the_words_are_adjacent(leaves: list[tuple[Any, int]]) -> None:
    """Pairs taken from releases' own text, pairs of words they hold apart, and the words on either side
    of a section's end (positions leave a gap there), per segment (the words' posting lists span several
    blocks): `hold` is true exactly for words adjacent within a section, in that order."""
    rng = random.Random(11)
    checked = {True: 0, False: 0}
    for reader, _ in leaves:
        docs = rng.sample(live(reader), 25)
        for doc in docs:
            stored = reader.stored_fields(doc)
            sections = section_terms(stored)
            pairs = adjacent_pairs(sections)
            terms = sorted({t for pair in pairs for t in pair})
            candidates = rng.sample(sorted(pairs), 3) + [tuple(rng.sample(terms, 2)) for _ in range(3)]
            candidates += across_sections(sections)
            for first, second in candidates:
                phrase = (Word(DEFAULT_FIELD, first), Word(DEFAULT_FIELD, second))
                phrases = Phrases(reader, (phrase,), lambda w: blocks(reader, w.field, w.text))  # noqa: B023
                expected = (first, second) in pairs
                assert phrases.hold(doc) == expected, (stored["id"], first, second)
                checked[expected] += 1
    assert checked[True] >= 75 and checked[False] >= 30


def test_a_phrase_of_three_needs_all_three_in_order(leaves: list[tuple[Any, int]]) -> None:
    reader, _ = leaves[-1]
    doc = live(reader)[0]
    terms = EnglishAnalyzer().terms(reader.stored_fields(doc)["body"])
    a, b, c = terms[:3]

    def holds(*words: str) -> bool:
        phrase = tuple(Word(DEFAULT_FIELD, w) for w in words)
        return Phrases(reader, (phrase,), lambda w: blocks(reader, w.field, w.text)).hold(doc)

    assert holds(a, b, c) and holds(a, b) and holds(b, c)
    if (c, b) not in set(itertools.pairwise(terms)):
        assert not holds(a, c, b)
    assert not holds(a, "zzzzunseen", c)
