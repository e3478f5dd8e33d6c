"""Match sets, order and collapsing (searching.py): relaxed queries, filled lists, stable ties, re-issues.

The releases are written by the tests: exact re-issues (equal scores), a word missing from every release,
releases that hold two of three words, and the same documents built in different orders.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from statementsearch import StatementIndex

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
