"""One exception family, so a caller (and the CLI) can catch exactly the errors a user can cause.

Every message is written to be printed as it is: it names the value, file or index at fault.
Anything outside this family is a bug and should surface with its traceback.
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
