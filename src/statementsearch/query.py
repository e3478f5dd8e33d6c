"""User query text -> a `Reading`: what every hit must hold, what it may hold, and how the query was read.

The syntax is Whoosh's default query language (so saved Whoosh queries keep working) over the field
`schema.DEFAULT_FIELD` (title, issuer, date words and body), plus `-word`, `word~` fuzzy terms and a few
field aliases. What the user typed bare (words, wildcards, fuzzy words) are the query's *words*: a
release must hold all of them in a short query and most of them in a long one (`min_words`). What the
user made explicit is *required* and never relaxed: "phrases", `field:` terms, `AND`, groups. Every query
is checked before it runs: its length, clauses and fields, and each wildcard or fuzzy word is expanded
to at most `MAX_EXPANSIONS` index terms (its most frequent ones, within a postings budget), so that no
query takes unbounded time or memory on any index.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from whoosh import qparser
from whoosh import query as wq
from whoosh.qparser import syntax

from .errors import DateError, QueryError
from .schema import DEFAULT_FIELD, date_range

MAX_QUERY_CHARS = 2000
MAX_CLAUSES = 256
# A wildcard or fuzzy word stands for at most this many index words: its most frequent ones ...
MAX_EXPANSIONS = 1000
# ... and only as many as hold this many postings together, so that `so*` on a large index stays
# within a second: the frequent words carry almost all of what such a word finds.
MAX_EXPANDED_POSTINGS = 400_000
# Words of the lexicon looked at for one wildcard before the rest is left out (a bound on time).
MAX_SCANNED_TERMS = 200_000
# Literal characters a wildcard needs before its first `*` or `?`.
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
FIELD_NAMES = frozenset(QUERY_FIELDS | {alias for names in FIELD_ALIASES.values() for alias in names})
# Terms of these fields are highlighted in a hit's title and snippet (issuer: terms are not).
HIGHLIGHT_FIELDS = (DEFAULT_FIELD, "title")
# Operator words of the syntax, never looked up for spelling.
OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"}

# How many of a query's words a release must hold. Up to SHORT_QUERY_WORDS words are keywords: all of
# them. A longer query is a description, where requiring every word finds almost nothing (MAP 0.01 on
# Cranfield, see BENCHMARKS.md): all but one of four, two thirds of more (minimum-should-match, as
# search engines have it). Ranking is not affected: a release scores by how many and how rare the words
# it holds are, and a word said twice counts twice (BM25's query term frequency).
SHORT_QUERY_WORDS = 3


def min_words_for(count: int) -> int:
    """How many of `count` query words a release must hold to match."""
    if count <= SHORT_QUERY_WORDS:
        return count
    if count == SHORT_QUERY_WORDS + 1:
        return count - 1
    return math.ceil(2 * count / 3)


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Reading:
    """How a query was read. A release matches when it holds every `required` clause, at least
    `min_words` of `words`, none of `excluded`, and a date within `dates` (each a [first, last] pair).

    Each entry of `words` is a Whoosh query for one word as typed (`typed` holds its text): a term, or
    an `Or` of the terms a wildcard or fuzzy word stands for. A release's score is the sum of the BM25F
    scores of every word and required clause it holds.
    """

    text: str
    words: tuple[Any, ...] = ()
    typed: tuple[str, ...] = ()
    min_words: int = 0
    required: tuple[Any, ...] = ()
    excluded: tuple[Any, ...] = ()
    dates: tuple[tuple[date | None, date | None], ...] = ()
    everything: bool = False
    """The query is `*`: every release matches (and all score alike)."""
    notes: tuple[str, ...] = ()
    relaxed: tuple[str, ...] = ()
    """Words of the query as written that this reading no longer requires (see `relax`)."""

    @property
    def clauses(self) -> tuple[Any, ...]:
        """Everything that scores: the words and the required clauses."""
        return self.words + self.required

    def scoring_query(self) -> Any:
        """One Whoosh query that scores a release as this reading does (matches are decided apart)."""
        clauses = self.clauses
        if not clauses:
            return wq.Every()
        return clauses[0] if len(clauses) == 1 else wq.Or(list(clauses))

    def loosest(self) -> Reading:
        """The same query matching any release that holds one of its words (or only its required
        clauses, when it has some): what a ranked list is filled with after the matches."""
        return replace(self, min_words=0 if self.required or not self.words else 1)

    def relax(self, held: int, dropped: tuple[str, ...]) -> Reading:
        """This reading needing only `held` of its words, with `dropped` named as relaxed."""
        return replace(self, min_words=held, relaxed=dropped)

    @property
    def description(self) -> str:
        """How the query was read, for people: "all of 2 words", "at least 3 of 4 words: a, b, c, d"."""
        count = len(self.words)
        if count == 0:
            return "as written"
        listed = ", ".join(self.typed)
        if self.min_words >= count:
            return f"all of: {listed}" if count > 1 else f"the word: {listed}"
        return f"at least {self.min_words} of {count} words: {listed}"


# ---------------------------------------------------------------------------------------------- parser


class BareWords(wq.And):  # type: ignore[misc]
    """Clauses set side by side, with no operator between them. At the top of a query they are what
    `Reading` sorts into words and required clauses; inside an explicit AND or OR (`(a b) OR c`), all
    of them are required, as in Whoosh's default syntax."""


class _BareGroup(syntax.GroupNode):  # type: ignore[misc]
    """Not a subclass of Whoosh's AND/OR groups: the parser would merge it into an explicit one."""

    qclass = BareWords


_EXPLICIT_CLASSES: dict[type[Any], type[Any]] = {}


def _explicit(node_class: type[Any]) -> type[Any]:
    """A subclass of a syntax node class whose query is tagged `explicit` (the user named its field)."""
    found = _EXPLICIT_CLASSES.get(node_class)
    if found is None:

        def query(self: Any, parser: Any) -> Any:
            q = node_class.query(self, parser)
            for leaf in leaves(q):
                leaf.explicit = True
            return q

        found = _EXPLICIT_CLASSES[node_class] = type(
            f"Explicit{node_class.__name__}", (node_class,), {"query": query}
        )
    return found


class _ExplicitFieldPlugin(qparser.Plugin):  # type: ignore[misc]
    """Marks words whose field the user named (`body:rocket`), so they are required, not bare words.

    Runs after Whoosh's fields filter has given explicit field names to their nodes (priority 100)."""

    def filters(self, parser: Any) -> list[tuple[Any, int]]:
        return [(self._mark, 110)]

    def _mark(self, parser: Any, group: Any) -> Any:
        for node in group:
            if isinstance(node, syntax.GroupNode):
                self._mark(parser, node)
            elif node.has_fieldname and node.fieldname is not None and hasattr(node, "query"):
                node.__class__ = _explicit(type(node))
        return group


class _MinusPlugin(qparser.PlusMinusPlugin):  # type: ignore[misc]
    """`-word` excludes, only at the start of a word: "al-Qaeda" and "2020-01-05" stay whole words.
    No `+word`: Whoosh's `+` would make the other words optional.

    Whoosh's filter regroups the top level into a plain OR group; it stays the words' group here."""

    def __init__(self) -> None:
        super().__init__(plusexpr=r"(?!)", minusexpr=r"(?<![^\s(])-")

    def do_plusminus(self, parser: Any, group: Any) -> Any:
        regrouped = super().do_plusminus(parser, group)
        top = regrouped[0] if isinstance(regrouped, syntax.AndNotGroup) else regrouped
        if type(top) is syntax.OrGroup:
            top.__class__ = _BareGroup
        return regrouped


def make_parser(schema: Any) -> qparser.QueryParser:
    """The parser for user queries (one per index; parsers are reusable and safe to share)."""
    parser = qparser.QueryParser(DEFAULT_FIELD, schema, group=_BareGroup)
    parser.add_plugin(_MinusPlugin())
    parser.add_plugin(qparser.FuzzyTermPlugin())
    parser.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
    parser.add_plugin(_ExplicitFieldPlugin())
    return parser


# ---------------------------------------------------------------------------------------------- parsing

_FIELD_PREFIX = re.compile(r'(?<![\w"])([A-Za-z_][\w]*):(?=[^\s/])')
_LEADING_WILDCARD = re.compile(r"(?:^|(?<=[\s(:\"-]))([*?]+\w[^\s)]*)")
_QUESTION_MARK = re.compile(r"(?<!\w)\?|\?(?!\w)")
"""A `?` without a letter or digit on both sides: a question mark, not a wildcard."""
_LONE_WILDCARD = re.compile(r"(?:^|(?<=\s))[*?]+(?=\s|$)")


def parse_query(text: str, parser: qparser.QueryParser, reader: Any) -> Reading:
    """Read and bound a user's query; raise QueryError (or DateError) with a message fit to print."""
    text, notes = _prepare(text)
    if text == "*":
        return Reading(text, everything=True, notes=notes)
    try:
        parsed = parser.parse(text, normalize=False)
    except QueryError:
        raise
    except Exception as exc:  # Whoosh raises assorted errors on odd input; all mean "cannot parse"
        raise QueryError(f"cannot parse query {text!r}: {exc}") from exc
    _raise_field_errors(parsed)
    reading = _read(text, parsed, notes)
    _check_clauses(reading)
    reading = _expanded(reading, reader)
    if not (reading.clauses or reading.dates):
        raise QueryError(f"nothing to search for in {text!r}: only operators or very common words")
    return reading


def _prepare(text: str) -> tuple[str, tuple[str, ...]]:
    """Checks on the raw text, and the one repair it gets (an unclosed quote closed at the end)."""
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
    notes: list[str] = []
    if _all_capitals(text) and _OPERATOR_WORD.search(text):
        # In a query typed (or pasted) all in capitals, capitals say nothing: AND, OR and NOT are
        # words of a description ("EFFECTS OF HEAT AND PRESSURE"), not operators.
        text = _OPERATOR_WORD.sub(lambda m: m.group().lower(), text)
        notes.append("the query is all in capitals: AND, OR and NOT were read as words")
    if text.count('"') % 2:
        text += '"'
        notes.append("the unclosed quote was read to the end of the query")
    outside_quotes = re.sub(r'"[^"]*"', " ", text)
    for match in _FIELD_PREFIX.finditer(outside_quotes):
        name = match.group(1)
        if name.lower() not in FIELD_NAMES and not name.isdigit():
            raise QueryError(
                f"unknown field '{name}:': search in title:, issuer:, body: or date: "
                "(or headline:, source:, content:, issued:)"
            )
    if _QUESTION_MARK.search(text):
        # A `?` that is not inside a word is a question's punctuation ("What is information science?",
        # "(MEDLARS)?"), not a wildcard: as one, `science?` would miss "science" itself, and a lone `?`
        # would refuse the whole question. Inside a word it is one (kata?b).
        text = _QUESTION_MARK.sub("", text)
        outside_quotes = re.sub(r'"[^"]*"', " ", text)
    leading = _LEADING_WILDCARD.search(outside_quotes)
    if leading:
        raise _wildcard_error(leading.group(1))
    if text != "*" and _LONE_WILDCARD.search(outside_quotes):
        # A `*` or `?` standing alone among words (often a question's question mark) stands for any
        # word: it narrows nothing, so it is left out, and said.
        original, text = text, _LONE_WILDCARD.sub(" ", text).strip()
        if not text:
            raise QueryError(f"nothing to search for in {original!r}: {_LONE_MEANING}")
        notes.append("a lone '*' or '?' matches any word and was left out")
    return text, tuple(notes)


_OPERATOR_WORD = re.compile(r"\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b")


def _all_capitals(text: str) -> bool:
    return not any(c.islower() for c in text) and sum(c.isupper() for c in text) > 1


_LONE_MEANING = "a lone * or ? stands for any word (a query of just * lists every release)"


def _wildcard_error(pattern: str) -> QueryError:
    return QueryError(
        f"wildcard '{pattern}' needs at least {MIN_WILDCARD_PREFIX} letters before '*' or '?' "
        "(a query of just * lists every release)"
    )


def _raise_field_errors(q: Any) -> None:
    """Whoosh turns an error inside a field's own parsing (a bad `date:` value) into a silent empty
    query; the user gets the error instead."""
    for leaf in leaves(q):
        error = getattr(leaf, "error", None)
        if isinstance(error, QueryError):
            raise error
        if isinstance(error, DateError):  # the message the CLI's date options give, as a query error
            raise QueryError(str(error)) from error
        if error is not None:
            raise QueryError(f"cannot read part of the query: {error}")


def _read(text: str, parsed: Any, notes: tuple[str, ...]) -> Reading:
    """Sort the parsed query's clauses into words, required clauses, exclusions and date filters."""
    items, excluded = _top_items(parsed)
    bare: dict[Any, tuple[str, float]] = {}
    required: list[Any] = []
    dates: list[tuple[date | None, date | None]] = []
    everything = False
    for item in items:
        item = item.normalize()
        if item is wq.NullQuery or isinstance(item, type(wq.NullQuery)):
            continue
        if isinstance(item, wq.Every):
            everything = True
        elif isinstance(item, wq.DateRange) and item.fieldname == "date":
            dates.append(_range_dates(item))
        elif _is_bare(item):
            key = item.with_boost(1.0)
            typed, boost = bare.get(key, (_typed(text, item), 0.0))
            bare[key] = (typed, boost + item.boost)  # a word said twice counts twice
        elif type(item) is wq.And:  # an explicit AND: each side is required on its own
            for sub in item.subqueries:
                if isinstance(sub, wq.Not):
                    excluded.append(sub.query)
                else:
                    required.extend(_boosted([sub], item.boost))
        else:
            required.append(item)
    words = tuple(key.with_boost(boost) for key, (_, boost) in bare.items())
    return Reading(
        text=text,
        words=words,
        typed=tuple(typed for typed, _ in bare.values()),
        min_words=min_words_for(len(words)),
        required=tuple(required),
        excluded=tuple(q.normalize() for q in excluded),
        dates=tuple(dates),
        everything=(everything or bool(dates)) and not (words or required),
        notes=notes,
    )


def _top_items(q: Any) -> tuple[list[Any], list[Any]]:
    """The clauses side by side at the top of a parsed query, and the excluded ones (`-word`, NOT)."""
    if isinstance(q, wq.AndNot):
        positive, negative = _top_items(q.a)
        return positive, negative + _alternatives(q.b)
    if isinstance(q, wq.Not):
        return [], [q.query]
    if type(q) is not BareWords:
        return [q], []
    items = []
    excluded = []
    for sub in q.subqueries:
        more, less = _top_items(sub) if type(sub) is BareWords or isinstance(sub, wq.Not) else ([sub], [])
        items += _boosted(more, sub.boost if type(sub) is BareWords else 1.0)
        excluded += less
    return items, excluded


def _boosted(items: list[Any], boost: float) -> list[Any]:
    """A group's boost (`(a b)^2`) carried to the clauses it groups, which are read one by one."""
    return items if boost == 1.0 else [item.with_boost(item.boost * boost) for item in items]


def _alternatives(q: Any) -> list[Any]:
    return list(q.subqueries) if type(q) in (wq.Or, BareWords) else [q]


def _is_bare(q: Any) -> bool:
    """A word typed without a field: a term, a wildcard or a fuzzy word of the default field."""
    return (
        isinstance(q, (wq.Term, wq.Wildcard, wq.Prefix, wq.FuzzyTerm))
        and q.fieldname == DEFAULT_FIELD
        and not getattr(q, "explicit", False)
        and type(q) not in (wq.Regex,)
    )


def _typed(text: str, q: Any) -> str:
    start, end = getattr(q, "startchar", None), getattr(q, "endchar", None)
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        return text[start:end]
    return str(q.text)


def _range_dates(q: Any) -> tuple[date | None, date | None]:
    first = q.startdate.date() if isinstance(q.startdate, datetime) else None
    last = q.enddate.date() if isinstance(q.enddate, datetime) else None
    return first, last


def leaves(q: Any) -> Iterator[Any]:
    if q.is_leaf():
        yield q
    else:
        for child in q.children():
            yield from leaves(child)


def _check_clauses(reading: Reading) -> None:
    """Refuse a query whose evaluation would not be bounded, or that names a field it cannot search."""
    count = 0
    for clause in (*reading.clauses, *reading.excluded):
        for leaf in leaves(clause):
            count += 1
            if count > MAX_CLAUSES:
                raise QueryError(f"query has too many parts (more than {MAX_CLAUSES}); shorten it")
            _check_leaf(leaf)


def _check_leaf(leaf: Any) -> None:
    name = getattr(leaf, "fieldname", None)
    if name is not None and name not in QUERY_FIELDS:
        raise QueryError(f"'{name}:' is not a field you can search: use title:, issuer:, body: or date:")
    if isinstance(leaf, wq.Regex):
        raise QueryError("regular expressions are not supported in queries")
    if isinstance(leaf, (wq.Wildcard, wq.Prefix)):
        pattern = leaf.text + ("*" if isinstance(leaf, wq.Prefix) else "")
        if len(re.split(r"[*?]", pattern, maxsplit=1)[0]) < MIN_WILDCARD_PREFIX:
            raise _wildcard_error(pattern)
    if isinstance(leaf, wq.FuzzyTerm) and leaf.maxdist > MAX_FUZZY_DISTANCE:
        raise QueryError(f"fuzzy term '{leaf.text}~{leaf.maxdist}': at most ~{MAX_FUZZY_DISTANCE} edits")


# ---------------------------------------------------------------------------------------------- expansion


class FieldFuzzyTerm(wq.FuzzyTerm):  # type: ignore[misc]
    """A fuzzy term matched against the field's own (stemmed) terms.

    Whoosh's FuzzyTerm looks for similar words in a stemmed field's *spelling* field and then searches
    those unstemmed words in the stemmed field, where most of them are not terms ("attacks" vs "attack").
    """

    def _btexts(self, ixreader: Any) -> Iterable[str]:
        from .whoosh_internals import terms_within

        return terms_within(ixreader, self.fieldname, self.text, self.maxdist, self.prefixlength)


@dataclass
class _Expansions:
    notes: list[str] = field(default_factory=list)


def _expanded(reading: Reading, reader: Any) -> Reading:
    """The reading with every wildcard and fuzzy word replaced by the index terms it stands for."""
    found = _Expansions(list(reading.notes))

    def expand(q: Any) -> Any:
        return _expand_clause(q, reader, found)

    return replace(
        reading,
        words=tuple(map(expand, reading.words)),
        required=tuple(map(expand, reading.required)),
        excluded=tuple(map(expand, reading.excluded)),
        notes=tuple(found.notes),
    )


def _expand_clause(q: Any, reader: Any, found: _Expansions) -> Any:
    if isinstance(q, (wq.Wildcard, wq.Prefix, wq.FuzzyTerm)):
        return _expand_leaf(q, reader, found)
    if q.is_leaf():
        return q
    return q.apply(lambda sub: _expand_clause(sub, reader, found))


def _expand_leaf(leaf: Any, reader: Any, found: _Expansions) -> Any:
    """An Or of the most frequent terms the wildcard or fuzzy word matches (bounded), said when cut."""
    if type(leaf) is wq.FuzzyTerm:
        # `word~1/4`: a prefix longer than the term (stemming shortens "quds" to "qud") would make the
        # automaton index past the term's end; the whole term is the longest prefix.
        leaf = FieldFuzzyTerm(
            leaf.fieldname,
            leaf.text,
            boost=leaf.boost,
            maxdist=leaf.maxdist,
            prefixlength=min(leaf.prefixlength, len(leaf.text)),
        )
    shown = _shown(leaf)
    candidates = []
    for scanned, btext in enumerate(leaf._btexts(reader), start=1):
        if scanned > MAX_SCANNED_TERMS:
            found.notes.append(
                f"'{shown}' matches too many words: only the first {MAX_SCANNED_TERMS:,} were looked at"
            )
            break
        text = btext.decode("utf-8") if isinstance(btext, bytes) else btext
        candidates.append((reader.doc_frequency(leaf.fieldname, text), text))
    candidates.sort(key=lambda item: (-item[0], item[1]))
    kept: list[str] = []
    postings = 0
    for frequency, text in candidates:
        if len(kept) == MAX_EXPANSIONS or (kept and postings + frequency > MAX_EXPANDED_POSTINGS):
            break
        kept.append(text)
        postings += frequency
    if len(kept) < len(candidates):
        found.notes.append(
            f"'{shown}' stands for {len(candidates):,} words: searched for the {len(kept):,} most frequent"
        )
    terms = [wq.Term(leaf.fieldname, text, boost=leaf.boost) for text in kept]
    return terms[0] if len(terms) == 1 else wq.Or(terms)


def _shown(leaf: Any) -> str:
    if isinstance(leaf, wq.Prefix):
        return f"{leaf.text}*"
    if isinstance(leaf, wq.FuzzyTerm):
        return f"{leaf.text}~{leaf.maxdist if leaf.maxdist != 1 else ''}"
    return str(leaf.text)


# ---------------------------------------------------------------------------------------------- filters


def issuer_names(wanted: Iterable[str], issuers: Iterable[str]) -> list[str]:
    """The issuers named by any of `wanted`: each given name matches an issuer whose name starts with it,
    or holds each of its words as a whole word (case-insensitive): "Clinton" finds "Sen. Hillary Rodham
    Clinton (NY)", "ISAF" finds "ISAF Joint Command" and "International Security Assistance Force (ISAF)"."""
    keys = []
    for given in wanted:
        key = given.strip().casefold()
        if not key:
            raise QueryError("empty issuer filter")
        keys.append((key, set(_name_words(key))))
    return [issuer for issuer in issuers if any(_names(issuer, key, given) for key, given in keys)]


def _names(issuer: str, key: str, given: set[str]) -> bool:
    folded = issuer.casefold()
    return folded.startswith(key) or (bool(given) and given <= set(_name_words(folded)))


def _name_words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def issuer_filter(wanted: Iterable[str], issuers: Iterable[str]) -> Any:
    """Releases of the issuers `issuer_names` finds (NullQuery when it finds none)."""
    matches = issuer_names(wanted, issuers)
    if not matches:
        return wq.NullQuery
    return wq.Or([wq.Term("issuer_key", issuer) for issuer in matches])


def date_filter(since: str | date | datetime | None, until: str | date | datetime | None) -> Any | None:
    """Releases dated in [since, until]; a partial date means its whole period at either end."""
    if since is None and until is None:
        return None
    from .dates import since_date, until_date  # python-dateutil only when a query has dates

    first = since_date(since) if since is not None else None
    last = until_date(until) if until is not None else None
    if first and last and first > last:
        raise DateError(f"--since {first.isoformat()} is after --until {last.isoformat()}")
    return date_range("date", first, last)


def combine_filters(filters: Iterable[Any | None]) -> Any | None:
    present = [f for f in filters if f is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else wq.And(present)


# ---------------------------------------------------------------------------------------------- terms


def highlight_terms(reading: Reading) -> frozenset[str]:
    """The index terms of the text fields that a hit can show as matched (never excluded ones)."""
    found: set[str] = set()
    for clause in reading.clauses:
        for leaf in positive_leaves(clause):
            if leaf.has_terms():
                for fieldname, text in leaf.terms(phrases=True):
                    if fieldname in HIGHLIGHT_FIELDS and isinstance(text, str):
                        found.add(text)
    return frozenset(found)


def positive_leaves(q: Any) -> Iterator[Any]:
    """The leaves of a query that a matching release holds (not those under NOT or after ANDNOT)."""
    if isinstance(q, wq.Not):
        return
    if isinstance(q, wq.AndNot):
        yield from positive_leaves(q.a)
    elif q.is_leaf():
        yield q
    else:
        for child in q.children():
            yield from positive_leaves(child)
