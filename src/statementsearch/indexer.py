"""Writing the index: full and incremental builds, the file manifest, the writer lock, the commit policy.

Never losing data rests on three facts:
- Each file's manifest entry (`file_state`: path and content hash) is a term on the file's own release
  documents, so the manifest and the releases change in one Whoosh commit, which is atomic (a new TOC
  generation is renamed into place). A build killed at any moment leaves the last committed state. The
  size and mtime that spare reading unchanged files are a cache beside the index (see `manifest`).
- A rebuild writes all new segments and commits them with `CLEAR`: until that commit the old index stays.
- A file that cannot be read keeps its previously indexed releases (and is reported), and so do files
  under a folder that cannot be listed.

And no one file stops the others: whatever reading or indexing one file raises is reported with its
name, and the build goes on without it (see `_Attempt`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from whoosh import index as whoosh_index
from whoosh import writing

from .dedup import (
    NO_BOILERPLATE,
    Fingerprint,
    GroupEntry,
    Shingling,
    assign_groups,
    boilerplate_of,
    decode,
    encode,
    fingerprint_of,
    is_duplicate,
    same_office,
    shingling,
)
from .errors import IndexLockedError, IndexWriteError, UnreadableFileError
from .manifest import (
    FileState,
    SeenFailure,
    SeenFiles,
    load_manifest,
    load_seen,
    save_seen,
    state_term,
    sweep_seen_leftovers,
    unreadable_files,
)
from .models import FileFailure, FileReport, Release, UpdateSummary
from .reader import document_name, file_hash, read_file, scan_documents
from .schema import text_sections, to_datetime
from .whoosh_internals import sweep_leftovers

__all__ = [
    "LOCK_FILE",
    "AssignedGroups",
    "Decided",
    "FileState",
    "Pending",
    "UpdatePlan",
    "WriteOutcome",
    "load_manifest",
    "plan_update",
    "release_document",
    "shingle_file",
    "unreadable_files",
    "update_index",
    "write_plan",
    "writer_lock",
]

Progress = Callable[[int, int], None]
"""Called as `progress(done, total)`, in bytes of document files, while an update runs."""

LOCK_FILE = ".statementsearch-writer.lock"
# Above this many bytes of files to (re)read, a build uses Whoosh's multi-process writer: forking
# worker processes costs about a second, which only pays off for large batches.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# Memory for each writer's in-memory posting pool before it spills sorted runs to disk.
WRITER_LIMIT_MB = 1536


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def release_document(release: Release, file_state: str, group: Grouping | None = None) -> dict[str, Any]:
    """The Whoosh document of one release."""
    doc: dict[str, Any] = {
        "id": release.id,
        "path": release.path,
        "position": release.position,
        "content_hash": release.content_hash,
        "file_state": file_state,
        "text": text_sections(release.title, release.issuer, release.date, release.body),
        "title": release.title,
        "issuer": release.issuer,
        "body": release.body,
        "group": group.group if group else release.id,
    }
    if group is not None and group.anchors:
        doc["anchors"] = " ".join(group.anchors)
        doc["fingerprint"] = group.fingerprint
    if release.issuer:
        doc["issuer_key"] = release.issuer
    if release.date is not None:
        doc["date"] = to_datetime(release.date)
    else:
        doc["dateless"] = "1"
    return doc


@dataclass(frozen=True)
class Grouping:
    """A release's near-duplicate group and what finds it again: anchors and the encoded fingerprint."""

    group: str
    anchors: tuple[str, ...] = ()
    fingerprint: str = ""


# ---------------------------------------------------------------------------------------------- locking


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lock_owner(handle: TextIO) -> int | None:
    handle.seek(0)
    first = handle.read().split()
    return int(first[0]) if first and first[0].isdigit() else None


_PID_GRACE_SECONDS = 2.0


@contextlib.contextmanager
def writer_lock(
    index_dir: Path, wait: float = 0.0, notice: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the one-writer lock of an index; wait up to `wait` seconds for another writer to finish.

    The lock is an OS file lock (`flock`), so the kernel releases it when its process dies; the pid
    written in the file only serves the messages: a pid left behind by a dead process is a stale lock,
    cleared with a notice.
    """
    import fcntl

    path = index_dir / LOCK_FILE
    try:
        handle = open(path, "a+", encoding="ascii")  # noqa: SIM115 (held for the whole block)
    except OSError as exc:
        raise IndexWriteError(f"cannot write index at {index_dir}: {exc.strerror or exc}") from exc
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if now >= deadline:
                    owner = _lock_owner(handle)
                    # The holder writes its pid just after taking the lock (or has just cleared it on
                    # its way out): give it a moment rather than name no one or fail a free lock.
                    if owner is None and now < deadline + _PID_GRACE_SECONDS:
                        time.sleep(0.02)
                        continue
                    who = f"process {owner}" if owner else "another process"
                    raise IndexLockedError(
                        f"index {index_dir} is being written by {who}; "
                        "try again when it has finished (or pass --wait SECONDS)"
                    ) from None
                time.sleep(0.1)
        stale = _lock_owner(handle)
        if stale is not None and stale != os.getpid() and not _pid_alive(stale) and notice:
            notice(f"cleared a stale lock left by process {stale}, which is no longer running")
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()} {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
            handle.flush()
        except OSError as exc:  # a full disk: the lock is held, but say why nothing can be written
            raise IndexWriteError(f"cannot write index at {index_dir}: {_os_reason(exc)}") from exc
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
                handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        with contextlib.suppress(OSError):
            handle.close()


# ---------------------------------------------------------------------------------------------- update


@dataclass
class UpdatePlan:
    """What an update has to do, decided from the manifest and a scan before any file is indexed."""

    to_write: list[tuple[Path, str, os.stat_result]]
    """New and changed files (every file, for a rebuild): name and stat taken before reading."""
    unchanged: int
    """Files of the same size and mtime as when indexed."""
    touched: dict[str, FileState]
    """Files with a new size or mtime whose bytes hash as indexed: only their cache entry changes."""
    removed: list[str]
    failures: dict[str, SeenFailure]
    """Folders that could not be listed and files that could not be statted."""
    total_bytes: int


def plan_update(root: Path, manifest: dict[str, FileState]) -> UpdatePlan:
    """Compare the documents folder with the manifest: size and mtime decide what needs reading, and a
    file whose stat changed is hashed first, so that one touched but not edited is not rewritten."""
    paths, scan_failures = scan_documents(root)
    unlisted_root = [f for f in scan_failures if f.path == document_name(root)]
    if unlisted_root:
        # Nothing can be known about the files: treating them as removed would empty the index.
        raise UnreadableFileError(f"cannot read documents folder {root}: {unlisted_root[0].reason}")
    plan = UpdatePlan([], 0, {}, [], {f.path: SeenFailure.of(f.reason) for f in scan_failures}, 0)
    on_disk: set[str] = set()
    for path in paths:
        rel = document_name(path, root)
        on_disk.add(rel)
        try:
            st = path.stat()
        except OSError as exc:
            plan.failures[rel] = SeenFailure.of(exc.strerror or str(exc))
            continue
        old = manifest.get(rel)
        if old is not None and old.matches(st):
            plan.unchanged += 1
        elif old is not None and file_hash(path) == old.file_hash:
            plan.touched[rel] = FileState(rel, st.st_size, st.st_mtime_ns, old.file_hash)
        else:
            plan.to_write.append((path, rel, st))
    # Files under a folder that could not be listed are not "removed": we do not know. Neither are
    # files that vanished or failed to stat: they keep their releases too.
    unlisted = tuple(f.path.rstrip("/") + "/" for f in scan_failures)
    gone = [rel for rel in manifest if rel not in on_disk and rel not in plan.failures]
    plan.removed = [rel for rel in gone if not rel.startswith(unlisted)]
    plan.total_bytes = sum(st.st_size for _, _, st in plan.to_write)
    return plan


def _open_writer(ix: Any, procs: int, parallel: bool) -> Any:
    try:
        if parallel and procs > 1:
            from whoosh.multiproc import MpWriter

            return MpWriter(ix, procs=procs, multisegment=True, limitmb=WRITER_LIMIT_MB, batchsize=256)
        return ix.writer(limitmb=WRITER_LIMIT_MB)
    except whoosh_index.LockError as exc:
        raise IndexLockedError(f"index {ix.storage.folder} is locked by another Whoosh writer") from exc
    except OSError as exc:
        raise IndexWriteError(f"cannot write index at {ix.storage.folder}: {exc.strerror or exc}") from exc


class _Counter:
    """Progress in bytes, advanced release by release within a file so big files move the bar too."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.done = 0.0
        self.progress = progress

    def advance(self, amount: float) -> None:
        self.done += amount
        if self.progress is not None:
            self.progress(min(int(self.done), self.total), self.total)


def update_index(
    ix: Any,
    root: Path,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    procs: int = 1,
    deduplicate: bool = True,
) -> UpdateSummary:
    """Bring the index to exactly the documents under `root`, reading only what changed.

    With `deduplicate`, the files to write are read twice: first for the fingerprints, from which the
    near-duplicate groups are computed (`_Grouper`), then to write them with their groups. Groups are a
    function of the set of releases (`dedup.assign_groups`), so the first pass must see every new release
    before any is written; releases already in the index whose group the update changes are rewritten.
    `progress` counts the bytes of the second pass. A file that could not be read or indexed is in
    `failures`, marked `repeated` when the last update failed on it the same way.
    """
    started = time.perf_counter()
    index_dir = Path(ix.storage.folder)
    sweep_leftovers(ix)
    sweep_seen_leftovers(index_dir)
    seen = load_seen(index_dir)
    manifest = {} if rebuild else load_manifest(ix, seen)
    plan = plan_update(root, manifest)
    outcome = write_plan(ix, root, plan, manifest, _Settings(rebuild, progress, procs, deduplicate))
    return finish_update(index_dir, seen, manifest, plan, outcome, rebuild, started)


def write_plan(
    ix: Any, root: Path, plan: UpdatePlan, manifest: dict[str, FileState], settings: _Settings
) -> WriteOutcome:
    """Write what the plan says in one commit (or none); a file the writer cannot take is left out and
    the write is tried again without it."""
    excluded: dict[str, SeenFailure] = {}
    while True:  # each failed attempt excludes one more file, so this ends
        try:
            return _Attempt(ix, root, plan, manifest, settings, excluded).run()
        except _FileNotWritten as failed:
            excluded[failed.path] = failed.failure


def finish_update(
    index_dir: Path,
    seen: SeenFiles,
    manifest: dict[str, FileState],
    plan: UpdatePlan,
    outcome: WriteOutcome,
    rebuild: bool,
    started: float,
) -> UpdateSummary:
    """Remember what was written beside the index (`SEEN_FILE`) and say what the update did."""
    failures = {**plan.failures, **outcome.failures}
    _remember(index_dir, seen, _indexed_after(manifest, plan, outcome, rebuild), failures)
    return UpdateSummary(
        added=outcome.added,
        changed=outcome.changed,
        removed=len(plan.removed),
        unchanged=plan.unchanged + len(plan.touched),
        failed=len(failures),
        releases_written=outcome.written,
        releases_deleted=outcome.deleted,
        seconds=time.perf_counter() - started,
        rebuilt=rebuild,
        failures=tuple(
            FileFailure(path, failure.reason, repeated=seen.failures.get(path) == failure)
            for path, failure in sorted(failures.items())
        ),
        warnings=tuple(outcome.warnings),
    )


def _indexed_after(
    manifest: dict[str, FileState], plan: UpdatePlan, outcome: WriteOutcome, rebuild: bool
) -> dict[str, FileState]:
    """The state of every file with releases in the index once this update is committed."""
    kept = {} if rebuild else {rel: state for rel, state in manifest.items() if rel not in plan.removed}
    return kept | plan.touched | outcome.written_files


def _remember(
    index_dir: Path, seen: SeenFiles, indexed: dict[str, FileState], failures: dict[str, SeenFailure]
) -> None:
    """Save the manifest cache when it changed (after the commit: a stale cache only costs a re-read)."""
    known = {rel: state for rel, state in indexed.items() if state.size >= 0}
    now = SeenFiles(known, failures)
    if now != seen:
        save_seen(index_dir, now)


@dataclass(frozen=True)
class _Settings:
    rebuild: bool
    progress: Progress | None
    procs: int
    deduplicate: bool
    keep: Callable[[Release], bool] | None = None
    """Which releases of the files are written here (a shard's); None: all."""
    groups: Callable[[Any], _Grouper] | None = None
    """Makes the groups of the releases written, when they were decided elsewhere (over all shards)."""


def shard_settings(
    keep: Callable[[Release], bool], groups: Callable[[Any], _Grouper], progress: Progress | None = None
) -> _Settings:
    """How one shard of a sharded index writes a plan made for all shards: only its releases, with the
    groups decided over all of them, by one process (the cluster runs the shards side by side)."""
    return _Settings(False, progress, 1, True, keep, groups)


@dataclass
class WriteOutcome:
    """What one attempt wrote, and the files it could not index."""

    added: int = 0
    changed: int = 0
    written: int = 0
    deleted: int = 0
    written_files: dict[str, FileState] = field(default_factory=dict)
    failures: dict[str, SeenFailure] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Prepared:
    """One file's release documents, checked and ready for the writer."""

    documents: list[dict[str, Any]]
    state: FileState


class _FileNotWritten(Exception):
    """The writer raised while taking one file's documents: it may hold part of them, so the attempt is
    cancelled and the update starts again without that file."""

    def __init__(self, path: str, failure: SeenFailure) -> None:
        super().__init__(path)
        self.path = path
        self.failure = failure


class _Attempt:
    """One try at writing the plan, ending in one commit (or none, when nothing was written).

    With deduplication the files are read twice (see `update_index`): the first pass decides the groups,
    the second writes. Whatever reading or preparing a file raises, in either pass, is that file's
    failure. What the writer raises while taking a file's documents (other than an OSError, which
    concerns the whole index: a full disk, a read-only folder) ends the attempt with `_FileNotWritten`,
    since a Whoosh writer cannot take back half a document; `update_index` then runs a new attempt
    without that file (whose old releases, if any, stay and are grouped as such). Documents are checked
    before they reach the writer (`_checked`): Whoosh's multi-process writer would lose a whole batch,
    silently, to one document its worker process cannot index. The writer is opened at the first file
    to write, so an update that only meets touched or unreadable files opens none.
    """

    def __init__(
        self,
        ix: Any,
        root: Path,
        plan: UpdatePlan,
        manifest: dict[str, FileState],
        settings: _Settings,
        excluded: dict[str, SeenFailure],
    ) -> None:
        self.ix = ix
        self.root = root
        self.plan = plan
        self.manifest = manifest
        self.settings = settings
        self.excluded = excluded
        self.outcome = WriteOutcome()
        self.counter = _Counter(plan.total_bytes, settings.progress)
        self.writer: Any = None
        self.grouper: _Grouper | None = None

    def run(self) -> WriteOutcome:
        if not (self.plan.to_write or self.plan.removed or self.settings.rebuild):
            return self.outcome  # nothing to write: no searcher, no writer
        try:
            if self.settings.groups is not None:
                self.grouper = self.settings.groups(self.ix)
            elif self.settings.deduplicate:
                self._first_pass()
            for path, rel, st in self.plan.to_write:
                self._file(path, rel, st)
            for rel in self.plan.removed:
                self.outcome.deleted += self._writer().delete_by_term("path", rel)
            if self.grouper is not None and self.grouper.rewrites:
                rewritten = self.grouper.rewrite(self._writer(), self.manifest)
                self.outcome.written += rewritten
                self.outcome.deleted += rewritten
            if self.writer is not None or self.settings.rebuild:
                self._writer().commit(mergetype=writing.CLEAR if self.settings.rebuild else None)
        except BaseException as exc:
            if self.writer is not None:
                with contextlib.suppress(Exception):
                    self.writer.cancel()
            if isinstance(exc, OSError):
                folder = self.ix.storage.folder
                raise IndexWriteError(f"cannot write index at {folder}: {_os_reason(exc)}") from exc
            raise
        finally:
            if self.grouper is not None:
                self.grouper.close()
        return self.outcome

    def _writer(self) -> Any:
        if self.writer is None:
            parallel = self.plan.total_bytes >= PARALLEL_MIN_BYTES
            self.writer = _open_writer(self.ix, self.settings.procs, parallel)
        return self.writer

    def _first_pass(self) -> None:
        """Fingerprint the releases of every file to write and decide all groups before any is written
        (see `_Grouper`). A file that fails here is that file's failure, as in the second pass."""
        self.grouper = grouper = _Grouper(None if self.settings.rebuild else self.ix, set())
        read: set[str] = set()
        for path, rel, st in self.plan.to_write:
            report = self._read(path, rel, st)
            if isinstance(report, FileReport):
                try:
                    grouper.add(report.releases)
                except Exception as exc:  # as in `_read`: this file's failure
                    report = _unexpected(exc, FileState(rel, st.st_size, st.st_mtime_ns, report.file_hash))
            if isinstance(report, SeenFailure):
                self.outcome.failures[rel] = report
                continue
            read.add(rel)
            grouper.file_hashes[rel] = report.file_hash
        grouper.replaced = (read & set(self.manifest)) | set(self.plan.removed)
        grouper.resolve()

    def _read(self, path: Path, rel: str, st: os.stat_result) -> FileReport | SeenFailure:
        """A file's releases, or why it cannot be read (whatever reading it raised)."""
        excluded = self.excluded.get(rel)
        if excluded is not None:
            return excluded
        return read_for_index(path, self.root, rel, st)

    def _file(self, path: Path, rel: str, st: os.stat_result) -> None:
        prepared = self.outcome.failures.get(rel) or self._prepared(path, rel, st)
        if isinstance(prepared, SeenFailure):
            self.outcome.failures[rel] = prepared
            self.counter.advance(st.st_size)
            return
        old = self.manifest.get(rel)
        writer = self._writer()  # its own errors concern the whole index, not this file
        step = st.st_size / max(len(prepared.documents), 1)
        try:
            if old is not None:
                self.outcome.deleted += writer.delete_by_term("path", rel)
            for document in prepared.documents:
                writer.add_document(**document)
                self.outcome.written += 1
                self.counter.advance(step)
        except OSError:
            raise
        except Exception as exc:
            raise _FileNotWritten(rel, _unexpected(exc, prepared.state)) from exc
        if old is None:
            self.outcome.added += 1
        else:
            self.outcome.changed += 1
        self.outcome.written_files[rel] = prepared.state

    def _prepared(self, path: Path, rel: str, st: os.stat_result) -> _Prepared | SeenFailure:
        """One file's documents, read again for writing, or why they cannot be written."""
        report = self._read(path, rel, st)
        if isinstance(report, SeenFailure):
            return report
        self.outcome.warnings.extend(f"{rel}: {warning}" for warning in report.warnings)
        changed = self.grouper.changed_since_read(rel, report) if self.grouper is not None else None
        if changed is not None:
            return SeenFailure.of(changed, st, report.file_hash)
        state = FileState(rel, st.st_size, st.st_mtime_ns, report.file_hash)
        keep = self.settings.keep
        releases = [r for r in report.releases if keep(r)] if keep is not None else report.releases
        try:
            term = state_term(rel, report.file_hash)
            documents = [_checked(release_document(r, term, self._group(r))) for r in releases]
        except Exception as exc:  # as in `_read`: this file's failure
            return _unexpected(exc, state)
        return _Prepared(documents, state)

    def _group(self, release: Release) -> Grouping | None:
        return self.grouper.grouping_of(release) if self.grouper is not None else None


def read_for_index(path: Path, root: Path, rel: str, st: os.stat_result) -> FileReport | SeenFailure:
    """A file's releases, or why it cannot be read (whatever reading it raised)."""
    try:
        report = read_file(path, root)
    except Exception as exc:  # a bug, or an input no one foresaw: this file's failure, not the build's
        return _unexpected(exc, FileState(rel, st.st_size, st.st_mtime_ns, ""))
    if report.error is not None:
        return SeenFailure.of(report.error, st, report.file_hash)
    return report


def shingle_file(
    path: Path, root: Path, rel: str, st: os.stat_result, keep: Callable[[Release], bool]
) -> tuple[dict[str, Pending], str] | SeenFailure:
    """The first pass of an update over one file, for the releases `keep` takes (a shard's): id ->
    its reading (`Pending`: not yet a fingerprint, which needs its office's releases in all shards),
    and the file's hash; or why it cannot be read."""
    report = read_for_index(path, root, rel, st)
    if isinstance(report, SeenFailure):
        return report
    try:
        return {r.id: Pending.of(r) for r in report.releases if keep(r)}, report.file_hash
    except Exception as exc:  # as in `read_for_index`: this file's failure
        return _unexpected(exc, FileState(rel, st.st_size, st.st_mtime_ns, report.file_hash))


def _unexpected(exc: Exception, state: FileState) -> SeenFailure:
    """An error no reader rule names, as a one-line reason."""
    detail = " ".join(str(exc).split())
    reason = f"could not be indexed ({type(exc).__name__}{': ' + detail if detail else ''})"
    return SeenFailure(state.size, state.mtime_ns, state.file_hash, reason)


def _checked(document: dict[str, Any]) -> dict[str, Any]:
    """The document, once every text in it is known to encode as UTF-8 (Whoosh would raise on a lone
    surrogate half-way through indexing it)."""
    for name, value in document.items():
        texts = [text for text, _ in value] if name == "text" else [value]
        for text in texts:
            if isinstance(text, str) and not text.isascii() and _SURROGATE.search(text):
                raise ValueError(f"its {name} holds a lone surrogate, which is not text")
    return document


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
    """Its encoded fingerprint: the stored one, or the one this update gives it (see `_Grouper`)."""


class _Grouper:
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
        self.codes: dict[str, str] = {}
        """id -> encoded fingerprint ("" when too short to judge) of each release this update writes."""
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
        code = self.codes.get(release_id, "")
        if not code:
            return Grouping(release_id)
        return Grouping(self.groups.get(release_id, release_id), decode(code).anchors, code)

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
        self.codes = {release_id: _code(entry.fingerprint) for release_id, entry in new.items()}
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
        codes = {release_id: code for release_id, code in self.codes.items() if code}
        return Decided(groups, codes, rewrites)

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
        from whoosh.query import Or, Term

        yield from self._indexed(self.searcher.docs_for_query(Or([Term("anchors", a) for a in fp.anchors])))

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
            anchors = decode(code).anchors if code else ()
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
    """The fingerprints and groups an update of a sharded index decides over all shards (a `_Grouper`
    over a `ShardSet`), by release id: what each shard writes beside its releases (`AssignedGroups`).
    Fingerprints are sent rather than made again in the shards, as each needs the boilerplate of its
    office, counted over the office's releases in every shard."""

    groups: dict[str, str]
    """The group of each new release that is not its own."""
    codes: dict[str, str]
    """The encoded fingerprint of each new release that has one (not too short to judge)."""
    rewrites: dict[str, tuple[str, str]]
    """(group, encoded fingerprint) of each index release written again: its group or its fingerprint
    (its office's boilerplate) changes."""

    def only(self, keep: Callable[[str], bool]) -> Decided:
        """What concerns the releases whose ids `keep` takes (one shard's)."""
        return Decided(_only(self.groups, keep), _only(self.codes, keep), _only(self.rewrites, keep))


def _only(values: dict[str, Any], keep: Callable[[str], bool]) -> dict[str, Any]:
    return {release_id: value for release_id, value in values.items() if keep(release_id)}


class AssignedGroups(_Grouper):
    """The groups and fingerprints of an update of a sharded index, decided over all shards (`Decided`),
    as one shard writes them."""

    def __init__(self, ix: Any, decided: Decided, file_hashes: dict[str, str]) -> None:
        super().__init__(ix if decided.rewrites else None, set())
        self.groups = decided.groups
        self.codes = decided.codes
        self.file_hashes = file_hashes
        if self.searcher is not None:
            found = (
                (self.searcher.document_number(id=rid), change) for rid, change in decided.rewrites.items()
            )
            self.rewrites = [(docnum, group, code) for docnum, (group, code) in found if docnum is not None]


def release_from_stored(stored: dict[str, Any]) -> Release:
    """The release whose stored fields these are (everything `release_document` needs to write it again)."""
    day = stored.get("date")
    return Release(
        id=stored["id"],
        title=stored.get("title", ""),
        issuer=stored.get("issuer", ""),
        date=day.date() if isinstance(day, datetime) else None,
        body=stored.get("body", ""),
        path=stored.get("path", ""),
        position=int(stored.get("position", 0)),
        content_hash=stored.get("content_hash", ""),
    )


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device (the index is unchanged)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{exc.strerror} (the index is unchanged)"
    return f"{exc.strerror or exc} (the index is unchanged)"
