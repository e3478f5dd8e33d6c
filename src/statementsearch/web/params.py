"""A search's parameters as the web pages and the API take them: read, bounded, and written back as links.

The library validates what it knows (the query's syntax and length, dates, the sort order) and raises
`QueryError`/`DateError` with a message fit to print; this module adds only what a URL can get wrong on
top of the CLI's options: a page or limit that is not a whole number, values out of range, parameters
repeated or too long. Everything here raises `QueryError` too, so one handler turns them all into a 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import urlencode

from ..errors import QueryError

DEFAULT_LIMIT = 10
# A page of more than this is no longer a page to read; the API's callers page instead.
MAX_LIMIT = 100
# The deepest hit a page may reach (offset + limit): a deeper page would make the ranker keep that many.
MAX_DEPTH = 10_000
# An issuer filter, a date: far shorter in practice; the bound keeps a hostile URL from costing work.
MAX_VALUE_CHARS = 200
MAX_ISSUERS = 20
# The sort menu, in the order shown (the library checks the value).
SORT_ORDERS = ("relevance", "newest", "oldest")


class QueryParams(Protocol):
    """A query string's values by name (Starlette's `QueryParams`, or any multi-dict)."""

    def getlist(self, key: Any) -> list[str]: ...


@dataclass(frozen=True)
class SearchParams:
    """One search as the user asked for it; `link()` writes it (or a variation of it) back as a URL."""

    q: str = ""
    issuers: tuple[str, ...] = ()
    since: str = ""
    until: str = ""
    sort: str = "relevance"
    page: int = 1
    limit: int = DEFAULT_LIMIT

    @classmethod
    def from_query(cls, params: QueryParams) -> SearchParams:
        """Read and bound the parameters of a URL; raises `QueryError` naming the one at fault."""
        issuers = tuple(value.strip() for value in params.getlist("issuer") if value.strip())
        if len(issuers) > MAX_ISSUERS:
            raise QueryError(f"at most {MAX_ISSUERS} issuer filters (got {len(issuers)})")
        for issuer in issuers:
            _check_length("issuer", issuer, MAX_VALUE_CHARS)
        limit = _whole_number(params, "limit", DEFAULT_LIMIT, MAX_LIMIT)
        page = _whole_number(params, "page", 1, MAX_DEPTH // limit)
        return cls(
            q=_single(params, "q"),  # the library bounds and parses it
            issuers=issuers,
            since=_check_length("since", _single(params, "since").strip(), MAX_VALUE_CHARS),
            until=_check_length("until", _single(params, "until").strip(), MAX_VALUE_CHARS),
            sort=_single(params, "sort") or "relevance",
            page=page,
            limit=limit,
        )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    @property
    def last_page(self) -> int:
        """The deepest page these parameters may ask for."""
        return MAX_DEPTH // self.limit

    def filters(self) -> dict[str, Any]:
        """`issuer`, `since`, `until` as `StatementIndex.search` and `.timeline` take them."""
        return {
            "issuer": list(self.issuers) or None,
            "since": self.since or None,
            "until": self.until or None,
        }

    def search_arguments(self) -> dict[str, Any]:
        """Everything `StatementIndex.search` takes from a URL."""
        return {
            **self.filters(),
            "sort": self.sort,
            "limit": self.limit,
            "offset": self.offset,
        }

    def pairs(self) -> list[tuple[str, str]]:
        """The parameters that differ from the defaults, in a stable order, as a query string holds them."""
        out: list[tuple[str, str]] = [("q", self.q)] if self.q else []
        out += [("issuer", issuer) for issuer in self.issuers]
        out += [(name, value) for name, value in (("since", self.since), ("until", self.until)) if value]
        if self.sort != "relevance":
            out.append(("sort", self.sort))
        if self.limit != DEFAULT_LIMIT:
            out.append(("limit", str(self.limit)))
        if self.page != 1:
            out.append(("page", str(self.page)))
        return out

    def link(self, path: str = "/search", extra: Sequence[tuple[str, str]] = (), **changes: Any) -> str:
        """A URL for these parameters with `changes` applied (a new filter or sort starts at page 1)."""
        if changes and "page" not in changes:
            changes["page"] = 1
        changed = replace(self, **changes)
        query = urlencode([*extra, *changed.pairs()])
        return f"{path}?{query}" if query else path

    def with_issuer(self, issuer: str) -> str:
        """The link of an issuer facet: this search, filtered to that issuer too."""
        return self.link(issuers=(*[i for i in self.issuers if i != issuer], issuer))

    def without_issuer(self, issuer: str) -> str:
        return self.link(issuers=tuple(i for i in self.issuers if i != issuer))

    def without_words(self, words: Sequence[str]) -> str:
        """This search with the query's `words` taken out (a relaxed query's link to what it did find)."""
        dropped = {word.casefold() for word in words}
        kept = [token for token in self.q.split() if token.strip("\"'()").casefold() not in dropped]
        return self.link(q=" ".join(kept))

    def in_period(self, period: str) -> str:
        """This search within one timeline period ("2020-01" or "2020": a partial date covers it whole)."""
        return self.link(since=period, until=period)


def _single(params: QueryParams, name: str) -> str:
    values = params.getlist(name)
    if len(values) > 1:
        raise QueryError(f"{name} given {len(values)} times: give it once")
    return values[0] if values else ""


def _check_length(name: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise QueryError(f"{name} too long ({len(value)} characters; at most {limit})")
    return value


def _whole_number(params: QueryParams, name: str, default: int, highest: int) -> int:
    raw = _single(params, name).strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= highest:
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        raise QueryError(f"{name} must be a whole number from 1 to {highest} (got {shown!r})")
    return int(raw)
