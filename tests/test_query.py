"""The query layer on the seed and on a real corpus sample: ranking, phrases, filters, snippets, bounds."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from statementsearch import DateError, QueryError, ReleaseNotFoundError, StatementIndex

SEED = Path(__file__).resolve().parents[1] / "documents" / "000_fb62ce4d62dc1888.txt"
DOD = "000_fb62ce4d62dc1888.txt#1"
CJTF = "000_fb62ce4d62dc1888.txt#2"


@pytest.fixture(scope="module")
def seed_ix(tmp_path_factory: pytest.TempPathFactory) -> StatementIndex:
    base = tmp_path_factory.mktemp("seed")
    (base / "documents").mkdir()
    shutil.copy(SEED, base / "documents")
    ix = StatementIndex.create(base / "index")
    ix.update(base / "documents")
    return ix


def hit_ids(ix: StatementIndex, query: str, **kwargs: object) -> list[str]:
    return [h.id for h in ix.search(query, **kwargs).hits]  # type: ignore[arg-type]


def test_soleimani_ranks_dod_first_with_the_term_highlighted(seed_ix: StatementIndex) -> None:
    result = seed_ix.search("soleimani")
    first = result.hits[0]
    assert first.id == DOD
    assert [first.snippet[s:e] for s, e in first.highlights] == ["Soleimani"]
    assert result.suggestion is None


def test_stemmed_forms_are_highlighted(seed_ix: StatementIndex) -> None:
    hit = seed_ix.search("attack", issuer="Combined Joint")
    words = {hit.hits[0].snippet[s:e].lower() for s, e in hit.hits[0].highlights}
    assert words == {"attacks"}


def test_title_hits_are_highlighted_separately(seed_ix: StatementIndex) -> None:
    hit = seed_ix.search("quds").hits[0]
    assert [hit.title[s:e] for s, e in hit.title_highlights] == ["Quds"]


def test_phrase_matches_only_as_a_phrase(seed_ix: StatementIndex) -> None:
    assert hit_ids(seed_ix, '"quds force"') == [DOD]
    assert hit_ids(seed_ix, '"force quds"') == []


def test_issuer_filter_exact_and_prefix(seed_ix: StatementIndex) -> None:
    assert hit_ids(seed_ix, "attacks", issuer="US Department of Defense") == [DOD]
    assert hit_ids(seed_ix, "attacks", issuer="us dep") == [DOD]
    assert hit_ids(seed_ix, "attacks", issuer="Navy") == []


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("2020-01-04", None, {CJTF}),
        (None, "Jan 3 2020", {DOD}),
        ("Jan 2020", "2020", {DOD, CJTF}),
        (date(2020, 1, 5), datetime(2020, 1, 5, 12), {CJTF}),
        ("2021", None, set()),
    ],
)
def test_date_filters(seed_ix: StatementIndex, since: object, until: object, expected: set[str]) -> None:
    assert set(hit_ids(seed_ix, "attacks", since=since, until=until)) == expected


def test_bad_dates_are_errors_naming_the_value(seed_ix: StatementIndex) -> None:
    with pytest.raises(DateError, match="someday"):
        seed_ix.search("attacks", since="someday")
    with pytest.raises(DateError):
        seed_ix.search("attacks", since="2021", until="2020")


def test_date_and_issuer_words_find_releases_through_their_fields(seed_ix: StatementIndex) -> None:
    assert set(hit_ids(seed_ix, "January 2020")) == {DOD, CJTF}
    assert hit_ids(seed_ix, "Department of Defense")[0] == DOD
    assert hit_ids(seed_ix, "issuer:defense") == [DOD]
    assert hit_ids(seed_ix, "date:2020-01-05") == [CJTF]
    assert set(hit_ids(seed_ix, 'date:"Jan 2020"')) == {DOD, CJTF}


def test_operators(seed_ix: StatementIndex) -> None:
    assert set(hit_ids(seed_ix, "soleimani OR daesh")) == {DOD, CJTF}
    assert hit_ids(seed_ix, "attacks NOT soleimani") == [CJTF]
    assert hit_ids(seed_ix, "attacks -soleimani") == [CJTF]
    assert hit_ids(seed_ix, "(soleimani OR daesh) AND training") == [CJTF]
    assert hit_ids(seed_ix, "title:daesh") == [CJTF]
    assert hit_ids(seed_ix, "soleimany~") == [DOD]


def test_sorting_and_paging(seed_ix: StatementIndex) -> None:
    assert hit_ids(seed_ix, "attacks", sort="newest") == [CJTF, DOD]
    assert hit_ids(seed_ix, "attacks", sort="oldest") == [DOD, CJTF]
    page2 = seed_ix.search("attacks", limit=1, offset=1)
    assert page2.total == 2 and len(page2.hits) == 1 and page2.hits[0].rank == 2


def test_facets_count_the_whole_result_set(seed_ix: StatementIndex) -> None:
    result = seed_ix.search("attacks", limit=1)
    assert {(f.issuer, f.count) for f in result.issuers} == {
        ("US Department of Defense", 1),
        ("Combined Joint Task Force - Operation Inherent Resolve", 1),
    }


def test_did_you_mean_even_when_stemming_matches(seed_ix: StatementIndex) -> None:
    result = seed_ix.search("soleimany")
    assert result.suggestion == "soleimani"
    assert seed_ix.search("quds forse").suggestion == "quds force"
    assert seed_ix.search("soleimany", suggestions=False).suggestion is None


def test_results_serialise_with_asdict(seed_ix: StatementIndex) -> None:
    data = json.loads(json.dumps(dataclasses.asdict(seed_ix.search("soleimani"))))
    assert data["hits"][0]["id"] == DOD and data["total"] == 1


@pytest.mark.parametrize(
    "query",
    [
        '"quds force',
        "(soleimani",
        "soleimani)",
        "NOT",
        "*",
        "a*",
        "?",
        "AND OR",
        "-",
        "title:",
        "nofield:x",
        "x" * 10_000,
        "soleimani " * 400,
        "zz~9",
        "*ing",
        "\x00\ufffd",
        "id:\ud800x~0",
        '"" ()',
    ],
)
def test_hostile_queries_give_a_result_or_a_clear_message(seed_ix: StatementIndex, query: str) -> None:
    started = time.perf_counter()
    try:
        result = seed_ix.search(query)
        assert result.total >= 0
    except QueryError as exc:
        assert str(exc) and "Traceback" not in str(exc)
    assert time.perf_counter() - started < 5


def test_limit_bounds(seed_ix: StatementIndex) -> None:
    with pytest.raises(QueryError):
        seed_ix.search("attacks", limit=0)
    assert seed_ix.search("attacks", limit=10**12).limit == 10_000


def test_show_returns_the_whole_release(seed_ix: StatementIndex) -> None:
    release = seed_ix.show(CJTF)
    assert release.title == "CJTF-OIR Statement on the Ongoing Defeat Daesh Mission"
    assert release.body.startswith("SOUTHWEST ASIA ---") and release.date == date(2020, 1, 5)
    with pytest.raises(ReleaseNotFoundError):
        seed_ix.show("nope")


def test_concurrent_searches_from_threads(seed_ix: StatementIndex) -> None:
    errors: list[BaseException] = []
    results: list[list[str]] = []

    def worker() -> None:
        try:
            for _ in range(30):
                results.append(hit_ids(seed_ix, "soleimani OR daesh", sort="oldest"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 120
    assert all(r == [DOD, CJTF] for r in results)
