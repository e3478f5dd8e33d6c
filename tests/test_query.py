"""How a query is read (query.py): words and their minimum, required clauses, exclusions, repairs, refusals.

Readings are checked on a real index built from generated releases, so that wildcard expansion reads a
real lexicon with real document frequencies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from statementsearch import QueryError, StatementIndex
from statementsearch.query import MAX_EXPANDED_POSTINGS, Reading, min_words_for, parse_query

WORDS = ["senate", "session", "sessions", "settlement", "seven", "several", "severe", "sewage"]


@pytest.fixture(scope="module")
def lexicon_ix(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Releases whose bodies hold `se*` words at known frequencies: senate 40, session 20, ... severe 1
    (release n holds the rank-th word when n < 40 >> rank; no release holds "sewage")."""
    place = tmp_path_factory.mktemp("lexicon")
    docs = place / "documents"
    docs.mkdir()
    lines = []
    for n in range(40):
        body = " ".join(w for rank, w in enumerate(WORDS) if n < 40 >> rank)
        source = f"(Source: Office {n % 3}; issued 2020-01-{n % 28 + 1:02d})"
        lines.append(f"Release {n}\n{source}\n\n{body} budget\n")
    (docs / "a.txt").write_text("\n".join(lines), encoding="utf-8")
    ix = StatementIndex.create(place / "index")
    ix.update(docs)
    yield ix
    ix.close()


def read(ix: Any, text: str) -> Reading:
    with ix._searcher() as lease:
        return parse_query(text, ix._parser, lease.searcher.reader())


@pytest.mark.parametrize(
    ("count", "needed"), [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (6, 4), (9, 6), (12, 8)]
)
def test_short_queries_need_every_word_long_ones_most(count: int, needed: int) -> None:
    assert min_words_for(count) == needed


def test_words_are_what_was_typed_bare(lexicon_ix: Any) -> None:
    reading = read(lexicon_ix, 'senate "seven sessions" title:budget -sewage AND severe')
    assert reading.typed == ("senate",)
    assert reading.min_words == 1
    assert len(reading.required) == 3  # the phrase, title:budget, and `severe` joined by AND ...
    assert len(reading.excluded) == 1  # ... and -sewage


def test_a_field_named_explicitly_is_required_even_for_the_default_field(lexicon_ix: Any) -> None:
    reading = read(lexicon_ix, "body:senate session")
    assert reading.typed == ("session",) and len(reading.required) == 1


def test_long_query_reading_and_its_description(lexicon_ix: Any) -> None:
    reading = read(lexicon_ix, "senate session settlement seven several")
    assert reading.min_words == 4
    assert reading.description == "at least 4 of 5 words: senate, session, settlement, seven, several"
    assert read(lexicon_ix, "senate session").description == "all of: senate, session"


def test_a_repeated_word_counts_twice_in_the_score_not_in_the_count(lexicon_ix: Any) -> None:
    reading = read(lexicon_ix, "senate senate session")
    assert reading.typed == ("senate", "session") and reading.min_words == 2
    assert [q.boost for q in reading.words] == [2.0, 1.0]


def test_all_capitals_make_operators_words(lexicon_ix: Any) -> None:
    reading = read(lexicon_ix, "SENATE AND SESSION NOT SEWAGE")
    assert reading.excluded == () and reading.required == ()
    assert reading.typed == ("SENATE", "SESSION", "SEWAGE")
    assert any("capitals" in note for note in reading.notes)
    assert read(lexicon_ix, "senate NOT sewage").excluded != ()


def test_an_unclosed_quote_is_read_to_the_end_and_said(lexicon_ix: Any) -> None:
    reading = read(lexicon_ix, 'budget "seven sessions')
    assert reading.typed == ("budget",) and len(reading.required) == 1
    assert any("unclosed quote" in note for note in reading.notes)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo:bar", "unknown field 'foo:'"),
        ("Senate:budget", "unknown field 'Senate:'"),
        ("date:garbage", "invalid date 'garbage'"),
        ("date:2020-13-45", "invalid date"),
        ("*ism", "wildcard '*ism' needs at least 2 letters"),
        ("s*", "wildcard 's*' needs at least 2 letters"),
        ("? ?", "nothing to search for"),
        ("the of", "nothing to search for"),
    ],
)
def test_refusals_name_what_is_wrong(lexicon_ix: Any, text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("*", r"\*").replace("?", r"\?")):
        read(lexicon_ix, text)


def test_known_fields_and_times_are_not_taken_for_unknown_fields(lexicon_ix: Any) -> None:
    for text in ("headline:senate", "source:office", "issued:2020", "meeting 12:30", "note: senate"):
        read(lexicon_ix, text)


def test_a_lone_wildcard_among_words_is_left_out_and_said(lexicon_ix: Any) -> None:
    reading = read(lexicon_ix, "is the senate ?")
    assert reading.typed == ("senate",)
    assert any("lone" in note for note in reading.notes)
    assert read(lexicon_ix, "*").everything


def test_a_wildcard_stands_for_its_most_frequent_words_within_a_budget(
    lexicon_ix: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import statementsearch.query as query

    reading = read(lexicon_ix, "se*")
    terms = [t.text for t in reading.words[0].subqueries]
    assert set(terms) == {"senat", "session", "settlement", "seven", "sever"}
    assert reading.notes == ()
    monkeypatch.setattr(query, "MAX_EXPANDED_POSTINGS", 60)  # senate 40 + session(s) 20 fit; no more
    cut = read(lexicon_ix, "se*")
    assert [t.text for t in cut.words[0].subqueries] == ["senat", "session"]
    assert cut.notes and "searched for the 2 most frequent" in cut.notes[0]
    assert MAX_EXPANDED_POSTINGS > 60


def test_a_wildcard_answers_through_the_search_and_names_its_cut(
    lexicon_ix: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import statementsearch.query as query

    monkeypatch.setattr(query, "MAX_EXPANSIONS", 1)
    result = lexicon_ix.search("se*", collapse=False, limit=50)
    assert result.total == 40  # every release holds "senate", the most frequent
    assert any("most frequent" in note for note in result.notes)


def test_query_date_values_are_filters(lexicon_ix: Any) -> None:
    reading = read(lexicon_ix, "senate date:2020-01-03")
    assert reading.typed == ("senate",) and reading.dates
    assert {h.date for h in lexicon_ix.search("senate date:2020-01-03").hits} == {"2020-01-03"}
    assert lexicon_ix.search('date:"Jan 2020"', collapse=False, limit=100).total == 40


def test_readme_queries_read_as_documented(lexicon_ix: Any, tmp_path: Path) -> None:
    assert read(lexicon_ix, "senate OR sewage").required != ()
    assert read(lexicon_ix, "(senate OR sewage) budget").typed == ("budget",)
    assert read(lexicon_ix, "sewage~").typed == ("sewage",)
