"""Frozen dataclasses that cross module borders: what the reader yields and what a search returns.

Results (`Hit`, `SearchResult`, `UpdateSummary`, `IndexStats`) hold only str/int/float/None, tuples and
nested dataclasses, so `json.dumps(dataclasses.asdict(result))` works in an embedding application.
Dates in results are ISO strings (`"2020-01-03"`) for that reason; `Release.date` stays a `datetime.date`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Release:
    """One official statement as read from a documents file."""

    id: str
    title: str
    issuer: str
    date: date | None
    body: str
    path: str
    """The file it came from, relative to the documents folder (POSIX separators; a name that is not
    UTF-8 or holds control characters escaped as `%XX`, see `reader`)."""
    position: int
    """1-based position of the release within its file."""
    content_hash: str
    """Hash of title, issuer, date and body: equal hashes mean the same release text."""
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The `parse --json` / `show --json` shape."""
        return {
            "path": self.path,
            "position": self.position,
            "id": self.id,
            "title": self.title,
            "issuer": self.issuer,
            "date": self.date.isoformat() if self.date else None,
            "body": self.body,
        }


@dataclass(frozen=True)
class FileReport:
    """What reading one file gave: its releases, warnings (kept releases with a problem), or an error."""

    path: str
    releases: tuple[Release, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None
    """Set when the file could not be read at all; the message names the reason (not the path)."""
    file_hash: str = ""
    """Hash of the file's bytes, used by the indexer to confirm a change."""


@dataclass(frozen=True)
class FileFailure:
    """A file that could not be read or indexed, with the reason."""

    path: str
    reason: str
    repeated: bool = False
    """The previous update failed on this file the same way, and it is unchanged since (same size,
    mtime and hash): the CLI counts it instead of repeating the message."""


@dataclass(frozen=True)
class Duplicate:
    """Another release of the same near-duplicate group as a hit."""

    id: str
    issuer: str
    date: str | None


@dataclass(frozen=True)
class Hit:
    """One ranked release of a search, with its snippet and where the matched words are in it."""

    rank: int
    score: float
    id: str
    title: str
    issuer: str
    date: str | None
    path: str
    snippet: str
    highlights: tuple[tuple[int, int], ...]
    """[start, end) character spans of matched words inside `snippet`."""
    title_highlights: tuple[tuple[int, int], ...] = ()
    """[start, end) character spans of matched words inside `title`."""
    duplicates: tuple[Duplicate, ...] = ()


@dataclass(frozen=True)
class IssuerCount:
    issuer: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    """A page of hits plus what describes the whole result set."""

    query: str
    total: int
    """Number of matching releases (all pages; after collapsing duplicates when collapsing)."""
    hits: tuple[Hit, ...]
    issuers: tuple[IssuerCount, ...] = ()
    """Issuer facet counts over the whole result set, most frequent first."""
    suggestion: str | None = None
    """A did-you-mean rewrite of the query, when a word as typed does not occur in the index."""
    seconds: float = 0.0
    offset: int = 0
    limit: int = 10


@dataclass(frozen=True)
class TimelineBucket:
    """Matching releases in one period: "2020-01" (month) or "2020" (year)."""

    period: str
    count: int


@dataclass(frozen=True)
class UpdateSummary:
    """What a build or an update did."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: int = 0
    releases_written: int = 0
    releases_deleted: int = 0
    seconds: float = 0.0
    rebuilt: bool = False
    failures: tuple[FileFailure, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexStats:
    releases: int
    files: int
    issuers: int
    top_issuers: tuple[IssuerCount, ...]
    first_date: str | None
    last_date: str | None
    size_bytes: int
    segments: int
    last_update: str | None
    path: str = field(default="")
    unreadable: tuple[FileFailure, ...] = ()
    """The files the last update could not read or index (their old releases, if any, are kept)."""
