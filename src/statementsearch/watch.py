"""Keeping an index current while files in the documents folder are added, changed or removed.

The folder is watched with `watchfiles` (a maintained, OS-native watcher: inotify on Linux), whose events
are debounced: a burst of saves becomes one batch. Each batch runs an ordinary incremental update, which
compares the folder with the manifest in the index, so a missed or duplicated event cannot make the index
wrong: at worst an update finds nothing to do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from .models import UpdateSummary
from .reader import is_document_file


class Updatable(Protocol):
    """An index that can be brought up to date with a documents folder (sharded or not)."""

    def update(self, documents: Path, *, wait: float = ...) -> UpdateSummary: ...


DEBOUNCE_MS = 400


def _relevant(change: tuple[object, str]) -> bool:
    """Document files and folders (a removed folder takes its files with it); not hidden files."""
    path = Path(change[1])
    return not path.name.startswith(".") and (is_document_file(path) or not path.suffix)


def watch(
    ix: Updatable,
    documents: Path,
    *,
    on_update: Callable[[UpdateSummary], None] | None = None,
    stop: threading.Event | None = None,
    debounce_ms: int = DEBOUNCE_MS,
    wait: float = 30.0,
) -> UpdateSummary:
    """Update the index now, then after every batch of changes until `stop` is set (or Ctrl-C).

    Returns the first update's summary; `on_update` receives every summary, the first included.
    """
    from watchfiles import watch as watch_changes

    first = ix.update(documents, wait=wait)
    if on_update is not None:
        on_update(first)
    stop = stop or threading.Event()
    for changes in watch_changes(
        documents, debounce=debounce_ms, stop_event=stop, rust_timeout=500, yield_on_timeout=False
    ):
        if not any(_relevant(change) for change in changes):
            continue
        summary = ix.update(documents, wait=wait)
        if on_update is not None:
            on_update(summary)
    return first
