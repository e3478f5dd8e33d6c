"""The web application over HTTP: a real `statementsearch serve` process on a real index (tests/serving.py).

The JSON API is held to the CLI's own output on the same index; errors, escaping and headers are checked
on the raw responses. Journeys in a browser are in test_web_browser.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from click.testing import CliRunner

from serving import HOSTILE_TITLE, HOSTILE_WORD, ISSUERS, PHRASE, REISSUED_WORD, WORD, Served
from statementsearch import Release, StatementIndex
from statementsearch.cli import main
from statementsearch.models import SearchResult
from statementsearch.web.app import Pages, create_app, paragraphs, safe_href
from statementsearch.web.params import SearchParams


def cli_lines(server: Served, *args: str) -> list[dict[str, Any]]:
    """`statementsearch ARGS --json` on the server's own index, as parsed lines."""
    result = CliRunner().invoke(main, [*args, "--json", "--index", str(server.index)])
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_api_search_has_the_issue_keys_and_the_cli_hits(web_server: Served) -> None:
    answer = web_server.get_json("/api/search", {"q": WORD, "limit": 5, "sort": "oldest"})
    assert set(answer) >= {"total", "hits", "issuers", "suggestion", "relaxed", "took_ms"}
    hits = answer["hits"]
    expected = cli_lines(web_server, "search", WORD, "--limit", "5", "--sort", "oldest")
    assert hits == expected
    assert answer["total"] == 36
    assert {f["issuer"]: f["count"] for f in answer["issuers"]} == {issuer: 12 for issuer in ISSUERS}
    assert answer["suggestion"] is None and answer["relaxed"] == []


def test_api_search_pages_and_filters_like_the_cli(web_server: Served) -> None:
    # Department of State's releases: numbers 1, 4, ... 34, every 20 days from 2019-01-10; 9 from June 2019.
    params = {"q": WORD, "limit": "3", "page": "3", "issuer": "department of s", "since": "2019-06"}
    answer = web_server.get_json("/api/search", params)
    expected = cli_lines(
        web_server,
        "search",
        WORD,
        "--limit",
        "3",
        "--page",
        "3",
        "--issuer",
        "department of s",
        "--since",
        "2019-06",
    )
    assert answer["hits"] == expected and [h["rank"] for h in expected] == [7, 8, 9]
    assert answer["total"] == 9
    assert {h["issuer"] for h in answer["hits"]} == {"Department of State"}


def test_api_release_and_timeline_are_show_and_search_timeline(web_server: Served) -> None:
    assert [web_server.get_json("/api/release", {"id": "gen-03"})] == cli_lines(web_server, "show", "gen-03")
    timeline = web_server.get_json("/api/timeline", {"q": WORD})
    assert timeline == cli_lines(web_server, "search", WORD, "--timeline")
    assert sum(b["count"] for b in timeline) == 36 and timeline[0] == {"period": "2019-01", "count": 2}


def test_api_suggestion_and_duplicates(web_server: Served) -> None:
    assert web_server.get_json("/api/search", {"q": "ceasfire"})["suggestion"] == WORD
    (hit,) = web_server.get_json("/api/search", {"q": REISSUED_WORD})["hits"]
    assert len(hit["duplicates"]) == 1


def test_api_search_says_how_the_query_was_read(web_server: Served) -> None:
    relaxed = web_server.get_json("/api/search", {"q": f"{WORD} zyzzogeton"})
    assert relaxed["relaxed"] == ["zyzzogeton"] and relaxed["total"] == 36
    assert {tuple(hit["missing"]) for hit in relaxed["hits"]} == {("zyzzogeton",)}
    assert web_server.get_json("/api/search", {"q": PHRASE})["phrase"] == f'"{PHRASE}"'
    described = web_server.get_json("/api/search", {"q": f"{WORD} convoy patrol harbor"})
    assert described["min_words"] == 3 and described["words"] == [WORD, "convoy", "patrol", "harbor"]
    assert described["reading"].startswith("at least 3 of 4 words")
    reissued = web_server.get_json("/api/search", {"q": REISSUED_WORD})
    assert (reissued["total"], reissued["releases"]) == (1, 2)
    assert reissued["hits"][0]["duplicates"][0]["title"] == "Desalination plant opens"


def test_several_issuer_filters_keep_any_of_them(web_server: Served) -> None:
    both = web_server.get_json("/api/search", [("q", WORD), ("issuer", ISSUERS[1]), ("issuer", ISSUERS[2])])
    assert both["total"] == 24 and {f["issuer"] for f in both["issuers"]} == {ISSUERS[1], ISSUERS[2]}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": WORD, "since": "someday"}, "someday"),
        ({"q": WORD, "since": "2021", "until": "2020"}, "is after"),
        ({"q": WORD, "limit": "0"}, "limit must be a whole number from 1 to 100 (got '0')"),
        ({"q": WORD, "limit": "101"}, "limit must be a whole number from 1 to 100"),
        ({"q": WORD, "limit": "ten"}, "limit must be a whole number"),
        ({"q": WORD, "page": "-1"}, "page must be a whole number from 1 to 1000"),
        ({"q": WORD, "page": "1001"}, "page must be a whole number from 1 to 1000"),
        ({"q": WORD, "sort": "random"}, "unknown sort order 'random'"),
        ({"q": "a*"}, "wildcard"),
        ({"q": "x" * 2001}, "query too long"),
        ({"q": ""}, "empty query"),
        ({"q": WORD, "issuer": "x" * 201}, "issuer too long"),
        ([("q", WORD), ("q", "other")], "q given 2 times"),
    ],
)
def test_bad_parameters_are_400_with_the_message(web_server: Served, params: Any, message: str) -> None:
    api = web_server.fetch("/api/search", params)
    assert api.status == 400 and message in api.json()["error"]
    assert api.headers["content-type"] == "application/json"
    if params != {"q": ""}:  # an empty query on the page is the empty form, not an error
        page = web_server.fetch("/search", params)
        assert page.status == 400 and "text/html" in page.headers["content-type"]
        assert message.replace("'", "&#39;") in page.text


def test_bad_date_message_is_the_clis(web_server: Served) -> None:
    result = CliRunner().invoke(main, ["search", WORD, "--since", "x1", "--index", str(web_server.index)])
    cli_message = result.stderr.strip().removeprefix("statementsearch: ")
    assert web_server.fetch("/api/search", {"q": WORD, "since": "x1"}).json() == {"error": cli_message}


def test_unknown_and_path_like_ids_are_404(web_server: Served) -> None:
    for release_id in (
        "nope",
        "../../../../etc/passwd",
        "/etc/passwd",
        "generated.jsonl",
        "gen-03/../gen-04",
    ):
        assert web_server.fetch("/api/release", {"id": release_id}).status == 404
        page = web_server.fetch("/release", {"id": release_id})
        assert page.status == 404 and "no release with id" in page.text
    assert web_server.fetch("/release").status == 400
    assert web_server.fetch("/api/release").json() == {"error": "id is required: /api/release?id=…"}
    assert web_server.fetch("/no/such/page").status == 404
    assert web_server.fetch("/static/../pyproject.toml").status == 404


def test_read_only_no_method_but_get(web_server: Served) -> None:
    for path in ("/", "/search", "/api/search", "/api/release"):
        assert web_server.fetch(path, {"q": WORD}, method="POST").status == 405
        assert web_server.fetch(path, {"q": WORD}, method="DELETE").status == 405


@pytest.mark.parametrize(
    "path",
    ["/", "/search?q=ceasefire", "/release?id=gen-01", "/api/search?q=x", "/static/style.css", "/nope"],
)
def test_every_response_carries_the_security_headers(web_server: Served, path: str) -> None:
    reply = web_server.fetch(path)
    csp = reply.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert reply.headers["x-content-type-options"] == "nosniff"
    if "text/html" in reply.headers["content-type"]:  # what the policy would block must not be needed
        assert " style=" not in reply.text and "<script" not in reply.text and "<style" not in reply.text


HOSTILE_VALUES = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "\x00\x01\x7f",
    "%00%ff",
    "\ud7ff\ufffe",
    "((((((((((",
    'title:"unclosed',
    "date:[2020 TO",
    "date:notadate",
    "*",
    "a" * 2000,
    "x~9",
    "NOT",
    "OR OR OR",
    "issuer:",
    "9" * 40,
    "-1",
    "1e9",
]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_values_never_make_a_500(web_server: Served, value: str) -> None:
    for name in ("q", "issuer", "since", "until", "sort", "page", "limit", "id"):
        params = {"q": WORD, name: value}
        for path in ("/search", "/api/search", "/api/timeline", "/release", "/api/release"):
            reply = web_server.fetch(path, params)
            assert reply.status in (200, 400, 404), (path, name, value, reply.status, reply.text[:300])
            assert "Traceback" not in reply.text
            if "text/html" in reply.headers["content-type"]:  # JSON holds text as it is, served as JSON
                assert "<script>alert" not in reply.text and "<img src=x" not in reply.text
    assert "Traceback" not in web_server.stderr


def test_hostile_release_and_query_are_escaped(web_server: Served) -> None:
    page = web_server.fetch("/search", {"q": f"{HOSTILE_WORD} <script>alert(9)</script>"}).text
    release = web_server.fetch("/release", {"id": "hostile-1", "q": HOSTILE_WORD}).text
    for html in (page, release):
        assert "<script>window.pwned" not in html and "<script>alert" not in html
        assert "<img" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt; Hostile headline" in release
    assert "&lt;img src=&#34;x&#34; onerror=" in release or "&lt;img src=&quot;x&quot; onerror=" in release
    assert "javascript:" not in release


def test_release_page_keeps_paragraphs_and_marks_the_query(web_server: Served) -> None:
    html = web_server.fetch("/release", {"id": "gen-05", "q": "continued"}).text
    body = web_server.get_json("/api/release", {"id": "gen-05"})["body"]
    shown = re.findall(r"<p>(.*?)</p>", html.split('class="body"')[1].split("</div>")[0], re.S)
    assert len(shown) == len(body.split("\n\n")) == 2
    assert "<mark>continued</mark>" in html
    assert 'href="/search?q=continued"' in html  # back to the results


def test_release_page_lists_reissues_and_similar_releases(web_server: Served) -> None:
    html = web_server.fetch("/release", {"id": "reissue-0"}).text
    assert "Also issued as 1 other" in html and 'href="/release?id=reissue-1"' in html
    assert "Similar releases" in web_server.fetch("/release", {"id": "gen-01"}).text


def test_paragraphs_split_at_blank_lines_with_their_marks() -> None:
    text = "One <b>\nstill one\n\n  \nTwo marked"
    assert [str(p) for p in paragraphs(text, ((0, 3), (len(text) - 6, len(text))))] == [
        "<mark>One</mark> &lt;b&gt;\nstill one",
        "Two <mark>marked</mark>",
    ]


def test_only_web_addresses_become_links() -> None:
    assert safe_href("https://www.defense.gov/x?a=1") == "https://www.defense.gov/x?a=1"
    for url in (
        HOSTILE_TITLE,
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "//evil",
        "",
        None,
    ):
        assert safe_href(url) is None


def test_release_template_never_links_a_javascript_url(tmp_path: Path) -> None:
    with StatementIndex.create(tmp_path / "index") as ix:
        pages = Pages(ix)
        for url, linked in (("javascript:alert(1)", False), ("https://example.org/r", True)):
            release = Release("r", "T", "I", None, "Body", "p", 1, "h", url=url)
            html = pages.templates.get_template("release.html").render(
                params=SearchParams(),
                release=release,
                title_spans=(),
                paragraphs=[],
                duplicates=(),
                similar=SearchResult(query="", total=0, hits=()),
            )
            assert (f'href="{url}"' in html) is linked
            assert url in html  # shown as text either way


class _BrokenIndex:
    """An index whose every search hits a bug (not a user error)."""

    def search(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("internal detail: /secret/path line 42")


def test_a_bug_is_a_generic_500_without_a_traceback() -> None:
    app = create_app(_BrokenIndex())  # type: ignore[arg-type]

    async def get(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, params={"q": WORD})

    page = anyio.run(get, "/search")
    assert page.status_code == 500 and "Server error" in page.text
    assert "secret" not in page.text and "Traceback" not in page.text and "RuntimeError" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    api = anyio.run(get, "/api/search")
    assert api.status_code == 500 and set(api.json()) == {"error"} and "secret" not in api.text
