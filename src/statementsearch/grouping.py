"""Near-duplicate groups at index time: what an update decides before it writes anything.

An update of one index reads its files twice. The first pass leaves each release as a `Pending` reading
(its office and shingles: its fingerprint waits for the boilerplate of its office, which only all of that
office's releases tell); `Grouper` then decides every fingerprint and group over the new releases and the
index's releases they can affect (`dedup.assign_groups`: a function of the set of releases, so any build
order gives the same groups), and the second pass writes releases with their groups, rewriting the index's
releases whose group or fingerprint changed. A sharded index decides once over all shards (`Decided`: the
groups, and each office's boilerplate) and each shard writes its releases with them, making their
fingerprints from its own first pass (`AssignedGroups`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from .dedup import (
    ANCHOR_SHARED,
    NO_BOILERPLATE,
    Fingerprint,
    GroupEntry,
    Shingling,
    anchor_terms,
    assign_groups,
    boilerplate_of,
    decode,
    encode,
    fingerprint_of,
    is_duplicate,
    same_office,
    shingling,
)
from .manifest import FileState, state_term
from .models import FileReport, Release
from .schema import Grouping, release_document, release_from_stored

__all__ = ["AssignedGroups", "Decided", "Grouper", "Pending"]


class Pending(NamedTuple):
    """A release this update writes, as the first pass leaves it: its fingerprint waits for the
    boilerplate of its office, which only all of that office's releases tell."""

    day: date | None
    office: str
    found: Shingling | None

    @classmethod
    def of(cls, release: Release) -> Pending:
        return cls(release.date, release.issuer, shingling(release.title, release.body, release.date))


class _Indexed(NamedTuple):
    """A release already in the index, as grouping reads it from its stored fields."""

    docnum: int
    entry: GroupEntry
    group: str
    fingerprint: str
    """Its encoded fingerprint: the stored one, or the one this update gives it (see `Grouper`)."""


class Grouper:
    """Near-duplicate groups for one update, decided before anything is written.

    The groups are `dedup.assign_groups` over all releases, which only the releases linked by duplicate
    links to what changes can feel. Fingerprints depend on the boilerplate of their office (the text in
    `dedup.BOILERPLATE_RELEASES` of its releases), which the update can change: so for every office
    that gains or loses a release, all its releases are read back from the index, its boilerplate is
    counted again, and each of them whose fingerprint comes out different is *refreshed* (it counts as
    changed, like a new release). Then the update runs `assign_groups` over: the new and the refreshed
    releases, the index's members of the groups of the releases it deletes or refreshes, and,
    repeatedly, every release in the index that is a duplicate (shares an anchor and `is_duplicate`
    accepts) of one taken so far. The index's releases of the files this update replaces or removes are
    left out: they are going. Refreshed releases, and those taken whose group comes out different, are
    rewritten from their stored fields; the others keep theirs. A rebuild has no index to consult: all
    its releases are new.
    """

    def __init__(self, ix: Any | None, replaced: set[str]) -> None:
        self.replaced = replaced
        self.searcher: Any = ix.searcher() if ix is not None and not ix.is_empty() else None
        self.new: dict[str, Pending] = {}
        """id -> the first pass's reading of each release this update writes."""
        self.fingerprints: dict[str, Fingerprint | None] = {}
        """id -> fingerprint (None when too short to judge) of each release this update writes."""
        self.boilerplate: dict[str, frozenset[int]] = {}
        """office -> its boilerplate, for every office of the releases this update writes."""
        self.file_hashes: dict[str, str] = {}
        self.groups: dict[str, str] = {}
        self.rewrites: list[tuple[int, str, str]] = []
        """(docnum, group, encoded fingerprint) of the index's releases this update writes again."""

    def add(self, releases: Iterable[Release]) -> None:
        """Shingle one file's releases: all of them, or none when one raises."""
        found = {release.id: Pending.of(release) for release in releases}
        self.new.update(found)

    def changed_since_read(self, rel: str, report: FileReport) -> str | None:
        """Why a file read again for writing cannot be written now: it changed since the first pass."""
        if self.file_hashes.get(rel) == report.file_hash:
            return None
        return "changed while being indexed; the next update reads it again"

    def grouping_of(self, release: Release) -> Grouping:
        return self.grouping(release.id)

    def grouping(self, release_id: str) -> Grouping:
        """The group of a new release, with the anchors and fingerprint stored beside it."""
        fp = self._fingerprint_of(release_id)
        if fp is None:
            return Grouping(release_id)
        return Grouping(self.groups.get(release_id, release_id), anchor_terms(fp), encode(fp))

    def _fingerprint_of(self, release_id: str) -> Fingerprint | None:
        return self.fingerprints.get(release_id)

    def resolve(self) -> None:
        """Decide the fingerprints and groups of the new releases and of every index release they affect."""
        going = list(self._indexed(self._docs_of_paths(self.replaced), keep_replaced=True))
        boilerplate, refreshed = self._boilerplate({i.entry.office for i in going})
        new = {
            release_id: GroupEntry(
                release_id, pending.day, _fingerprint(pending, boilerplate), pending.office
            )
            for release_id, pending in self.new.items()
        }
        self.fingerprints = {release_id: entry.fingerprint for release_id, entry in new.items()}
        self.boilerplate = boilerplate
        old_groups = {i.group for i in going} | {i.group for i in refreshed.values()}
        taken = self._connected(new, refreshed, old_groups)
        entries = [*new.values(), *(i.entry for i in refreshed.values()), *(i.entry for i in taken.values())]
        groups = assign_groups(entries)
        self.groups = {release_id: groups[release_id] for release_id in new}
        self.rewrites = [(i.docnum, groups[rid], i.fingerprint) for rid, i in refreshed.items()]
        self.rewrites += [
            (i.docnum, groups[rid], i.fingerprint) for rid, i in taken.items() if groups[rid] != i.group
        ]

    def _boilerplate(self, leaving: set[str]) -> tuple[dict[str, frozenset[int]], dict[str, _Indexed]]:
        """The boilerplate of every office this update touches (those of its new releases, and `leaving`:
        those of the releases it deletes), counted over the office's new and index releases; and the
        index releases whose fingerprint that changes, by id."""
        mine: defaultdict[str, list[Shingling]] = defaultdict(list)
        for pending in self.new.values():
            if pending.found is not None:
                mine[pending.office].append(pending.found)
        boilerplate: dict[str, frozenset[int]] = {}
        refreshed: dict[str, _Indexed] = {}
        for office in sorted((set(mine) | leaving) - {""}):
            indexed = self._of_office(office)
            boilerplate[office] = boilerplate_of([*mine[office], *(f for _, f in indexed if f is not None)])
            refreshed.update(_refreshed(indexed, boilerplate[office]))
        return boilerplate, refreshed

    def decided(self) -> Decided:
        """What `resolve` decided, by release id, for the shards of a sharded index to write."""
        rewrites = {
            self.searcher.stored_fields(docnum)["id"]: (group, code) for docnum, group, code in self.rewrites
        }
        groups = {release_id: group for release_id, group in self.groups.items() if group != release_id}
        return Decided(groups, self.boilerplate, rewrites)

    def _connected(
        self, new: dict[str, GroupEntry], refreshed: dict[str, _Indexed], old_groups: set[str]
    ) -> dict[str, _Indexed]:
        """The index's releases linked by duplicate links to the new or refreshed ones, or to those that
        leave their groups (deleted or refreshed)."""
        taken: dict[str, _Indexed] = {}
        if self.searcher is None:
            return taken
        pool = set(new) | set(refreshed)
        frontier = [_linkable(entry) for entry in (*new.values(), *(i.entry for i in refreshed.values()))]
        for indexed in self._members(old_groups):
            if indexed.entry.release_id not in pool and indexed.entry.release_id not in taken:
                taken[indexed.entry.release_id] = indexed
                frontier.append(_linkable(indexed.entry))
        while frontier:
            entry, fp = frontier.pop()
            if fp is None:
                continue
            for indexed in self._sharing_an_anchor(fp):
                other, other_fp = _linkable(indexed.entry)
                if other.release_id in pool or other.release_id in taken or other_fp is None:
                    continue
                if is_duplicate(fp, other_fp, same_office=same_office(entry, other)):
                    taken[other.release_id] = indexed
                    frontier.append((other, other_fp))
        return taken

    def _docs_of_paths(self, paths: set[str]) -> Iterator[int]:
        from whoosh.query import Term

        if self.searcher is None:
            return
        for path in sorted(paths):
            yield from self.searcher.docs_for_query(Term("path", path))

    def _members(self, groups: set[str]) -> Iterator[_Indexed]:
        from whoosh.query import Term

        if self.searcher is None:
            return
        for group in sorted(groups - {""}):
            yield from self._indexed(self.searcher.docs_for_query(Term("group", group)))

    def _of_office(self, office: str) -> list[tuple[_Indexed, Shingling | None]]:
        """The index's releases of one office (except those of replaced files), each with its shingling,
        computed again from its stored text."""
        from whoosh.query import Term

        if self.searcher is None:
            return []
        found = []
        for docnum in self.searcher.docs_for_query(Term("issuer_key", office)):
            stored = self.searcher.stored_fields(docnum)
            if stored.get("path") not in self.replaced:
                indexed = _indexed_release(docnum, stored)
                text = shingling(stored.get("title", ""), stored.get("body", ""), indexed.entry.day)
                found.append((indexed, text))
        return found

    def _sharing_an_anchor(self, fp: Fingerprint) -> Iterator[_Indexed]:
        """The index's releases filed under ANCHOR_SHARED of `fp`'s anchor terms (`dedup.anchor_terms`)."""
        from whoosh.query import Term

        found: Counter[int] = Counter()
        for term in anchor_terms(fp):
            found.update(self.searcher.docs_for_query(Term("anchors", term)))
        yield from self._indexed(sorted(docnum for docnum, n in found.items() if n >= ANCHOR_SHARED))

    def _indexed(self, docnums: Iterable[int], keep_replaced: bool = False) -> Iterator[_Indexed]:
        """The index's releases among `docnums`, except (unless `keep_replaced`) those of replaced files."""
        for docnum in docnums:
            stored = self.searcher.stored_fields(docnum)
            if keep_replaced or stored.get("path") not in self.replaced:
                yield _indexed_release(docnum, stored)

    def rewrite(self, writer: Any, manifest: dict[str, FileState]) -> int:
        """Write again, from their stored fields, the index's releases whose group or fingerprint this
        update changes; how many."""
        for docnum, group, code in self.rewrites:
            stored = self.searcher.stored_fields(docnum)
            release = release_from_stored(stored)
            anchors = anchor_terms(decode(code)) if code else ()
            writer.delete_by_term("id", release.id)
            state = state_term(release.path, manifest[release.path].file_hash)
            writer.add_document(**release_document(release, state, Grouping(group, anchors, code)))
        return len(self.rewrites)

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
            self.searcher = None


def _indexed_release(docnum: int, stored: dict[str, Any]) -> _Indexed:
    """An index release as grouping needs it, from its stored fields."""
    day = stored.get("date")
    code = stored.get("fingerprint") or ""
    try:
        fp = decode(code) if code else None
    except ValueError:  # damaged, or of an older format: judged too short (a refresh replaces it)
        fp, code = None, ""
    entry = GroupEntry(
        stored["id"], day.date() if isinstance(day, datetime) else None, fp, stored.get("issuer") or ""
    )
    return _Indexed(docnum, entry, stored.get("group") or stored["id"], code)


def _linkable(entry: GroupEntry) -> tuple[GroupEntry, Fingerprint | None]:
    """An entry with its fingerprint beside it, where the type checker can see it is there."""
    return entry, entry.fingerprint


def _fingerprint(pending: Pending, boilerplate: dict[str, frozenset[int]]) -> Fingerprint | None:
    """The fingerprint of a new release, once its office's boilerplate is known."""
    if pending.found is None:
        return None
    return fingerprint_of(pending.found, boilerplate.get(pending.office, NO_BOILERPLATE))


def _code(fp: Fingerprint | None) -> str:
    return encode(fp) if fp is not None else ""


def _refreshed(
    indexed: list[tuple[_Indexed, Shingling | None]], boilerplate: frozenset[int]
) -> Iterator[tuple[str, _Indexed]]:
    """The index releases of one office whose fingerprint its boilerplate now changes, with the new one."""
    for release, found in indexed:
        fp = fingerprint_of(found, boilerplate) if found is not None else None
        code = _code(fp)
        if code != release.fingerprint:
            yield (
                release.entry.release_id,
                release._replace(entry=release.entry._replace(fingerprint=fp), fingerprint=code),
            )


@dataclass(frozen=True)
class Decided:
    """The groups an update of a sharded index decides over all shards (a `Grouper` over a `ShardSet`),
    by release id, and the boilerplate of each office: what each shard writes beside its releases
    (`AssignedGroups`). A shard makes the fingerprints of its new releases from the shingles of its
    first pass and that boilerplate, which only the office's releases in every shard tell (the
    fingerprints themselves would be many times the bytes to send)."""

    groups: dict[str, str]
    """The group of each new release that is not its own."""
    boilerplate: dict[str, frozenset[int]]
    """The boilerplate of each office of the new releases."""
    rewrites: dict[str, tuple[str, str]]
    """(group, encoded fingerprint) of each index release written again: its group or its fingerprint
    (its office's boilerplate) changes."""

    def only(self, keep: Callable[[str], bool]) -> Decided:
        """What concerns the releases whose ids `keep` takes (one shard's)."""
        return Decided(_only(self.groups, keep), self.boilerplate, _only(self.rewrites, keep))


def _only(values: dict[str, Any], keep: Callable[[str], bool]) -> dict[str, Any]:
    return {release_id: value for release_id, value in values.items() if keep(release_id)}


class AssignedGroups(Grouper):
    """The groups and fingerprints of an update of a sharded index as one shard writes them: the groups
    decided over all shards (`Decided`), the fingerprints made from the shard's first pass (`pending`,
    by id) with the boilerplate counted over all shards."""

    def __init__(
        self, ix: Any, decided: Decided, file_hashes: dict[str, str], pending: Mapping[str, Pending]
    ) -> None:
        super().__init__(ix if decided.rewrites else None, set())
        self.groups = decided.groups
        self.boilerplate = decided.boilerplate
        self.pending = pending
        self.file_hashes = file_hashes
        if self.searcher is not None:
            found = (
                (self.searcher.document_number(id=rid), change) for rid, change in decided.rewrites.items()
            )
            self.rewrites = [(docnum, group, code) for docnum, (group, code) in found if docnum is not None]

    def _fingerprint_of(self, release_id: str) -> Fingerprint | None:
        pending = self.pending.get(release_id)
        return _fingerprint(pending, self.boilerplate) if pending is not None else None
