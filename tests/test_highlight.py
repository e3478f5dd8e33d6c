"""Snippets and highlights (highlight.py): the matched words of a query, stemmed forms included, in hits'
snippets and titles, and the three renderers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import DOD, SEED
from statementsearch import StatementIndex
from statementsearch.analysis import term_for
from statementsearch.highlight import (
    FRAGMENT_SEPARATOR,
    TermMatcher,
    make_snippet,
    normalise_space,
    render_ansi,
    render_brackets,
    render_html,
)
from statementsearch.reader import read_file


def test_soleimani_ranks_dod_first_with_the_term_highlighted(seed_ix: StatementIndex) -> None:
    result = seed_ix.search("soleimani")
    first = result.hits[0]
    assert first.id == DOD
    assert [first.snippet[s:e] for s, e in first.highlights] == ["Soleimani"]
    assert result.suggestion is None


def test_stemmed_forms_are_highlighted(seed_ix: StatementIndex) -> None:
    hit = seed_ix.search("attack", issuer="Combined Joint")
    words = {hit.hits[0].snippet[s:e].lower() for s, e in hit.hits[0].highlights}
    assert words == {"attacks"}


def test_title_hits_are_highlighted_separately(seed_ix: StatementIndex) -> None:
    hit = seed_ix.search("quds").hits[0]
    assert [hit.title[s:e] for s, e in hit.title_highlights] == ["Quds"]


TEXT = "Quds Force <leaders> & the force's attacks"
SPANS = ((0, 4), (5, 10), (35, 42))


def test_render_ansi_wraps_each_match_in_bold_yellow_and_a_reset() -> None:
    assert render_ansi(TEXT, SPANS) == (
        "\x1b[1;33mQuds\x1b[0m \x1b[1;33mForce\x1b[0m <leaders> & the force's \x1b[1;33mattacks\x1b[0m"
    )
    assert render_ansi(TEXT, ()) == TEXT


def test_render_brackets_marks_matches_for_pipes() -> None:
    assert render_brackets(TEXT, SPANS) == "[Quds] [Force] <leaders> & the force's [attacks]"


def test_render_html_escapes_text_and_marks() -> None:
    assert render_html(TEXT, SPANS) == (
        "<mark>Quds</mark> <mark>Force</mark> &lt;leaders&gt; &amp; the force&#x27;s <mark>attacks</mark>"
    )
    assert render_html("a<b", [(0, 3)]) == "<mark>a&lt;b</mark>"


def test_renderers_take_spans_in_any_order() -> None:
    assert render_brackets("one two", [(4, 7), (0, 3)]) == "[one] [two]"


def matcher_for(*words: str) -> TermMatcher:
    return TermMatcher(t for t in map(term_for, words) if t is not None)


def test_matcher_finds_every_form_that_stems_to_a_term_and_nothing_else() -> None:
    text = "Attacked, attacking; ATTACKS and an attacker's attack. Attic tacks, attache."
    found = [text[s:e] for s, e in matcher_for("attack").spans(text)]
    assert found == ["Attacked", "attacking", "ATTACKS", "attacker", "attack"]


def test_snippet_of_a_long_body_is_cut_around_the_match_at_word_boundaries() -> None:
    body = " ".join(f"filler{n}" for n in range(200)) + " the embassy was attacked " + "tail " * 100
    snippet = make_snippet(body, matcher_for("embassy"))
    assert snippet.text.startswith("… ") and snippet.text.endswith(" …")
    assert len(snippet.text) <= 200 + 4
    assert [snippet.text[s:e] for s, e in snippet.spans] == ["embassy"]
    assert all(word in body.split() for word in snippet.text.strip("… ").split())


def test_two_distant_words_get_a_fragment_each() -> None:
    body = "Rockets hit the base. " + "Nothing happened. " * 60 + "The embassy was closed."
    snippet = make_snippet(body, matcher_for("rocket", "embassy"))
    assert FRAGMENT_SEPARATOR in snippet.text
    assert [snippet.text[s:e] for s, e in snippet.spans] == ["Rockets", "embassy"]


@pytest.mark.parametrize("body", ["", "No match here at all."])
def test_a_body_without_matches_gives_its_opening(body: str) -> None:
    snippet = make_snippet(body, matcher_for("embassy"))
    assert snippet.text == body and snippet.spans == ()


def _candidates_by_regex(matcher: TermMatcher, text: str) -> list[int]:
    assert matcher.pattern is not None
    return [candidate.start() for candidate in matcher.pattern.finditer(text)]


words_and_marks = st.lists(
    st.sampled_from(["attack", "Attacks", "tacks", "u.s.", "US", "us", "bus", "_us", "9us", "Über", "ſtate"])
    | st.sampled_from([" ", "  ", ", ", "-", "'", ".", "\n", "é"]),
    max_size=40,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=words_and_marks | st.text(max_size=80))
def test_candidates_found_by_find_are_the_regexs(text: str) -> None:
    """ASCII text is searched with `str.find` in its lowered form instead of the case-insensitive
    regex: the same word starts, for any text (others still go through the regex)."""
    for matcher in (matcher_for("attack", "state"), matcher_for("us"), matcher_for("u.s.", "uber")):
        assert list(matcher._candidates(text)) == _candidates_by_regex(matcher, text)


def test_spans_in_the_seeds_bodies_are_the_regexs() -> None:
    """The seed's releases (real bodies, with captions, datelines and abbreviations): the same word
    starts by both ways, and matches found."""
    bodies = [normalise_space(release.body) for release in read_file(SEED).releases]
    matchers = [matcher_for(*words) for words in (("attack", "forces"), ("us", "iran"), ("strike",))]
    checked = 0
    for body in bodies:
        for matcher in matchers:
            assert list(matcher._candidates(body)) == _candidates_by_regex(matcher, body)
            checked += len(matcher.spans(body))
    assert len(bodies) >= 2 and checked > 10
