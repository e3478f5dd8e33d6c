"""Running a reading on a searcher (searching.py): filters, order, paging, counts, collapsing, relaxed
queries, filled lists and stable ties.

On the seed; on the synthetic index of three segments with deleted releases (`segmented`), where a
document number is a segment's own number plus the segment's offset: every filter and order is checked
against what the synthetic files hold, through the ranker's path (plain words) and Whoosh's (`*`,
wildcards), so that a slip between local and global numbers cannot go unseen; and on releases written
by the tests: exact re-issues (equal scores), a word missing from every release, releases that hold two
of three words, and the same documents built in different orders.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

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


BODY = (
    "The committee approved the {topic} measure after a long debate on the floor. Officials in {place} "
    "welcomed the decision and promised a full report to the public. {filler}"
)
FILLER = [
    "county",
    "river",
    "grant",
    "veterans",
    "water",
    "highway",
    "farmers",
    "energy",
    "clinic",
    "museum",
    "library",
    "airport",
    "tunnel",
    "police",
    "housing",
    "wetland",
    "forest",
    "coast",
    "canal",
    "dam",
    "levee",
    "park",
    "trail",
    "transit",
    "bus",
    "ferry",
    "port",
    "wharf",
    "mine",
    "plant",
    "factory",
    "college",
    "campus",
    "lab",
    "center",
    "station",
    "depot",
    "yard",
    "district",
    "court",
    "prison",
    "army",
    "navy",
    "guard",
]


def filler(seed: int) -> str:
    """Sixty words of its own for each statement, so that no two are near-duplicates of each other."""
    rng = random.Random(seed)
    return " ".join(rng.choice(FILLER) for _ in range(60)) + "."


def release(rid: str, title: str, issuer: str, day: str, body: str) -> dict[str, str]:
    return {"id": rid, "title": title, "issuer": issuer, "date": day, "body": body}


def corpus() -> list[dict[str, str]]:
    """Topics x places; each of three statements re-issued by a second office (same text, later date)."""
    records = []
    topics = ["bridge", "harbor", "school", "hospital", "railway"]
    places = ["Dayton", "Toledo", "Akron", "Canton"]
    for n, (topic, place) in enumerate((t, p) for t in topics for p in places):
        body = BODY.format(topic=topic, place=place, filler=filler(n))
        title = f"{topic.title()} measure for {place}"
        records.append(release(f"r{n:02d}", title, "Office A", "2019-05-10", body))
    for n, original in enumerate(records[:3]):
        records.append({**original, "id": f"z-reissue-{n}", "issuer": "Office B", "date": "2019-06-01"})
        records.append({**original, "id": f"a-early-{n}", "issuer": "Office C", "date": "2019-04-01"})
    return records


def build(place: Path, records: list[dict[str, str]], files: int, procs: int = 1) -> StatementIndex:
    docs = place / "documents"
    if docs.exists():
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    for n in range(files):
        part = records[n::files]
        (docs / f"part-{n}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
    ix = StatementIndex.create(place / "index", overwrite=True)
    ix.build(docs, procs=procs)
    return ix


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> Any:
    index = build(tmp_path_factory.mktemp("searching"), corpus(), files=2)
    yield index
    index.close()


QUERIES = ["measure", "bridge", "harbor Toledo", "committee debate", "public report floor", "Akron", "*"]
OPTIONS: list[dict[str, Any]] = [
    {},
    {"collapse": False},
    {"sort": "newest"},
    {"sort": "oldest", "collapse": False},
]


def test_equal_scores_rank_the_earliest_issued_first_then_by_id(ix: Any) -> None:
    hits = ix.search("bridge Dayton", collapse=False).hits
    assert [h.id for h in hits] == ["a-early-0", "r00", "z-reissue-0"]
    assert len({h.score for h in hits}) == 1


def test_a_group_shows_its_earliest_member_and_lists_the_others_in_order(ix: Any) -> None:
    hit = ix.search("bridge Dayton").hits[0]
    assert hit.id == "a-early-0"
    assert [(d.id, d.date) for d in hit.duplicates] == [("r00", "2019-05-10"), ("z-reissue-0", "2019-06-01")]


def test_date_sorts_show_the_member_the_sort_asks_for(ix: Any) -> None:
    newest = ix.search("bridge Dayton", sort="newest").hits
    oldest = ix.search("bridge Dayton", sort="oldest").hits
    assert [h.id for h in newest] == ["z-reissue-0"] and [h.id for h in oldest] == ["a-early-0"]


def test_counts_say_results_and_releases(ix: Any) -> None:
    result = ix.search("Dayton")
    assert (result.total, result.releases) == (5, 7)  # bridge (3 issues), harbor, school, ...
    assert ix.search("Dayton", collapse=False).total == 7


def test_the_same_documents_give_the_same_answers_whatever_the_build(tmp_path: Path) -> None:
    records = corpus()
    shuffled = records[:]
    random.Random(5).shuffle(shuffled)
    first = build(tmp_path / "one", records, files=1)
    second = build(tmp_path / "two", shuffled, files=3, procs=2)
    try:
        for query in QUERIES:
            for options in OPTIONS:
                a = first.search(query, limit=40, **options).hits
                b = second.search(query, limit=40, **options).hits
                assert [(h.id, h.score) for h in a] == [(h.id, h.score) for h in b], (query, options)
                assert [[d.id for d in h.duplicates] for h in a] == [[d.id for d in h.duplicates] for h in b]
    finally:
        first.close()
        second.close()


def test_a_word_no_release_holds_is_dropped_and_named(ix: Any) -> None:
    result = ix.search("harbor quembrolixzz")
    assert result.relaxed == ("quembrolixzz",)
    assert result.total == 4 and all(h.missing == ("quembrolixzz",) for h in result.hits)
    assert all("harbor" in h.title.lower() for h in result.hits)


def test_words_never_together_give_the_releases_holding_most(ix: Any) -> None:
    result = ix.search("harbor Toledo railway", collapse=False)
    titles = {h.title for h in result.hits}
    assert titles == {"Harbor measure for Toledo", "Railway measure for Toledo"}  # two of the three words
    assert result.relaxed == ("harbor", "railway")  # each hit lacks one of these; all hold Toledo
    assert result.min_words == 2


def test_what_the_user_made_explicit_is_never_relaxed(ix: Any) -> None:
    assert ix.search('"harbor measure" quembrolixzz').relaxed == ("quembrolixzz",)  # a phrase stays
    for query in ("title:quembrolixzz harbor", "harbor AND quembrolixzz", '"quembrolixzz harbor"'):
        result = ix.search(query)
        assert result.hits == () and result.relaxed == (), query
    assert ix.search("harbor quembrolixzz", since="2030").hits == ()  # a filter stays


def test_a_date_in_the_query_filters_the_words_matches(ix: Any) -> None:
    """`date:` is a filter on the words' matches, as --since/--until are; alone it lists its period."""
    for word, period in (("harbor", "2019"), ("bridge", "2019-06")):
        found = ix.search(f"{word} date:{period}", collapse=False, limit=ALL)
        assert found.hits and all(word in h.title.lower() for h in found.hits)
        filtered = ix.search(word, since=period, until=period, collapse=False, limit=ALL)
        assert [h.id for h in found.hits] == [h.id for h in filtered.hits], (word, period)
    assert ix.search("date:2019-06", collapse=False, limit=ALL).total == 3  # the three re-issues of June


def test_a_query_whoosh_matches_is_relaxed_to_its_explicit_part(ix: Any) -> None:
    """A sloppy phrase is Whoosh's to match (not the ranker's): relaxed, its word dropped, every release
    holding the phrase is found, as the phrase alone finds them."""
    alone = ix.search('"harbor measure"~3', collapse=False, limit=ALL)
    result = ix.search('"harbor measure"~3 quembrolixzz', collapse=False, limit=ALL)
    assert result.relaxed == ("quembrolixzz",) and alone.total == 4
    assert [h.id for h in result.hits] == [h.id for h in alone.hits]


def test_a_misspelt_word_with_a_correction_keeps_did_you_mean(ix: Any) -> None:
    result = ix.search("harbr Toledo")
    assert result.hits == () and result.relaxed == ()
    assert result.suggestion == "harbor Toledo"


def test_a_filled_list_goes_on_past_the_matches_in_score_order(ix: Any) -> None:
    strict = ix.search("harbor Toledo", collapse=False, limit=30)
    filled = ix.search("harbor Toledo", collapse=False, limit=30, fill=True)
    assert [h.id for h in strict.hits] == ["r05"]
    assert filled.hits[0].id == "r05" and len(filled.hits) == 4 + 5 - 1 + 2  # harbor, Toledo, re-issues
    assert filled.total == strict.total == 1
    assert all(h.missing for h in filled.hits[1:])
    scores = [h.score for h in filled.hits]
    assert scores == sorted(scores, reverse=True)


def test_long_queries_match_on_most_of_their_words(ix: Any) -> None:
    narrow = ix.search("bridge Dayton approved quembrolixzz", collapse=False)
    assert narrow.min_words == 3 and narrow.reading.startswith("at least 3 of 4")
    assert {h.id for h in narrow.hits} == {"a-early-0", "r00", "z-reissue-0"}
    assert narrow.total == 3 and narrow.relaxed == ()
    wide = ix.search("committee bridge Dayton harbor Toledo", collapse=False)  # no release holds 4 of 5
    assert wide.min_words == 3 and wide.relaxed and all(len(h.missing) == 2 for h in wide.hits)


def test_issuers_by_words_and_several_at_once(ix: Any) -> None:
    assert {h.issuer for h in ix.search("bridge", issuer="office b").hits} == {"Office B"}
    assert {h.issuer for h in ix.search("bridge", issuer=["B", "Office C"], collapse=False).hits} == {
        "Office B",
        "Office C",
    }
    assert ix.search("bridge", issuer="Office D").hits == ()
    assert [(c.issuer, c.count) for c in ix.issuers()] == [("Office A", 20), ("Office B", 3), ("Office C", 3)]
    assert [c.issuer for c in ix.issuers("c")] == ["Office C"]
    # Every word of the name, in another order: still that issuer.
    assert {h.issuer for h in ix.search("bridge", issuer="B office", collapse=False).hits} == {"Office B"}


def test_a_phrase_is_offered_when_the_words_stand_together_in_most_top_hits(tmp_path: Path) -> None:
    bodies = [f"Funds for the bridge to nowhere were cut, report {n} says." for n in range(3)]
    bodies.append("The bridge was repaired; nowhere else in the state did funds arrive.")
    records = [
        release(f"b{n}", f"Report {n}", "Office A", "2020-01-02", body) for n, body in enumerate(bodies)
    ]
    ix = build(tmp_path, records, files=1)
    try:
        assert ix.search("bridge to nowhere").phrase == '"bridge to nowhere"'
        assert ix.search('"bridge to nowhere"').phrase is None  # already a phrase
        assert ix.search("bridge funds").phrase is None  # not side by side
        assert ix.search("bridge to nowhere", suggestions=False).phrase is None
        assert [h.id for h in ix.search('"bridge to nowhere"').hits] == ["b0", "b1", "b2"]
    finally:
        ix.close()


def test_ties_past_the_first_posting_block_still_rank_by_the_stable_key(tmp_path: Path) -> None:
    """400 equal scores, written in the reverse of the stable order: the first k by date and id live in
    the last posting blocks, which pruning by the k-th score must not skip when they only tie it."""
    body = "Harbour pilots met the port authority to review the winter schedule and the new tugs."
    records = [release(f"t{n:03d}", "Harbour pilots", "Port Office", "2019-05-10", body) for n in range(400)]
    ix = build(tmp_path, records[::-1], files=1)
    try:
        for query in ("harbour", "harbour pilots"):
            every = ix.search(query, limit=ALL, collapse=False, facets=False, snippets=False).hits
            assert [h.id for h in every] == [r["id"] for r in records]
            assert len({h.score for h in every}) == 1
            for limit, offset in ((1, 0), (10, 0), (150, 0), (10, 200)):
                page = ix.search(query, limit=limit, offset=offset, collapse=False, facets=False).hits
                assert [h.id for h in page] == [h.id for h in every[offset : offset + limit]], (query, limit)
    finally:
        ix.close()


def test_a_filled_list_ranks_a_partial_match_that_outscores_the_matches(tmp_path: Path) -> None:
    """A short release saying two of three words many times outscores long releases holding all three
    once: a filled list must place it by its score, whether or not the matches alone fill the page
    (the bound that lets a list skip partial matches must not be too low)."""
    filler = " ".join(FILLER * 3)
    records = [
        release(
            f"full-{n:02d}", f"Notice {n}", "Office A", "2019-05-10", f"{filler} harbor dredging permit {n}."
        )
        for n in range(20)
    ]
    records.append(
        release(
            "partial",
            "Harbor dredging",
            "Office B",
            "2019-05-11",
            "Harbor dredging. " * 8 + "The harbor dredging.",
        )
    )
    others = [release(f"other-{n:02d}", f"Other {n}", "Office C", "2019-05-12", filler) for n in range(40)]
    ix = build(tmp_path, records + others, files=1)
    try:
        query = "harbor dredging permit"
        every = ix.search(query, fill=True, collapse=False, limit=ALL).hits
        assert every[0].id == "partial" and every[0].missing == ("permit",)
        for limit in (1, 5, 10):
            page = ix.search(query, fill=True, collapse=False, limit=limit).hits
            assert [h.id for h in page] == [h.id for h in every[:limit]], limit
    finally:
        ix.close()
