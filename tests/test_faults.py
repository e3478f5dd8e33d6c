"""Faults: kill -9 at every stage of a build or an update, a read-only index, a full disk, unreadable files.

Each kill runs the indexer in a child process that SIGKILLs its own process group (or, as the OOM killer
does, only its main process) at a chosen point: after N bytes of documents (N releases written), while
deleting, while merging segments, just before or after the new table of contents (TOC) is renamed into
place, as the index folder is first created. Afterwards the index must open and hold exactly the
state before the run or the state after it (never one file's new releases mixed with its stale ones), and
the next `statementsearch index` must bring it to exactly the documents on disk, as a fresh index has them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import Spawn
from render import release_text
from statementsearch import IndexWriteError, StatementIndex
from statementsearch.cli import main
from statementsearch.index import MARKER_FILE
from statementsearch.indexer import LOCK_FILE
from statementsearch.manifest import SEEN_FILE
from statementsearch.models import Release
from statementsearch.reader import read_file, scan_documents

State = frozenset[tuple[str, str]]
"""An index's or a folder's releases as (id, content_hash) pairs."""

NEW_WORD = "yankee"
"""Only in the releases of files changed or added by the update."""

KILL_SCRIPT = r"""
import os, signal, sys

index_dir, docs, mode, point, arg = sys.argv[1:6]


def die(*args, **kwargs):
    if point.endswith("_parent"):  # this process only, as the OOM killer does
        os.kill(os.getpid(), signal.SIGKILL)
    os.killpg(os.getpgid(0), signal.SIGKILL)  # the whole group: Whoosh's worker processes too


def on_call(func, number):
    calls = [0]

    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] >= number:
            die()
        return func(*args, **kwargs)

    return wrapper


def then_die(func):
    def wrapper(*args, **kwargs):
        func(*args, **kwargs)
        die()

    return wrapper


def at_toc_rename(func, after):
    def wrapper(self, old, new, *args, **kwargs):
        if new.endswith(".toc") and not after:
            die()
        func(self, old, new, *args, **kwargs)
        if new.endswith(".toc") and after:
            die()

    return wrapper


from whoosh import index as whoosh_index, writing
from whoosh.filedb.filestore import FileStorage
from statementsearch import StatementIndex, indexer

W = writing.SegmentWriter
progress = None
if point.removesuffix("_parent") == "bytes":
    progress = lambda done, total: die() if done >= int(arg) else None
elif point == "delete":
    W.delete_by_term = on_call(W.delete_by_term, int(arg))
elif point == "merge":
    W.add_reader = on_call(W.add_reader, int(arg))
elif point == "commit_toc_before":
    W._commit_toc = die
elif point == "commit_toc_after":
    W._commit_toc = then_die(W._commit_toc)
elif point in ("toc_rename_before", "toc_rename_after"):
    FileStorage.rename_file = at_toc_rename(FileStorage.rename_file, point.endswith("after"))
elif point == "create_before_toc":
    whoosh_index.create_in = die
elif point == "create_after_toc":
    whoosh_index.create_in = then_die(whoosh_index.create_in)
else:
    raise SystemExit(f"unknown point {point}")
if mode == "parallel":
    indexer.PARALLEL_MIN_BYTES = 0
ix = StatementIndex.open(index_dir, create=True)
ix.update(docs, progress=progress, rebuild=mode == "rebuild", procs=2 if mode == "parallel" else 1)
print("finished without being killed")
"""


# ---------------------------------------------------------------------------------------------- documents


def write_doc(folder: Path, name: str, number: int, word: str, count: int) -> None:
    """A file of `count` releases whose titles and bodies name `word` (the version) and the file."""
    text = "".join(
        release_text(
            f"{word.title()} statement {number}.{part}",
            f"Agency {number % 4}",
            f"Jan. {1 + number % 27}, 2020",
            f"Forces in region {number} report {word} operations, part {part}. " * 30,
        )
        for part in range(count)
    )
    (folder / name).write_text(text, encoding="utf-8")


def write_v1(docs: Path, batch: int) -> None:
    """Batch `batch` (0-4) of the first version: 4 files of 1-3 releases each."""
    for number in range(batch * 4, batch * 4 + 4):
        write_doc(docs, f"a-{number:03}.txt", number, "zulu", 1 + number % 3)


def apply_v2(docs: Path) -> None:
    """The update: 6 files changed (other release counts), 4 removed, 10 added, 10 left alone."""
    for number in range(6):
        write_doc(docs, f"a-{number:03}.txt", number, NEW_WORD, 3 - number % 3)
    for number in range(16, 20):
        (docs / f"a-{number:03}.txt").unlink()
    for number in range(10):
        write_doc(docs, f"b-{number:03}.txt", 100 + number, NEW_WORD, 1 + number % 2)


def disk_releases(docs: Path) -> dict[str, Release]:
    files, failures = scan_documents(docs)
    assert failures == []
    return {r.id: r for path in files for r in read_file(path, docs).releases}


def state_of(releases: dict[str, Release]) -> State:
    return frozenset((r.id, r.content_hash) for r in releases.values())


def index_state(ix: StatementIndex) -> State:
    hits = ix.search("*", limit=10_000, collapse=False, facets=False).hits
    return frozenset((hit.id, ix.show(hit.id).content_hash) for hit in hits)


def word_hits(ix: StatementIndex, word: str) -> set[str]:
    return {hit.id for hit in ix.search(word, limit=10_000, collapse=False, facets=False).hits}


def files_of(state: State) -> set[str]:
    return {release_id.rsplit("#", 1)[0] for release_id, _ in state}


@dataclass(frozen=True)
class Versions:
    """The template folder (v1 documents and their index, in 5 segments) and what each version holds."""

    template: Path
    v1: dict[str, Release]
    v2: dict[str, Release]
    fresh_v2: State
    """What a fresh index built from the v2 documents holds."""


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Versions:
    template = tmp_path_factory.mktemp("template")
    docs = template / "documents"
    docs.mkdir()
    with StatementIndex.create(template / "index") as ix:
        for batch in range(5):  # 5 commits, 5 small segments: the update's commit merges them
            write_v1(docs, batch)
            ix.update(docs)
        assert ix.stats().segments == 5
    v1 = disk_releases(docs)
    scratch = tmp_path_factory.mktemp("v2")
    shutil.copytree(docs, scratch / "documents")
    apply_v2(scratch / "documents")
    v2 = disk_releases(scratch / "documents")
    with StatementIndex.create(scratch / "fresh") as fresh:
        fresh.update(scratch / "documents")
        fresh_v2 = index_state(fresh)
    assert fresh_v2 == state_of(v2) and state_of(v1) != state_of(v2)
    return Versions(template, v1, v2, fresh_v2)


@pytest.fixture
def place(tmp_path: Path, versions: Versions) -> Path:
    """A copy of the template (mtimes kept, so the manifest matches), its documents changed to v2."""
    shutil.copytree(versions.template, tmp_path / "place", copy_function=shutil.copy2)
    apply_v2(tmp_path / "place" / "documents")
    return tmp_path / "place"


RunKilled = Callable[..., None]


@pytest.fixture
def run_killed(place: Path, spawn: Spawn) -> RunKilled:
    """`run_killed(mode, point, arg=1)`: run the indexer on `place` in its own process group and check it
    was killed at the point (not finished). Whatever is left of the group (Whoosh's workers, when only
    the parent was killed) is killed when the test ends. Output goes to a file, not a pipe: a worker
    process that outlives its parent would keep a pipe open."""

    def run(mode: str, point: str, arg: int = 1) -> None:
        args = [str(place / "index"), str(place / "documents"), mode, point, str(arg)]
        with open(place / "killed.log", "w+") as log:
            process = spawn(
                [sys.executable, "-c", KILL_SCRIPT, *args], stdout=log, stderr=log, start_new_session=True
            )
            code = process.wait(timeout=120)
            log.seek(0)
            assert code == -9, f"not killed at {point}: {code} {log.read()}"

    return run


def bytes_to_read(docs: Path, mode: str, v1: dict[str, Release]) -> int:
    """The bytes the update will read: changed and new files, or every file for a (re)build."""
    unchanged = {r.path for r in v1.values() if r.path.startswith("a-") and int(r.path[2:5]) >= 6}
    return sum(
        p.stat().st_size
        for p in docs.glob("*.txt")
        if mode in ("build", "rebuild") or p.name not in unchanged
    )


def check_state(place: Path, expected: dict[str, Release]) -> None:
    """The index opens and holds exactly `expected`, in its stored fields and in its word index."""
    with StatementIndex.open(place / "index") as ix:
        assert index_state(ix) == state_of(expected)
        assert word_hits(ix, NEW_WORD) == {i for i, r in expected.items() if NEW_WORD in r.body}


def check_recovers(
    place: Path, versions: Versions, killed_inside_lock: bool = True, commits: bool = True
) -> None:
    """`statementsearch index` brings the index to exactly the documents; the dead writer's lock is no
    obstacle (and is reported as stale); when that update commits (the kill left the old state), no
    file of the killed run is left but a temporary TOC."""
    result = CliRunner().invoke(
        main, ["index", "--index", str(place / "index"), "--documents", str(place / "documents")]
    )
    assert result.exit_code == 0, result.output
    if killed_inside_lock:
        assert "cleared a stale lock" in result.stderr
    with StatementIndex.open(place / "index") as ix:
        assert index_state(ix) == versions.fresh_v2
        assert ix.stats().files == len(files_of(versions.fresh_v2))
        if commits:
            assert leftovers(ix, temporary_tocs=False) == []


def leftovers(ix: StatementIndex, temporary_tocs: bool = True) -> list[str]:
    """Files in the index folder that belong to no committed state: posting runs, temp folders, old
    segments (and, when `temporary_tocs`, TOCs that a killed commit never renamed into place)."""
    tocs = [p.name for p in ix.path.glob("_MAIN_*.toc")]
    segments = [p.name for p in ix.path.glob("MAIN_*.seg")]
    assert len(tocs) == 1 and len(segments) == ix.stats().segments, (tocs, segments)
    kept = {LOCK_FILE, SEEN_FILE, "MAIN_WRITELOCK", MARKER_FILE, *tocs, *segments}
    return sorted(
        p.name
        for p in ix.path.iterdir()
        if p.name not in kept and (temporary_tocs or not re.fullmatch(r"_MAIN_\d+\.toc\.[\d.]+", p.name))
    )


# ---------------------------------------------------------------------------------------------- kill -9

BYTE_FRACTIONS = {"update": (0.0, 0.25, 0.5, 0.75, 1.0), "rebuild": (0.0, 0.5, 1.0), "build": (0.0, 0.5, 1.0)}


@pytest.mark.parametrize(
    ("mode", "fraction"),
    [(mode, fraction) for mode, fractions in BYTE_FRACTIONS.items() for fraction in fractions],
)
def test_kill_after_n_bytes_leaves_the_previous_state(
    place: Path, versions: Versions, run_killed: RunKilled, mode: str, fraction: float
) -> None:
    """Killed after the first release, a quarter, half, three quarters, or all of the releases were
    written (before the deletions and the commit): the index is as before, and the next update finishes."""
    if mode == "build":
        shutil.rmtree(place / "index")
    total = bytes_to_read(place / "documents", mode, versions.v1)
    run_killed(mode, "bytes", max(1, int(total * fraction)))
    check_state(place, {} if mode == "build" else versions.v1)
    check_recovers(place, versions)


COMMIT_POINTS = [
    # (mode, point, call number, the state the kill leaves)
    ("update", "delete", 3, "before"),  # replacing the 3rd changed file's releases
    ("update", "delete", 9, "before"),  # deleting a removed file's releases
    ("update", "merge", 1, "before"),  # merging the 5 old segments during the commit
    ("update", "merge", 4, "before"),
    ("update", "commit_toc_before", 1, "before"),  # segments written, no TOC yet
    ("update", "toc_rename_before", 1, "before"),  # new TOC written under its temporary name
    ("update", "toc_rename_after", 1, "after"),  # new TOC in place, old files not yet cleaned
    ("update", "commit_toc_after", 1, "after"),  # committed, Whoosh's and our locks still held
    ("rebuild", "toc_rename_before", 1, "before"),
    ("rebuild", "toc_rename_after", 1, "after"),
    ("parallel", "bytes", 20_000, "before"),  # Whoosh's multi-process writer, workers killed too
    ("parallel", "commit_toc_before", 1, "before"),
    ("parallel", "toc_rename_after", 1, "after"),
]


@pytest.mark.parametrize(
    ("mode", "point", "number", "leaves"), COMMIT_POINTS, ids=[f"{m}-{p}-{n}" for m, p, n, _ in COMMIT_POINTS]
)
def test_kill_during_commit_leaves_one_whole_state(
    place: Path, versions: Versions, run_killed: RunKilled, mode: str, point: str, number: int, leaves: str
) -> None:
    run_killed(mode, point, number)
    check_state(place, versions.v1 if leaves == "before" else versions.v2)
    check_recovers(place, versions, commits=leaves == "before")


@pytest.mark.parametrize("point", ["create_before_toc", "create_after_toc"])
def test_kill_while_creating_the_index_leaves_a_folder_the_next_update_can_use(
    place: Path, versions: Versions, run_killed: RunKilled, point: str
) -> None:
    """Killed as the index folder is first created, before or after Whoosh writes its first TOC."""
    shutil.rmtree(place / "index")
    run_killed("build", point)
    check_recovers(place, versions, killed_inside_lock=False)


@pytest.mark.parametrize("point", ["toc_rename_before", "toc_rename_after"])
def test_killed_commit_leaves_no_file_after_the_next_update(
    place: Path, versions: Versions, run_killed: RunKilled, point: str
) -> None:
    run_killed("update", point)
    check_recovers(place, versions, commits=False)
    with StatementIndex.open(place / "index") as ix:
        assert leftovers(ix) == []


def test_parallel_build_killed_in_its_parent_only(
    place: Path, versions: Versions, run_killed: RunKilled
) -> None:
    """kill -9 of the main process alone (as the OOM killer does) while Whoosh's workers run: the index is
    as before, and the next update is right even if the orphaned workers are still writing."""
    run_killed("parallel", "bytes_parent", 20_000)
    check_state(place, versions.v1)
    check_recovers(place, versions)


def test_repeated_kills_then_update(place: Path, versions: Versions, run_killed: RunKilled) -> None:
    """Three killed runs in a row (at different points) still leave v1, and one update finishes."""
    total = bytes_to_read(place / "documents", "update", versions.v1)
    run_killed("update", "bytes", total // 3)
    run_killed("update", "toc_rename_before")
    run_killed("rebuild", "commit_toc_before")
    check_state(place, versions.v1)
    check_recovers(place, versions)


# ---------------------------------------------------------------------------------------------- read-only


def cli_index(place: Path, index_dir: Path | None = None) -> tuple[int, str]:
    index_dir = index_dir or place / "index"
    result = CliRunner().invoke(
        main, ["index", "--index", str(index_dir), "--documents", str(place / "documents")]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def assert_one_line_error(code: int, stderr: str, *words: str) -> None:
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("statementsearch: "), stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word.lower() in lines[0].lower(), stderr


def can_mount() -> str | None:
    """None when this process may mount a tmpfs, else the reason it may not."""
    if sys.platform != "linux" or shutil.which("mount") is None:
        return "needs Linux and mount(8)"
    if os.geteuid() != 0:
        return "needs root to mount a tmpfs (read-only and full-disk tests)"
    return None


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small mounted tmpfs (2 MiB), unmounted afterwards; skips where mounting is not permitted."""
    reason = can_mount()
    if reason:
        pytest.skip(reason)
    point = tmp_path / "tmpfs"
    point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(point)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False, timeout=60)


def remount(point: Path, options: str) -> None:
    subprocess.run(
        ["mount", "-o", f"remount,{options}", str(point)], check=True, capture_output=True, timeout=60
    )


def test_update_of_read_only_index_fails_clearly_and_keeps_it(
    place: Path, versions: Versions, tmpfs: Path
) -> None:
    """A read-only file system (chmod cannot stop root): exit 2, one line, and the index still serves."""
    shutil.copytree(place / "index", tmpfs / "index", copy_function=shutil.copy2)
    remount(tmpfs, "ro")
    code, stderr = cli_index(place, tmpfs / "index")
    assert_one_line_error(code, stderr, "read-only", str(tmpfs / "index"))
    with StatementIndex.open(tmpfs / "index") as ix:
        assert index_state(ix) == state_of(versions.v1)


def test_update_of_chmod_read_only_index_fails_clearly(place: Path, versions: Versions) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root, whom chmod does not stop (the read-only mount test covers root)")
    index_dir = place / "index"
    for path in [index_dir, *index_dir.iterdir()]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        code, stderr = cli_index(place)
    finally:
        for path in [index_dir, *index_dir.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert_one_line_error(code, stderr, "permission denied")
    check_state(place, versions.v1)


# ---------------------------------------------------------------------------------------------- disk full


def fill(folder: Path, leave: int) -> Path:
    """Fill the file system of `folder` until at most `leave` bytes are free."""
    filler = folder / "filler.bin"
    with open(filler, "wb") as handle:
        try:
            while True:
                free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
                if free <= leave:
                    break
                handle.write(b"\0" * min(65536, free - leave))
                handle.flush()
        except OSError:
            pass
    return filler


def test_update_on_nearly_full_disk_fails_clearly_and_keeps_the_index(
    place: Path, versions: Versions, tmpfs: Path
) -> None:
    """64 KiB free: the new segment does not fit. Exit 2, one line; the old index serves; once space is
    freed the next update completes."""
    shutil.copytree(place / "index", tmpfs / "index", copy_function=shutil.copy2)
    filler = fill(tmpfs, 64 * 1024)
    code, stderr = cli_index(place, tmpfs / "index")
    assert_one_line_error(code, stderr, "no space left on device")
    with StatementIndex.open(tmpfs / "index") as ix:
        assert index_state(ix) == state_of(versions.v1)
    filler.unlink()
    code, stderr = cli_index(place, tmpfs / "index")
    assert code == 0, stderr
    with StatementIndex.open(tmpfs / "index") as ix:
        assert index_state(ix) == versions.fresh_v2


def test_update_on_full_disk_fails_clearly_and_keeps_the_index(
    place: Path, versions: Versions, tmpfs: Path
) -> None:
    shutil.copytree(place / "index", tmpfs / "index", copy_function=shutil.copy2)
    fill(tmpfs, 0)
    code, stderr = cli_index(place, tmpfs / "index")
    assert_one_line_error(code, stderr, "no space left on device")
    with StatementIndex.open(tmpfs / "index") as ix:
        assert index_state(ix) == state_of(versions.v1)


def test_index_creation_on_full_disk_fails_clearly(place: Path, tmpfs: Path) -> None:
    fill(tmpfs, 0)
    code, stderr = cli_index(place, tmpfs / "index")
    assert_one_line_error(code, stderr)


# ---------------------------------------------------------------------------------------------- unreadable


def test_unreadable_file_keeps_its_releases(
    place: Path, versions: Versions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed file that cannot be opened (as root, the opener is made to refuse) keeps its old
    releases, is reported, and the rest of the update goes in."""
    import statementsearch.reader as reader

    def refuse(path: object, *args: object, **kwargs: object) -> object:
        if str(path).endswith("a-001.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(reader, "open", refuse, raising=False)
    with StatementIndex.open(place / "index") as ix:
        summary = ix.update(place / "documents")
        assert [(f.path, f.reason) for f in summary.failures] == [("a-001.txt", "permission denied")]
        kept = {i: r for i, r in versions.v2.items() if r.path != "a-001.txt"}
        kept |= {i: r for i, r in versions.v1.items() if r.path == "a-001.txt"}
        assert index_state(ix) == state_of(kept)
    monkeypatch.undo()
    check_recovers(place, versions, killed_inside_lock=False)


def test_unlistable_folder_keeps_its_files_releases(place: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files under a folder that cannot be listed are not taken for removed."""
    docs = place / "documents"
    (docs / "sub").mkdir()
    write_doc(docs / "sub", "c-000.txt", 300, "zulu", 2)
    with StatementIndex.open(place / "index") as ix:
        ix.update(docs)
        before = word_hits(ix, "zulu")
        assert {"sub/c-000.txt#1", "sub/c-000.txt#2"} <= before
        real_scandir = os.scandir

        def refuse(path: object) -> object:
            if str(path).endswith("sub"):
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)  # type: ignore[call-overload]

        monkeypatch.setattr(os, "scandir", refuse)
        summary = ix.update(docs)
        monkeypatch.undo()
        assert [(f.path, f.reason) for f in summary.failures] == [("sub", "permission denied")]
        assert word_hits(ix, "zulu") == before


def test_unlistable_documents_folder_fails_clearly_and_deletes_nothing(
    place: Path, versions: Versions, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_scandir = os.scandir
    docs = str(place / "documents")

    def refuse(path: object) -> object:
        if str(path) == docs:
            raise PermissionError(13, "Permission denied", docs)
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", refuse)
    code, stderr = cli_index(place)
    monkeypatch.undo()
    assert_one_line_error(code, stderr, "permission denied")
    check_state(place, versions.v1)


def test_documents_folder_missing_fails_clearly_and_deletes_nothing(place: Path, versions: Versions) -> None:
    shutil.rmtree(place / "documents")
    code, stderr = cli_index(place)
    assert_one_line_error(code, stderr, "does not exist")
    check_state(place, versions.v1)


def test_library_raises_index_write_error_on_read_only_mount(
    place: Path, versions: Versions, tmpfs: Path
) -> None:
    shutil.copytree(place / "index", tmpfs / "index", copy_function=shutil.copy2)
    remount(tmpfs, "ro")
    with StatementIndex.open(tmpfs / "index") as ix:
        with pytest.raises(IndexWriteError, match="Read-only file system"):
            ix.update(place / "documents")
        assert index_state(ix) == state_of(versions.v1)


def test_updates_with_nothing_to_do_leave_no_files_behind(place: Path) -> None:
    assert cli_index(place)[0] == 0
    before = sorted(p.name for p in (place / "index").iterdir())
    for _ in range(3):
        assert cli_index(place)[0] == 0
    assert sorted(p.name for p in (place / "index").iterdir()) == before
