"""The "plain Whoosh way": the baseline the project's own index must beat.

Defined by the project's issues as what a newcomer would write from the Whoosh docs: default schema and
analyzer, one writer with default settings, `MultifieldParser` over title and body, top 10, and
`hit.highlights("body")` for each hit. Nothing here is tuned on purpose.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import MultifieldParser


def plain_schema() -> Schema:
    """The default schema of the issues (id, title, body), plus issuer.

    `issuer` is not in the issues' plain schema; it is added (TEXT, stored) only so that the benchmark's
    `issuer:word` queries parse into a real field query instead of matching nothing.
    """
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(stored=True),
        issuer=TEXT(stored=True),
        body=TEXT(stored=True),
    )


def build(dest: Path, records: Iterable[dict[str, Any]]) -> float:
    """Index records into a new index at dest with one default writer; return wall seconds.

    The time covers reading the records too, since a real build must read them. dest must be absent or
    empty: building over an old index would leave its segments behind and skew the size.
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty")
    start = time.perf_counter()
    dest.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(dest), plain_schema())
    writer = ix.writer()
    try:
        for rec in records:
            writer.add_document(id=rec["id"], title=rec["title"], issuer=rec["issuer"], body=rec["body"])
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    ix.close()
    return time.perf_counter() - start


def doc_count(index_dir: Path) -> int:
    """Number of documents in the index, to check a reused index is the one the run asked for."""
    ix = index.open_dir(str(index_dir))
    try:
        return int(ix.doc_count())
    finally:
        ix.close()


def run_queries(
    index_dir: Path,
    queries: Iterable[tuple[str, str]],
    limit: int = 10,
    highlights: bool = True,
    errors: list[str] | None = None,
) -> list[float]:
    """Run (qid, text) queries through one searcher; return each query's wall seconds.

    Each timing covers parse, search and (when highlights) `hit.highlights("body")` for every hit, which
    is what a results page costs. A query that raises still counts its time; its qid goes to `errors`
    (when given) and to stderr, so one bad query cannot stop the benchmark.
    """
    ix = index.open_dir(str(index_dir))
    times: list[float] = []
    try:
        with ix.searcher() as searcher:
            parser = plain_parser(ix)
            for qid, text in queries:
                start = time.perf_counter()
                try:
                    _answer(searcher, parser, text, limit, highlights)
                except Exception as exc:
                    _report_error(qid, text, exc, errors)
                times.append(time.perf_counter() - start)
    finally:
        ix.close()
    return times


def plain_parser(ix: index.Index) -> MultifieldParser:
    """The newcomer's parser: title and body, Whoosh's default AND of bare words."""
    return MultifieldParser(["title", "body"], ix.schema)


def _answer(searcher: Any, parser: MultifieldParser, text: str, limit: int, highlights: bool) -> None:
    """Answer one query the plain way; kept separate so the timed region in run_queries stays obvious."""
    results = searcher.search(parser.parse(text), limit=limit)
    if highlights:
        for hit in results:
            hit.highlights("body")


def ranked_ids(index_dir: Path, queries: Iterable[tuple[str, str]], limit: int = 10) -> dict[str, list[str]]:
    """The ids of each query's top `limit` hits, in rank order: the plain way's answers, for judging.

    Same index, parser and search call as `run_queries`, so the judged rankings are the timed ones.
    """
    ix = index.open_dir(str(index_dir))
    try:
        with ix.searcher() as searcher:
            parser = plain_parser(ix)
            return {
                qid: [hit["id"] for hit in searcher.search(parser.parse(text), limit=limit)]
                for qid, text in queries
            }
    finally:
        ix.close()


def _report_error(qid: str, text: str, exc: Exception, errors: list[str] | None) -> None:
    """Record a failed query without stopping the run: the timing stays, the failure is visible."""
    print(f"plain_whoosh: {qid} {text!r} failed: {exc!r}", file=sys.stderr)
    if errors is not None:
        errors.append(qid)
