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
import gc
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from whoosh import index as whoosh_index
from whoosh import writing

from .errors import IndexLockedError, IndexWriteError, UnreadableFileError
from .grouping import Grouper, Pending
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
from .pooling import TermPool
from .reader import document_name, file_hash, read_file, scan_documents, unpacked_size
from .schema import Grouping, release_document
from .whoosh_internals import apply_fixes, sweep_leftovers, writing_codec

__all__ = [
    "LOCK_FILE",
    "FileState",
    "UpdatePlan",
    "WriteOutcome",
    "load_manifest",
    "plan_update",
    "read_for_shard",
    "unreadable_files",
    "update_index",
    "write_plan",
    "writer_limit_mb",
    "writer_lock",
]

Progress = Callable[[int, int], None]
"""Called as `progress(done, total)`, in bytes of document files, while an update runs."""

LOCK_FILE = ".statementsearch-writer.lock"
# Above this many bytes of text to (re)read (gzip files counted unpacked), a build uses Whoosh's
# multi-process writer: forking worker processes costs about a second, which only pays off for large
# batches.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# Bounds of the memory for each writer's in-memory posting pool (see `writer_limit_mb`).
WRITER_MIN_MB = 512
WRITER_MAX_MB = 8192


_SURROGATE = re.compile(r"[\ud800-\udfff]")


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
    """Bytes on disk of the files to write (what progress counts)."""
    text_bytes: int = 0
    """About how many bytes of text those files hold (gzip files unpacked): the work to do."""


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
    plan.text_bytes = sum(unpacked_size(path, st.st_size) for path, _, st in plan.to_write)
    return plan


def writer_limit_mb(procs: int) -> int:
    """Memory for each writer's posting pool before Whoosh spills sorted runs to disk and merges them
    back: spilling doubles the CPU of indexing, and is what made a build's cost per release grow with
    the corpus (BENCHMARKS.md, "A build that scales"). Half the machine's memory, shared by the writer
    processes and the parent, within [WRITER_MIN_MB, WRITER_MAX_MB]. Whoosh's estimate of a pool is
    low: the 43,000 releases each of two writers holds on the whole corpus were 2.3 GB by it and
    3.2 GB resident, so a pool that never spills takes up to ~70% of the machine's memory."""
    try:
        total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (AttributeError, ValueError, OSError):  # a platform without these: the lower bound
        return WRITER_MIN_MB
    return max(WRITER_MIN_MB, min(WRITER_MAX_MB, total_mb // 2 // (max(procs, 1) + 1)))


def _open_writer(ix: Any, procs: int, parallel: bool) -> Any:
    writers = procs if parallel and procs > 1 else 1
    apply_fixes()  # among them, a writer's `poolclass`
    options = {"limitmb": writer_limit_mb(writers), "codec": writing_codec(), "poolclass": TermPool}
    try:
        if parallel and procs > 1:
            from whoosh.multiproc import MpWriter

            return MpWriter(ix, procs=procs, multisegment=True, batchsize=256, **options)
        return ix.writer(**options)
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
    near-duplicate groups are computed (`grouping.Grouper`), then to write them with their groups.
    Groups are a function of the set of releases (`dedup.assign_groups`), so the first pass must see
    every new release before any is written; releases already in the index whose group the update
    changes are rewritten.
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
    with collecting_less():
        while True:  # each failed attempt excludes one more file, so this ends
            try:
                return _Attempt(ix, root, plan, manifest, settings, excluded).run()
            except _FileNotWritten as failed:
                excluded[failed.path] = failed.failure


GC_THRESHOLDS = (10_000, 50, 1_000)
"""The garbage collector's thresholds while a writer writes (Python's are 700, 10, 10). A writer holds
millions of postings that live until its commit, and each full collection walks all of them, many
times over a build with Python's thresholds (BENCHMARKS.md, "A posting pool of our own")."""


class _Collector:
    """How many writes of this process are under way, and the thresholds they found."""

    lock = threading.Lock()
    writes = 0
    found: tuple[int, ...] = ()


@contextlib.contextmanager
def collecting_less() -> Iterator[None]:
    """Collect garbage less often while writing or reading for a write (and in the writer processes
    forked meanwhile, which inherit it): each holds up to millions of objects, which every full
    collection would go over again. The process's own thresholds come back when its last write ends,
    whatever happens."""
    with _Collector.lock:
        if not _Collector.writes:
            _Collector.found = gc.get_threshold()
            gc.set_threshold(*map(max, GC_THRESHOLDS, _Collector.found))
        _Collector.writes += 1
    try:
        yield
    finally:
        with _Collector.lock:
            _Collector.writes -= 1
            if not _Collector.writes:
                gc.set_threshold(*_Collector.found)


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
    keep: Callable[[str], bool] | None = None
    """Which releases of the files are written here, by id (a shard's); None: all."""
    groups: Callable[[Any], Grouper] | None = None
    """Makes the groups of the releases written, when they were decided elsewhere (over all shards)."""
    reports: Mapping[str, FileReport] | None = None
    """Files to write as an earlier step read them, by path (a shard's first pass): not read again."""


def shard_settings(
    keep: Callable[[str], bool],
    groups: Callable[[Any], Grouper],
    reports: Mapping[str, FileReport],
) -> _Settings:
    """How one shard of a sharded index writes a plan made for all shards: only its releases, with the
    groups decided over all of them, from the files as its first pass read them, by one process (the
    cluster runs the shards side by side)."""
    return _Settings(False, None, 1, True, keep, groups, reports)


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
        self.grouper: Grouper | None = None

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
            parallel = self.plan.text_bytes >= PARALLEL_MIN_BYTES
            self.writer = _open_writer(self.ix, self.settings.procs, parallel)
        return self.writer

    def _first_pass(self) -> None:
        """Fingerprint the releases of every file to write and decide all groups before any is written
        (see `grouping.Grouper`). A file that fails here is that file's failure, as in the second pass."""
        self.grouper = grouper = Grouper(None if self.settings.rebuild else self.ix, set())
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
        kept = self.settings.reports.get(rel) if self.settings.reports is not None else None
        return kept if kept is not None else read_for_index(path, self.root, rel, st, self.settings.keep)

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
        try:
            term = state_term(rel, report.file_hash)
            documents = [_checked(release_document(r, term, self._group(r))) for r in report.releases]
        except Exception as exc:  # as in `_read`: this file's failure
            return _unexpected(exc, state)
        return _Prepared(documents, state)

    def _group(self, release: Release) -> Grouping | None:
        return self.grouper.grouping_of(release) if self.grouper is not None else None


def read_for_index(
    path: Path, root: Path, rel: str, st: os.stat_result, wanted: Callable[[str], bool] | None = None
) -> FileReport | SeenFailure:
    """A file's releases (those `wanted` takes by id), or why it cannot be read (whatever reading it
    raised)."""
    try:
        report = read_file(path, root, wanted)
    except Exception as exc:  # a bug, or an input no one foresaw: this file's failure, not the build's
        return _unexpected(exc, FileState(rel, st.st_size, st.st_mtime_ns, ""))
    if report.error is not None:
        return SeenFailure.of(report.error, st, report.file_hash)
    return report


def read_for_shard(
    path: Path, root: Path, rel: str, st: os.stat_result, keep: Callable[[str], bool]
) -> tuple[FileReport, dict[str, Pending]] | SeenFailure:
    """One file as a shard of a sharded index reads it: its report with only the releases `keep` takes
    by id (the shard's), and each one's reading for grouping (`Pending`: not yet a fingerprint, which
    needs its office's releases in all shards); or why it cannot be read."""
    report = read_for_index(path, root, rel, st, keep)
    if isinstance(report, SeenFailure):
        return report
    try:
        return report, {release.id: Pending.of(release) for release in report.releases}
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


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device (the index is unchanged)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{exc.strerror} (the index is unchanged)"
    return f"{exc.strerror or exc} (the index is unchanged)"
