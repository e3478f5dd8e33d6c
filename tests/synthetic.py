"""Synthetic releases for the tests that must run in every clone, with or without ../shared.

Words are built from English syllables ("brask", "toldering") and drawn from a Zipf distribution, so an
index of them has what an index of real releases has: a few words in most releases (posting lists of many
blocks), most words in a few (lists kept inline in their term), words repeated within a release and in
its title and issuer (weights other than 1), inflected forms that stem together ("brasks", "brasked"),
stop words, capitals, numbers and punctuation between them. Issuers share prefixes ("Department of X",
"Department of X Affairs"), dates repeat, and some releases have none. Everything follows from a seed.

`write_documents` writes records as text files (in the seed's format, through `render`) and as JSON Lines,
and says which release id each record gets, so tests know the truth without asking the code under test.
"""

from __future__ import annotations

import calendar
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from render import DATE_FORMS, END_MARKS, NEWLINES, Variant, render_text_file
from statementsearch.analysis import EnglishAnalyzer, term_for

ONSETS = ("b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l", "m", "n", "p")
ONSETS += ("pl", "pr", "r", "s", "sh", "sl", "sp", "st", "t", "th", "tr", "v", "w", "z")
VOWELS = ("a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ee", "oo", "ou")
CODAS = ("", "", "", "n", "r", "l", "m", "t", "st", "nd", "ck", "sk", "rt", "mp", "nt")
ENDINGS = ("", "", "", "", "s", "s", "ed", "ing")
"""Inflections added to a word in running text (the plain form most often); Porter stems most back."""
STOP_WORDS = ("the", "of", "and", "to", "in", "a", "for", "on", "with", "that", "by", "as", "at", "from")
STOP_SHARE = 0.35
ZIPF_EXPONENT = 1.05
FIRST_DAY = date(2004, 1, 1)
DAYS = 9 * 365
UNDATED_SHARE = 0.08
_CALENDAR_TERMS = frozenset(
    term_for(w.lower()) for w in (*calendar.month_name[1:], *calendar.month_abbr[1:], *calendar.day_name)
)
DECORATIONS = ("\u201cquoted\u201d", "\u2014", "Bogot\u00e1", "Z\u00fcrich", "d\u00e9j\u00e0", "(ends)")
"""Now and then in a sentence: curly quotes, a dash, accented words (which some encodings cannot hold),
and an end mark inside a line (only a line that is an end mark ends a release)."""


def _syllable(rng: random.Random) -> str:
    return rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)


def make_vocabulary(rng: random.Random, size: int) -> list[str]:
    """`size` distinct words of one to three syllables, shortest (the most frequent) first. Each is its
    own index term's only source among the words (no two words stem alike) and none is a stop word or
    a date word (month and day names are indexed with every release's date)."""
    words: list[str] = []
    terms: set[str] = set()
    while len(words) < size:
        word = "".join(_syllable(rng) for _ in range(rng.choice((1, 2, 2, 2, 3))))
        term = term_for(word)
        if term is None or term in terms or term in _CALENDAR_TERMS or len(word) < 3:
            continue
        if any(term_for(word + ending) != term for ending in ("s", "ed", "ing")):
            continue  # an inflection that stems elsewhere would make one word two terms
        words.append(word)
        terms.add(term)
    return sorted(words, key=len)  # stable: words of one length stay in random order


@dataclass(frozen=True)
class Vocabulary:
    """Words with their Zipf weights, and the issuers releases come from."""

    words: tuple[str, ...]
    cumulative: tuple[float, ...]
    issuers: tuple[str, ...]

    def draw(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=count)


def vocabulary(seed: int = 0, size: int = 3000) -> Vocabulary:
    rng = random.Random(seed)
    words = make_vocabulary(rng, size)
    weights = [1 / (rank + 2) ** ZIPF_EXPONENT for rank in range(size)]
    names = [w.capitalize() for w in words[40:400]]
    rng.shuffle(names)
    issuers = (
        f"Department of {names[0]}",
        f"Department of {names[0]} Affairs",  # the one above is a prefix of this one
        f"Department of {names[1]}",
        f"Office of Senator {names[2]} {names[3]}",
        f"Office of Senator {names[4]} {names[5]}",
        f"{names[6]} Command",
        f"{names[7]} {names[8]} Agency",
        f"US {names[9]} Service",
    )
    return Vocabulary(tuple(words), tuple(accumulate(weights)), issuers)


def _sentence(vocab: Vocabulary, rng: random.Random) -> str:
    tokens: list[str] = []
    for word in vocab.draw(rng, rng.randint(6, 18)):
        if rng.random() < STOP_SHARE:
            tokens.append(rng.choice(STOP_WORDS))
        roll = rng.random()
        if roll < 0.01:
            tokens.append(rng.choice(DECORATIONS))
        elif roll < 0.03:
            tokens.append(f"{rng.randint(2, 999)},{rng.randint(0, 999):03d}")
        elif roll < 0.05:
            tokens.append(word.upper())
        tokens.append(word + rng.choice(ENDINGS))
    tokens[0] = tokens[0].capitalize()
    return " ".join(tokens) + rng.choice((".", ".", ".", ";", "?", ", he said."))


def _body(vocab: Vocabulary, rng: random.Random) -> str:
    paragraphs = [
        " ".join(_sentence(vocab, rng) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 6))
    ]
    return "\n".join(paragraphs)


def _title(vocab: Vocabulary, rng: random.Random) -> str:
    # Skipping the commonest words keeps titles from being all the same few words.
    words = [w for w in vocab.draw(rng, 12) if w not in vocab.words[:10]][: rng.randint(3, 8)]
    return " ".join(w.capitalize() for w in words) or "Statement"


def records(vocab: Vocabulary, count: int, seed: int, prefix: str = "syn") -> list[dict[str, Any]]:
    """`count` release records (the corpora's shape: id, title, issuer, date when dated, body)."""
    rng = random.Random(seed)
    out = []
    issuer_weights = list(accumulate(1 / (rank + 1) for rank in range(len(vocab.issuers))))
    for number in range(count):
        record: dict[str, Any] = {
            "id": f"{prefix}-{seed}-{number:04d}",
            "title": _title(vocab, rng),
            "issuer": rng.choices(vocab.issuers, cum_weights=issuer_weights)[0],
            "body": _body(vocab, rng),
        }
        if rng.random() >= UNDATED_SHARE:
            record["date"] = (FIRST_DAY + timedelta(days=rng.randrange(DAYS))).isoformat()
        out.append(record)
    return out


@dataclass(frozen=True)
class Written:
    """A record as the index should hold it: the release id the reader gives it, its date and issuer,
    and the index terms of its text (title, issuer and body; date words left out)."""

    id: str
    date: date | None
    issuer: str
    terms: frozenset[str]


def truth(record: dict[str, Any], release_id: str) -> Written:
    text = "\n".join((record["title"], record["issuer"], record["body"]))
    day = date.fromisoformat(record["date"]) if record.get("date") else None
    return Written(release_id, day, record["issuer"], frozenset(EnglishAnalyzer().terms(text)))


def write_jsonl(path: Path, batch: list[dict[str, Any]]) -> list[Written]:
    path.write_text("".join(json.dumps(r) + "\n" for r in batch), encoding="utf-8")
    return [truth(r, r["id"]) for r in batch]


def write_text(path: Path, root: Path, batch: list[dict[str, Any]], seed: int) -> list[Written]:
    """The records as one text file, in a date form, end mark and line end chosen by `seed`."""
    rng = random.Random(seed)
    variant = Variant(
        date_form=rng.choice(DATE_FORMS),
        end_mark=rng.choice([mark for mark in END_MARKS if mark is not None]),
        newline=rng.choice(NEWLINES),
    )
    path.write_bytes(render_text_file(batch, variant))
    name = path.relative_to(root).as_posix()
    return [truth(r, f"{name}#{n}") for n, r in enumerate(batch, start=1)]


@dataclass(frozen=True)
class SyntheticIndex:
    """An index of synthetic releases built by three updates without a merge (three segments), with
    releases deleted from the first two, and what it must hold."""

    index: Path
    documents: Path
    vocabulary: Vocabulary
    releases: dict[str, Written]
    """The live releases by id."""
    deleted: frozenset[str]
    """Ids of records whose file was removed, or rewritten without them: in no result, ever."""

    def ids(self, term: str | None = None, **where: Any) -> set[str]:
        """Ids of live releases holding `term` (any, when None) whose fields satisfy `where`'s tests,
        e.g. `date=lambda d: d is not None`."""
        return {
            r.id
            for r in self.releases.values()
            if (term is None or term in r.terms) and all(test(getattr(r, k)) for k, test in where.items())
        }


def build_segmented(base: Path, seed: int = 0) -> SyntheticIndex:
    """Three updates: (1) 4 text files of 50 releases and a JSON Lines file of 400; (2) a new JSON Lines
    file of 250, the first one rewritten with 250 of its 400 (3 of every 8 left out), the first text file
    removed; (3) two new text files of 100, the second JSON Lines file rewritten without every fifth
    record, the second text file removed. 1,500 releases written in three segments (a rewritten file's
    releases land in the update's new segment), 750 live; the first two segments have deleted ones."""
    from statementsearch import StatementIndex

    vocab = vocabulary(seed)
    docs = base / "documents"
    docs.mkdir(parents=True)
    first, second, third = (records(vocab, n, seed * 10 + k) for k, n in enumerate((600, 250, 200)))
    jsonl_first = first[200:]
    written: dict[str, Written] = {}

    def add(found: list[Written]) -> None:
        written.update((w.id, w) for w in found)

    with StatementIndex.create(base / "index") as ix:
        for n in range(4):
            add(write_text(docs / f"t{n}.txt", docs, first[n * 50 : n * 50 + 50], seed + n))
        add(write_jsonl(docs / "j0.jsonl", jsonl_first))
        ix.update(docs)
        add(write_jsonl(docs / "j1.jsonl", second))
        add(write_jsonl(docs / "j0.jsonl", [r for n, r in enumerate(jsonl_first) if n % 8 not in (0, 3, 5)]))
        (docs / "t0.txt").unlink()
        ix.update(docs)
        add(write_text(docs / "t4.txt", docs, third[:100], seed + 4))
        add(write_text(docs / "t5.txt", docs, third[100:], seed + 5))
        add(write_jsonl(docs / "j1.jsonl", [r for n, r in enumerate(second) if n % 5]))
        (docs / "t1.txt").unlink()
        ix.update(docs)
    gone = {i for i in written if i.startswith(("t0.txt#", "t1.txt#"))}
    gone |= {r["id"] for n, r in enumerate(jsonl_first) if n % 8 in (0, 3, 5)}
    gone |= {r["id"] for n, r in enumerate(second) if n % 5 == 0}
    live = {i: w for i, w in written.items() if i not in gone}
    return SyntheticIndex(base / "index", docs, vocab, live, frozenset(gone))
