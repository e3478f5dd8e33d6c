"""Reading a search from a URL, and writing it back as links (statementsearch.web.params)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from statementsearch.errors import QueryError
from statementsearch.web.params import MAX_DEPTH, SearchParams


class MultiDict:
    """A query string's values by name, as Starlette's QueryParams offers them."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def getlist(self, key: object) -> list[str]:
        return [value for name, value in self.pairs if name == key]


def read(query: str) -> SearchParams:
    return SearchParams.from_query(MultiDict(parse_qsl(query, keep_blank_values=True)))


def test_defaults_and_blank_fields() -> None:
    assert read("") == SearchParams()
    assert read("q=iran&since=&until=&sort=&page=&limit=") == SearchParams(q="iran")


def test_values_are_read_and_passed_to_the_library() -> None:
    params = read("q=quds+force&issuer=US+Dep&issuer=+&since=Jan+2020&until=2020&sort=newest&page=3&limit=20")
    assert params.issuers == ("US Dep",)
    assert params.search_arguments() == {
        "issuer": ["US Dep"],
        "since": "Jan 2020",
        "until": "2020",
        "sort": "newest",
        "limit": 20,
        "offset": 40,
    }
    assert read("q=x").filters() == {"issuer": None, "since": None, "until": None}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be a whole number from 1 to 100 (got '0')"),
        ("limit=%EF%BC%95", "limit must be a whole number"),  # a full-width digit: isdigit() but not ASCII
        ("page=1.5", "page must be a whole number"),
        (f"page={MAX_DEPTH // 10 + 1}", f"page must be a whole number from 1 to {MAX_DEPTH // 10}"),
        (f"limit=100&page={MAX_DEPTH // 100 + 1}", f"from 1 to {MAX_DEPTH // 100}"),
        ("page=" + "9" * 50, "(got '99999999999999999999…')"),
        ("since=" + "x" * 201, "since too long (201 characters; at most 200)"),
        ("&".join(["issuer=a"] * 21), "at most 20 issuer filters (got 21)"),
        ("sort=a&sort=b", "sort given 2 times: give it once"),
    ],
)
def test_bad_values_raise_query_error_naming_them(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        read(query)
    assert message in str(caught.value)


def pairs(link: str) -> list[tuple[str, str]]:
    parts = urlsplit(link)
    return [(parts.path, ""), *parse_qsl(parts.query)]


def test_links_keep_the_search_and_start_changes_at_page_1() -> None:
    params = read("q=iran&issuer=A&since=2020&sort=oldest&page=4&limit=20")
    assert params.link(page=5) == "/search?q=iran&issuer=A&since=2020&sort=oldest&limit=20&page=5"
    assert "page" not in dict(pairs(params.link(sort="newest")))
    assert pairs(params.with_issuer("B"))[2:4] == [("issuer", "A"), ("issuer", "B")]
    assert ("issuer", "A") not in pairs(params.without_issuer("A"))
    assert pairs(params.in_period("2020-03"))[3:5] == [("since", "2020-03"), ("until", "2020-03")]
    assert params.link("/release", extra=[("id", "a/b#1")], page=4).startswith("/release?id=a%2Fb%231&q=iran")
    assert SearchParams().link() == "/search"


def test_without_words_drops_the_relaxed_words_as_typed() -> None:
    params = read('q=Quds+"force"+zyzzogeton+(Iran)')
    assert dict(pairs(params.without_words(["quds", "zyzzogeton"])))["q"] == '"force" (Iran)'
