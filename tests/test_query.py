"""How a query is read (query.py): words and their minimum, required clauses, exclusions, boosts,
phrases, operators, fields, date and issuer words, did-you-mean, repairs and refusals.

Searches of the seed check what each form finds; readings are checked on a real index built from
generated releases, so that wildcard expansion reads a real lexicon with real document frequencies.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import CJTF, DOD, hit_ids
from statementsearch import DateError, QueryError, StatementIndex
from statementsearch.query import MAX_EXPANDED_POSTINGS, Reading, highlight_terms, min_words_for, parse_query


def test_phrase_matches_only_as_a_phrase(seed_ix: StatementIndex) -> None:
    assert hit_ids(seed_ix, '"quds force"') == [DOD]
    assert hit_ids(seed_ix, '"force quds"') == []


def test_bad_dates_are_errors_naming_the_value(seed_ix: StatementIndex) -> None:
    with pytest.raises(DateError, match="someday"):
        seed_ix.search("attacks", since="someday")
    with pytest.raises(DateError):
        seed_ix.search("attacks", since="2021", until="2020")


def test_date_and_issuer_words_find_releases_through_their_fields(seed_ix: StatementIndex) -> None:
    assert set(hit_ids(seed_ix, "January 2020")) == {DOD, CJTF}
    assert hit_ids(seed_ix, "Department of Defense")[0] == DOD
    assert hit_ids(seed_ix, "issuer:defense") == [DOD]
    assert hit_ids(seed_ix, "date:2020-01-05") == [CJTF]
    assert set(hit_ids(seed_ix, 'date:"Jan 2020"')) == {DOD, CJTF}


def test_operators(seed_ix: StatementIndex) -> None:
    assert set(hit_ids(seed_ix, "soleimani OR daesh")) == {DOD, CJTF}
    assert hit_ids(seed_ix, "attacks NOT soleimani") == [CJTF]
    assert hit_ids(seed_ix, "attacks -soleimani") == [CJTF]
    assert hit_ids(seed_ix, "(soleimani OR daesh) AND training") == [CJTF]
    assert hit_ids(seed_ix, "title:daesh") == [CJTF]
    assert hit_ids(seed_ix, "soleimany~") == [DOD]


def test_did_you_mean_even_when_stemming_matches(seed_ix: StatementIndex) -> None:
    result = seed_ix.search("soleimany")
    assert result.suggestion == "soleimani"
    assert seed_ix.search("quds forse").suggestion == "quds force"
    assert seed_ix.search("soleimany", suggestions=False).suggestion is None


@pytest.mark.parametrize(
    "query",
    [
        '"quds force',
        "(soleimani",
        "soleimani)",
        "NOT",
        "*",
        "a*",
        "?",
        "AND OR",
        "-",
        "title:",
        "nofield:x",
        "x" * 10_000,
        "soleimani " * 400,
        "zz~9",
        "*ing",
        "\x00\ufffd",
        "id:\ud800x~0",
        '"" ()',
    ],
)
def test_hostile_queries_give_a_result_or_a_clear_message(seed_ix: StatementIndex, query: str) -> None:
    started = time.perf_counter()
    try:
        result = seed_ix.search(query)
        assert result.total >= 0
    except QueryError as exc:
        assert str(exc) and "Traceback" not in str(exc)
    assert time.perf_counter() - started < 5


def only_score(ix: StatementIndex, query: str) -> float:
    (hit,) = ix.search(query, collapse=False).hits
    return hit.score


@pytest.mark.parametrize(
    ("plain", "boosted"),
    [
        ("soleimani", "soleimani^2"),
        ('"quds force"', '"quds force"^2'),
        ("title:quds", "title:quds^2"),
        ("issuer:defense", "issuer:defense^2"),
        ("soleimani -daesh", "soleimani^2 -daesh"),
        ("(soleimani OR quds)", "(soleimani OR quds)^2"),
        ("(soleimani quds)", "(soleimani quds)^2"),
        ("(soleimani AND quds)", "(soleimani AND quds)^2"),
    ],
)
def test_a_boost_multiplies_its_clauses_score(seed_ix: StatementIndex, plain: str, boosted: str) -> None:
    assert only_score(seed_ix, boosted) == pytest.approx(2 * only_score(seed_ix, plain), abs=2e-4)


def test_a_boost_weighs_one_word_against_another(seed_ix: StatementIndex) -> None:
    assert hit_ids(seed_ix, "soleimani^5 OR daesh") == [DOD, CJTF]
    assert hit_ids(seed_ix, "soleimani OR daesh^5") == [CJTF, DOD]
    long_plain = only_score(seed_ix, "soleimani quds force killed")
    long_boosted = only_score(seed_ix, "soleimani^2 quds force killed")
    assert long_boosted == pytest.approx(long_plain + only_score(seed_ix, "soleimani"), abs=3e-4)


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
    reading = read(lexicon_ix, "the senate * session")
    assert reading.typed == ("senate", "session")
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


@pytest.mark.parametrize(("typed", "shown"), [("se*", "se*"), ("sever~", "sever~"), ("sevn~2", "sevn~2")])
def test_a_cut_names_the_word_as_typed(
    lexicon_ix: Any, monkeypatch: pytest.MonkeyPatch, typed: str, shown: str
) -> None:
    import statementsearch.query as query

    monkeypatch.setattr(query, "MAX_EXPANSIONS", 1)
    notes = read(lexicon_ix, typed).notes
    assert len(notes) == 1 and notes[0].startswith(f"'{shown}' stands for "), notes


def test_query_date_values_are_filters(lexicon_ix: Any) -> None:
    reading = read(lexicon_ix, "senate date:2020-01-03")
    assert reading.typed == ("senate",) and reading.dates
    assert {h.date for h in lexicon_ix.search("senate date:2020-01-03").hits} == {"2020-01-03"}
    assert lexicon_ix.search('date:"Jan 2020"', collapse=False, limit=100).total == 40


def test_readme_queries_read_as_documented(lexicon_ix: Any, tmp_path: Path) -> None:
    assert read(lexicon_ix, "senate OR sewage").required != ()
    assert read(lexicon_ix, "(senate OR sewage) budget").typed == ("budget",)
    assert read(lexicon_ix, "sewage~").typed == ("sewage",)


def test_a_question_mark_at_a_word_edge_is_punctuation_inside_a_word_a_wildcard(lexicon_ix: Any) -> None:
    reading = read(lexicon_ix, "Which senate (session)? ?budget ?")
    assert reading.typed == ("Which", "senate", "session", "budget")
    assert [type(q).__name__ for q in reading.words] == ["Term", "Term", "Term", "Term"]
    assert reading.notes == ()
    assert [q.text for q in read(lexicon_ix, "sev?n").words] == ["seven"]  # one pattern, one word
    assert lexicon_ix.search("session?", collapse=False, limit=100).total == 20


def test_a_query_of_2000_characters_is_read_and_one_more_refused(lexicon_ix: Any) -> None:
    """The bound the README promises, as a number: the constant must not drift from it."""
    longest = ("senate " * 2000)[:2000]
    assert read(lexicon_ix, longest).typed == ("senate",)
    with pytest.raises(QueryError, match=r"query too long \(2001 characters; at most 2000\)"):
        read(lexicon_ix, longest + "s")


def test_a_reading_cannot_be_changed_once_made(lexicon_ix: Any) -> None:
    """Readings are shared (a search's rounds, the relaxed reading made from one): never edited."""
    reading = read(lexicon_ix, "senate session")
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.min_words = 0  # type: ignore[misc]


def test_how_a_query_was_read_is_said_in_words(lexicon_ix: Any) -> None:
    assert read(lexicon_ix, "senate").description == "the word: senate"
    assert read(lexicon_ix, "senate session").description == "all of: senate, session"
    long = read(lexicon_ix, "senate session settlement seven sever")
    assert long.description == "at least 4 of 5 words: senate, session, settlement, seven, sever"


def test_a_query_of_256_parts_is_read_and_one_more_refused(lexicon_ix: Any) -> None:
    """The bound on a query's parts, as a number: 256."""
    words = [f"x{n:03d}" for n in range(257)]
    assert len(read(lexicon_ix, " ".join(words[:256])).words) == 256
    with pytest.raises(QueryError, match=r"too many parts \(more than 256\)"):
        read(lexicon_ix, " ".join(words))


def test_a_phrase_s_words_are_marked_in_snippets(lexicon_ix: Any) -> None:
    assert {"senat", "session"} <= highlight_terms(read(lexicon_ix, '"senate sessions" budget'))
    assert "sewag" not in highlight_terms(read(lexicon_ix, "senate -sewage"))
