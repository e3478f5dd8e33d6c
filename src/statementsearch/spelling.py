"""Did-you-mean: rewriting a query whose words do not occur as typed, and offering a "quoted phrase".

A word is known when it occurs as typed in some release (its index term, or for words stemming changes,
the `vocabulary` field the index keeps of them); an unknown word of three letters or more is replaced by the
closest indexed word (fewest edits, then most releases). Separately, when the words of a short query
stand side by side in most of its top hits, the query as a phrase is offered: typed in a shell without
quotes, `bridge to nowhere` is three words, not the phrase.
"""

from __future__ import annotations

import re
from typing import Any

from .analysis import term_for, words
from .query import OPERATORS
from .schema import DEFAULT_FIELD
from .whoosh_internals import terms_within

SPELL_FIELD = "vocabulary"
"""Where the words stemming changes are, as typed (`schema.VocabularyField`)."""
_QUERY_WORD = re.compile(r"(?<![\w:~*?])([A-Za-z][\w'.]*)(?![\w:*?~])")


def typed_words(text: str) -> list[str]:
    """The plain words the user typed (no operators, field names, wildcards), in order."""
    stripped = re.sub(r"\b\w+:(\"[^\"]*\"|\S+)", " ", text)  # field:value parts are not spell-checked
    out = []
    for match in _QUERY_WORD.finditer(stripped):
        word = match.group(1).rstrip(".'")
        if word and word not in OPERATORS:
            out.extend(words(word))
    return out


def word_known(reader: Any, word: str) -> bool:
    """Does the word occur as typed in some release (title, issuer, date words or body)?

    A word that is its own stem is an index term of the text field; the others are in the vocabulary
    field (see `analysis.EnglishAnalyzer.unstemmed`).
    """
    term = term_for(word)
    if term is None:
        return True  # stop words are not indexed and never worth a suggestion
    field = DEFAULT_FIELD if term == word else SPELL_FIELD
    return (field, word.encode("utf-8")) in reader


def best_correction(reader: Any, word: str) -> str | None:
    """The closest indexed word (fewest edits, then most documents), sharing the first letter."""
    for maxdist in (1, 2):
        candidates = {
            c
            for field in (SPELL_FIELD, DEFAULT_FIELD)
            for c in terms_within(reader, field, word, maxdist, prefix=1)
            if c != word and word_known(reader, c)
        }
        if candidates:
            best: str = max(candidates, key=lambda c: (_doc_frequency(reader, c), c))
            return best
    return None


def _doc_frequency(reader: Any, word: str) -> int:
    term = term_for(word)
    return int(reader.doc_frequency(DEFAULT_FIELD, term)) if term else 0


def corrections(text: str, reader: Any) -> dict[str, str]:
    """Each unknown typed word with its correction (words without one are left out)."""
    found = {}
    for word in dict.fromkeys(typed_words(text)):
        if len(word) < 3 or word.isdigit() or word_known(reader, word):
            continue
        correction = best_correction(reader, word)
        if correction:
            found[word] = correction
    return found


def suggest(text: str, reader: Any) -> str | None:
    """A did-you-mean rewrite of the query text, or None when every typed word occurs in the index."""
    found = corrections(text, reader)
    rewritten = text
    for word, correction in found.items():
        rewritten = re.sub(rf"(?i)\b{re.escape(word)}\b", correction, rewritten)
    return rewritten if found else None


# Top hits looked at for a phrase, and the share of them that must hold it.
PHRASE_HITS = 10
PHRASE_SHARE = 0.5
_PLAIN_QUERY = re.compile(r"[\w' .,-]+")


def phrase_suggestion(matching: Any, top: list[int]) -> str | None:
    """The query as a "quoted phrase", when its two or three words stand side by side, in the order
    typed, in at least half of the top hits, but not in all of them (so the phrase would narrow)."""
    ranker = matching.ranker
    words = phrase_words(matching.reading, matching.plan) if ranker is not None else None
    if words is None:
        return None
    checked = top[:PHRASE_HITS]
    holding = sum(1 for docnum in checked if ranker.phrase_holds(words, docnum))
    return phrase_offer(matching.reading, holding, len(checked))


def phrase_words(reading: Any, plan: Any) -> tuple[Any, ...] | None:
    """The words of a query that could be offered as a phrase (two or three plain words), or None.
    (A sharded index asks each shard whether its top hits hold them, and decides with `phrase_offer`.)"""
    from .postings import Word

    if (
        plan is None
        or not 2 <= len(reading.words) <= 3
        or reading.required
        or reading.excluded
        or reading.relaxed
        or any(len(item) != 1 or item[0].field != DEFAULT_FIELD for item in plan.optional)
        or not _PLAIN_QUERY.fullmatch(reading.text)
    ):
        return None
    return tuple(Word(item[0].field, item[0].text) for item in plan.optional)


def phrase_offer(reading: Any, holding: int, checked: int) -> str | None:
    """The phrase to offer when `holding` of the `checked` top hits hold the words side by side."""
    if checked >= 2 and PHRASE_SHARE * checked <= holding < checked:
        return f'"{" ".join(reading.text.split())}"'
    return None
