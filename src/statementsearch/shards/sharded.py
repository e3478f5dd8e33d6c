"""`ShardedIndex`: an index split into shards, searched as one, locally or on a Dask cluster.

It has the methods of `StatementIndex` and gives the same answers as one index of the same documents:
the same hits in the same order with the same scores, totals, issuer counts, near-duplicate groups,
timelines, suggestions, relaxed readings and filled lists. How:

- The coordinator (this object, in the client) reads the query over all shards' terms (`ShardSet`):
  wildcard expansions, spelling, issuer filters and the collection statistics are those of one index.
- Each shard ranks its own postings with those statistics (`work.Find`), and its first k hits in the
  order of `Matching.top` (score, then the stable key: date, id) or of a date sort; the first k of all
  shards are among theirs, and the merge orders them by the same key. Collapsing near-duplicates runs
  over the merged list, asking the shards for more when a page needs it, as one index asks its ranker.
- Counts add up across shards (`searching.Tally`); a near-duplicate group with releases in several
  shards is counted once, by name.
- The page's hits are made by their shards, in the find round for a first page (`work.Show`), else
  in one more (`work.Fetch`); a hit's duplicates come from every shard.

Every round names the commit of each shard it was planned with; a shard that has committed since makes
the coordinator plan again (`work.StaleShard`), so an answer is of one state of each shard.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TypeAlias, TypeVar

from ..errors import IndexWriteError, QueryError, StatementSearchError
from ..highlight import TermMatcher
from ..index import (
    SHARDS_FILE,
    DateLike,
    Page,
    StatementIndex,
    _check_paging,
    similar_reading,
)
from ..indexer import Progress
from ..models import (
    Duplicate,
    IndexStats,
    IssuerCount,
    Release,
    SearchResult,
    TimelineBucket,
    UpdateSummary,
)
from ..query import Reading, highlight_terms, parse_query
from ..ranking import plan_for
from ..searching import (
    Counts,
    SortOrder,
    may_lack,
    relaxable,
)
from .catalogue import ShardSet
from .layout import Layout, check_creatable, check_shard_count, is_sharded, new_build, read_layout
from .rounds import Asked, Merged, State, merge_members
from .runner import Runner, runner_for
from .work import (
    Dates,
    Describe,
    Issuers,
    Members,
    Show,
    StaleShard,
)

T = TypeVar("T")
AnyIndex: TypeAlias = "StatementIndex | ShardedIndex"
"""Either kind of index: what the CLI and the web page work with (the same methods)."""
PLAN_ATTEMPTS = 8
"""Times a search is planned again because a shard committed meanwhile, before giving up."""


class IndexChangingError(StatementSearchError):
    """The shards kept committing while a question was being answered."""


class ShardedIndex:
    """A sharded index in a folder: build, update, search, show, stats, as `StatementIndex`.

    `ShardedIndex.create(path, shards=N)` makes an empty one; `ShardedIndex.open(path)` opens one.
    With `scheduler="tcp://HOST:PORT"`, shards are searched and built by the workers of that Dask
    scheduler; without, by threads and processes of this one. Only open indexes from a trusted place.
    """

    def __init__(self, root: Path, runner: Runner) -> None:
        self._root = root
        self._runner = runner
        self._lock = threading.Lock()
        self._layout = read_layout(root)
        self._manifest_stamp = _stamp(root)
        self._catalogue: StatementIndex | None = None  # opened at the first question (not for a rebuild)
        self._closed = False

    # ------------------------------------------------------------------------------------- lifecycle

    @staticmethod
    def exists(path: str | os.PathLike[str]) -> bool:
        """Is there a sharded index in this folder?"""
        return is_sharded(path)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        scheduler: str | None = None,
        create: bool = False,
        shards: int = 1,
        procs: int = 1,
    ) -> ShardedIndex:
        """Open the sharded index in `path` (with `create`, making one of `shards` shards if there is none).
        `procs`: local processes for builds when there is no scheduler."""
        folder = Path(path)
        if create and not is_sharded(folder):
            return cls.create(folder, shards=shards, scheduler=scheduler, procs=procs)
        read_layout(folder)  # a clear error before connecting to any cluster
        return cls(folder, runner_for(scheduler, procs))

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        shards: int,
        scheduler: str | None = None,
        procs: int = 1,
    ) -> ShardedIndex:
        """Make an empty sharded index of `shards` shards in `path` (an empty or new folder)."""
        folder = Path(path)
        check_shard_count(shards)
        if is_sharded(folder):
            raise IndexWriteError(f"an index already exists at {folder}")
        check_creatable(folder)
        runner = runner_for(scheduler, procs)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            new_build(folder, shards).write()  # the manifest last: until then, no index here
        except OSError as exc:
            runner.close()
            raise IndexWriteError(f"cannot create an index at {folder}: {exc.strerror or exc}") from exc
        except BaseException:
            runner.close()
            raise
        return cls(folder, runner)

    @property
    def path(self) -> Path:
        return self._root

    @property
    def shards(self) -> int:
        return self._current_layout().shards

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._catalogue is not None:
                self._catalogue.close()
        self._runner.close()

    def __enter__(self) -> ShardedIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _current(self) -> StatementIndex:
        """The catalogue of the build the manifest names now (a rebuild, here or elsewhere, switches it)."""
        with self._lock:
            if self._closed:
                raise IndexWriteError(f"index at {self._root} has been closed")
            stamp = _stamp(self._root)
            if stamp != self._manifest_stamp:
                layout = read_layout(self._root)
                if layout != self._layout and self._catalogue is not None:
                    self._catalogue.close()
                    self._catalogue = None
                self._layout = layout
                self._manifest_stamp = stamp
            if self._catalogue is None:
                shards = ShardSet(self._layout)
                self._catalogue = StatementIndex(self._root, shards, shards.schema)
            return self._catalogue

    def _current_layout(self) -> Layout:
        self._current()
        return self._layout

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
        shards: int | None = None,
    ) -> UpdateSummary:
        """Bring every shard up to date with the documents folder (only new and changed files are read).
        `rebuild` writes every shard anew (`shards` of them, or as many as now); the old shards serve
        searches until the new ones are complete. `procs` is not used: the shards are the parallelism."""
        from .build import update_shards

        root = Path(documents)
        if not root.is_dir():
            raise IndexWriteError(f"documents folder {root} does not exist or is not a folder")
        if shards is not None and not rebuild and shards != self.shards:
            raise IndexWriteError(
                f"the index at {self._root} has {self.shards} shards: "
                f"pass --rebuild to make it {shards} (the current shards serve until then)"
            )
        return update_shards(
            self._root,
            root,
            self._runner,
            rebuild=rebuild,
            shards=shards,
            progress=progress,
            wait=wait,
            notice=notice,
        )

    def build(
        self,
        documents: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        procs: int = 1,
        wait: float = 0.0,
        notice: Callable[[str], None] | None = None,
        shards: int | None = None,
    ) -> UpdateSummary:
        """Index every file anew; the old shards stay searchable until the new ones are complete."""
        return self.update(
            documents, progress=progress, procs=procs, wait=wait, notice=notice, rebuild=True, shards=shards
        )

    def watch(
        self,
        documents: str | os.PathLike[str],
        *,
        on_update: Callable[[UpdateSummary], None] | None = None,
        stop: threading.Event | None = None,
        wait: float = 30.0,
    ) -> UpdateSummary:
        """Update now, then keep the index current as files change, until `stop` is set or Ctrl-C."""
        from ..watch import watch

        return watch(self, Path(documents), on_update=on_update, stop=stop, wait=wait)

    # ------------------------------------------------------------------------------------- planning

    def _planned(self, work: Callable[[State], T]) -> T:
        """Run `work` on the current state of the shards, again while a shard commits under it."""
        for _attempt in range(PLAN_ATTEMPTS):
            catalogue = self._current()
            with catalogue._searcher() as lease:
                try:
                    return work(State(self, catalogue, lease))
                except StaleShard:
                    continue
        raise IndexChangingError(
            f"the shards of {self._root} kept changing while answering (an update is running): try again"
        )

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
        """As `StatementIndex.search`, over all shards."""
        started = time.perf_counter()
        limit = _check_paging(limit, offset)
        if sort not in ("relevance", "newest", "oldest"):
            raise QueryError(f"unknown sort order {sort!r}: use relevance, newest or oldest")
        page = Page(query, offset, limit, started)

        def show(state: State, reading: Reading) -> Show:
            """What the shards make of their first hits in the find round (a first page is then done)."""
            phrase = None
            if suggestions:
                from ..spelling import phrase_words

                phrase = phrase_words(reading, plan_for(reading))
            return Show(
                state.ahead(limit) if offset == 0 else 0,
                tuple(sorted(highlight_terms(reading))) if snippets else None,
                may_lack(reading, fill),
                phrase,
                collapse,
            )

        def work(state: State) -> SearchResult:
            reading, filters = state.read(query, issuer, since, until)
            asked = Asked(sort, offset + limit, collapse, fill, facets)
            made = show(state, reading)
            found = state.find(reading, filters, asked, show=made)
            if not any(f.matched for f in found) and relaxable(reading):
                loosened = state.relaxed(reading, filters)
                if loosened is not None:
                    reading, made = loosened, show(state, loosened)
                    found = state.find(reading, filters, asked, show=made)
            merged = Merged(state, reading, filters, asked, found)
            results = merged.results()[offset:]
            shown = state.fetch(reading, filters, merged, results, offset, made)
            counts = merged.counts() if facets else Counts(len(shown.hits), len(shown.hits), ())
            suggestion = phrase = None
            if suggestions:
                from ..spelling import phrase_offer, suggest

                suggestion = suggest(query, state.searcher.reader())
                if made.phrase is not None:
                    phrase = phrase_offer(reading, shown.holding, shown.checked)
            return page.result(reading, shown.hits, counts, suggestion, phrase)

        return self._planned(work)

    def timeline(
        self,
        query: str,
        *,
        issuer: str | Sequence[str] | None = None,
        since: DateLike = None,
        until: DateLike = None,
    ) -> tuple[TimelineBucket, ...]:
        """As `StatementIndex.timeline`, over all shards."""
        from ..dates import since_date, until_date
        from ..timeline import buckets

        def work(state: State) -> list[date]:
            reading, filters = state.read(query, issuer, since, until)
            replies = state.ask(lambda scope: Dates(scope, reading, filters), reading)
            if not any(matched for matched, _ in replies) and relaxable(reading):
                loosened = state.relaxed(reading, filters)
                if loosened is not None:
                    replies = state.ask(lambda scope: Dates(scope, loosened, filters), loosened)
            return [day for _, days in replies for day in days.elements()]

        dates = self._planned(work)
        first = since_date(since) if since is not None else None
        last = until_date(until) if until is not None else None
        return buckets(dates, first, last)

    def similar(self, release_id: str, *, limit: int = 10, collapse: bool = True) -> SearchResult:
        """As `StatementIndex.similar`, over all shards."""
        started = time.perf_counter()
        limit = _check_paging(limit, 0)

        def work(state: State) -> SearchResult:
            reading = similar_reading(state.searcher, state.lookup(release_id))
            if reading is None:
                return SearchResult(query=f"similar:{release_id}", total=0, hits=())
            asked = Asked("relevance", limit, collapse, False, False)
            show = Show(state.ahead(limit), reading.typed, False, None, collapse)
            merged = Merged(state, reading, None, asked, state.find(reading, None, asked, show=show))
            shown = state.fetch(reading, None, merged, merged.results(), 0, show)
            return SearchResult(
                query=f"similar:{release_id}",
                total=len(shown.hits),
                hits=shown.hits,
                seconds=time.perf_counter() - started,
                limit=limit,
                releases=len(shown.hits),
            )

        return self._planned(work)

    def issuers(self, words: str | None = None) -> tuple[IssuerCount, ...]:
        """As `StatementIndex.issuers`, over all shards."""
        replies = self._planned(lambda state: state.ask(lambda scope: Issuers(scope, words)))
        counts: Counter[str] = Counter()
        for found in replies:
            counts.update({item.issuer: item.count for item in found})
        return tuple(
            IssuerCount(name, n) for name, n in sorted(counts.items(), key=lambda i: (-i[1], i[0])) if n
        )

    # ------------------------------------------------------------------------------------- lookups

    def show(self, release_id: str) -> Release:
        """The whole release with this id (from its shard)."""
        from ..schema import release_from_stored

        return release_from_stored(self._planned(lambda state: state.lookup(release_id)))

    def duplicates(self, release_id: str) -> tuple[Duplicate, ...]:
        """The other releases of this release's near-duplicate group, from every shard, earliest first."""

        def work(state: State) -> tuple[Duplicate, ...]:
            group = state.lookup(release_id).get("group") or release_id
            if state.searcher.doc_frequency("group", group) < 2:
                return ()
            replies = state.ask(lambda scope: Members(scope, (group,)))
            members = merge_members([reply.get(group, []) for reply in replies])
            return tuple(member for member in members if member.id != release_id)

        return self._planned(work)

    def highlights(self, query: str, text: str) -> tuple[tuple[int, int], ...]:
        """[start, end) spans of the words of `text` that the query matches, as a hit's `highlights`."""
        catalogue = self._current()
        with catalogue._searcher() as lease:
            reading = parse_query(query, catalogue._parser, lease.searcher.reader())
        return tuple(TermMatcher(highlight_terms(reading)).spans(text))

    def stats(self, top: int = 10) -> IndexStats:
        """Counts and ranges over all shards (sizes and segments added up)."""
        from ..manifest import load_seen, unreadable_files

        layout = self._current_layout()
        parts: list[IndexStats] = self._planned(lambda state: state.ask(Describe))
        counts: Counter[str] = Counter()
        for part in parts:
            counts.update({item.issuer: item.count for item in part.top_issuers})
        ordered = [IssuerCount(name, n) for name, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]
        firsts = [p.first_date for p in parts if p.first_date]
        lasts = [p.last_date for p in parts if p.last_date]
        updates = [p.last_update for p in parts if p.last_update]
        top_files = sum(p.stat().st_size for p in self._root.iterdir() if p.is_file())
        return IndexStats(
            releases=sum(p.releases for p in parts),
            files=len(load_seen(layout.build_dir).files),
            issuers=len(ordered),
            top_issuers=tuple(ordered[:top]),
            first_date=min(firsts) if firsts else None,
            last_date=max(lasts) if lasts else None,
            size_bytes=top_files + sum(p.size_bytes for p in parts),
            segments=sum(p.segments for p in parts),
            last_update=max(updates) if updates else None,
            path=str(self._root),
            unreadable=unreadable_files(layout.build_dir),
        )


def _stamp(root: Path) -> tuple[int, int]:
    try:
        st = (root / SHARDS_FILE).stat()
    except OSError:
        return (0, 0)
    return (st.st_mtime_ns, st.st_ino)


def open_index(
    path: str | os.PathLike[str], *, scheduler: str | None = None, create: bool = False
) -> StatementIndex | ShardedIndex:
    """The index in `path`, sharded or not (a sharded one through the Dask scheduler at `scheduler`, or
    local threads and processes without one). With `create`, an empty unsharded index when there is none."""
    if is_sharded(path):
        return ShardedIndex.open(path, scheduler=scheduler)
    return StatementIndex.open(path, create=create)
