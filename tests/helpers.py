"""Small helpers shared by test modules: the seed's names, waiting for a condition, stopping processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from render import release_text
from statementsearch import StatementIndex
from statementsearch.reader import read_file

REPO = Path(__file__).resolve().parents[1]
SEED_NAME = "000_fb62ce4d62dc1888.txt"
SEED = REPO / "documents" / SEED_NAME
DOD = f"{SEED_NAME}#1"
"""The seed's first release: a DoD briefing on the strike on Soleimani (Jan. 3, 2020)."""
CJTF = f"{SEED_NAME}#2"
"""The seed's second release: a CJTF-OIR statement on the Defeat Daesh mission (Jan. 5, 2020)."""

SPEIER = "Jackie Speier (D-CA)"
"""An office of congress-press whose site's "About Jackie" box is all that was scraped of 48 of its 74
releases: their bodies are one text."""
SPEIER_FURNITURE = ("cp-1f621ba8411efd8b", "cp-20d5b4d486a36c63")
"""Two of those: "Statement: Congresswoman Speier on Vote to Avert the Fiscal Cliff" and "Advisory:
Congresswoman Speier to Hold 2nd VA Fix-It Event". One body, two statements."""
SPEIER_FULL = "cp-546fd8e7454da713"
"""The Fix-It advisory with its text: a release of its own, which a re-post (`render.reposted`) joins."""

STOP_SECONDS = 10.0
Spawn = Callable[..., "subprocess.Popen[str]"]
"""The `spawn` fixture: `spawn(args, **popen_kwargs)` starts a process that the test's end stops."""


def poll(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    """Wait for a condition with a deadline (no fixed sleeps in assertions)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def stop(process: subprocess.Popen[str] | subprocess.Popen[bytes], group: bool = False) -> None:
    """Kill `process` if it still runs, reap it, and close its pipes. With `group` (it was started with
    `start_new_session=True`), whatever is left of its process group is killed too, even when the
    process itself has ended: children it left behind."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:
            os.killpg(process.pid, signal.SIGKILL)
        elif process.poll() is None:
            process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_SECONDS)
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def hit_ids(ix: StatementIndex, query: str, **kwargs: Any) -> list[str]:
    """The ids of a search's hits, in order."""
    return [hit.id for hit in ix.search(query, **kwargs).hits]


def reissue_of_dod(issuer: str, issued: str) -> str:
    """The seed's DoD release re-issued: a new header line, another issuer and date, same text."""
    dod = read_file(SEED).releases[0]
    return release_text("REPOST: " + dod.title, issuer, issued, "Re-posted statement.\n\n" + dod.body)


def repost_cjtf(ix: StatementIndex, docs: Path) -> str:
    """CJTF's statement re-issued by another command in `docs/repost.txt`, indexed; the repost's id."""
    cjtf = ix.show(CJTF)
    (docs / "repost.txt").write_text(
        release_text(cjtf.title, "US Central Command", "Jan. 6, 2020", cjtf.body), encoding="utf-8"
    )
    ix.update(docs)
    return "repost.txt#1"


def vanishing_once(monkeypatch: Any, nth: int) -> list[str]:
    """Make the `nth` file the Whoosh storage opens from now on raise FileNotFoundError once, as when a
    commit by another process deletes the generation being opened at that instant; the names opened."""
    from whoosh.filedb.filestore import FileStorage

    opened: list[str] = []
    real_open = FileStorage.open_file

    def open_file(self: FileStorage, name: str, *args: object, **kwargs: object) -> object:
        opened.append(name)
        if len(opened) == nth:
            raise FileNotFoundError(2, "No such file or directory", name)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(FileStorage, "open_file", open_file)
    return opened
