"""One exception family, so a caller (and the CLI) can catch exactly the errors a user can cause.

Every message is written to be printed as it is: it names the value, file or index at fault.
Anything outside this family is a bug and should surface with its traceback, but for what decoding a
damaged index file raises, which becomes `IndexCorruptError` (`unreadable`, and the tuples below).
"""

from __future__ import annotations


class StatementSearchError(Exception):
    """Base of every error a user can cause (bad query, bad date, unusable index, unreadable file)."""


class QueryError(StatementSearchError):
    """The query text cannot be parsed, or would be unbounded (e.g. a wildcard matching too many words)."""


class DateError(StatementSearchError, ValueError):
    """A date given by the user does not parse or is out of range."""


class IndexMissingError(StatementSearchError):
    """There is no index at the given location."""


class IndexCorruptError(StatementSearchError):
    """The index exists but cannot be read."""


class IndexLockedError(StatementSearchError):
    """Another live process is writing the index."""


class IndexWriteError(StatementSearchError):
    """The index location cannot be written (permissions, disk full, read-only file system)."""


class ReleaseNotFoundError(StatementSearchError, KeyError):
    """No release has the given id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "release not found"


class UnreadableFileError(StatementSearchError):
    """A documents file cannot be read at all (binary, empty, broken encoding, no release in it)."""


# ---------------------------------------------------------------------------------------------- damage


def read_damage_errors() -> tuple[type[BaseException], ...]:
    """What a search meeting a damaged file raises: `damage_errors()`, and IndexError, as damaged
    postings or term entries name documents past a segment's end, which the ranker meets as an index
    into that segment's lengths or dates (`tests/test_index.py` overwrites a segment at random)."""
    return (*damage_errors(), IndexError)


def unreadable(what: str, exc: BaseException) -> IndexCorruptError:
    """The error for an index (or a shard: `what` names it) whose files cannot be read, in one line
    (a decoder's own message may hold line breaks)."""
    reason = " ".join(str(exc).split())
    return IndexCorruptError(
        f"{what} cannot be read ({type(exc).__name__}: {reason}); "
        "rebuild it with `statementsearch index --rebuild`"
    )


def damage_errors() -> tuple[type[BaseException], ...]:
    """What reading a damaged or vanished index file raises: the decoders' own errors and the file
    system's, never a user's (a bad query or date raises this package's errors, which pass through)."""
    return (OSError, *decoding_errors())


def decoding_errors() -> tuple[type[BaseException], ...]:
    """What decoding a damaged index file raises (a term's bytes that are no UTF-8 among them: the index
    writes only valid UTF-8 terms, and a documents file's bad bytes are that file's error, never these)."""
    import pickle
    import struct
    import zlib

    from whoosh.reading import CorruptIndexError

    from .block_layout import DamagedBlockError

    return (
        EOFError,
        UnicodeDecodeError,
        struct.error,
        zlib.error,
        pickle.UnpicklingError,
        CorruptIndexError,
        DamagedBlockError,
    )
