"""The web application: pages and a JSON API over one shared `StatementIndex`, each handler a library call.

Handlers are plain functions, so Starlette runs them in its thread pool; the `StatementIndex` gives each
thread its own searcher and replaces it when the index on disk changes (also when another process
updated it), so one object serves every thread and every update without a restart.

Everything shown comes from the index or the URL and is hostile: templates autoescape, the only markup
added to text is `<mark>` (by `render_html`, which escapes the rest), and every response carries a
Content-Security-Policy without inline script or style. Nothing here writes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import (
    IndexCorruptError,
    IndexMissingError,
    QueryError,
    ReleaseNotFoundError,
    StatementSearchError,
)
from ..highlight import render_html
from ..models import IssuerCount, SearchResult
from ..shards import AnyIndex
from .chart import chart
from .params import SORT_ORDERS, SearchParams

STATIC = Path(__file__).parent / "static"
# Threads answering requests at once. A search holds the GIL, so more threads only add searchers (each
# with its own caches, all reopened after every commit) and no throughput; a few overlap the I/O.
WORKER_THREADS = 4
SIMILAR_RELEASES = 5
FACETS_SHOWN = 12
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
        b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")


def create_app(ix: AnyIndex) -> ASGIApp:
    """The ASGI application serving `ix` (which the caller opens, and closes after the server stops)."""
    pages = Pages(ix)
    routes = [
        Route("/", pages.home),
        Route("/search", pages.search),
        Route("/release", pages.release),
        Route("/api/search", pages.api_search),
        Route("/api/release", pages.api_release),
        Route("/api/timeline", pages.api_timeline),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        StatementSearchError: pages.user_error,
        HTTPException: pages.http_error,
        Exception: pages.server_error,
    }
    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=_lifespan)
    return SecurityHeaders(app)


@asynccontextmanager
async def _lifespan(app: Starlette) -> Any:
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    yield


class SecurityHeaders:
    """Adds the security headers to every response, errors and static files included (outermost layer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Pages:
    """The handlers: each reads its parameters, calls the index, and renders a template or JSON."""

    def __init__(self, ix: AnyIndex) -> None:
        self.ix = ix
        self.templates = Environment(
            loader=PackageLoader("statementsearch.web", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["marked"] = marked
        self.templates.globals["safe_href"] = safe_href
        self.templates.globals["SORT_ORDERS"] = SORT_ORDERS

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.templates.get_template(name).render(**context), status_code=status)

    # ------------------------------------------------------------------------------------- pages

    def home(self, request: Request) -> Response:
        return self.render("search.html", params=SearchParams.from_query(request.query_params))

    def search(self, request: Request) -> Response:
        params = SearchParams.from_query(request.query_params)
        if not params.q.strip():
            return self.render("search.html", params=params)
        result = self.ix.search(params.q, **params.search_arguments())
        series = self.ix.timeline(params.q, **params.filters())
        return self.render(
            "search.html",
            params=params,
            result=result,
            facets=self.issuer_facets(params, result),
            timeline=chart(series, params.in_period),
            facets_shown=FACETS_SHOWN,
        )

    def issuer_facets(self, params: SearchParams, result: SearchResult) -> tuple[IssuerCount, ...]:
        """The issuers to offer: with issuers chosen, those of the search without that filter, so that
        another can be added (several issuers keep releases of any of them)."""
        if not params.issuers:
            return result.issuers
        unfiltered = {**params.filters(), "issuer": None}
        return self.ix.search(params.q, **unfiltered, limit=1, snippets=False, suggestions=False).issuers

    def release(self, request: Request) -> Response:
        release_id = _required(request, "id")
        params = SearchParams.from_query(request.query_params)
        release = self.ix.show(release_id)
        spans = self.ix.highlights(params.q, release.body) if params.q.strip() else ()
        title_spans = self.ix.highlights(params.q, release.title) if params.q.strip() else ()
        return self.render(
            "release.html",
            params=params,
            release=release,
            title_spans=title_spans,
            paragraphs=paragraphs(release.body, spans),
            duplicates=self.ix.duplicates(release_id),
            similar=self.ix.similar(release_id, limit=SIMILAR_RELEASES),
        )

    # ------------------------------------------------------------------------------------- API

    def api_search(self, request: Request) -> Response:
        params = SearchParams.from_query(request.query_params)
        result = self.ix.search(params.q, **params.search_arguments())
        return JSONResponse(search_json(result))

    def api_release(self, request: Request) -> Response:
        return JSONResponse(self.ix.show(_required(request, "id")).to_dict())

    def api_timeline(self, request: Request) -> Response:
        params = SearchParams.from_query(request.query_params)
        series = self.ix.timeline(params.q, **params.filters())
        return JSONResponse([{"period": b.period, "count": b.count} for b in series])

    # ------------------------------------------------------------------------------------- errors

    async def user_error(self, request: Request, exc: Exception) -> Response:
        """The library's one-line message: 400 for what the request got wrong, 404 for an unknown id."""
        if isinstance(exc, ReleaseNotFoundError):
            status = 404
        elif isinstance(exc, IndexMissingError | IndexCorruptError):
            status = 503
        else:
            status = 400
        return self.error(request, status, str(exc))

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return self.error(request, exc.status_code, exc.detail, dict(exc.headers or {}))

    async def server_error(self, request: Request, exc: Exception) -> Response:
        """A bug: a generic page, never a traceback (the server logs the traceback to stderr)."""
        return self.error(request, 500, "something went wrong on the server; the error has been logged")

    def error(
        self, request: Request, status: int, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status, headers=headers)
        response = self.render("error.html", status=status, message=message, code=status)
        response.headers.update(headers or {})
        return response


# ------------------------------------------------------------------------------------------ helpers


def search_json(result: SearchResult) -> dict[str, Any]:
    """`/api/search`: the hits as `search --json` prints them, and what describes the whole result."""
    return {
        "total": result.total,
        "hits": [hit.to_dict() for hit in result.hits],
        "issuers": [{"issuer": f.issuer, "count": f.count} for f in result.issuers],
        "suggestion": result.suggestion,
        "relaxed": list(result.relaxed),
        "took_ms": round(result.seconds * 1000, 1),
        "releases": result.releases,
        "offset": result.offset,
        "limit": result.limit,
        "words": list(result.words),
        "min_words": result.min_words,
        "reading": result.reading,
        "phrase": result.phrase,
        "notes": list(result.notes),
    }


def _required(request: Request, name: str) -> str:
    value = request.query_params.get(name, "")
    if not value:
        raise QueryError(f"{name} is required: {request.url.path}?{name}=…")
    return value


def marked(text: str, spans: Any) -> Markup:
    """Text with its matched words in `<mark>`, the rest escaped."""
    return Markup(render_html(text, spans))


def paragraphs(text: str, spans: tuple[tuple[int, int], ...]) -> list[Markup]:
    """A release body as its paragraphs (split at blank lines), each with the marks that fall inside it."""
    pieces = []
    start = 0
    for gap in _BLANK_LINES.finditer(text):
        pieces.append((start, gap.start()))
        start = gap.end()
    pieces.append((start, len(text)))
    out = []
    for first, last in pieces:
        if text[first:last].strip():
            inside = [(s - first, e - first) for s, e in spans if first <= s and e <= last]
            out.append(marked(text[first:last], inside))
    return out


def safe_href(url: str | None) -> str | None:
    """A release's url when it is a web address; None for anything else (`javascript:`, `data:`, …)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None
