"""The fused analyzer gives Whoosh's own chain's terms, and the fast index path Whoosh's own postings:
on the seed, synthetic releases, awkward text and random text (every clone), and on real corpus records
when ../shared is there (`shared` marker)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import fields
from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter

from helpers import SEED
from statementsearch.analysis import STOP_WORD_SET, TOKEN_PATTERN, EnglishAnalyzer, word_spans
from statementsearch.reader import read_file
from statementsearch.schema import TextField, VarintPositions
from synthetic import records, vocabulary

WHOOSH_CHAIN = (
    RegexTokenizer(TOKEN_PATTERN)
    | LowercaseFilter()
    | StopFilter(stoplist=STOP_WORD_SET, maxsize=40)
    | StemFilter(cachesize=-1)
)
AWKWARD = [
    "",
    "   \n\t ",
    "U.S. forces in the U.K. and e.g. 3.5 million, 1,200 troops; $4.2bn.",
    "İstanbul ŞEHİR straße STRASSE ﬁnancial Ǆemal ΣΊΣΥΦΟΣ ΌΣΟΣ",
    "ΑΣ'Α ΟΔΥΣΣΕΥΣ's ΝΟΣ.ΟΣ",  # a final sigma before an apostrophe or a dot and more letters
    "al-Qaeda's leaders' 'quoted' \u201ccurly\u201d \u2014 dash\u2013dash",
    "a an I x y z be is it of on or at to",  # stop words and words too short
    "supercalifragilisticexpialidociousnessessesses " * 3,  # long words
    "caf\u00e9 cafe\u0301 na\u00efve co\u00f6perate r\u00e9sum\u00e9s",  # composed and combining
    "日本語のテキスト 中文 العربية עברית हिन्दी ไทย",
    "x\u00ad\u200bsoft\u00adhyphen zero\u200bwidth",
    "attacks attacked attacking attacker's ATTACKS Attack.",
    "2020-01-05 05.01.2020 1/5/2020 #3 @handle http://example.mil/a_b?c=d",
]
TEXT = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None)
words_and_marks = st.text(
    alphabet=st.sampled_from(list("aeiouystrnlAEIOUSTRN0189 .,'-_\n\u00e9\u0301\u0130\u00df\ufb01\u03a3")),
    max_size=120,
)


def seed_bodies() -> list[str]:
    return [r.title + "\n" + r.body for r in read_file(SEED).releases]


def texts_of(sample: list[dict[str, Any]]) -> list[str]:
    return [r["title"] + "\n" + r["body"] for r in sample]


def synthetic_texts() -> list[str]:
    """The seed, synthetic releases (inflections, capitals, numbers, accents, quotes) and awkward text."""
    return seed_bodies() + texts_of(records(vocabulary(), 150, seed=3)) + AWKWARD


def assert_terms_match_whoosh_chain(texts: list[str]) -> None:
    analyzer = EnglishAnalyzer()
    for text in texts:
        assert Counter(analyzer.terms(text)) == Counter(t.text for t in WHOOSH_CHAIN(text)), text[:80]


def assert_postings_equal_whoosh_text_field(texts: list[str], boost: float) -> None:
    """Same terms, frequencies, weights and positions as `fields.TEXT.index` with the same analyzer
    (and the same encoding of positions)."""
    ours = TextField(field_boost=boost)
    theirs = fields.TEXT(analyzer=EnglishAnalyzer(), phrase=True, field_boost=boost)
    theirs.format = VarintPositions(field_boost=boost)
    for text in texts:
        assert sorted(ours.index(text)) == sorted(theirs.index(text)), text[:80]


def test_terms_match_whoosh_chain() -> None:
    assert_terms_match_whoosh_chain(synthetic_texts())


@TEXT
@given(text=st.one_of(st.text(max_size=200), words_and_marks))
def test_terms_match_whoosh_chain_on_any_text(text: str) -> None:
    assert_terms_match_whoosh_chain([text])


@pytest.mark.shared
def test_terms_and_postings_match_whoosh_on_corpus_records(corpus_sample: list[dict[str, Any]]) -> None:
    texts = texts_of(corpus_sample)
    assert_terms_match_whoosh_chain(texts)
    for boost in (1.0, 2.5):
        assert_postings_equal_whoosh_text_field(texts, boost)


def test_call_positions_are_consecutive_and_chars_point_into_text() -> None:
    text = "The attacks on U.S. forces in İstanbul were ATTACKS, said the official."
    tokens = [
        (t.text, t.pos, t.startchar, t.endchar) for t in EnglishAnalyzer()(text, positions=True, chars=True)
    ]
    assert [pos for _, pos, _, _ in tokens] == list(range(len(tokens)))
    for term, _, start, end in tokens:
        assert text[start:end].lower().startswith(term[:2])
    assert [term for term, _, _, _ in tokens].count("attack") == 2


def test_word_spans_offsets_survive_expanding_lowercase() -> None:
    text = "İstanbul and Ankara"
    for word, start, end in word_spans(text):
        assert text[start:end].lower() == word


def test_no_morph_keeps_words_unstemmed() -> None:
    assert [t.text for t in EnglishAnalyzer()("Attacks escalated", no_morph=True)] == ["attacks", "escalated"]


@pytest.mark.parametrize("boost", [1.0, 2.5])
def test_text_field_postings_equal_whoosh_text_field(boost: float) -> None:
    assert_postings_equal_whoosh_text_field(synthetic_texts(), boost)


@TEXT
@given(text=st.one_of(st.text(max_size=200), words_and_marks))
def test_text_field_postings_equal_whoosh_text_field_on_any_text(text: str) -> None:
    assert_postings_equal_whoosh_text_field([text], 1.5)
