"""Two whoosh3 (3.54) bugs that statementsearch works around, applied once before the first index opens.

Each is a small replacement of one Whoosh method, tested through the behaviour it fixes, and worth
reporting upstream:

- `AndNotMatcher` checks its first document against the excluded words only when the excluded list
  starts on that very document: when it starts earlier, `a -b` returns a first `a` that holds `b`
  (whoosh-community/whoosh#419). Fixed: check whenever both lists are active.
  (tests/test_ranking.py::test_an_excluded_word_excludes_the_first_match_too)
- `BufferFile` wraps each memory-mapped index file in a `BytesIO`, which copies it: every searcher
  (one per thread) read and held the whole index in memory, 0.4 s and ~580 MB per searcher on the
  85,000-release corpus. Fixed: a buffered reader over the mapping itself, which copies only what is
  read. (tests/test_ranking.py::test_a_searcher_does_not_copy_the_index_into_memory)
"""

from __future__ import annotations

import io
import threading
from typing import Any

_applied = False
_lock = threading.Lock()


def apply() -> None:
    """Install the fixes (idempotent, thread-safe)."""
    global _applied
    with _lock:
        if _applied:
            return
        _fix_and_not()
        _fix_buffer_file()
        _applied = True


def _fix_and_not() -> None:
    from whoosh.matching.binary import AndNotMatcher

    def find_first(self: Any) -> None:
        if self.a.is_active() and self.b.is_active():
            self._find_next()

    AndNotMatcher._find_first = find_first


class _ViewReader(io.RawIOBase):
    """A seekable raw reader over a memoryview; `readinto` copies only the bytes asked for."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view: memoryview | None = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        assert self._view is not None
        n = max(0, min(len(buffer), len(self._view) - self._pos))
        buffer[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        assert self._view is not None
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view = None  # let the owner release the view
        super().close()


def _fix_buffer_file() -> None:
    from whoosh.filedb.structfile import BufferFile

    original = BufferFile.__init__

    def init(self: Any, buf: Any, name: str | None = None, onclose: Any = None) -> None:
        original(self, b"" if isinstance(buf, memoryview) else buf, name, onclose)
        if isinstance(buf, memoryview):
            self._buf = buf
            self.file = io.BufferedReader(_ViewReader(buf), buffer_size=16 * 1024)

    BufferFile.__init__ = init
