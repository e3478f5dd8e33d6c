"""`StatementIndex`: the one public entry to an index on disk, for the CLI and for embedding applications.

One instance may be shared by the threads of an application. It keeps one Whoosh searcher and reuses it
across queries; before each query it compares the index's latest generation on disk with the searcher's
and, when another writer (this process or another) has committed, opens a new searcher. The old one is
closed once no thread uses it. It never calls `Searcher.refresh()`, which in whoosh3 3.54 keeps
returning deleted documents (see README, "Why whoosh3").
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import schema as schema_mod
from .errors import (
    IndexCorruptError,
    IndexMissingError,
    IndexWriteError,
    QueryError,
    ReleaseNotFoundError,
    decoding_errors,
    read_damage_errors,
    unreadable,
)
from .highlight import Snippet, TermMatcher, make_snippet
from .models import (
    Duplicate,
    Hit,
    IndexStats,
    IssuerCount,
    Release,
    SearchResult,
    TimelineBucket,
    UpdateSummary,
)
from .query import (
    Reading,
    combine_filters,
    date_filter,
    highlight_terms,
    issuer_filter,
    issuer_names,
    make_parser,
    parse_query,
)
from .ranking import Ranker
from .schema import date_range
from .scoring import Statistics, Weighting
from .searching import (
    Columns,
    Counts,
    Matching,
    Ranked,
    SortOrder,
    allowed_docs,
    count_matches,
    duplicates,
    iso_date,
    matching_dates,
    may_lack,
    missing_words,
    relaxed,
    run,
)

if TYPE_CHECKING:
    from .indexer import Progress

MARKER_FILE = "statementsearch.json"
# The manifest of a sharded index (see `shards`): a folder holding it is not an index of this class.
SHARDS_FILE = "statementsearch-shards.json"
MAX_LIMIT = 10_000
OPEN_ATTEMPTS = 5
# Filters (issuer, dates) kept as document sets per searcher: an analyst pages and refines within few.
FILTER_CACHE_SIZE = 32
# Key terms taken from a release to find similar ones: enough to describe a topic, few enough to be fast.
SIMILAR_TERMS = 12
DateLike = str | date | datetime | None


def _whoosh_index() -> Any:
    from whoosh import index as whoosh_index

    from .whoosh_internals import apply_fixes

    apply_fixes()

    return whoosh_index


@dataclass(eq=False)
class _Lease:
    """One thread's searcher and what is cached with it (valid for its generation only)."""

    searcher: Any
    generation: int
    users: int = 0
    issuers: list[str] | None = field(default=None)
    filters: dict[str, set[int]] = field(default_factory=dict)
    ranker: Ranker | None = None
    columns: Columns | None = None
    statistics: Statistics | None = None
    """The collection statistics it scores with: None for the index's own, all shards' for a shard."""

    def ranking(self) -> Ranker:
        """This searcher's ranker (made on first use: it reads each segment's length norms)."""
        if self.ranker is None:
            self.ranker = Ranker(self.searcher, statistics=self.statistics)
        return self.ranker

    def matching(self, reading: Reading, allowed: set[int] | None) -> Matching:
        if self.columns is None:
            self.columns = Columns(self.searcher)
        return Matching(self.searcher, reading, allowed, self.columns, self.ranking())

    def within(self, reading: Reading, filters: Any | None) -> Matching:
        """The reading on this searcher within a filter query (issuers, dates; None: everything)."""
        return self.matching(reading, _filter_docs(self, filters) if filters is not None else None)


class StatementIndex:
    """A statementsearch index in a folder: build, update, search, show, stats.

    Use `StatementIndex.open(path)` for an existing index, `StatementIndex.create(path)` for a new one,
    or `StatementIndex.open(path, create=True)` for either. Only open indexes from a trusted place: an
    index folder holds pickled Python data.
    """

    def __init__(self, path: Path, ix: Any, schema: Any) -> None:
        self.path = path
        self._ix = ix
        self._lock = threading.Lock()
        self._local = threading.local()
        self._leases: weakref.WeakSet[_Lease] = weakref.WeakSet()
        self._closed = False
        self._parser = make_parser(schema)

    # ------------------------------------------------------------------------------------- lifecycle

    @staticmethod
    def exists(path: str | os.PathLike[str]) -> bool:
        """Is there an index in this folder?"""
        # A table of contents file is what makes a folder an index. Not Whoosh's `exists_in`: it reads
        # the latest one, which a commit by another process may delete at that very instant.
        folder = Path(path)
        return folder.is_dir() and any(folder.glob("_MAIN_*.toc"))

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = False) -> StatementIndex:
        """Open the index in `path` (creating an empty one there when `create` and there is none)."""
        folder = Path(path)
        if (folder / SHARDS_FILE).is_file():
            raise IndexMissingError(
                f"{folder} holds a sharded index: open it with statementsearch.open_index or ShardedIndex"
            )
        if not cls.exists(folder):
            if create:
                return cls.create(folder)
            raise IndexMissingError(f"no index at {folder}: build one with `statementsearch index`")
        _check_marker(folder)
        return cls(folder, *_open_whoosh(folder))

    @classmethod
    def create(cls, path: str | os.PathLike[str], *, overwrite: bool = False) -> StatementIndex:
        """Create an empty index in `path` (the folder must be empty, or hold an index and `overwrite`)."""
        folder = Path(path)
        if cls.exists(folder) and not overwrite:
            raise IndexWriteError(f"an index already exists at {folder}")
        _check_creatable(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # The marker first: a process killed between the two steps leaves a folder that is not an
            # index yet (the next run creates it), never an index without its marker.
            (folder / MARKER_FILE).write_text(
                json.dumps({"schema_version": schema_mod.SCHEMA_VERSION}) + "\n", encoding="utf-8"
            )
            schema = schema_mod.build_schema()
            ix = _whoosh_index().create_in(str(folder), schema)
        except OSError as exc:
            raise IndexWriteError(f"cannot create an index at {folder}: {exc.strerror or exc}") from exc
        return cls(folder, ix, schema)

    def close(self) -> None:
        """Close every thread's searcher; the object cannot search afterwards."""
        with self._lock:
            self._closed = True
            leases = list(self._leases)
            self._leases.clear()
        for lease in leases:
            lease.searcher.close()

    def __enter__(self) -> StatementIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------- writing

    def update(
        self,
        documents: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        procs: int = 1,
        wait: float = 0.0,
        notice: Callable[[str], None] | None = None,
        rebuild: bool = False,
    ) -> UpdateSummary:
        """Bring the index up to date with the documents folder, reading only new and changed files.

        `procs` > 1 lets a large batch use Whoosh's multi-process writer. `wait` is how long to wait for
        another writer's lock; `notice` receives messages such as a cleared stale lock.
        """
        from .indexer import update_index, writer_lock

        root = Path(documents)
        if not root.is_dir():
            raise IndexWriteError(f"documents folder {root} does not exist or is not a folder")
        with writer_lock(self.path, wait=wait, notice=notice):
            try:
                return update_index(self._ix, root, rebuild=rebuild, progress=progress, procs=procs)
            except decoding_errors() as exc:  # what it read of the index is damaged
                raise unreadable(f"index at {self.path}", exc) from exc

    def build(
        self,
        documents: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        procs: int = 1,
        wait: float = 0.0,
        notice: Callable[[str], None] | None = None,
    ) -> UpdateSummary:
        """Index every file of the documents folder anew; the old content stays searchable until the end."""
        return self.update(documents, progress=progress, procs=procs, wait=wait, notice=notice, rebuild=True)

    def watch(
        self,
        documents: str | os.PathLike[str],
        *,
        on_update: Callable[[UpdateSummary], None] | None = None,
        stop: threading.Event | None = None,
        wait: float = 30.0,
    ) -> UpdateSummary:
        """Update now, then keep the index current as files change, until `stop` is set or Ctrl-C.

        `wait` is how long each update waits for another writer's lock."""
        from .watch import watch

        return watch(self, Path(documents), on_update=on_update, stop=stop, wait=wait)

    # ------------------------------------------------------------------------------------- searchers

    @contextlib.contextmanager
    def _searcher(self, statistics: Statistics | None = None) -> Iterator[_Lease]:
        """This thread's searcher on the latest committed generation.

        Whoosh's readers seek and read shared file handles, so one searcher used by two threads at once
        returns garbage (seen as zlib/unpickling errors under load): each thread keeps its own, reused
        across its queries and replaced when a writer has committed a new generation. `statistics`
        (a shard's: those of all shards) are what it scores with; other statistics, another searcher.
        """
        if self._closed:  # this thread's lease, if any, holds a closed searcher
            raise IndexMissingError(f"index at {self.path} has been closed")
        lease: _Lease | None = getattr(self._local, "lease", None)
        if lease is None or (
            lease.users == 0
            and (lease.generation != self._ix.latest_generation() or lease.statistics is not statistics)
        ):
            if lease is not None:
                lease.searcher.close()
            lease = self._new_lease(statistics)
            self._local.lease = lease
        lease.users += 1
        try:
            yield lease
        except Exception as exc:
            if isinstance(exc, read_damage_errors()):  # a file damaged where opening it did not look
                raise unreadable(f"index at {self.path}", exc) from exc
            raise
        finally:
            lease.users -= 1

    def _new_lease(self, statistics: Statistics | None = None) -> _Lease:
        generation = self._ix.latest_generation()
        lease = _Lease(self._open_searcher(statistics), generation, statistics=statistics)
        with self._lock:
            if self._closed:
                lease.searcher.close()
                raise IndexMissingError(f"index at {self.path} has been closed")
            self._leases.add(lease)
        return lease

    def _open_searcher(self, statistics: Statistics | None = None) -> Any:
        return _retried(lambda: self._ix.searcher(weighting=Weighting(statistics=statistics)), self.path)

    @staticmethod
    def _issuers(lease: _Lease) -> list[str]:
        if lease.issuers is None:
            reader = lease.searcher.reader()
            lease.issuers = [t.decode("utf-8") for t in reader.lexicon("issuer_key")]
        return lease.issuers

    # ------------------------------------------------------------------------------------- search

    def search(
        self,
        query: str,
        *,
        issuer: str | Sequence[str] | None = None,
        since: DateLike = None,
        until: DateLike = None,
        sort: SortOrder = "relevance",
        limit: int = 10,
        offset: int = 0,
        collapse: bool = True,
        facets: bool = True,
        snippets: bool = True,
        suggestions: bool = True,
        fill: bool = False,
    ) -> SearchResult:
        """Ranked releases for a query, with snippets, issuer facets and a did-you-mean suggestion.

        `issuer` keeps releases of the issuers it names (several: any of them; see `issuers`).
        `collapse` shows one hit per near-duplicate group (the others listed in `Hit.duplicates`).
        `facets=False` skips counting the whole result set (then `total` counts only the page's hits).
        `snippets=False` leaves `snippet` empty (for ranked lists of ids, as `batch --format trec`).
        `suggestions=False` skips the did-you-mean and phrase checks, as `batch` does.
        `fill` goes on past the matches, in relevance order, with every release holding one of the
        query's words (`Hit.missing` names the words each lacks): a ranked list as deep as `limit`.
        When no release holds every word, the query is answered with those holding most of them, and
        `relaxed` names the words they may lack.
        """
        started = time.perf_counter()
        limit = _check_paging(limit, offset)
        if sort not in ("relevance", "newest", "oldest"):
            raise QueryError(f"unknown sort order {sort!r}: use relevance, newest or oldest")
        with self._searcher() as lease:
            reader = lease.searcher.reader()
            matching = self._matching(lease, query, issuer, since, until)
            # The matches' own page says whether anything matches (a filled one may hold others);
            # a filled list then starts from the same matches (`Matching.top` keeps them).
            results = run(matching, sort, offset + limit, collapse)
            loosened = None if results else relaxed(matching, lambda word: _has_correction(reader, word))
            if loosened is not None or fill:
                matching = loosened or matching
                results = run(matching, sort, offset + limit, collapse, fill)
            results = results[offset:]
            hits = self._hits(lease, matching, results, offset, collapse, snippets, fill)
            counts = count_matches(matching, collapse) if facets else Counts(len(hits), len(hits), ())
            suggestion = phrase = None
            if suggestions:
                from .spelling import phrase_suggestion, suggest

                suggestion = suggest(query, reader)
                phrase = phrase_suggestion(matching, [h[0] for h in results[:limit]])
        page = Page(query, offset, limit, started)
        return page.result(matching.reading, hits, counts, suggestion, phrase)

    def _matching(
        self,
        lease: _Lease,
        query: str,
        issuer: str | Sequence[str] | None,
        since: DateLike,
        until: DateLike,
    ) -> Matching:
        """The reading of a query within its filters."""
        return lease.within(*self._reading(lease, query, issuer, since, until))

    def _reading(
        self,
        lease: _Lease,
        query: str,
        issuer: str | Sequence[str] | None,
        since: DateLike,
        until: DateLike,
    ) -> tuple[Reading, Any | None]:
        """How a query is read, and the filter query its options and date clauses make (None: none).
        Filters first, so a bad date is reported even when the query is bad too. A sharded index
        reads here, over all shards' terms, what each shard then runs (`_Lease.within`)."""
        wanted = [issuer] if isinstance(issuer, str) else list(issuer or ())
        filters = [issuer_filter(wanted, self._issuers(lease)) if wanted else None, date_filter(since, until)]
        reading = parse_query(query, self._parser, lease.searcher.reader())
        filters.extend(date_range("date", first, last) for first, last in reading.dates)
        return reading, combine_filters(filters)

    def _hits(
        self,
        lease: _Lease,
        matching: Matching,
        results: list[Ranked],
        offset: int,
        collapse: bool,
        snippets: bool,
        fill: bool,
    ) -> tuple[Hit, ...]:
        reading = matching.reading
        matcher = TermMatcher(highlight_terms(reading)) if snippets else None
        docnums = [docnum for docnum, _ in results]
        lacking = missing_words(matching, docnums) if may_lack(reading, fill) else {}
        return tuple(
            self._hit(lease, h, rank, matcher, collapse, lacking.get(h[0], ()))
            for rank, h in enumerate(results, start=offset + 1)
        )

    def _hit(
        self,
        lease: _Lease,
        ranked: Ranked,
        rank: int,
        matcher: TermMatcher | None,
        collapse: bool,
        missing: tuple[str, ...] = (),
    ) -> Hit:
        searcher = lease.searcher
        docnum, score = ranked
        stored = searcher.stored_fields(docnum)
        title = stored.get("title", "")
        title_spans: tuple[tuple[int, int], ...] = ()
        if matcher is None:
            snippet = Snippet("", ())
        else:
            snippet = make_snippet(stored.get("body", "") or title, matcher)
            title_spans = tuple(matcher.spans(title))
        columns = lease.columns or Columns(searcher)
        return Hit(
            rank=rank,
            score=round(score or 0.0, 4),
            id=stored["id"],
            title=title,
            issuer=stored.get("issuer", ""),
            date=iso_date(stored.get("date")),
            path=stored.get("path", ""),
            snippet=snippet.text,
            highlights=snippet.spans,
            title_highlights=title_spans,
            duplicates=duplicates(searcher, columns, docnum, stored) if collapse else (),
            missing=missing,
        )

    def timeline(
        self,
        query: str,
        *,
        issuer: str | Sequence[str] | None = None,
        since: DateLike = None,
        until: DateLike = None,
    ) -> tuple[TimelineBucket, ...]:
        """Matching releases, re-issues included (all, not one page; filters apply) per month, or per
        year over > 10 years. The window is `since`..`until` when given, else the matching releases'
        own date range; empty periods are included, and the counts add up to the matching releases
        that have a date. A query nothing matches is relaxed as `search` relaxes it."""
        from .dates import since_date, until_date
        from .timeline import buckets

        with self._searcher() as lease:
            reader = lease.searcher.reader()
            matching = self._matching(lease, query, issuer, since, until)
            if not matching.any():
                matching = relaxed(matching, lambda word: _has_correction(reader, word)) or matching
            dates = matching_dates(matching)
        first = since_date(since) if since is not None else None
        last = until_date(until) if until is not None else None
        return buckets(dates, first, last)

    def similar(self, release_id: str, *, limit: int = 10, collapse: bool = True) -> SearchResult:
        """Releases most like a given one (key terms of its title and body), without it and its duplicates."""
        started = time.perf_counter()
        limit = _check_paging(limit, 0)
        with self._searcher() as lease:
            searcher = lease.searcher
            docnum = searcher.document_number(id=release_id)
            if docnum is None:
                raise ReleaseNotFoundError(f"no release with id {release_id!r}")
            reading = similar_reading(searcher, searcher.stored_fields(docnum))
            if reading is None:
                return SearchResult(query=f"similar:{release_id}", total=0, hits=())
            terms = list(reading.typed)
            matching = lease.matching(reading, None)
            results = run(matching, "relevance", limit, collapse)
            matcher = TermMatcher(terms)
            hits = tuple(
                self._hit(lease, h, rank, matcher, collapse) for rank, h in enumerate(results, start=1)
            )
        return SearchResult(
            query=f"similar:{release_id}",
            total=len(hits),
            hits=hits,
            seconds=time.perf_counter() - started,
            limit=limit,
            releases=len(hits),
        )

    def issuers(self, words: str | None = None) -> tuple[IssuerCount, ...]:
        """Every issuer with its number of releases, most first; `words` keeps those whose name starts
        with it or holds each of its words (as `search(issuer=...)` matches them)."""
        with self._searcher() as lease:
            names = self._issuers(lease)
            if words is not None and words.strip():
                names = issuer_names([words], names)
            searcher = lease.searcher
            counts = [IssuerCount(name, int(searcher.doc_frequency("issuer_key", name))) for name in names]
            deletions = searcher.reader().has_deletions()
            if deletions:  # term frequencies count deleted releases until their segment is merged
                counts = [IssuerCount(c.issuer, self._live_count(searcher, c.issuer)) for c in counts]
        return tuple(sorted((c for c in counts if c.count), key=lambda c: (-c.count, c.issuer)))

    @staticmethod
    def _live_count(searcher: Any, issuer: str) -> int:
        from whoosh.query import Term

        return sum(1 for _ in searcher.docs_for_query(Term("issuer_key", issuer)))

    # ------------------------------------------------------------------------------------- lookups

    def show(self, release_id: str) -> Release:
        """The whole release with this id."""
        with self._searcher() as lease:
            stored = lease.searcher.document(id=release_id)
        if stored is None:
            raise ReleaseNotFoundError(f"no release with id {release_id!r}")
        from .schema import release_from_stored

        return release_from_stored(stored)

    def duplicates(self, release_id: str) -> tuple[Duplicate, ...]:
        """The other releases of this release's near-duplicate group (re-issues), oldest document first."""
        with self._searcher() as lease:
            searcher = lease.searcher
            docnum = searcher.document_number(id=release_id)
            if docnum is None:
                raise ReleaseNotFoundError(f"no release with id {release_id!r}")
            columns = lease.columns or Columns(searcher)
            return duplicates(searcher, columns, docnum, searcher.stored_fields(docnum))

    def highlights(self, query: str, text: str) -> tuple[tuple[int, int], ...]:
        """[start, end) spans of the words of `text` that the query matches, as a hit's `highlights`.

        For marking a query's words in a whole release (`show` gives the text, this where to mark it).
        """
        with self._searcher() as lease:
            reading = parse_query(query, self._parser, lease.searcher.reader())
            return tuple(TermMatcher(highlight_terms(reading)).spans(text))

    def stats(self, top: int = 10) -> IndexStats:
        """Counts and ranges that describe the index."""
        with self._searcher() as lease:
            searcher = lease.searcher
            everything = lease.matching(Reading("*", everything=True), None)
            counts = count_matches(everything, collapse=False)
            releases, issuer_counts = counts.releases, counts.issuers
            dates = matching_dates(everything)
            segments = len(list(searcher.leaf_searchers()))
            from .indexer import load_manifest, unreadable_files

            files = len(load_manifest(self._ix))
        first, last = (min(dates).isoformat(), max(dates).isoformat()) if dates else (None, None)
        return IndexStats(
            releases=releases,
            files=files,
            issuers=len(issuer_counts),
            top_issuers=issuer_counts[:top],
            first_date=first,
            last_date=last,
            size_bytes=sum(p.stat().st_size for p in self.path.iterdir() if p.is_file()),
            segments=segments,
            last_update=self._last_update(),
            path=str(self.path),
            unreadable=unreadable_files(self.path),
        )

    def _last_update(self) -> str | None:
        tocs = list(self.path.glob("_MAIN_*.toc"))
        if not tocs:
            return None
        newest = max(p.stat().st_mtime for p in tocs)
        return datetime.fromtimestamp(newest).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------------------ helpers


@dataclass(frozen=True)
class Page:
    """What a search was asked for, to make its `SearchResult` (here and in a sharded index)."""

    query: str
    offset: int
    limit: int
    started: float

    def result(
        self,
        reading: Reading,
        hits: tuple[Hit, ...],
        counts: Counts,
        suggestion: str | None,
        phrase: str | None,
    ) -> SearchResult:
        return SearchResult(
            query=self.query,
            total=counts.results,
            hits=hits,
            issuers=counts.issuers,
            suggestion=suggestion,
            seconds=time.perf_counter() - self.started,
            offset=self.offset,
            limit=self.limit,
            releases=counts.releases,
            words=reading.typed,
            min_words=reading.min_words,
            reading=reading.description,
            relaxed=reading.relaxed,
            phrase=phrase,
            notes=reading.notes,
        )


def similar_reading(searcher: Any, stored: dict[str, Any]) -> Reading | None:
    """The reading that finds releases like the one whose stored fields these are: the key terms of its
    title and body (by the collection statistics of `searcher`), without it and its group. None when
    it has no key term."""
    from whoosh.query import Term

    release_id = stored["id"]
    text = f"{stored.get('title', '')}\n{stored.get('body', '')}"
    field = schema_mod.DEFAULT_FIELD
    terms = [word for word, _ in searcher.key_terms_from_text(field, text, numterms=SIMILAR_TERMS)]
    if not terms:
        return None
    return Reading(
        text=" ".join(terms),
        words=tuple(Term(field, t) for t in terms),
        typed=tuple(terms),
        min_words=1,
        excluded=(Term("id", release_id), Term("group", stored.get("group") or release_id)),
    )


def _open_whoosh(folder: Path) -> tuple[Any, Any]:
    """The Whoosh index in `folder` and its schema. Whoosh's `ix.schema` reads the newest table of
    contents again, so it is read here, within the retry, and never later."""

    def open_it() -> tuple[Any, Any]:
        ix = _whoosh_index().open_dir(str(folder))
        return ix, ix.schema

    result: tuple[Any, Any] = _retried(open_it, folder)
    return result


def _retried(open_it: Callable[[], Any], folder: Path) -> Any:
    """Open the Whoosh index or a searcher on it (its segment files); a commit by another process at that
    instant may delete the files of the generation being opened, so a failure is retried before it is
    called damage."""
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return open_it()
        except Exception as exc:  # Whoosh raises many kinds on a damaged index
            if attempt == OPEN_ATTEMPTS - 1:
                raise unreadable(f"index at {folder}", exc) from exc
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _check_marker(folder: Path) -> None:
    marker = folder / MARKER_FILE
    try:
        version = json.loads(marker.read_text(encoding="utf-8")).get("schema_version")
    except (OSError, ValueError, AttributeError):
        version = None
    if version != schema_mod.SCHEMA_VERSION:
        raise IndexCorruptError(
            f"index at {folder} was not built by this version of statementsearch "
            f"(schema {version}, needs {schema_mod.SCHEMA_VERSION}): run `statementsearch index --rebuild`"
        )


def _check_creatable(folder: Path) -> None:
    """Refuse to scatter index files into a folder that holds something else."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise IndexWriteError(f"cannot create an index at {folder}: it is a file")
    foreign = [
        p.name
        for p in folder.iterdir()
        if not p.name.startswith((".", "_MAIN", "MAIN_"))
        and p.name != MARKER_FILE
        and not p.name.endswith(".seg")
    ]
    if foreign:
        examples = ", ".join(sorted(foreign)[:3])
        raise IndexWriteError(
            f"cannot create an index at {folder}: the folder holds other files ({examples})"
        )


def _check_paging(limit: int, offset: int) -> int:
    if limit < 1:
        raise QueryError(f"limit must be 1 or more (got {limit})")
    if offset < 0:
        raise QueryError(f"offset must be 0 or more (got {offset})")
    return min(limit, MAX_LIMIT)


def _filter_docs(lease: _Lease, filters: Any) -> set[int]:
    """The releases a filter allows, as a set of document numbers, cached with the searcher.

    Whoosh would evaluate a date range for every query by expanding its numeric trie terms (seconds on
    the whole corpus); scanning the date column once and reusing the set is what makes filters cheap.
    """
    key = repr(filters)
    cached = lease.filters.get(key)
    if cached is None:
        cached = allowed_docs(lease.searcher, filters)
        if len(lease.filters) >= FILTER_CACHE_SIZE:
            lease.filters.clear()
        lease.filters[key] = cached
    return cached


def _has_correction(reader: Any, word: str) -> bool:
    from .spelling import corrections

    return bool(corrections(word, reader))
