"""The fused analyzer gives Whoosh's own chain's terms, and the fast index path Whoosh's own postings."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from whoosh import fields
from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter

from statementsearch.analysis import STOP_WORD_SET, TOKEN_PATTERN, EnglishAnalyzer, word_spans
from statementsearch.reader import read_file
from statementsearch.schema import TextField

SEED = Path(__file__).resolve().parents[1] / "documents" / "000_fb62ce4d62dc1888.txt"

WHOOSH_CHAIN = (
    RegexTokenizer(TOKEN_PATTERN)
    | LowercaseFilter()
    | StopFilter(stoplist=STOP_WORD_SET, maxsize=40)
    | StemFilter(cachesize=-1)
)


def seed_bodies() -> list[str]:
    return [r.title + "\n" + r.body for r in read_file(SEED).releases]


def sample_texts(corpus_records: list[dict[str, str]]) -> list[str]:
    return seed_bodies() + [r["title"] + "\n" + r["body"] for r in corpus_records]


def test_terms_match_whoosh_chain_on_seed_and_corpus(corpus_sample: list[dict[str, str]]) -> None:
    analyzer = EnglishAnalyzer()
    for text in sample_texts(corpus_sample):
        assert Counter(analyzer.terms(text)) == Counter(t.text for t in WHOOSH_CHAIN(text))


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
def test_text_field_postings_equal_whoosh_text_field(
    boost: float, corpus_sample: list[dict[str, str]]
) -> None:
    """Same terms, frequencies, weights and positions as `fields.TEXT.index` with the same analyzer."""
    ours = TextField(field_boost=boost)
    theirs = fields.TEXT(analyzer=EnglishAnalyzer(), phrase=True, field_boost=boost)
    for text in sample_texts(corpus_sample):
        assert sorted(ours.index(text)) == sorted(theirs.index(text))


def test_spellable_words_are_the_words_stemming_changes() -> None:
    """Words equal to their stem ("soleimani") are index terms already; the others go to spelling."""
    field = TextField(spelling=True)
    text = "The attacks on Soleimani"
    list(field.index(text))
    assert list(field.spellable_words(text)) == ["attacks"]
    # Without a preceding index() call on the same value, it computes them itself.
    assert list(field.spellable_words("Quds Forces attacked")) == ["attacked", "forces", "quds"]
