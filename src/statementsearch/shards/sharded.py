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
- The page's hits are made by their shards (`work.Fetch`); a hit's duplicates come from every shard.

Every round names the commit of each shard it was planned with; a shard that has committed since makes
the coordinator plan again (`work.StaleShard`), so an answer is of one state of each shard.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

from ..errors import IndexWriteError, QueryError, ReleaseNotFoundError, StatementSearchError
from ..highlight import TermMatcher
from ..index import (
    SHARDS_FILE,
    DateLike,
    Page,
    StatementIndex,
    _check_paging,
    _has_correction,
    _Lease,
    similar_reading,
)
from ..indexer import Progress
from ..models import (
    Duplicate,
    Hit,
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
    COLLAPSE_SPARE,
    Counts,
    Ranked,
    Relaxation,
    SortOrder,
    Tally,
    collapsed,
    date_key,
    relaxable,
    relaxed_reading,
    relevance_key,
)
from .catalogue import ShardSet
from .layout import Layout, check_creatable, check_shard_count, is_sharded, new_build, read_layout, shard_of
from .runner import Runner, runner_for
from .work import (
    Dates,
    Describe,
    Fetch,
    Fetched,
    Find,
    Found,
    Issuers,
    Lookup,
    Members,
    Relax,
    Request,
    Scope,
    ShardRef,
    Snapshot,
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
        self._catalogue = StatementIndex(root, ShardSet(self._layout))
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
                if layout != self._layout:
                    self._catalogue.close()
                    self._catalogue = StatementIndex(self._root, ShardSet(layout))
                    self._layout = layout
                self._manifest_stamp = stamp
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

    def _planned(self, work: Callable[[_State], T]) -> T:
        """Run `work` on the current state of the shards, again while a shard commits under it."""
        for _attempt in range(PLAN_ATTEMPTS):
            catalogue = self._current()
            with catalogue._searcher() as lease:
                try:
                    return work(_State(self, catalogue, lease))
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

        def work(state: _State) -> SearchResult:
            reading, filters = state.read(query, issuer, since, until)
            asked = _Asked(sort, offset + limit, collapse, fill, facets)
            found = state.find(reading, filters, asked)
            if not any(f.matched for f in found) and relaxable(reading):
                loosened = state.relaxed(reading, filters)
                if loosened is not None:
                    reading = loosened
                    found = state.find(reading, filters, asked)
            merged = _Merged(state, reading, filters, asked, found)
            results = merged.results()[offset:]
            phrase_words = None
            if suggestions:
                from ..spelling import phrase_words as words_of

                phrase_words = words_of(reading, plan_for(reading))
            highlight = tuple(sorted(highlight_terms(reading))) if snippets else None
            shown = state.fetch(
                reading,
                filters,
                merged,
                results,
                offset,
                collapse,
                highlight,
                phrase_words,
                bool(reading.words),
            )
            counts = merged.counts() if facets else Counts(len(shown.hits), len(shown.hits), ())
            suggestion = phrase = None
            if suggestions:
                from ..spelling import phrase_offer, suggest

                suggestion = suggest(query, state.searcher.reader())
                if phrase_words is not None:
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

        def work(state: _State) -> list[date]:
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

        def work(state: _State) -> SearchResult:
            reading = similar_reading(state.searcher, state.lookup(release_id))
            if reading is None:
                return SearchResult(query=f"similar:{release_id}", total=0, hits=())
            asked = _Asked("relevance", limit, collapse, False, False)
            merged = _Merged(state, reading, None, asked, state.find(reading, None, asked))
            results = merged.results()
            shown = state.fetch(reading, None, merged, results, 0, collapse, reading.typed, None, False)
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
        from ..indexer import release_from_stored

        return release_from_stored(self._planned(lambda state: state.lookup(release_id)))

    def duplicates(self, release_id: str) -> tuple[Duplicate, ...]:
        """The other releases of this release's near-duplicate group, from every shard, earliest first."""

        def work(state: _State) -> tuple[Duplicate, ...]:
            group = state.lookup(release_id).get("group") or release_id
            if state.searcher.doc_frequency("group", group) < 2:
                return ()
            replies = state.ask(lambda scope: Members(scope, (group,)))
            members = _merge_members([reply.get(group, []) for reply in replies])
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


# ------------------------------------------------------------------------------------------ one state


class _Asked:
    """What a search asks of the shards' rankings."""

    def __init__(self, order: SortOrder, count: int, collapse: bool, fill: bool, tally: bool) -> None:
        self.order = order
        self.count = count
        self.collapse = collapse
        self.fill = fill and order == "relevance"
        self.tally = tally
        self.depth = count + COLLAPSE_SPARE if collapse else count


class _Shown:
    def __init__(self, hits: tuple[Hit, ...], holding: int, checked: int) -> None:
        self.hits = hits
        self.holding = holding
        self.checked = checked


class _State:
    """One state of the shards as a question sees it: the catalogue's searcher (all shards' terms and
    statistics, each shard at a known commit), and the shards to ask."""

    def __init__(self, index: ShardedIndex, catalogue: StatementIndex, lease: _Lease) -> None:
        layout = index._layout
        self.index = index
        self.catalogue = catalogue
        self.lease = lease
        self.layout = layout
        self.searcher = lease.searcher
        self.generations: tuple[int, ...] = self.searcher.shard_generations
        self.refs = tuple(
            ShardRef(str(layout.shard_path(n)), layout.shard_name(n), n) for n in range(layout.shards)
        )

    # -- planning

    def read(
        self, query: str, issuer: str | Sequence[str] | None, since: DateLike, until: DateLike
    ) -> tuple[Reading, Any | None]:
        return self.catalogue._reading(self.lease, query, issuer, since, until)

    def snapshot(self, *readings: Reading) -> Snapshot:
        """The statistics the shards score these readings with: those of all shards."""
        searcher = self.searcher
        terms = sorted({term for reading in readings for term in _scored_terms(reading)})
        scorable = sorted(name for name, field in searcher.schema.items() if field.scorable)
        return Snapshot(
            (str(self.layout.build_dir), self.generations),
            int(searcher.doc_count_all()),
            tuple((name, float(searcher.avg_field_length(name) or 1)) for name in scorable),
            tuple((field, text, int(searcher.doc_frequency(field, text))) for field, text in terms),
        )

    def scope(self, shard: int, snapshot: Snapshot) -> Scope:
        return Scope(self.refs[shard], self.generations[shard], snapshot)

    def ask(
        self, make: Callable[[Scope], Request], *readings: Reading, shards: Sequence[int] | None = None
    ) -> list[Any]:
        """One request to each shard (or those listed), made by `make`; the answers in that order."""
        snapshot = self.snapshot(*readings)
        chosen = range(len(self.refs)) if shards is None else shards
        return self.index._runner.ask([make(self.scope(n, snapshot)) for n in chosen])

    # -- rounds

    def find(
        self, reading: Reading, filters: Any | None, asked: _Asked, depth: int | None = None
    ) -> list[Found]:
        tally = asked.tally and depth is None
        return self.ask(
            lambda scope: Find(
                scope,
                reading,
                filters,
                asked.order,
                depth or asked.depth,
                asked.fill,
                tally,
                asked.collapse,
                self.refs if tally and asked.collapse else (),
            ),
            reading,
        )

    def relaxed(self, reading: Reading, filters: Any | None) -> Reading | None:
        parts: list[Relaxation] = self.ask(lambda scope: Relax(scope, reading, filters), reading)
        reader = self.searcher.reader()
        check = cache(lambda word: _has_correction(reader, word))
        return relaxed_reading(reading, Relaxation.combine(parts), check)

    def lookup(self, release_id: str) -> dict[str, Any]:
        shard = shard_of(release_id, len(self.refs))
        stored: dict[str, Any] | None = self.ask(lambda scope: Lookup(scope, release_id), shards=[shard])[0]
        if stored is None:
            raise ReleaseNotFoundError(f"no release with id {release_id!r}")
        return stored

    def fetch(
        self,
        reading: Reading,
        filters: Any | None,
        merged: _Merged,
        results: list[Ranked],
        offset: int,
        collapse: bool,
        highlight: tuple[str, ...] | None,
        phrase: tuple[Any, ...] | None,
        missing: bool,
    ) -> _Shown:
        """The page's hits, made by their shards, with their duplicates from all shards."""
        from ..spelling import PHRASE_HITS

        located = [merged.locate(handle) for handle, _ in results]
        # Most releases are alone in their group: the term's frequency over all shards says so.
        shown_groups = {merged.group_of(handle) for handle, _ in results} if collapse else set()
        groups = sorted(g for g in shown_groups if self.searcher.doc_frequency("group", g) >= 2)
        checked = {handle for handle, _ in results[:PHRASE_HITS]} if phrase is not None else set()
        per_shard: dict[int, list[tuple[int, float, int]]] = {}
        phrase_docs: dict[int, list[int]] = {}
        for rank, ((shard, docnum), (handle, score)) in enumerate(
            zip(located, results, strict=True), start=offset + 1
        ):
            per_shard.setdefault(shard, []).append((docnum, score, rank))
            if handle in checked:
                phrase_docs.setdefault(shard, []).append(docnum)
        asked = sorted(range(len(self.refs)) if groups else per_shard)
        if not asked:
            return _Shown((), 0, 0)
        replies: list[Fetched] = self.ask(
            lambda scope: Fetch(
                scope,
                reading,
                filters,
                tuple(per_shard.get(scope.shard.number, ())),
                highlight,
                missing,
                tuple(groups),
                phrase,
                tuple(phrase_docs.get(scope.shard.number, ())),
            ),
            reading,
            shards=asked,
        )
        by_shard = dict(zip(asked, replies, strict=True))
        members = {g: _merge_members([reply.members.get(g, []) for reply in replies]) for g in groups}
        hits = []
        for (shard, docnum), (handle, _score) in zip(located, results, strict=True):
            hit = by_shard[shard].hits[docnum]
            others = members.get(merged.group_of(handle), ())
            if others:
                hit = replace(hit, duplicates=tuple(m for m in others if m.id != hit.id))
            hits.append(hit)
        holding = sum(reply.holding for reply in replies)
        return _Shown(tuple(hits), holding, len(checked))


class _Merged:
    """All shards' hits of one reading in one order, asking for more when collapsing needs them."""

    def __init__(
        self, state: _State, reading: Reading, filters: Any | None, asked: _Asked, found: list[Found]
    ) -> None:
        self.state = state
        self.reading = reading
        self.filters = filters
        self.asked = asked
        self.found = found
        self.shards = len(found)
        self.depth = asked.depth
        self.tallies = [f.tally for f in found if f.tally is not None]
        self._groups: dict[int, str] = {}
        self._merge()

    def _merge(self) -> None:
        n = self.shards
        keyed = []
        newest = self.asked.order == "newest"
        for shard, found in enumerate(self.found):
            for c in found.candidates:
                handle = c.docnum * n + shard
                self._groups[handle] = c.group
                key = (
                    relevance_key(c.score, c.day, c.id)
                    if self.asked.order == "relevance"
                    else date_key(c.score, c.day, c.id, newest)
                )
                keyed.append((key, handle, c.score))
        keyed.sort(key=lambda item: item[0])
        self.ordered: list[Ranked] = [(handle, score) for _, handle, score in keyed]

    def locate(self, handle: int) -> tuple[int, int]:
        return handle % self.shards, handle // self.shards

    def group_of(self, handle: int) -> str:
        return self._groups[handle]

    def top(self, depth: int) -> list[Ranked]:
        """The first `depth` hits of all shards (asking them again when more are needed than fetched)."""
        exhausted = all(len(found.candidates) < self.depth for found in self.found)
        if depth > self.depth and not exhausted:
            self.found = self.state.find(self.reading, self.filters, self.asked, depth=depth)
            self.depth = depth
            self._merge()
        return self.ordered[:depth]

    def results(self) -> list[Ranked]:
        count = self.asked.count
        if not self.asked.collapse:
            return self.top(count)
        return collapsed(self.group_of, self.top, count)

    def counts(self) -> Counts:
        total = Tally()
        for counted in self.tallies:
            total.add(counted)
        return total.counts(self.asked.collapse)


# ------------------------------------------------------------------------------------------ helpers


def _scored_terms(reading: Reading) -> set[tuple[str, str]]:
    """Every (field, text) a shard may score for the reading: the terms of its words and required
    clauses (phrases' words included)."""
    found = set()
    for clause in reading.clauses:
        for field, text in clause.iter_all_terms(phrases=True):
            found.add((field, text.decode("utf-8") if isinstance(text, bytes) else text))
    return found


def _merge_members(lists: list[list[tuple[tuple[int, str], Duplicate]]]) -> list[Duplicate]:
    return [
        member for _key, member in sorted((item for items in lists for item in items), key=lambda i: i[0])
    ]


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
