"""Turning text into index terms: one fused English analyzer, fast on the indexing path.

Whoosh's `StemmingAnalyzer` is a chain of generators (tokenizer | lowercase | stop | stem) that moves one
`Token` object through four Python frames per word. Indexing ~85,000 releases spends most of its time there.
`EnglishAnalyzer` produces exactly the same terms (same regex, same stop list, same Porter stemmer), but
its `terms()` fast path does it in one loop with a memo of word -> term, which is what `schema.TextField`
uses at index time. Its `__call__` is a regular Whoosh analyzer for the query parser and for phrases, so
index and query side always agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import STOP_WORDS, Analyzer, Token
from whoosh.lang.porter import stem

# Whoosh's default tokenizer pattern: words, keeping inner dots ("u.s", "e.g").
TOKEN_PATTERN = re.compile(r"\w+(?:\.?\w+)*")
MIN_WORD_LENGTH = 2
# Longer "words" are base64, URLs glued together or scraping debris; they only bloat the term list.
MAX_WORD_LENGTH = 40
# Whoosh's stop words and Lucene's English ones together (bench/relevance_cv.py: Lucene's `but, into, no,
# such, their, then, there, these, they, was` gained 2% MAP on CISI at equal BM25 parameters), less "us"
# and "may": in official statements those are "US" (forces, officials) and the month, a date word.
LUCENE_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)
STOP_WORD_SET = (frozenset(STOP_WORDS) | LUCENE_STOP_WORDS) - {"us", "may"}

# word -> index term (None for a stop word). Real text has a few hundred thousand distinct words;
# the memo is dropped when it grows past this, so memory stays bounded on hostile input.
_MEMO_LIMIT = 500_000
_memo: dict[str, str | None] = {}


def term_for(word: str) -> str | None:
    """The index term of one lowercased word, or None when the word is not indexed (stop word, size)."""
    term = _memo.get(word, "")
    if term != "":
        return term
    if len(word) < MIN_WORD_LENGTH or len(word) > MAX_WORD_LENGTH or word in STOP_WORD_SET:
        term = None
    else:
        term = stem(word)
    if len(_memo) >= _MEMO_LIMIT:
        _memo.clear()
    _memo[word] = term
    return term


def terms_for(text_words: list[str]) -> list[str | None]:
    """`term_for` of each word, in order: the words met before are looked up at C speed (indexing a
    release asks for each of its words, nine in ten of them already known)."""
    known = _memo.get
    found = [known(word, "") for word in text_words]
    if "" in found:  # "" is no term: the words not met before
        found = [term_for(word) if term == "" else term for word, term in zip(text_words, found, strict=True)]
    return found


def _lowered_whole(text: str) -> str | None:
    """The text lowercased in one go when that lowercases each of its words as Whoosh does (one word at a
    time), else None. Two things differ: a character that expands ("İ" -> "i̇") moves every offset after
    it, and a capital sigma ends a word as "ς" when lowercased alone but may become "σ" in context
    ("ΑΣ'Α"). Neither occurs in most text, which is lowercased at C speed."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) and "Σ" not in text else None


def words(text: str) -> list[str]:
    """The lowercased words of a text, before stop words and stemming (used for spelling)."""
    lowered = _lowered_whole(text)
    if lowered is not None:
        return TOKEN_PATTERN.findall(lowered)
    return [word for word, _, _ in word_spans(text)]


def word_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Each lowercased word with its [start, end) offsets in `text` (words lowercased one by one where
    lowercasing the whole text would give other words or offsets: see `_lowered_whole`)."""
    lowered = _lowered_whole(text)
    if lowered is not None:
        for match in TOKEN_PATTERN.finditer(lowered):
            yield match.group(), match.start(), match.end()
    else:
        for match in TOKEN_PATTERN.finditer(text):
            yield match.group().lower(), match.start(), match.end()


class EnglishAnalyzer(Analyzer):  # type: ignore[misc]
    """Regex words, lowercased, stop words removed (positions renumbered), Porter-stemmed."""

    is_morph = True

    def __init__(self, stem_words: bool = True) -> None:
        self.stem_words = stem_words

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnglishAnalyzer) and other.stem_words == self.stem_words

    def __hash__(self) -> int:
        return hash((type(self), self.stem_words))

    def has_morph(self) -> bool:
        return self.stem_words

    def terms(self, text: str) -> list[str]:
        """The index terms of a text in order; position i of the list is the term's position."""
        return self.terms_of_words(words(text))

    def terms_of_words(self, text_words: list[str]) -> list[str]:
        """`terms()` for words already split by `words()`."""
        mapped = terms_for(text_words)
        if self.stem_words:
            return [term for term in mapped if term is not None]
        return [word for word, term in zip(text_words, mapped, strict=True) if term is not None]

    @staticmethod
    def unstemmed(text_words: list[str]) -> set[str]:
        """Indexed words that stemming changes ("attacks", not "attack"), as typed.

        With the index terms these make the whole vocabulary as typed, for spelling suggestions: a word
        that is its own stem is already an index term. Leaving those out halves the spelling postings,
        which cost a third of the indexing time when every word was kept.
        """
        distinct = set(text_words)
        terms = dict(zip(distinct, terms_for(list(distinct)), strict=True))
        return {word for word, term in terms.items() if term is not None and term != word}

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        no_morph: bool = False,
        tokenize: bool = True,
        **kwargs: Any,
    ) -> Iterator[Token]:
        """The same terms as `terms()`, as Whoosh tokens (one object reused, as Whoosh's own analyzers do).

        `tokenize=False` (Whoosh's parser asks it for a wildcard pattern such as `kata?b`) gives the whole
        value as one lowercased token, as Whoosh's tokenizer does: splitting it at the `?` would make two
        patterns of it."""
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            yield from _whole(token, value, positions, chars, start_pos, start_char)
            return
        pos = start_pos
        for word, start, end in word_spans(value):
            term = term_for(word)
            token.stopped = term is None
            if term is None and removestops:
                continue
            token.text = word if (no_morph or not self.stem_words or term is None) else term
            if keeporiginal:
                token.original = value[start:end]
            token.boost = 1.0
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            if not token.stopped:
                pos += 1
            yield token


def _whole(
    token: Token, value: str, positions: bool, chars: bool, start_pos: int, start_char: int
) -> Iterator[Token]:
    token.text = value.lower()
    token.boost = 1.0
    token.stopped = False
    if positions:
        token.pos = start_pos
    if chars:
        token.startchar, token.endchar = start_char, start_char + len(value)
    yield token
