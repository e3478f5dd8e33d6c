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
    title: str = ""


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
    missing: tuple[str, ...] = ()
    """Words of the query this release does not hold (a relaxed query, or a list filled past the
    matches); empty for a release that matches the query as read."""

    def to_dict(self) -> dict[str, Any]:
        """The `search --json` shape (one JSON object per hit)."""
        return {
            "rank": self.rank,
            "score": self.score,
            "id": self.id,
            "title": self.title,
            "issuer": self.issuer,
            "date": self.date,
            "path": self.path,
            "snippet": self.snippet,
            "highlights": [list(span) for span in self.highlights],
            "duplicates": [
                {"id": d.id, "issuer": d.issuer, "date": d.date, "title": d.title} for d in self.duplicates
            ],
            "missing": list(self.missing),
        }


@dataclass(frozen=True)
class IssuerCount:
    issuer: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    """A page of hits plus what describes the whole result set."""

    query: str
    total: int
    """Number of results: matching releases, one per near-duplicate group when collapsing (all pages)."""
    hits: tuple[Hit, ...]
    issuers: tuple[IssuerCount, ...] = ()
    """Issuer facet counts over the whole result set (releases), most frequent first."""
    suggestion: str | None = None
    """A did-you-mean rewrite of the query, when a word as typed does not occur in the index."""
    seconds: float = 0.0
    offset: int = 0
    limit: int = 10
    releases: int = 0
    """Matching releases, re-issues included (equals `total` when not collapsing)."""
    words: tuple[str, ...] = ()
    """The query's words as typed (not phrases, `field:` terms or exclusions), in order."""
    min_words: int = 0
    """How many of `words` a release must hold to match (all of them for up to three words)."""
    reading: str = ""
    """How the query was read, for people: "all of: quds, force", "at least 3 of 4 words: ..."."""
    relaxed: tuple[str, ...] = ()
    """Query words the hits are not all required to hold: no release held every word, and the query
    was answered with the releases that hold most of them. Empty when answered as written."""
    phrase: str | None = None
    """The query as a "quoted phrase", offered when its words stand side by side in most top hits."""
    notes: tuple[str, ...] = ()
    """What else was said about how the query was read (a wildcard cut to its most frequent words, an
    unclosed quote read to the end)."""


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
