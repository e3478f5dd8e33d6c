"""One search's rounds over the shards of a sharded index: the state it plans with, what it asks each
shard, and how the shards' hits merge into one order (see `sharded` for why this equals one index)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Any

from ..errors import ReleaseNotFoundError
from ..index import DateLike, StatementIndex, _has_correction, _Lease
from ..models import Duplicate, Hit
from ..query import Reading
from ..searching import (
    COLLAPSE_SPARE,
    Counts,
    Ranked,
    Relaxation,
    SortOrder,
    Tally,
    collapsed,
    date_key,
    relaxed_reading,
    relevance_key,
)
from .layout import shard_of
from .work import (
    Fetch,
    Find,
    Found,
    Lookup,
    Made,
    Relax,
    Request,
    Scope,
    ShardRef,
    Show,
    Snapshot,
)

if TYPE_CHECKING:
    from .sharded import ShardedIndex


NOTHING_MADE = Made({}, {})


def made_ahead(limit: int, shards: int, miss: float = 0.02) -> int:
    """How many of its first hits each shard makes in the find round, for a first page of `limit`.
    A release is in a given shard with chance 1/shards (routing is by a hash of its id), so a shard
    holds a binomial share of the page's hits: make as many as it holds on all but `miss` of pages
    (on those, one more round makes the rest), rather than `limit`, of which most would not be shown."""
    if shards <= 1:
        return limit
    chance = 1 / shards
    held = 0.0
    for count in range(limit + 1):
        held += math.comb(limit, count) * chance**count * (1 - chance) ** (limit - count)
        if held >= 1 - miss:
            return count
    return limit


class Asked:
    """What a search asks of the shards' rankings."""

    def __init__(self, order: SortOrder, count: int, collapse: bool, fill: bool, tally: bool) -> None:
        self.order = order
        self.count = count
        self.collapse = collapse
        self.fill = fill and order == "relevance"
        self.tally = tally
        self.depth = count + COLLAPSE_SPARE if collapse else count


class Shown:
    def __init__(self, hits: tuple[Hit, ...], holding: int, checked: int) -> None:
        self.hits = hits
        self.holding = holding
        self.checked = checked


class State:
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

    def ahead(self, limit: int) -> int:
        """How many hits each shard makes in the find round of a first page of `limit` (none locally)."""
        return made_ahead(limit, len(self.refs)) if self.index._runner.makes_ahead else 0

    def snapshot(self, *readings: Reading) -> Snapshot:
        """The statistics the shards score these readings with: those of all shards."""
        searcher = self.searcher
        terms = sorted({term for reading in readings for term in scored_terms(reading)})
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
        self,
        reading: Reading,
        filters: Any | None,
        asked: Asked,
        depth: int | None = None,
        show: Show | None = None,
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
                self.refs if asked.collapse else (),
                show if show is not None and show.count else None,
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
        merged: Merged,
        results: list[Ranked],
        offset: int,
        show: Show,
    ) -> Shown:
        """The page's hits with their duplicates from all shards: what the find round made, and the
        rest made now, in one more round (only when something is missing)."""
        from ..spelling import PHRASE_HITS

        located = [merged.locate(handle) for handle, _ in results]
        made = merged.made
        sizes = self.group_sizes(merged, results) if show.collapse else {}
        gathered = {g: [m.members[g] for m in made if g in m.members] for g in sizes}
        checked = located[:PHRASE_HITS] if show.phrase is not None else []
        # Each shard that made a group's members made all it holds: all are here when they add up.
        short = sorted(g for g, n in sizes.items() if sum(map(len, gathered[g])) != n)
        lacking = Lacking(located, results, made, checked, short)
        fetched = self.make_lacking(reading, filters, show, lacking)
        for g in lacking.groups:
            gathered[g] = [reply.members.get(g, []) for reply in fetched.values()]
        members = {g: merge_members(parts) for g, parts in gathered.items()}
        page = []
        for rank, ((shard, docnum), (handle, _score)) in enumerate(
            zip(located, results, strict=True), start=offset + 1
        ):
            hit = made[shard].hits.get(docnum) or fetched[shard].hits[docnum]
            others = members.get(merged.group_of(handle), ())
            page.append(replace(hit, rank=rank, duplicates=tuple(m for m in others if m.id != hit.id)))
        holding = sum(
            docnum in made[shard].held or (shard in fetched and docnum in fetched[shard].held)
            for shard, docnum in checked
        )
        return Shown(tuple(page), holding, len(checked))

    def group_sizes(self, merged: Merged, results: list[Ranked]) -> dict[str, int]:
        """The page's groups with other releases, and their sizes (most releases are alone in their
        group: the group term's frequency over all shards says so)."""
        shown = {merged.group_of(handle) for handle, _ in results}
        return {g: n for g in shown if (n := self.searcher.doc_frequency("group", g)) >= 2}

    def make_lacking(
        self, reading: Reading, filters: Any | None, show: Show, lacking: Lacking
    ) -> dict[int, Made]:
        """The second round, when the page lacks something: each asked shard's reply, by shard."""
        asked = lacking.shards(len(self.refs))
        if not asked:
            return {}
        replies: list[Made] = self.ask(
            lambda scope: Fetch(
                scope,
                reading,
                filters,
                tuple(lacking.hits.get(scope.shard.number, ())),
                show.highlight,
                show.missing,
                tuple(lacking.groups),
                show.phrase,
                tuple(lacking.phrase_docs.get(scope.shard.number, ())),
            ),
            reading,
            shards=asked,
        )
        return dict(zip(asked, replies, strict=True))


class Lacking:
    """What a page needs that the shards' find round did not make: hits, phrase checks (by shard),
    and the members of groups (from every shard)."""

    def __init__(
        self,
        located: list[tuple[int, int]],
        results: list[Ranked],
        made: list[Made],
        checked: list[tuple[int, int]],
        groups: list[str],
    ) -> None:
        self.groups = groups
        self.hits: dict[int, list[tuple[int, float]]] = {}
        for (shard, docnum), (_handle, score) in zip(located, results, strict=True):
            if docnum not in made[shard].hits:
                self.hits.setdefault(shard, []).append((docnum, score))
        self.phrase_docs: dict[int, list[int]] = {}
        for shard, docnum in checked:
            if docnum not in made[shard].checked:
                self.phrase_docs.setdefault(shard, []).append(docnum)

    def shards(self, count: int) -> list[int]:
        """The shards to ask: all of them for a group's members, else those with something to make."""
        return sorted(range(count) if self.groups else set(self.hits) | set(self.phrase_docs))


class Merged:
    """All shards' hits of one reading in one order, asking for more when collapsing needs them."""

    def __init__(
        self, state: State, reading: Reading, filters: Any | None, asked: Asked, found: list[Found]
    ) -> None:
        self.state = state
        self.reading = reading
        self.filters = filters
        self.asked = asked
        self.found = found
        self.shards = len(found)
        self.depth = asked.depth
        self.tallies = [f.tally for f in found if f.tally is not None]
        self.made = [f.made or NOTHING_MADE for f in found]
        """What each shard's first find round made (a deeper one makes nothing)."""
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


def scored_terms(reading: Reading) -> set[tuple[str, str]]:
    """Every (field, text) a shard may score for the reading: the terms of its words and required
    clauses (phrases' words included)."""
    found = set()
    for clause in reading.clauses:
        for field, text in clause.iter_all_terms(phrases=True):
            found.add((field, text.decode("utf-8") if isinstance(text, bytes) else text))
    return found


def merge_members(lists: list[list[tuple[tuple[int, str], Duplicate]]]) -> list[Duplicate]:
    return [
        member for _key, member in sorted((item for items in lists for item in items), key=lambda i: i[0])
    ]
