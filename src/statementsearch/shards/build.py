"""Building and updating a sharded index: one plan for all shards, each shard written by a worker.

An update runs in three steps, under the index's one writer lock (held by the client):

1. **Plan** (client): compare the documents folder with what the shards hold (`plan_update`, as for one
   index). The record of what they hold is the build folder's `SEEN_FILE`, written only after every
   shard has committed an update: an entry is trusted only while each shard that holds the file holds
   it with the same content hash, and a file some shard holds that the record does not vouch for is
   read again. So whatever a killed update committed in some shards and not in others, the next one
   writes the file again in all of them (a shard that had it replaces it: the writes are idempotent).
2. **First pass** (one task per shard): read every file to write, keep the releases routed to the
   shard and shingle them (`grouping.Pending`). The reading stays where the task ran (`Runner.keep`:
   on a cluster, the worker's memory); only the shingles go to the client, which counts every
   office's boilerplate over the office's releases in all shards and decides every near-duplicate
   group over all of them and over all shards' indexed releases (`grouping.Grouper`, through
   `ShardSet`), so fingerprints and groups are those of one index.
3. **Write** (one task per shard, beside its reading): write the shard's releases with their groups and
   fingerprints (made from the shingles and the boilerplate), delete removed files' releases, rewrite
   the shard's releases whose group or fingerprint changed; one commit. Then the client records the
   files in `SEEN_FILE` (and for a rebuild, names the new build in the manifest). No file is read
   again, unless the reading was lost with its worker (or local processes ran the steps): a file that
   changed since the groups were decided is then left for the next update.

Each shard commits atomically; shards do not commit together. A reader sees each shard at its own last
commit: between the shards' commits of an update, some shards show the new files and others not yet.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import IndexCorruptError, StatementSearchError
from ..grouping import AssignedGroups, Decided, Grouper, Pending
from ..index import StatementIndex
from ..indexer import (
    Progress,
    UpdatePlan,
    WriteOutcome,
    collecting_less,
    finish_update,
    plan_update,
    read_for_shard,
    shard_settings,
    write_plan,
    writer_limit_mb,
    writer_lock,
)
from ..manifest import (
    UNKNOWN,
    FileState,
    SeenFailure,
    SeenFiles,
    indexed_files,
    load_seen,
    sweep_seen_leftovers,
)
from ..models import FileReport, UpdateSummary
from ..whoosh_internals import sweep_leftovers
from .catalogue import ShardSet
from .layout import Layout, new_build, read_layout, shard_of, sweep_builds

if TYPE_CHECKING:
    from .runner import Runner

SHARD_LOCK_WAIT = 600.0
"""Seconds a shard's writer waits for the lock of an earlier writer of that shard (one left running by a
killed client, or a task the scheduler started twice) before giving up."""
CHANGED = "changed while being indexed; the next update reads it again"


def update_shards(
    root: Path,
    documents: Path,
    runner: Runner,
    *,
    rebuild: bool = False,
    shards: int | None = None,
    progress: Progress | None = None,
    wait: float = 0.0,
    notice: Callable[[str], None] | None = None,
) -> UpdateSummary:
    """Bring every shard of the sharded index at `root` to the documents (see the module's docstring).
    A rebuild writes a new build (of `shards` shards, or as many as now) and switches to it at the end."""
    started = time.perf_counter()
    with writer_lock(root, wait=wait, notice=notice):
        current = read_layout(root)
        sweep_builds(current)
        target = new_build(root, shards or current.shards) if rebuild else current
        sweep_seen_leftovers(target.build_dir)
        record = SeenFiles() if rebuild else load_seen(current.build_dir)
        manifest = {} if rebuild else _held(current, record)
        plan = plan_update(documents, manifest)
        outcome = WriteOutcome()
        if plan.to_write or plan.removed:
            with collecting_less():  # the client takes in every shard's shingles and decides over them
                outcome = _write(target, documents, plan, manifest, rebuild, runner, progress)
        summary = finish_update(target.build_dir, record, manifest, plan, outcome, rebuild, started)
        if rebuild:
            target.write()
            sweep_builds(target)
    return summary


def _held(layout: Layout, record: SeenFiles) -> dict[str, FileState]:
    """What the shards hold of each file: the record's entry where every shard holding the file agrees
    with it, else an entry no file on disk matches (so the file is read and written again)."""
    hashes: dict[str, set[str]] = {}
    with ShardSet(layout) as shard_set:
        for ix in shard_set.indexes:
            for path, file_hash in indexed_files(ix).items():
                hashes.setdefault(path, set()).add(file_hash)
    held = {}
    for path, found in hashes.items():
        entry = record.files.get(path)
        trusted = entry is not None and found == {entry.file_hash}
        held[path] = entry if trusted and entry is not None else FileState(path, UNKNOWN, UNKNOWN, "")
    return held


@dataclass
class FirstPass:
    """What one shard's first pass found, as the client needs it: its releases' readings for grouping,
    each file's hash, the failures."""

    entries: dict[str, Pending] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    failures: dict[str, SeenFailure] = field(default_factory=dict)
    routed: set[str] = field(default_factory=set)
    """The files with releases for this shard."""


@dataclass
class ShardReading:
    """One shard's reading of the files to write: what the client needs (`found`), and each file's report
    with only the shard's releases, as far as `kept_text_bytes` allows. On a cluster it stays in the memory of
    the worker that read it, where the shard's write step runs (Dask places a task beside its inputs)
    and reads no file kept here again; a worker lost meanwhile has Dask read it again on another."""

    reports: dict[str, FileReport] = field(default_factory=dict)
    found: FirstPass = field(default_factory=FirstPass)

    def __sizeof__(self) -> int:
        """Roughly the bytes held (Dask's measure when it weighs moving the reading to another worker)."""
        return sum(_text_bytes(report) for report in self.reports.values()) + 800 * len(self.found.entries)


def _text_bytes(report: FileReport) -> int:
    """The text of a report's releases, in characters (about their bytes)."""
    return sum(len(release.body) + len(release.title) for release in report.releases)


def owned(shard: int, shards: int) -> Callable[[str], bool]:
    """Whether the release of an id belongs to this shard."""
    return lambda release_id: shard_of(release_id, shards) == shard


def read_shard(
    documents: str, to_write: list[tuple[Path, str, os.stat_result]], shard: int, shards: int
) -> ShardReading:
    """Step 2 for one shard (a task whose result is kept for step 3: reads the files, writes nothing).
    The releases of the files read once `kept_text_bytes` of text are held are not kept: step 3 reads
    those files again."""
    with collecting_less():
        return _read_shard(documents, to_write, shard, shards)


def _read_shard(
    documents: str, to_write: list[tuple[Path, str, os.stat_result]], shard: int, shards: int
) -> ShardReading:
    reading = ShardReading()
    found = reading.found
    keep = owned(shard, shards)
    room = kept_text_bytes()
    for path, rel, st in to_write:
        result = read_for_shard(path, Path(documents), rel, st, keep)
        if isinstance(result, SeenFailure):
            found.failures[rel] = result
            continue
        report, entries = result
        room -= _text_bytes(report)
        if room >= 0:
            reading.reports[rel] = report
        found.entries.update(entries)
        found.hashes[rel] = report.file_hash
        if report.releases:
            found.routed.add(rel)
    return reading


def kept_text_bytes() -> int:
    """How much release text a shard's reading keeps for step 3: a quarter of the memory its writer's
    pool may take (the pool is what a build's memory goes to)."""
    return writer_limit_mb(1) * 2**20 // 4


def first_pass(reading: ShardReading) -> FirstPass:
    """What the client needs of a shard's reading (a task beside it: the releases stay there)."""
    return reading.found


@dataclass(frozen=True)
class ShardWrite:
    """Step 3 for one shard, as a task receives it."""

    path: str
    name: str
    shard: int
    shards: int
    documents: str
    plan: UpdatePlan
    decided: Decided
    """The groups and fingerprints of this shard's releases."""
    hashes: dict[str, str]
    routed: set[str]


def write_shard(work: ShardWrite, reading: ShardReading) -> WriteOutcome:
    """Step 3 for one shard (a task, beside the shard's reading). Idempotent: run again, on the shard as
    it is then (one commit or none later), it writes the same releases with the same groups. A file whose
    reading differs from the one the groups were decided on (read again after a worker was lost, and
    changed meanwhile) is left for the next update."""
    try:
        index = StatementIndex.open(work.path)
    except StatementSearchError as exc:
        raise IndexCorruptError(f"{work.name} is missing or damaged ({exc})") from exc
    try:
        with writer_lock(Path(work.path), wait=SHARD_LOCK_WAIT):
            ix = index._ix
            sweep_leftovers(ix)
            # What this shard holds decides what it deletes before writing a file again; a file it
            # neither holds nor gets releases of is no change here (a shard without changes commits nothing).
            held = {path: FileState(path, UNKNOWN, UNKNOWN, h) for path, h in indexed_files(ix).items()}
            mine = work.routed | set(held)
            plan = replace(
                work.plan,
                to_write=[item for item in work.plan.to_write if item[1] in mine],
                removed=[rel for rel in work.plan.removed if rel in held],
            )

            def groups(whoosh_ix: object) -> Grouper:
                return AssignedGroups(whoosh_ix, work.decided, work.hashes, reading.found.entries)

            settings = shard_settings(owned(work.shard, work.shards), groups, reading.reports)
            return write_plan(ix, Path(work.documents), plan, held, settings)
    finally:
        index.close()


def _write(
    target: Layout,
    documents: Path,
    plan: UpdatePlan,
    manifest: dict[str, FileState],
    rebuild: bool,
    runner: Runner,
    progress: Progress | None,
) -> WriteOutcome:
    n = target.shards
    readings = runner.keep(read_shard, [(str(documents), plan.to_write, s, n) for s in range(n)])
    passes = [FirstPass()] * n
    for shard, found in runner.run(first_pass, [(reading,) for reading in readings]):
        passes[shard] = found
    failures, hashes = _agreed(passes)
    entries = {rid: entry for found in passes for rid, entry in found.entries.items()}
    decided = _decided(target, entries, hashes, failures, plan, manifest, rebuild)
    writable = replace(plan, to_write=[item for item in plan.to_write if item[1] not in failures])
    works = [
        ShardWrite(
            str(target.shard_path(s)),
            target.shard_name(s),
            s,
            n,
            str(documents),
            writable,
            decided.only(owned(s, n)),
            hashes,
            passes[s].routed,
        )
        for s in range(n)
    ]
    outcomes: list[WriteOutcome] = []
    for _shard, outcome in runner.run(write_shard, list(zip(works, readings, strict=True))):
        outcomes.append(outcome)
        if progress is not None:
            progress(plan.total_bytes * len(outcomes) // n, plan.total_bytes)
    return _merged(outcomes, failures, manifest)


def _agreed(passes: list[FirstPass]) -> tuple[dict[str, SeenFailure], dict[str, str]]:
    """The files that failed in some shard's first pass, and the hash of each other file, which every
    shard must have read alike (a file rewritten meanwhile is left for the next update)."""
    failures: dict[str, SeenFailure] = {}
    seen: dict[str, set[str]] = {}
    for found in passes:
        failures.update(found.failures)
        for rel, file_hash in found.hashes.items():
            seen.setdefault(rel, set()).add(file_hash)
    for rel, found_hashes in seen.items():
        if len(found_hashes) > 1 and rel not in failures:
            failures[rel] = SeenFailure(UNKNOWN, UNKNOWN, "", CHANGED)
    return failures, {rel: next(iter(h)) for rel, h in seen.items() if rel not in failures}


def _decided(
    target: Layout,
    entries: dict[str, Pending],
    hashes: dict[str, str],
    failures: dict[str, SeenFailure],
    plan: UpdatePlan,
    manifest: dict[str, FileState],
    rebuild: bool,
) -> Decided:
    """The fingerprints and groups of the new releases, and the indexed releases whose group or
    fingerprint changes, decided over all shards."""
    shard_set = None if rebuild else ShardSet(target)
    grouper = Grouper(shard_set, set())
    try:
        grouper.new = entries
        grouper.file_hashes = hashes
        read = set(hashes) - set(failures)
        grouper.replaced = (read & set(manifest)) | set(plan.removed)
        grouper.resolve()
        return grouper.decided()
    finally:
        grouper.close()
        if shard_set is not None:
            shard_set.close()


def _merged(
    outcomes: list[WriteOutcome], failures: dict[str, SeenFailure], manifest: dict[str, FileState]
) -> WriteOutcome:
    """One outcome for all shards: a file counts as written when the shards that had to write it (those
    holding it or getting releases of it) did, and none failed on it."""
    merged = WriteOutcome(failures=dict(failures))
    states: dict[str, FileState] = {}
    for outcome in outcomes:
        merged.written += outcome.written
        merged.deleted += outcome.deleted
        merged.failures.update(outcome.failures)
        merged.warnings.extend(w for w in outcome.warnings if w not in merged.warnings)
        states.update(outcome.written_files)
    for rel in sorted(set(states) - set(merged.failures)):
        merged.written_files[rel] = states[rel]
        if rel in manifest:
            merged.changed += 1
        else:
            merged.added += 1
    return merged
