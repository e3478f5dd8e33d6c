"""Writing the index: full and incremental builds, the file manifest, the writer lock, the commit policy.

Never losing data rests on three facts:
- Each file's manifest entry (`file_state`: path, size, mtime, hash) is a term on the file's own release
  documents, so the manifest and the releases change in one Whoosh commit, which is atomic (a new TOC
  generation is renamed into place). A build killed at any moment leaves the last committed state.
- A rebuild writes all new segments and commits them with `CLEAR`: until that commit the old index stays.
- A file that cannot be read keeps its previously indexed releases (and is reported), and so do files
  under a folder that cannot be listed.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from whoosh import index as whoosh_index
from whoosh import writing

from .errors import IndexLockedError, IndexWriteError, UnreadableFileError
from .models import FileFailure, FileReport, Release, UpdateSummary
from .reader import read_file, scan_documents
from .schema import text_sections, to_datetime
from .whoosh_internals import sweep_leftovers

Progress = Callable[[int, int], None]
"""Called as `progress(done, total)`, in bytes of document files, while an update runs."""

LOCK_FILE = ".statementsearch-writer.lock"
# Above this many bytes of files to (re)read, a build uses Whoosh's multi-process writer: forking
# worker processes costs about a second, which only pays off for large batches.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# Memory for each writer's in-memory posting pool before it spills sorted runs to disk.
WRITER_LIMIT_MB = 1536


@dataclass(frozen=True)
class FileState:
    """What the index knows of one documents file."""

    path: str
    size: int
    mtime_ns: int
    file_hash: str

    def encode(self) -> str:
        return f"{self.path}\t{self.size}\t{self.mtime_ns}\t{self.file_hash}"

    @classmethod
    def decode(cls, text: str) -> FileState:
        path, size, mtime_ns, file_hash = text.rsplit("\t", 3)
        return cls(path, int(size), int(mtime_ns), file_hash)


def load_manifest(ix: Any) -> dict[str, FileState]:
    """The state of every file with live releases in the index, read from the `file_state` terms."""
    manifest: dict[str, FileState] = {}
    with ix.reader() as reader:
        if "file_state" not in reader.indexed_field_names():
            return manifest
        deletions = reader.has_deletions()
        for term in reader.lexicon("file_state"):
            if deletions and not reader.postings("file_state", term).is_active():
                continue
            state = FileState.decode(term.decode("utf-8"))
            manifest[state.path] = state
    return manifest


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
class _Plan:
    """What an update has to do, decided from the manifest and a scan, before anything is read."""

    to_read: list[tuple[Path, str, os.stat_result]]
    unchanged: int
    removed: list[str]
    failures: list[FileFailure]
    total_bytes: int


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def plan_update(root: Path, manifest: dict[str, FileState]) -> _Plan:
    """Compare the documents folder with the manifest: size and mtime decide what needs reading."""
    paths, failures = scan_documents(root)
    unlisted_root = [f for f in failures if f.path == root.as_posix()]
    if unlisted_root:
        # Nothing can be known about the files: treating them as removed would empty the index.
        raise UnreadableFileError(f"cannot read documents folder {root}: {unlisted_root[0].reason}")
    to_read: list[tuple[Path, str, os.stat_result]] = []
    seen: set[str] = set()
    unchanged = 0
    for path in paths:
        rel = _relative(path, root)
        seen.add(rel)
        try:
            st = path.stat()
        except OSError as exc:
            failures.append(FileFailure(rel, exc.strerror or str(exc)))
            continue
        old = manifest.get(rel)
        if old is not None and old.size == st.st_size and old.mtime_ns == st.st_mtime_ns:
            unchanged += 1
        else:
            to_read.append((path, rel, st))
    # Files under a folder that could not be listed are not "removed": we do not know.
    unlisted = [_relative(Path(f.path), root).rstrip("/") + "/" for f in failures]
    removed = [
        rel for rel in manifest if rel not in seen and not any(rel.startswith(prefix) for prefix in unlisted)
    ]
    # Files that vanished or failed to stat keep their releases too.
    failed_paths = {f.path for f in failures}
    removed = [rel for rel in removed if rel not in failed_paths]
    total = sum(st.st_size for _, _, st in to_read)
    return _Plan(to_read, unchanged, removed, failures, total)


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

    With `deduplicate`, each release written joins the near-duplicate group of an earlier one (of this
    run, or already in the index) whose text is nearly the same; see `dedup`.
    """
    started = time.perf_counter()
    sweep_leftovers(ix)
    manifest = {} if rebuild else load_manifest(ix)
    plan = plan_update(root, manifest)
    if not (rebuild or plan.to_read or plan.removed):
        # Nothing to do: no writer at all (a cancelled one leaves empty segment files behind).
        return UpdateSummary(
            unchanged=plan.unchanged,
            failed=len(plan.failures),
            failures=tuple(plan.failures),
            seconds=time.perf_counter() - started,
        )
    counter = _Counter(plan.total_bytes, progress)
    parallel = plan.total_bytes >= PARALLEL_MIN_BYTES
    replaced = {rel for _, rel, _ in plan.to_read} | set(plan.removed)
    grouper = _Grouper(None if rebuild else ix, replaced) if deduplicate else None
    writer = _open_writer(ix, procs, parallel)
    counts = {"added": 0, "changed": 0, "written": 0, "deleted": 0, "touched": 0}
    warnings: list[str] = []
    failures = list(plan.failures)
    try:
        for path, rel, st in plan.to_read:
            report = read_file(path, root)
            warnings.extend(f"{rel}: {w}" for w in report.warnings)
            if report.error is not None:
                failures.append(FileFailure(rel, report.error))
                counter.advance(st.st_size)
                continue
            old = manifest.get(rel)
            _write_file(writer, report, rel, st, old, counts, counter, grouper)
        for rel in plan.removed:
            counts["deleted"] += writer.delete_by_term("path", rel)
        changed_anything = counts["written"] or counts["deleted"] or rebuild
        if changed_anything:
            writer.commit(mergetype=writing.CLEAR if rebuild else None)
        else:
            writer.cancel()
    except BaseException as exc:
        with contextlib.suppress(Exception):
            writer.cancel()
        if grouper is not None:
            grouper.close()
        if isinstance(exc, OSError):
            raise IndexWriteError(f"cannot write index at {ix.storage.folder}: {_os_reason(exc)}") from exc
        raise
    if grouper is not None:
        grouper.close()
    return UpdateSummary(
        added=counts["added"],
        changed=counts["changed"],
        removed=len(plan.removed),
        unchanged=plan.unchanged + counts["touched"],
        failed=len(failures),
        releases_written=counts["written"],
        releases_deleted=counts["deleted"],
        seconds=time.perf_counter() - started,
        rebuilt=rebuild,
        failures=tuple(failures),
        warnings=tuple(warnings),
    )


def _write_file(
    writer: Any,
    report: FileReport,
    rel: str,
    st: os.stat_result,
    old: FileState | None,
    counts: dict[str, int],
    counter: _Counter,
    grouper: _Grouper | None,
) -> None:
    """Replace one file's releases (a touched file, same hash, is rewritten only to record its mtime)."""
    if old is None:
        counts["added"] += 1
    elif old.file_hash == report.file_hash:
        counts["touched"] += 1
    else:
        counts["changed"] += 1
    if old is not None:
        counts["deleted"] += writer.delete_by_term("path", rel)
    state = FileState(rel, st.st_size, st.st_mtime_ns, report.file_hash).encode()
    releases = report.releases
    step = st.st_size / max(len(releases), 1)
    for release in releases:
        group = grouper.group(release) if grouper is not None else None
        writer.add_document(**release_document(release, state, group))
        counts["written"] += 1
        counter.advance(step)


class _Grouper:
    """Near-duplicate groups for the releases one update writes.

    Earlier releases of the same run are remembered by `dedup.GroupAssigner`; releases already in the
    index are found through their anchor terms (at most `MAX_CANDIDATES` per release), except those of
    files this update replaces or removes.
    """

    MAX_CANDIDATES = 64

    def __init__(self, ix: Any | None, replaced: set[str]) -> None:
        from .dedup import GroupAssigner

        self.assigner = GroupAssigner()
        self.replaced = replaced
        self.searcher = ix.searcher() if ix is not None and not ix.is_empty() else None

    def group(self, release: Release) -> Grouping:
        from .dedup import encode, fingerprint

        fp = fingerprint(release.title, release.body)
        if fp is None:
            return Grouping(release.id)
        group = self.assigner.assign(release.id, fp, self._indexed(fp.anchors))
        return Grouping(group, fp.anchors, encode(fp))

    def _indexed(self, anchors: tuple[str, ...]) -> Iterator[tuple[str, str, Any]]:
        if self.searcher is None:
            return
        from whoosh.query import Or, Term

        from .dedup import decode

        docnums = self.searcher.docs_for_query(Or([Term("anchors", a) for a in anchors]))
        for docnum in itertools.islice(docnums, self.MAX_CANDIDATES):
            stored = self.searcher.stored_fields(docnum)
            if stored.get("path") in self.replaced or not stored.get("fingerprint"):
                continue
            try:
                yield stored["id"], stored["group"], decode(stored["fingerprint"])
            except (KeyError, ValueError):
                continue

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
            self.searcher = None


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device (the index is unchanged)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{exc.strerror} (the index is unchanged)"
    return f"{exc.strerror or exc} (the index is unchanged)"
