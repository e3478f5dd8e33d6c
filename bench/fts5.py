"""SQLite FTS5 (stdlib sqlite3): the C-engine reference point for the benchmark.

It shows what a compiled engine does with the same records and queries (bm25 ranking, `snippet()` for
each hit), so the project's speed can be read as a ratio to a well-known engine, not only to plain Whoosh.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

TABLE = "releases"
# Column order matters: snippet() names the body by its index (4).
CREATE_SQL = (
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5("
    "id UNINDEXED, title, issuer, date UNINDEXED, body, tokenize = 'porter unicode61')"
)
INSERT_SQL = f"INSERT INTO {TABLE} (id, title, issuer, date, body) VALUES (?, ?, ?, ?, ?)"
SEARCH_SQL = (
    f"SELECT id, snippet({TABLE}, 4, '[', ']', '…', 20) FROM {TABLE} "
    f"WHERE {TABLE} MATCH ? ORDER BY bm25({TABLE}) LIMIT ?"
)
# Fields a Whoosh-syntax `field:` prefix may name; other prefixes are kept as text, as Whoosh does.
SEARCHABLE_COLUMNS = frozenset({"title", "issuer", "body"})
# A balanced "phrase" or a bare word, either with an optional `field:` prefix. A stray quote matches
# neither and is skipped, so an unbalanced phrase falls apart into bare words (Whoosh does the same).
_TOKEN = re.compile(r'(?:(?P<pf>\w+):)?"(?P<phrase>[^"]*)"|(?:(?P<wf>\w+):)?(?P<word>[^\s"]+)')
_WORD_CHAR = re.compile(r"\w")


def build(dest_file: Path, records: Iterable[dict[str, Any]]) -> float:
    """Load records into a new FTS5 table in one transaction; return wall seconds (reading included).

    dest_file must not exist: appending to an old database would double the rows and the size.
    """
    dest_file = Path(dest_file)
    if dest_file.exists():
        raise FileExistsError(dest_file)
    start = time.perf_counter()
    dest_file.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(dest_file)
    try:
        with con:  # one transaction: commits on success, rolls back on error
            con.execute(CREATE_SQL)
            con.executemany(INSERT_SQL, _rows(records))
    finally:
        con.close()
    return time.perf_counter() - start


def _rows(records: Iterable[dict[str, Any]]) -> Iterator[tuple[str, str, str, str, str]]:
    """Turn records into insert tuples lazily, so the corpus is never all in memory."""
    for rec in records:
        yield rec["id"], rec["title"], rec["issuer"], rec["date"], rec["body"]


def doc_count(db_file: Path) -> int:
    """Number of rows, to check a reused database is the one the run asked for."""
    con = sqlite3.connect(db_file)
    try:
        return int(con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0])
    finally:
        con.close()


def translate(query: str) -> str:
    """Map the benchmark's Whoosh-syntax query to an FTS5 query with the same meaning.

    Bare words are all required (Whoosh's default AND) and each is double-quoted so that FTS5 reads
    words such as `and`, `near` or `-x` as text, not syntax; "quoted phrases" stay phrases;
    `issuer:word` becomes `issuer : "word"`. Tokens without a letter or digit are dropped, as Whoosh's
    analyzer drops them (FTS5 would otherwise require an empty phrase and match nothing). Only the
    benchmark's subset of the Whoosh language is covered: operators and wildcards are read as words.
    """
    parts: list[str] = []
    for m in _TOKEN.finditer(query):
        if m.group("phrase") is not None:
            part = _fts_term(m.group("pf"), m.group("phrase"))
        else:
            part = _fts_term(m.group("wf"), m.group("word"))
        if part:
            parts.append(part)
    return " AND ".join(parts)


def _fts_term(field: str | None, text: str) -> str:
    """Quote one word or phrase for FTS5 (doubling inner quotes), with a column filter when asked."""
    if field is not None and field not in SEARCHABLE_COLUMNS:
        text = f"{field}:{text}"  # an unknown field stays text, as in Whoosh
        field = None
    if not _WORD_CHAR.search(text):
        return ""
    quoted = '"' + text.replace('"', '""') + '"'
    return f"{field} : {quoted}" if field else quoted


def run_queries(
    db_file: Path,
    queries: Iterable[tuple[str, str]],
    limit: int = 10,
    errors: list[str] | None = None,
) -> list[float]:
    """Run (qid, text) queries on one connection; return each query's wall seconds.

    Each timing covers translation, the bm25-ordered search and a snippet of the body for every hit,
    the FTS5 counterpart of plain Whoosh with highlights. A failing query still counts its time; its qid
    goes to `errors` (when given) and to stderr.
    """
    con = sqlite3.connect(db_file)
    times: list[float] = []
    try:
        for qid, text in queries:
            start = time.perf_counter()
            try:
                search(con, text, limit)
            except sqlite3.Error as exc:
                print(f"fts5: {qid} {text!r} failed: {exc!r}", file=sys.stderr)
                if errors is not None:
                    errors.append(qid)
            times.append(time.perf_counter() - start)
    finally:
        con.close()
    return times


def search(con: sqlite3.Connection, text: str, limit: int) -> list[tuple[str, str]]:
    """(id, snippet) of the top `limit` rows for a Whoosh-syntax query, best first (bm25)."""
    return con.execute(SEARCH_SQL, (translate(text), limit)).fetchall()


def ranked_ids(db_file: Path, queries: Iterable[tuple[str, str]], limit: int = 10) -> dict[str, list[str]]:
    """The ids of each query's top `limit` rows, best first: the answers `run_queries` times, for judging."""
    con = sqlite3.connect(db_file)
    try:
        return {qid: [row_id for row_id, _snippet in search(con, text, limit)] for qid, text in queries}
    finally:
        con.close()
