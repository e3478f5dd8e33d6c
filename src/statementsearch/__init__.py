"""statementsearch: full-text search over official statements (government, military, agency releases).

    >>> from statementsearch import StatementIndex
    >>> ix = StatementIndex.open("index", create=True)
    >>> ix.update("documents")                     # doctest: +SKIP
    >>> result = ix.search("soleimani", since="2020")  # doctest: +SKIP

The public names below are imported lazily (PEP 562), so `import statementsearch` and the command line
start without loading Whoosh.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "StatementIndex": "index",
    "Release": "models",
    "Hit": "models",
    "SearchResult": "models",
    "UpdateSummary": "models",
    "IndexStats": "models",
    "IssuerCount": "models",
    "Duplicate": "models",
    "FileReport": "models",
    "FileFailure": "models",
    "StatementSearchError": "errors",
    "QueryError": "errors",
    "DateError": "errors",
    "IndexMissingError": "errors",
    "IndexCorruptError": "errors",
    "IndexLockedError": "errors",
    "IndexWriteError": "errors",
    "ReleaseNotFoundError": "errors",
    "UnreadableFileError": "errors",
    "read_file": "reader",
    "read_paths": "reader",
    "render_ansi": "highlight",
    "render_brackets": "highlight",
    "render_html": "highlight",
}

__all__ = [
    "DateError",
    "Duplicate",
    "FileFailure",
    "FileReport",
    "Hit",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexMissingError",
    "IndexStats",
    "IndexWriteError",
    "IssuerCount",
    "QueryError",
    "Release",
    "ReleaseNotFoundError",
    "SearchResult",
    "StatementIndex",
    "StatementSearchError",
    "UnreadableFileError",
    "UpdateSummary",
    "read_file",
    "read_paths",
    "render_ansi",
    "render_brackets",
    "render_html",
]

if TYPE_CHECKING:
    from .errors import (
        DateError,
        IndexCorruptError,
        IndexLockedError,
        IndexMissingError,
        IndexWriteError,
        QueryError,
        ReleaseNotFoundError,
        StatementSearchError,
        UnreadableFileError,
    )
    from .highlight import render_ansi, render_brackets, render_html
    from .index import StatementIndex
    from .models import (
        Duplicate,
        FileFailure,
        FileReport,
        Hit,
        IndexStats,
        IssuerCount,
        Release,
        SearchResult,
        UpdateSummary,
    )
    from .reader import read_file, read_paths


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'statementsearch' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
