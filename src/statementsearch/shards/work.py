"""What a worker does for a sharded index's searches: read-only requests about one shard each.

A request carries everything a shard needs to answer as part of one index: the reading the coordinator
decided (over all shards' terms), the filter query, and a `Snapshot` of the collection statistics of all
shards (document count, average field lengths, the document frequencies of the query's terms: the "DFS"
phase of distributed engines), with which the shard scores. Each names the commit (generation) of its
shard that the coordinator planned with; a shard that has committed since raises `StaleShard`, and the
coordinator asks again with fresh statistics, so one answer never mixes two states of a shard.

Requests are idempotent and read nothing but the shards, so a request lost with its worker is simply
asked again elsewhere (`runner`). A worker keeps the shards it has opened (`open_shard`), each with a
searcher per thread (`StatementIndex`'s leases), and one statistics object per state of the index.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from ..errors import IndexCorruptError, StatementSearchError, damage_errors, unreadable
from ..highlight import TermMatcher
from ..index import StatementIndex, _Lease
from ..models import Duplicate, Hit, IndexStats, IssuerCount
from ..postings import Word
from ..query import Reading
from ..searching import (
    Columns,
    Relaxation,
    SortOrder,
    Tally,
    filled,
    group_members,
    matching_dates,
    missing_words,
    relaxation,
    tally,
)
from ..spelling import PHRASE_HITS

# States of the index whose statistics a worker keeps (one is current; the others serve late requests).
KEPT_STATES = 4
ALL_ISSUERS = 1 << 30


class StaleShard(Exception):
    """A shard committed after the coordinator planned a request: plan again with fresh statistics."""


@dataclass(frozen=True)
class ShardRef:
    """A shard as requests name it: its folder, and how messages name it."""

    path: str
    name: str
    number: int


# ---------------------------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Snapshot:
    """The collection statistics of all shards in one state of the index, as far as a request needs them."""

    state: tuple[Any, ...]
    """Which state: the build folder and every shard's generation."""
    doc_count: int
    averages: tuple[tuple[str, float], ...]
    frequencies: tuple[tuple[str, str, int], ...]


class SharedStatistics:
    """`scoring.Statistics` of all shards, on a worker: the document frequencies of every term that a
    request of this state has brought (a term no request named is a bug, said as such)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._doc_count = snapshot.doc_count
        self._averages = dict(snapshot.averages)
        self._frequencies: dict[tuple[str, str], int] = {}

    def learn(self, snapshot: Snapshot) -> SharedStatistics:
        self._frequencies.update(((field, text), n) for field, text, n in snapshot.frequencies)
        return self

    def doc_count(self) -> int:
        return self._doc_count

    def doc_frequency(self, field: str, text: str | bytes) -> int:
        key = (field, text.decode("utf-8") if isinstance(text, bytes) else text)
        try:
            return self._frequencies[key]
        except KeyError:
            raise LookupError(f"the request brought no document frequency for {key}") from None

    def average_length(self, field: str) -> float:
        return self._averages[field]


_states: OrderedDict[tuple[Any, ...], SharedStatistics] = OrderedDict()
_states_lock = threading.Lock()


def shared_statistics(snapshot: Snapshot) -> SharedStatistics:
    """This worker's statistics object for the snapshot's state, with the snapshot's frequencies added.
    One object per state: a shard's searcher and ranker are made for it, and cache what it says."""
    with _states_lock:
        found = _states.get(snapshot.state)
        if found is None:
            found = _states[snapshot.state] = SharedStatistics(snapshot)
            while len(_states) > KEPT_STATES:
                _states.popitem(last=False)
        return found.learn(snapshot)


# ---------------------------------------------------------------------------------------------- shards

_shards: dict[str, StatementIndex] = {}
_shards_lock = threading.Lock()


def open_shard(ref: ShardRef) -> StatementIndex:
    """The shard, opened once per process; a shard missing or damaged is an error naming it."""
    with _shards_lock:
        found = _shards.get(ref.path)
        if found is not None:
            return found
        _forget_removed()
        try:
            found = _shards[ref.path] = StatementIndex.open(ref.path)
        except StatementSearchError as exc:
            raise IndexCorruptError(f"{ref.name} is missing or damaged ({exc})") from exc
        return found


def _forget_removed() -> None:
    """Close the shards of builds that a rebuild has replaced (their folders are gone)."""
    for path in [path for path in _shards if not Path(path).is_dir()]:
        _shards.pop(path).close()


@dataclass(frozen=True)
class Scope:
    """What every request about a shard carries: which shard, the commit planned with, the statistics."""

    shard: ShardRef
    generation: int
    statistics: Snapshot

    @contextlib.contextmanager
    def lease(self, index: StatementIndex) -> Iterator[_Lease]:
        with index._searcher(shared_statistics(self.statistics)) as lease:
            if lease.generation != self.generation:
                raise StaleShard(self.shard.name)
            yield lease


class Request(Protocol):
    @property
    def scope(self) -> Scope: ...

    def answer(self, index: StatementIndex) -> Any: ...


def answer_all(requests: Sequence[Request]) -> list[Any]:
    """Answer requests in order (the function a task or an actor runs on a worker)."""
    return [_answer(request) for request in requests]


def _answer(request: Request) -> Any:
    ref = request.scope.shard
    index = open_shard(ref)
    try:
        return request.answer(index)
    except IndexCorruptError as exc:  # what the shard's own reading found (`StatementIndex._searcher`)
        raise IndexCorruptError(f"{ref.name}: {exc}") from exc
    except damage_errors() as exc:
        raise unreadable(ref.name, exc) from exc


class ShardServer:
    """A Dask actor: answers requests on its worker, calls going straight from the client to it (a task
    goes through the scheduler: several milliseconds more per round on a busy machine)."""

    def answer(self, requests: list[Request]) -> list[Any]:
        return answer_all(requests)


# ---------------------------------------------------------------------------------------------- searches


class Candidate(NamedTuple):
    """A shard's hit as the coordinator merges it: what orders it among all shards' hits."""

    docnum: int
    score: float
    day: int | None
    id: str
    group: str


@dataclass(frozen=True)
class Made:
    """A shard's part of a page: its hits, what it holds of their groups, which hold a phrase."""

    hits: dict[int, Hit]
    """Each hit made, by document number (its rank and duplicates are the coordinator's to set)."""
    members: dict[str, list[tuple[tuple[int, str], Duplicate]]]
    """The shard's releases of some groups, each with its stable key (all of them, for each group)."""
    checked: frozenset[int] = frozenset()
    """The documents looked at for the phrase..."""
    held: frozenset[int] = frozenset()
    """...and those of them that hold its words side by side."""


@dataclass(frozen=True)
class Show:
    """What a find round also makes of the shard's first hits, so that a first page needs no second
    round (on a cluster a round costs milliseconds, a hit a fraction of one): the first `count` of its
    candidates that are each the first of their group here (only those can be shown when collapsing),
    whether they hold `phrase`, and the members here of their groups that may span shards. What the
    page needs beyond that (a hit further down, a group none of whose other members were made) the
    coordinator asks for with `Fetch`."""

    count: int
    highlight: tuple[str, ...] | None
    """The terms to highlight in snippets; None: no snippets."""
    missing: bool
    """Whether a hit may lack some of the query's words (then it says which)."""
    phrase: tuple[Word, ...] | None
    collapse: bool

    def made(
        self,
        index: StatementIndex,
        lease: _Lease,
        matching: Any,
        found: list[Candidate],
        spanning: frozenset[str],
    ) -> Made:
        firsts: dict[str, Candidate] = {}  # the first candidate of each group (each release: no collapse)
        for candidate in found:
            if len(firsts) == self.count:
                break
            firsts.setdefault(candidate.group if self.collapse else candidate.id, candidate)
        docs = [(c.docnum, c.score) for c in firsts.values()]
        # Only a group that may span shards needs its members here: most releases are alone in theirs.
        groups = [c.group for c in firsts.values() if c.group in spanning]
        # A phrase is offered from the page's first PHRASE_HITS hits: this shard's are among its first.
        checked = [d for d, _ in docs[:PHRASE_HITS]]
        return make(index, lease, matching, docs, self.highlight, self.missing, groups, self.phrase, checked)


@dataclass(frozen=True)
class Found:
    matched: bool
    """Whether the reading as given (not filled) matches any release here."""
    candidates: list[Candidate]
    tally: Tally | None
    made: Made | None = None
    """What `show` asked to be made of the first candidates."""


@dataclass(frozen=True)
class Find:
    """The first `depth` hits of the shard in the order asked for (and every tie of the last); the
    counts of all its matches when `tally`; what `show` asks to be made of the first."""

    scope: Scope
    reading: Reading
    filters: Any
    order: SortOrder
    depth: int
    fill: bool = False
    tally: bool = False
    collapse: bool = True
    everyone: tuple[ShardRef, ...] = ()
    """All shards, when collapsing: whose groups may span shards (`shared_groups`)."""
    show: Show | None = None

    def answer(self, index: StatementIndex) -> Found:
        with self.scope.lease(index) as lease:
            matching = lease.within(self.reading, self.filters)
            if self.order != "relevance":
                top = matching.by_date(self.depth, newest=self.order == "newest")
                matched = bool(top)
            elif self.fill:
                top = filled(matching)(self.depth)
                matched = bool(matching.top(1))
            else:
                top = matching.top(self.depth)
                matched = bool(top)
            spanning = frozenset[str]()
            if self.collapse and (self.tally or self.show is not None):
                spanning = shared_groups(self.everyone)
            counted = None
            if self.tally:
                counted = tally(matching, self.collapse, spanning if self.collapse else None)
            columns = matching.columns
            candidates = [
                Candidate(d, s, columns.date(d), columns.value("id", d), columns.value("group", d))
                for d, s in top
            ]
            made = self.show.made(index, lease, matching, candidates, spanning) if self.show else None
            return Found(matched, candidates, counted, made)


@dataclass(frozen=True)
class Relax:
    """The shard's side of relaxing a reading that matched nothing anywhere."""

    scope: Scope
    reading: Reading
    filters: Any

    def answer(self, index: StatementIndex) -> Relaxation:
        with self.scope.lease(index) as lease:
            return relaxation(lease.within(self.reading, self.filters))


@dataclass(frozen=True)
class Fetch:
    """What a page needs of this shard beyond what its find round made: `hits` (document number and
    score), the releases here of `groups`, and which of `phrase_docs` hold `phrase`'s words."""

    scope: Scope
    reading: Reading
    filters: Any
    hits: tuple[tuple[int, float], ...]
    highlight: tuple[str, ...] | None
    """The terms to highlight in snippets; None: no snippets."""
    missing: bool = False
    groups: tuple[str, ...] = ()
    phrase: tuple[Word, ...] | None = None
    phrase_docs: tuple[int, ...] = ()

    def answer(self, index: StatementIndex) -> Made:
        with self.scope.lease(index) as lease:
            matching = lease.within(self.reading, self.filters)
            return make(
                index,
                lease,
                matching,
                self.hits,
                self.highlight,
                self.missing,
                self.groups,
                self.phrase,
                self.phrase_docs,
            )


def make(
    index: StatementIndex,
    lease: _Lease,
    matching: Any,
    hits: Sequence[tuple[int, float]],
    highlight: tuple[str, ...] | None,
    missing: bool,
    groups: Sequence[str],
    phrase: tuple[Word, ...] | None,
    phrase_docs: Sequence[int],
) -> Made:
    """The hits, the groups' members here, and which of `phrase_docs` hold the phrase."""
    matcher = TermMatcher(highlight) if highlight is not None else None
    lacking = missing_words(matching, [d for d, _ in hits]) if missing else {}
    made = {d: index._hit(lease, (d, score), 0, matcher, False, lacking.get(d, ())) for d, score in hits}
    members = {group: group_members(lease.searcher, matching.columns, group) for group in groups}
    checked: frozenset[int] = frozenset()
    held: frozenset[int] = frozenset()
    if phrase is not None and matching.ranker is not None:
        checked = frozenset(phrase_docs)
        held = frozenset(d for d in checked if matching.ranker.phrase_holds(phrase, d))
    return Made(made, members, checked, held)


@dataclass(frozen=True)
class Dates:
    """The dates of the shard's matches (and whether it has any, dated or not), for a timeline."""

    scope: Scope
    reading: Reading
    filters: Any

    def answer(self, index: StatementIndex) -> tuple[bool, Counter[date]]:
        with self.scope.lease(index) as lease:
            matching = lease.within(self.reading, self.filters)
            return bool(matching.top(1)), Counter(matching_dates(matching))


@dataclass(frozen=True)
class Lookup:
    """The stored fields of one release (None when it is not in this shard)."""

    scope: Scope
    release_id: str

    def answer(self, index: StatementIndex) -> dict[str, Any] | None:
        with self.scope.lease(index) as lease:
            found: dict[str, Any] | None = lease.searcher.document(id=self.release_id)
            return found


@dataclass(frozen=True)
class Members:
    """The releases of some groups in this shard, each with its stable key."""

    scope: Scope
    groups: tuple[str, ...]

    def answer(self, index: StatementIndex) -> dict[str, list[tuple[tuple[int, str], Duplicate]]]:
        with self.scope.lease(index) as lease:
            if lease.columns is None:
                lease.columns = Columns(lease.searcher)
            return {group: group_members(lease.searcher, lease.columns, group) for group in self.groups}


@dataclass(frozen=True)
class Describe:
    """The shard's own `stats`, every issuer counted."""

    scope: Scope

    def answer(self, index: StatementIndex) -> IndexStats:
        return index.stats(top=ALL_ISSUERS)


@dataclass(frozen=True)
class Issuers:
    """The shard's own `issuers`."""

    scope: Scope
    words: str | None

    def answer(self, index: StatementIndex) -> tuple[IssuerCount, ...]:
        return index.issuers(self.words)


# ---------------------------------------------------------------------------------------------- groups

_shared: OrderedDict[tuple[Any, ...], frozenset[str]] = OrderedDict()
_shared_lock = threading.Lock()


def shared_groups(everyone: tuple[ShardRef, ...]) -> frozenset[str]:
    """The near-duplicate groups that may have releases in more than one shard (or more than one here):
    a group term held twice in a shard, or held in a shard without its original (the release whose id
    names the group). A group that is in neither case has one release in all the index, and a shard
    counts it by itself (`searching.tally`). Worked out once per state of the index on each worker."""
    indexes = [open_shard(ref) for ref in everyone]
    state = tuple((ref.path, ix._ix.latest_generation()) for ref, ix in zip(everyone, indexes, strict=True))
    with _shared_lock:
        found = _shared.get(state)
    if found is not None:
        return found
    groups: set[str] = set()
    for ix in indexes:
        with ix._ix.reader() as reader:
            if "group" not in reader.indexed_field_names():
                continue
            for term, info in reader.iter_field("group"):
                if info.doc_frequency() > 1 or ("id", term) not in reader:
                    groups.add(term.decode("utf-8"))
    found = frozenset(groups)
    with _shared_lock:
        _shared[state] = found
        while len(_shared) > KEPT_STATES:
            _shared.popitem(last=False)
    return found
