"""The file manifest: what the index holds of each documents file, and what the last update saw on disk.

Two records, with different guarantees:

- **In the index**, each release document carries its file's path and content hash as one `file_state`
  term (`state_term`). The term changes with the releases in one Whoosh commit, which is atomic, so it is
  always exactly right: a file's releases are those of the content with that hash.
- **Beside the index**, a small JSON file (`SEEN_FILE`) remembers the size and mtime at which each file
  was last seen with its hash, and the files that could not be read, with the reason. It is a cache:
  an entry counts only while its hash is the one in the index, so an entry left stale (by a run killed
  between its commit and this file, or by anything else) costs one read and hash of the file, never a
  wrong skip. A touched file (new mtime, same bytes) therefore changes this file alone: its releases
  are not rewritten and no Whoosh writer is opened. It is replaced atomically (written beside, renamed)
  under the writer lock, and only when its content changes: an update with nothing to do writes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .models import FileFailure

__all__ = [
    "SEEN_FILE",
    "FileState",
    "SeenFailure",
    "SeenFiles",
    "indexed_files",
    "load_manifest",
    "load_seen",
    "save_seen",
    "state_term",
    "sweep_seen_leftovers",
    "unreadable_files",
]

SEEN_FILE = ".statementsearch-files.json"
SEEN_VERSION = 1
UNKNOWN = -1
"""Size and mtime of a file whose stat the cache does not hold: no real stat equals it, so it is read."""


@dataclass(frozen=True)
class FileState:
    """What is known of one documents file: its name (as ids give it), stat and content hash."""

    path: str
    size: int
    mtime_ns: int
    file_hash: str

    def matches(self, st: os.stat_result) -> bool:
        """Same size and mtime: taken as unchanged without reading (as make and rsync do)."""
        return self.size == st.st_size and self.mtime_ns == st.st_mtime_ns


@dataclass(frozen=True)
class SeenFailure:
    """A file that could not be read or indexed: its stat and hash then (-1 and '' when unknown) and why.

    An equal failure in the next update means the file is unchanged and fails the same way: it is
    counted, not reported again.
    """

    size: int
    mtime_ns: int
    file_hash: str
    reason: str

    @classmethod
    def of(cls, reason: str, st: os.stat_result | None = None, file_hash: str = "") -> SeenFailure:
        if st is None:
            return cls(UNKNOWN, UNKNOWN, file_hash, reason)
        return cls(st.st_size, st.st_mtime_ns, file_hash, reason)


@dataclass(frozen=True)
class SeenFiles:
    """The content of `SEEN_FILE`: stats of indexed files, and the files that failed, by name."""

    files: dict[str, FileState] = field(default_factory=dict)
    failures: dict[str, SeenFailure] = field(default_factory=dict)


def state_term(path: str, file_hash: str) -> str:
    """The `file_state` term of a file's releases."""
    return f"{path}\t{file_hash}"


def indexed_files(ix: Any) -> dict[str, str]:
    """Name -> content hash of every file with live releases in the index (its `file_state` terms).

    Read a segment at a time: a term can only be dead (all its documents deleted) in a segment with
    deletions, and there only the terms of the files whose documents were deleted are checked. Checking
    every term through the whole index's reader cost a second per 10,000 files on every update.
    """
    hashes: dict[str, str] = {}
    with ix.reader() as reader:
        for segment, _ in reader.leaf_readers():
            if "file_state" not in segment.indexed_field_names():
                continue
            doubtful = _paths_with_deletions(segment)
            for term in segment.lexicon("file_state"):
                path, file_hash = term.decode("utf-8").rsplit("\t", 1)
                if path in doubtful and not segment.postings("file_state", term).is_active():
                    continue
                hashes[path] = file_hash
    return hashes


def _paths_with_deletions(segment: Any) -> set[str]:
    """The files that have deleted documents in this segment (their stored fields are still there)."""
    if not segment.has_deletions():
        return set()
    live = set(segment.all_doc_ids())
    deleted = (docnum for docnum in range(segment.doc_count_all()) if docnum not in live)
    return {segment.stored_fields(docnum).get("path", "") for docnum in deleted}


def load_manifest(ix: Any, seen: SeenFiles | None = None) -> dict[str, FileState]:
    """Every file with live releases in the index, with the stat the cache holds for that content."""
    if seen is None:
        seen = load_seen(Path(ix.storage.folder))
    manifest: dict[str, FileState] = {}
    for path, file_hash in indexed_files(ix).items():
        cached = seen.files.get(path)
        valid = cached is not None and cached.file_hash == file_hash
        manifest[path] = cached if valid and cached else FileState(path, UNKNOWN, UNKNOWN, file_hash)
    return manifest


def load_seen(index_dir: Path) -> SeenFiles:
    """The cache beside the index; empty when it is missing, unreadable or of another version."""
    try:
        data = json.loads((index_dir / SEEN_FILE).read_text(encoding="utf-8"))
        if data.get("version") != SEEN_VERSION:
            return SeenFiles()
        files = {path: FileState(path, *entry) for path, entry in data["files"].items()}
        failures = {path: SeenFailure(*entry) for path, entry in data["failures"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return SeenFiles()
    return SeenFiles(files, failures)


def save_seen(index_dir: Path, seen: SeenFiles) -> None:
    """Replace the cache atomically. A failure to write it is ignored: it only costs the next update a
    re-read of touched files, and unreadable files being named once more."""
    data = {
        "version": SEEN_VERSION,
        "files": {path: [s.size, s.mtime_ns, s.file_hash] for path, s in sorted(seen.files.items())},
        "failures": {
            path: [f.size, f.mtime_ns, f.file_hash, f.reason] for path, f in sorted(seen.failures.items())
        },
    }
    target = index_dir / SEEN_FILE
    temporary = target.with_name(f"{SEEN_FILE}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, target)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()


def sweep_seen_leftovers(index_dir: Path) -> None:
    """Remove temporary copies of the cache a killed writer left (call it under the writer lock)."""
    for leftover in index_dir.glob(f"{SEEN_FILE}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def unreadable_files(index_dir: Path) -> tuple[FileFailure, ...]:
    """The files the last update could not read or index, with the reason (for `stats`)."""
    failures = load_seen(index_dir).failures
    return tuple(FileFailure(path, failure.reason) for path, failure in sorted(failures.items()))
