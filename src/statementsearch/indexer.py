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
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from whoosh import index as whoosh_index
from whoosh import writing

from .dedup import Fingerprint, GroupEntry, assign_groups, decode, encode, fingerprint, is_duplicate
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

    With `deduplicate`, the files to write are read twice: first for the fingerprints, from which the
    near-duplicate groups are computed (`_Grouper`), then to write them with their groups. Groups are a
    function of the set of releases (`dedup.assign_groups`), so the first pass must see every new release
    before any is written; releases already in the index whose group the update changes are rewritten.
    `progress` counts the bytes of the second pass.
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
    failures = list(plan.failures)
    grouper = _Grouper.prepare(ix, root, plan, manifest, rebuild, failures) if deduplicate else None
    try:
        return _write(ix, root, plan, manifest, rebuild, procs, progress, grouper, failures, started)
    finally:
        if grouper is not None:
            grouper.close()


def _write(
    ix: Any,
    root: Path,
    plan: _Plan,
    manifest: dict[str, FileState],
    rebuild: bool,
    procs: int,
    progress: Progress | None,
    grouper: _Grouper | None,
    failures: list[FileFailure],
    started: float,
) -> UpdateSummary:
    """Write what the plan says in one Whoosh commit (or none, when nothing changed)."""
    counter = _Counter(plan.total_bytes, progress)
    parallel = plan.total_bytes >= PARALLEL_MIN_BYTES
    failed = {failure.path for failure in failures}
    writer = _open_writer(ix, procs, parallel)
    counts = {"added": 0, "changed": 0, "written": 0, "deleted": 0, "touched": 0}
    warnings: list[str] = []
    try:
        for path, rel, st in plan.to_read:
            if rel in failed:  # unreadable in the first pass: its old releases stay
                counter.advance(st.st_size)
                continue
            report = read_file(path, root)
            warnings.extend(f"{rel}: {w}" for w in report.warnings)
            error = report.error or (grouper.changed_since_read(rel, report) if grouper else None)
            if error is not None:
                failures.append(FileFailure(rel, error))
                counter.advance(st.st_size)
                continue
            old = manifest.get(rel)
            _write_file(writer, report, rel, st, old, counts, counter, grouper)
        for rel in plan.removed:
            counts["deleted"] += writer.delete_by_term("path", rel)
        if grouper is not None:
            rewritten = grouper.rewrite(writer, manifest)
            counts["written"] += rewritten
            counts["deleted"] += rewritten
        changed_anything = counts["written"] or counts["deleted"] or rebuild
        if changed_anything:
            writer.commit(mergetype=writing.CLEAR if rebuild else None)
        else:
            writer.cancel()
    except BaseException as exc:
        with contextlib.suppress(Exception):
            writer.cancel()
        if isinstance(exc, OSError):
            raise IndexWriteError(f"cannot write index at {ix.storage.folder}: {_os_reason(exc)}") from exc
        raise
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
        group = grouper.grouping(release.id) if grouper is not None else None
        writer.add_document(**release_document(release, state, group))
        counts["written"] += 1
        counter.advance(step)


class _Indexed(NamedTuple):
    """A release already in the index, as grouping reads it from its stored fields."""

    docnum: int
    entry: GroupEntry
    group: str
    fingerprint: str


class _Grouper:
    """Near-duplicate groups for one update, decided before anything is written.

    The groups are `dedup.assign_groups` over all releases, which only the releases linked by duplicate
    links to what changes can feel. So the update runs it over that part: the new releases, the index's
    members of the groups of the releases it deletes, and, repeatedly, every release in the index that is
    a duplicate (shares an anchor and `is_duplicate` accepts) of one taken so far. The index's releases of
    the files this update replaces or removes are left out: they are going. Those taken from the index
    whose group comes out different are rewritten from their stored fields; the others keep theirs.
    A rebuild has no index to consult: `assign_groups` runs over all new releases.
    """

    def __init__(self, ix: Any | None, replaced: set[str]) -> None:
        self.replaced = replaced
        self.searcher: Any = ix.searcher() if ix is not None and not ix.is_empty() else None
        self.new: dict[str, tuple[date | None, str]] = {}
        """id -> (date, encoded fingerprint or "") of each release this update writes."""
        self.file_hashes: dict[str, str] = {}
        self.groups: dict[str, str] = {}
        self.regrouped: list[tuple[int, str]] = []
        """(docnum, new group) of the index's releases whose group this update changes."""

    @classmethod
    def prepare(
        cls,
        ix: Any,
        root: Path,
        plan: _Plan,
        manifest: dict[str, FileState],
        rebuild: bool,
        failures: list[FileFailure],
    ) -> _Grouper:
        """Read the files to write (first pass), fingerprint their releases and decide every group."""
        read: set[str] = set()
        grouper = cls(None if rebuild else ix, set())
        try:
            for path, rel, _st in plan.to_read:
                report = read_file(path, root)
                if report.error is not None:
                    failures.append(FileFailure(rel, report.error))
                    continue
                read.add(rel)
                grouper.file_hashes[rel] = report.file_hash
                for release in report.releases:
                    grouper.add(release)
            grouper.replaced = (read & set(manifest)) | set(plan.removed)
            grouper.resolve()
        except BaseException:
            grouper.close()
            raise
        return grouper

    def add(self, release: Release) -> None:
        fp = fingerprint(release.title, release.body, release.date)
        self.new[release.id] = (release.date, encode(fp) if fp is not None else "")

    def changed_since_read(self, rel: str, report: FileReport) -> str | None:
        """Why a file read again for writing cannot be written now: it changed since the first pass."""
        if self.file_hashes.get(rel) == report.file_hash:
            return None
        return "changed while being indexed; the next update reads it again"

    def grouping(self, release_id: str) -> Grouping:
        """The group of a new release, with the anchors and fingerprint stored beside it."""
        _day, code = self.new.get(release_id, (None, ""))
        if not code:
            return Grouping(release_id)
        return Grouping(self.groups.get(release_id, release_id), decode(code).anchors, code)

    def resolve(self) -> None:
        """Decide the groups of the new releases and of every index release they can affect."""
        new = {
            release_id: GroupEntry(release_id, day, decode(code) if code else None)
            for release_id, (day, code) in self.new.items()
        }
        taken = self._connected(new) if self.searcher is not None else {}
        groups = assign_groups([*new.values(), *(indexed.entry for indexed in taken.values())])
        self.groups = {release_id: groups[release_id] for release_id in new}
        self.regrouped = [
            (indexed.docnum, groups[release_id])
            for release_id, indexed in taken.items()
            if groups[release_id] != indexed.group
        ]

    def _connected(self, new: dict[str, GroupEntry]) -> dict[str, _Indexed]:
        """The index's releases linked to the new ones or to the deleted ones by duplicate links."""
        taken: dict[str, _Indexed] = {}
        frontier = [entry.fingerprint for entry in new.values() if entry.fingerprint is not None]
        for indexed in self._members_of_deleted_groups():
            if indexed.entry.release_id not in new and indexed.entry.release_id not in taken:
                taken[indexed.entry.release_id] = indexed
                if indexed.entry.fingerprint is not None:
                    frontier.append(indexed.entry.fingerprint)
        while frontier:
            fp = frontier.pop()
            for indexed in self._sharing_an_anchor(fp):
                other = indexed.entry
                if other.release_id in new or other.release_id in taken or other.fingerprint is None:
                    continue
                if is_duplicate(fp, other.fingerprint):
                    taken[other.release_id] = indexed
                    frontier.append(other.fingerprint)
        return taken

    def _members_of_deleted_groups(self) -> Iterator[_Indexed]:
        from whoosh.query import Term

        groups = set()
        for path in sorted(self.replaced):
            for docnum in self.searcher.docs_for_query(Term("path", path)):
                groups.add(self.searcher.stored_fields(docnum).get("group", ""))
        for group in sorted(groups - {""}):
            yield from self._indexed(self.searcher.docs_for_query(Term("group", group)))

    def _sharing_an_anchor(self, fp: Fingerprint) -> Iterator[_Indexed]:
        from whoosh.query import Or, Term

        yield from self._indexed(self.searcher.docs_for_query(Or([Term("anchors", a) for a in fp.anchors])))

    def _indexed(self, docnums: Iterable[int]) -> Iterator[_Indexed]:
        """The index's releases among `docnums`, except those of replaced files."""
        for docnum in docnums:
            stored = self.searcher.stored_fields(docnum)
            if stored.get("path") in self.replaced:
                continue
            day = stored.get("date")
            code = stored.get("fingerprint") or ""
            try:
                fp = decode(code) if code else None
            except ValueError:  # damaged: the release is judged too short, and so is its own group
                fp, code = None, ""
            entry = GroupEntry(stored["id"], day.date() if isinstance(day, datetime) else None, fp)
            yield _Indexed(docnum, entry, stored.get("group") or stored["id"], code)

    def rewrite(self, writer: Any, manifest: dict[str, FileState]) -> int:
        """Rewrite the index's releases whose group changed, from their stored fields; how many."""
        for docnum, group in self.regrouped:
            stored = self.searcher.stored_fields(docnum)
            release = release_from_stored(stored)
            code = stored.get("fingerprint") or ""
            anchors = decode(code).anchors if code else ()
            writer.delete_by_term("id", release.id)
            state = manifest[release.path].encode()
            writer.add_document(**release_document(release, state, Grouping(group, anchors, code)))
        return len(self.regrouped)

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
            self.searcher = None


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
