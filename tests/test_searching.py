"""Running a query on a searcher (searching.py): filters, date order, paging, counts and collapsing.

On the seed, and on the synthetic index of three segments with deleted releases (`segmented`), where a
document number is a segment's own number plus the segment's offset: every filter and order is checked
against what the synthetic files hold, through the ranker's path (plain words) and Whoosh's (`*`,
wildcards), so that a slip between local and global numbers cannot go unseen.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest

from helpers import CJTF, DOD, SEED, hit_ids, reissue_of_dod
from statementsearch import StatementIndex
from statementsearch.analysis import term_for
from synthetic import SyntheticIndex

ALL = 10_000

# ---------------------------------------------------------------------------------------------- the seed


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


# ---------------------------------------------------------------------------------------------- segments


def test_the_synthetic_index_has_three_segments_with_deletions(
    segmented: SyntheticIndex, segmented_ix: StatementIndex
) -> None:
    """What the tests below rely on: otherwise offsets and deletions would go untested."""
    with segmented_ix._searcher() as lease:
        leaves = list(lease.searcher.leaf_searchers())
        assert len(leaves) == 3 and [offset for _, offset in leaves][1:] != [0, 0]
        assert all(sub.reader().has_deletions() for sub, _ in leaves[:2])
    everything = segmented_ix.search("*", limit=ALL, collapse=False)
    assert {hit.id for hit in everything.hits} == set(segmented.releases)
    assert everything.total == len(segmented.releases) == 750 and len(segmented.deleted) == 300
    assert segmented.ids(date=lambda d: d is None)  # some releases have no date


def queries(segmented: SyntheticIndex) -> dict[str, str | None]:
    """Query text -> the term a release must hold (None: any release): the ranker's path for plain
    words (a common one, in most releases and many blocks, and a rarer one), Whoosh's for `*`."""
    words = segmented.vocabulary.words
    return {"*": None, words[0]: term_for(words[0]), words[30]: term_for(words[30])}


def found(ix: StatementIndex, text: str, **kwargs: object) -> tuple[set[str], int]:
    result = ix.search(text, limit=ALL, collapse=False, **kwargs)  # type: ignore[arg-type]
    return {hit.id for hit in result.hits}, result.total


WINDOWS = [
    ("2006-03-01", "2007-06-30", date(2006, 3, 1), date(2007, 6, 30)),
    ("2010", None, date(2010, 1, 1), date.max),
    (None, "Feb 2005", date.min, date(2005, 2, 28)),
    (date(2008, 1, 1), date(2008, 2, 29), date(2008, 1, 1), date(2008, 2, 29)),
]


@pytest.mark.parametrize(
    ("since", "until", "first", "last"),
    WINDOWS,
    ids=["2006-03..2007-06", "2010..", "..2005-02", "2008-01..02"],
)
def test_date_filters_on_several_segments(
    segmented: SyntheticIndex,
    segmented_ix: StatementIndex,
    since: object,
    until: object,
    first: date,
    last: date,
) -> None:
    for text, term in queries(segmented).items():
        expected = segmented.ids(term, date=lambda d: d is not None and first <= d <= last)
        assert expected, (text, since, until)
        ids, total = found(segmented_ix, text, since=since, until=until)
        assert ids == expected, (text, sorted(ids ^ expected)[:5])
        assert total == len(expected)


PREFIXES: list[Callable[[SyntheticIndex], str]] = [
    lambda s: s.vocabulary.issuers[0],  # exact, and a prefix of issuers[1]
    lambda s: s.vocabulary.issuers[1].upper(),  # exact, any case
    lambda s: "department of",  # a prefix of three issuers
    lambda s: s.vocabulary.issuers[-1][:6].lower(),
]


@pytest.mark.parametrize("issuer_of", PREFIXES, ids=["exact-and-prefix", "exact-upper", "shared", "short"])
def test_issuer_filters_on_several_segments(
    segmented: SyntheticIndex, segmented_ix: StatementIndex, issuer_of: Callable[[SyntheticIndex], str]
) -> None:
    issuer = issuer_of(segmented)
    key = issuer.casefold()
    for text, term in queries(segmented).items():
        expected = segmented.ids(term, issuer=lambda i: i.casefold().startswith(key))
        assert expected
        ids, total = found(segmented_ix, text, issuer=issuer)
        assert ids == expected and total == len(expected), (text, issuer)
        result = segmented_ix.search(text, issuer=issuer, limit=1)
        assert sum(f.count for f in result.issuers) == len(expected)


def test_issuer_and_date_filters_together(segmented: SyntheticIndex, segmented_ix: StatementIndex) -> None:
    issuer = segmented.vocabulary.issuers[0]
    for text, term in queries(segmented).items():
        expected = segmented.ids(
            term,
            issuer=lambda i: i.startswith(issuer),
            date=lambda d: d is not None and date(2005, 1, 1) <= d <= date(2009, 12, 31),
        )
        assert found(segmented_ix, text, issuer=issuer, since="2005", until="2009")[0] == expected


def dates_of(segmented: SyntheticIndex, ids: list[str]) -> list[date | None]:
    return [segmented.releases[i].date for i in ids]


def assert_in_date_order(days: list[date | None], newest: bool) -> None:
    """Dated releases first, in order (ties in any order); releases without a date last."""
    dated = [d for d in days if d is not None]
    assert days[: len(dated)] == dated, "a release without a date comes before a dated one"
    assert dated == sorted(dated, reverse=newest)


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_order_on_several_segments(
    segmented: SyntheticIndex, segmented_ix: StatementIndex, sort: str
) -> None:
    words = segmented.vocabulary.words
    for text, term in [*queries(segmented).items(), (f"{words[0][:3]}* -{words[1]}", None)]:
        result = segmented_ix.search(text, sort=sort, limit=ALL, collapse=False)  # type: ignore[arg-type]
        ids = [hit.id for hit in result.hits]
        if term is not None:
            assert set(ids) == segmented.ids(term)
        assert len(ids) == result.total and not set(ids) & segmented.deleted
        days = dates_of(segmented, ids)
        assert None in days and days[0] is not None
        assert_in_date_order(days, newest=sort == "newest")
        offset = len(ids) // 3
        page = segmented_ix.search(text, sort=sort, limit=25, offset=offset, collapse=False)  # type: ignore[arg-type]
        assert dates_of(segmented, [hit.id for hit in page.hits]) == days[offset : offset + 25]
        assert [hit.rank for hit in page.hits] == list(range(offset + 1, offset + 1 + len(page.hits)))


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_order_with_filters_on_several_segments(
    segmented: SyntheticIndex, segmented_ix: StatementIndex, sort: str
) -> None:
    word = segmented.vocabulary.words[1]
    since, until = date(2006, 6, 1), date(2008, 6, 30)
    result = segmented_ix.search(word, sort=sort, since=since, until=until, limit=30)  # type: ignore[arg-type]
    expected = segmented.ids(term_for(word), date=lambda d: d is not None and since <= d <= until)
    days = sorted((segmented.releases[i].date for i in expected), reverse=sort == "newest")
    assert dates_of(segmented, [hit.id for hit in result.hits]) == days[:30]


def test_relevance_pages_join_up_on_several_segments(
    segmented: SyntheticIndex, segmented_ix: StatementIndex
) -> None:
    """Page after page gives the first page's order continued: no hit twice, none skipped."""
    text = " ".join(segmented.vocabulary.words[:2])
    whole = segmented_ix.search(text, limit=60)
    pages = [segmented_ix.search(text, limit=20, offset=n) for n in (0, 20, 40)]
    assert [hit.score for page in pages for hit in page.hits] == [hit.score for hit in whole.hits]
    assert len({hit.id for page in pages for hit in page.hits}) == 60
    assert all(page.total == whole.total for page in pages)


# ---------------------------------------------------------------------------------------------- collapsing


@pytest.mark.parametrize("incremental", [False, True])
def test_reissues_collapse_into_one_hit(tmp_path: Path, incremental: bool) -> None:
    docs = tmp_path / "documents"
    docs.mkdir()
    shutil.copy(SEED, docs)
    ix = StatementIndex.create(tmp_path / "index")
    if incremental:  # the re-issue arrives in a later update: its group is found through the index
        ix.update(docs)
    (docs / "repost.txt").write_text(reissue_of_dod("US Central Command", "Jan. 4, 2020"), encoding="utf-8")
    ix.update(docs)
    collapsed = ix.search("soleimani")
    assert [h.id for h in collapsed.hits] == [DOD] or [h.id for h in collapsed.hits] == ["repost.txt#1"]
    assert collapsed.total == 1
    (dup,) = collapsed.hits[0].duplicates
    assert {dup.id, collapsed.hits[0].id} == {DOD, "repost.txt#1"}
    everything = ix.search("soleimani", collapse=False)
    assert {h.id for h in everything.hits} == {DOD, "repost.txt#1"} and everything.total == 2
    # The unrelated CJTF release stays its own group.
    assert ix.search("daesh").hits[0].duplicates == ()
