"""User query text -> a bounded Whoosh query; filters; did-you-mean.

The syntax is Whoosh's default query language (so saved Whoosh queries keep working) over the field
`schema.DEFAULT_FIELD` (title, issuer, date words and body), with all words required, plus `-word` /
`+word`, `word~` fuzzy terms and a few field aliases. Every query is checked before it runs: the fields it
names, its length, its number of clauses, and how many index terms each wildcard or fuzzy term expands
to, so that `a*` or a pasted page cannot take unbounded time or memory.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from whoosh import qparser
from whoosh import query as wq

from .analysis import term_for, words
from .errors import QueryError
from .schema import DEFAULT_FIELD, date_range

MAX_QUERY_CHARS = 2000
MAX_CLAUSES = 256
# A wildcard or fuzzy term may stand for at most this many index words.
MAX_EXPANSIONS = 1000
# Literal characters a wildcard needs before its first `*` or `?` (a lone `*` means every release).
MIN_WILDCARD_PREFIX = 2
MAX_FUZZY_DISTANCE = 2

FIELD_ALIASES = {
    "title": ["headline"],
    "issuer": ["source", "agency", "from"],
    # `body:` searches the release's text field (its body, with title, issuer and date words).
    "text": ["body", "content"],
    "date": ["issued"],
}
# The fields a query may name (aliases resolved); `id:` and `path:` find releases by their identifiers.
QUERY_FIELDS = frozenset({DEFAULT_FIELD, "title", "issuer", "date", "id", "path"})
# Terms of these fields are highlighted in a hit's title and snippet (issuer: terms are not).
HIGHLIGHT_FIELDS = (DEFAULT_FIELD, "title")
# Operator words of the syntax, never looked up for spelling.
OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"}


# Grouping. A query of at most SHORT_QUERY_WORDS searchable words (stop words, numbers and field:value
# parts not counted) is keywords: every word must match. A longer one is read as a natural-language
# question or description, where requiring every word finds almost nothing (MAP 0.01 on Cranfield, see
# BENCHMARKS.md): its words are OR-ed, so a release that misses some still ranks by how many and how rare
# the words it has are, and a word said twice counts twice (BM25's query term frequency; Whoosh would
# otherwise drop the repeat). Whoosh's OrGroup.factory(0.9) coordination bonus is not used: it is dropped
# by the -word filter, and when kept it changed no figure (its bonus is ~1/terms^2 of a score).
SHORT_QUERY_WORDS = 3
LONG_QUERY_GROUP = qparser.OrGroup


class _QueryParser(qparser.QueryParser):  # type: ignore[misc]
    """Whoosh's parser, handing queries longer than SHORT_QUERY_WORDS to `long_parser` when it has one."""

    long_parser: qparser.QueryParser | None = None

    def parse(self, text: str, normalize: bool = True, debug: bool = False) -> wq.Query:
        if self.long_parser is None or searchable_word_count(text) <= SHORT_QUERY_WORDS:
            return super().parse(text, normalize=normalize, debug=debug)
        q = _count_repeats(self.long_parser.parse(text, normalize=False, debug=debug))
        return q.normalize() if normalize else q


def searchable_word_count(text: str) -> int:
    """How many words of a query are searched for: a "quoted phrase" counts as one word, and stop words,
    operators and field:value parts not at all."""
    text = re.sub(r'\b\w+:"[^"]*"', " ", text)
    phrases = re.findall(r'"[^"]*"', text)
    searched = sum(1 for phrase in phrases if any(term_for(w) is not None for w in words(phrase)))
    rest = re.sub(r'"[^"]*"', " ", text)
    return searched + sum(1 for word in typed_words(rest) if term_for(word) is not None)


def _count_repeats(q: wq.Query) -> wq.Query:
    """One clause per distinct word of a top-level OR, boosted by how often the query says it."""
    if isinstance(q, wq.AndNot):  # a long query with `-word`
        return wq.AndNot(_count_repeats(q.a), q.b)
    if type(q) is not wq.Or:
        return q
    counts: dict[wq.Query, float] = {}
    for sub in q.subqueries:
        key = sub.with_boost(1.0)
        counts[key] = counts.get(key, 0.0) + sub.boost
    return wq.Or([sub.with_boost(n) for sub, n in counts.items()], boost=q.boost, scale=q.scale)


def make_parser(schema: Any, group: Any = qparser.AndGroup) -> qparser.QueryParser:
    """The parser for user queries (one per index; parsers are reusable and cheap to keep).

    With the default AndGroup, long natural-language queries are OR-ed instead (see SHORT_QUERY_WORDS).
    """
    parser = _QueryParser(DEFAULT_FIELD, schema, group=group)
    # `-word` excludes, only at the start of a word: "al-Qaeda" and "2020-01-05" stay whole words.
    # No `+word`: every word is required already, and Whoosh's `+` would make the other words optional.
    parser.add_plugin(qparser.PlusMinusPlugin(plusexpr=r"(?!)", minusexpr=r"(?<![^\s(])-"))
    parser.add_plugin(qparser.FuzzyTermPlugin())
    parser.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
    if group is qparser.AndGroup:
        parser.long_parser = make_parser(schema, LONG_QUERY_GROUP)
    return parser


def parse_query(text: str, parser: qparser.QueryParser, reader: Any) -> wq.Query:
    """Parse and bound a user's query; raise QueryError with a message fit to print."""
    text = text.strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates, e.g. from a mis-decoded argv
        raise QueryError(
            f"query contains a character that is not valid text at position {exc.start}"
        ) from exc
    if not text:
        raise QueryError("empty query: give one or more words to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long ({len(text)} characters; at most {MAX_QUERY_CHARS})")
    if text == "*":
        return wq.Every()
    try:
        parsed = parser.parse(text)
    except QueryError:
        raise
    except Exception as exc:  # Whoosh raises assorted errors on odd input; all mean "cannot parse"
        raise QueryError(f"cannot parse query {text!r}: {exc}") from exc
    if parsed is wq.NullQuery or isinstance(parsed, wq.NullQuery.__class__):
        raise QueryError(f"nothing to search for in {text!r}: only operators or very common words")
    parsed = parsed.accept(_own_terms_fuzzy)
    check_bounds(parsed, reader, text)
    return parsed


class FieldFuzzyTerm(wq.FuzzyTerm):  # type: ignore[misc]
    """A fuzzy term matched against the field's own (stemmed) terms.

    Whoosh's FuzzyTerm looks for similar words in a stemmed field's *spelling* field and then searches
    those unstemmed words in the stemmed field, where most of them are not terms ("attacks" vs "attack").
    """

    def _btexts(self, ixreader: Any) -> Iterable[str]:
        return terms_within(ixreader, self.fieldname, self.text, self.maxdist, self.prefixlength)


def terms_within(reader: Any, fieldname: str, text: str, maxdist: int, prefix: int = 0) -> list[str]:
    """Terms of the field itself within `maxdist` edits of `text` (Whoosh's DFA over each segment)."""
    found: set[str] = set()
    for leaf, _offset in reader.leaf_readers():
        if fieldname not in leaf.indexed_field_names():
            continue
        automata = leaf._codec.automata(leaf._storage, leaf._segment)
        found.update(automata.terms_within(leaf.cursor(fieldname), text, maxdist, prefix))
    return sorted(found)


def _own_terms_fuzzy(node: wq.Query) -> wq.Query:
    if type(node) is wq.FuzzyTerm:
        # `word~1/4`: a prefix longer than the term (stemming shortens "quds" to "qud") would make
        # Whoosh's Levenshtein automaton index past the term's end; the whole term is the longest prefix.
        prefix = min(node.prefixlength, len(node.text))
        return FieldFuzzyTerm(
            node.fieldname, node.text, boost=node.boost, maxdist=node.maxdist, prefixlength=prefix
        )
    return node


def leaves(q: wq.Query) -> Iterator[wq.Query]:
    if q.is_leaf():
        yield q
    else:
        for child in q.children():
            yield from leaves(child)


def check_bounds(q: wq.Query, reader: Any, text: str) -> None:
    """Refuse a query whose evaluation would not be bounded."""
    all_leaves = list(itertools.islice(leaves(q), MAX_CLAUSES + 1))
    if len(all_leaves) > MAX_CLAUSES:
        raise QueryError(f"query has too many parts (more than {MAX_CLAUSES}); shorten it")
    for leaf in all_leaves:
        field = getattr(leaf, "fieldname", None)
        if field is not None and field not in QUERY_FIELDS:
            # Internal fields (stored-only, no positions) make Whoosh raise its own errors mid-search.
            raise QueryError(f"'{field}:' is not a field you can search: use title:, issuer:, body: or date:")
        if isinstance(leaf, wq.Regex):
            raise QueryError("regular expressions are not supported in queries")
        if isinstance(leaf, (wq.Wildcard, wq.Prefix)):
            _check_pattern(leaf, text)
        if isinstance(leaf, wq.FuzzyTerm) and leaf.maxdist > MAX_FUZZY_DISTANCE:
            raise QueryError(f"fuzzy term '{leaf.text}~{leaf.maxdist}': at most ~{MAX_FUZZY_DISTANCE} edits")
        if isinstance(leaf, (wq.Wildcard, wq.Prefix, wq.FuzzyTerm)):
            expansions = sum(1 for _ in itertools.islice(leaf._btexts(reader), MAX_EXPANSIONS + 1))
            if expansions > MAX_EXPANSIONS:
                shown = leaf.text + ("*" if isinstance(leaf, wq.Prefix) else "")
                raise QueryError(
                    f"'{shown}' matches more than {MAX_EXPANSIONS} different words; make it more specific"
                )


def _check_pattern(leaf: wq.Query, text: str) -> None:
    pattern = leaf.text + ("*" if isinstance(leaf, wq.Prefix) else "")
    literal = re.split(r"[*?]", pattern, maxsplit=1)[0]
    if len(literal) < MIN_WILDCARD_PREFIX:
        raise QueryError(
            f"wildcard '{pattern}' needs at least {MIN_WILDCARD_PREFIX} letters before '*' or '?'"
        )


# ---------------------------------------------------------------------------------------------- filters


def issuer_filter(wanted: str, issuers: Iterable[str]) -> wq.Query:
    """Releases whose issuer is `wanted` exactly or starts with it, both case-insensitively."""
    key = wanted.strip().casefold()
    if not key:
        raise QueryError("empty issuer filter")
    matches = [issuer for issuer in issuers if issuer.casefold().startswith(key)]
    if not matches:
        return wq.NullQuery
    return wq.Or([wq.Term("issuer_key", issuer) for issuer in matches])


def date_filter(since: str | date | datetime | None, until: str | date | datetime | None) -> wq.Query | None:
    """Releases dated in [since, until]; a partial date means its whole period at either end."""
    if since is None and until is None:
        return None
    from .dates import since_date, until_date  # python-dateutil only when a query has dates

    first = since_date(since) if since is not None else None
    last = until_date(until) if until is not None else None
    if first and last and first > last:
        from .errors import DateError

        raise DateError(f"--since {first.isoformat()} is after --until {last.isoformat()}")
    return date_range("date", first, last)


def combine_filters(filters: Iterable[wq.Query | None]) -> wq.Query | None:
    present = [f for f in filters if f is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else wq.And(present)


# ---------------------------------------------------------------------------------------------- terms


def highlight_terms(q: wq.Query) -> frozenset[str]:
    """The index terms of the text fields that a hit can show as matched (never those under NOT)."""
    found: set[str] = set()

    def walk(node: wq.Query) -> None:
        if isinstance(node, wq.Not):
            return
        if isinstance(node, wq.AndNot):
            walk(node.a)
            return
        if node.is_leaf():
            for fieldname, text in node.terms(phrases=True) if node.has_terms() else ():
                if fieldname in HIGHLIGHT_FIELDS and isinstance(text, str):
                    found.add(text)
            return
        for child in node.children():
            walk(child)

    walk(q)
    return frozenset(found)


def expanded_highlight_terms(q: wq.Query, reader: Any) -> frozenset[str]:
    """Like `highlight_terms`, with wildcard/fuzzy terms replaced by the words they matched."""
    terms = set(highlight_terms(q))
    for leaf in leaves(q):
        if isinstance(leaf, (wq.Wildcard, wq.Prefix, wq.FuzzyTerm)) and leaf.fieldname in HIGHLIGHT_FIELDS:
            for btext in itertools.islice(leaf._btexts(reader), MAX_EXPANSIONS):
                terms.add(btext.decode("utf-8") if isinstance(btext, bytes) else btext)
    return frozenset(terms)


# ---------------------------------------------------------------------------------------------- spelling

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


SPELL_FIELD = "spell_" + DEFAULT_FIELD


def word_known(reader: Any, word: str) -> bool:
    """Does the word occur as typed in some release (title, issuer, date words or body)?

    A word that is its own stem is an index term of the text field; the others are in its spelling
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


def suggest(text: str, reader: Any) -> str | None:
    """A did-you-mean rewrite of the query text, or None when every typed word occurs in the index."""
    rewritten = text
    changed = False
    for word in dict.fromkeys(typed_words(text)):
        if len(word) < 3 or word.isdigit() or word_known(reader, word):
            continue
        correction = best_correction(reader, word)
        if correction:
            rewritten = re.sub(rf"(?i)\b{re.escape(word)}\b", correction, rewritten)
            changed = True
    return rewritten if changed else None
