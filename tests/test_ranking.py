"""The block ranker (ranking.py) against Whoosh's own matchers, on one real index of corpus records.

The ranker replaces Whoosh's matcher tree for plain-word queries; these tests hold it to giving the same
hits in the same order with the same scores, and the same match sets for counts, over queries made from
the records' own words: single words, AND, long (OR) queries, phrases, -words, issuer: words, with and
without filters, on an index with two segments and deleted documents.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statementsearch import StatementIndex
from statementsearch.analysis import term_for
from statementsearch.searching import Matching

LIMITS = (1, 10, 40)


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(scope="module")
def ranked_ix(tmp_path_factory: pytest.TempPathFactory, corpus_records: Any) -> Iterator[StatementIndex]:
    """600 corpus records in two files; then one file rewritten (its old releases deleted, a second
    segment written), so that deletions and segment offsets are exercised."""
    records = corpus_records(600, seed=7)
    place = tmp_path_factory.mktemp("ranking")
    docs = place / "documents"
    docs.mkdir()
    _write_jsonl(docs / "a.jsonl", records[:300])
    _write_jsonl(docs / "b.jsonl", records[300:])
    ix = StatementIndex.create(place / "index")
    ix.build(docs, procs=1)
    _write_jsonl(docs / "b.jsonl", records[300:450])  # 150 of b's releases go, the rest are rewritten
    ix.update(docs)
    yield ix
    ix.close()


def _queries(ix: StatementIndex) -> list[str]:
    """Queries made of the index's own words: common and rare, pairs, phrases, -words, issuer: words."""
    rng = random.Random(3)
    with ix._searcher() as lease:
        searcher = lease.searcher
        stored = [searcher.stored_fields(n) for n in range(0, searcher.doc_count_all(), 7)]
    bodies = [s.get("body", "") for s in stored if s.get("body")]
    words = [w for b in bodies for w in re.findall(r"[A-Za-z]{4,}", b) if term_for(w.lower()) is not None]
    common = [w for w, _ in _most_common(words, 40)]
    issuers = sorted({w for s in stored for w in re.findall(r"[A-Za-z]{4,}", s.get("issuer", ""))})
    queries = list(common[:15])
    queries += [rng.choice(words) for _ in range(15)]
    queries += [f"{rng.choice(common)} {rng.choice(words)}" for _ in range(15)]
    queries += [" ".join(rng.sample(common, 3)) for _ in range(8)]
    queries += [" ".join(rng.sample(words, 6)) for _ in range(8)]  # long: OR-ed
    for body in rng.sample(bodies, 12):
        run = re.findall(r"[A-Za-z]{3,}", body)
        start = rng.randrange(max(1, len(run) - 3))
        queries.append('"' + " ".join(run[start : start + rng.choice((2, 3))]) + '"')
    queries += [f"{a} -{b}" for a, b in zip(common[:6], common[6:12], strict=True)]
    queries += [f"issuer:{rng.choice(issuers)} {rng.choice(common)}" for _ in range(6)]
    queries += [f'"{a} {b}" {c}' for a, b, c in zip(common[:4], common[4:8], common[8:12], strict=True)]
    return queries


def _most_common(words: list[str], n: int) -> list[tuple[str, int]]:
    from collections import Counter

    return Counter(w.lower() for w in words).most_common(n)


def _same_ranking(ours: list[tuple[int, float]], theirs: list[tuple[int, float | None]]) -> None:
    """Same scores position by position; the same documents except where two scores tie (the sum of a
    document's word scores may differ in the last bit, so ties may order differently)."""
    assert len(ours) == len(theirs)
    scores = [s for _, s in ours]
    for n, ((doc, score), (their_doc, their_score)) in enumerate(zip(ours, theirs, strict=True)):
        assert their_score is not None and abs(score - their_score) < 1e-9, (n, ours, theirs)
        tied = sum(1 for s in scores if abs(s - score) < 1e-9) > 1 or n == len(ours) - 1
        assert doc == their_doc or tied, (n, ours, theirs)


FILTERS = [{}, {"since": "2006-01-01", "until": "2008-12-31"}, {"issuer": None}]


def _both_ways(
    ix: StatementIndex, lease: Any, text: str, filters: dict[str, Any]
) -> tuple[Matching, Matching]:
    """The same reading matched by the posting-block ranker and by Whoosh's matchers."""
    planned = ix._matching(lease, text, filters.get("issuer"), filters.get("since"), filters.get("until"))
    return planned, dataclasses.replace(planned, ranker=None)


@pytest.mark.parametrize("filters", FILTERS, ids=["none", "dates", "issuer"])
def test_ranker_ranks_as_whoosh_does(ranked_ix: StatementIndex, filters: dict[str, str | None]) -> None:
    queries = _queries(ranked_ix)
    if "issuer" in filters:  # the first letters of the most frequent issuer: a prefix filter
        filters = {"issuer": ranked_ix.stats(top=1).top_issuers[0].issuer[:4]}
    planned = 0
    with ranked_ix._searcher() as lease:
        searcher = lease.searcher
        assert len(list(searcher.leaf_searchers())) == 2 and searcher.reader().has_deletions()
        for text in queries:
            ours, theirs = _both_ways(ranked_ix, lease, text, filters)
            assert ours.allowed is None or ours.allowed  # (an empty filter is answered before ranking)
            assert ours.plan is not None, (text, ours.reading)
            planned += 1
            for limit in LIMITS:
                _same_ranking(ours.top(limit), theirs.top(limit))
                for newest in (True, False):
                    by_date = [d for d, _ in ours.by_date(limit, newest)]
                    assert by_date == [d for d, _ in theirs.by_date(limit, newest)], (text, newest)
            assert [docs for _, _, docs in ours.leaf_matches()] == [
                docs for _, _, docs in theirs.leaf_matches()
            ], text
    assert planned == len(queries) > 80


def test_queries_the_ranker_leaves_to_whoosh(ranked_ix: StatementIndex) -> None:
    """Sloppy phrases, nested groups and id: lookups are Whoosh's; search still answers them."""
    with ranked_ix._searcher() as lease:
        for text in ('"united states"~3', "id:a.jsonl", "(senate (bill OR act)) OR tax"):
            ours, _ = _both_ways(ranked_ix, lease, text, {})
            assert ours.plan is None, text
    assert ranked_ix.search('"united states"~3').total > 0
    assert ranked_ix.search("(senate (bill OR act)) OR tax").total > 0


def test_search_results_come_from_the_ranker_unchanged(ranked_ix: StatementIndex) -> None:
    """The public search gives the ranker's order; counts cover the whole result set."""
    result = ranked_ix.search("senate", collapse=False, limit=20)
    with ranked_ix._searcher() as lease:
        _, theirs = _both_ways(ranked_ix, lease, "senate", {})
        top = theirs.top(20)
        everything = sum(len(docs) for _, _, docs in theirs.leaf_matches())
    assert [round(h.score, 4) for h in result.hits] == [round(s, 4) for _, s in top]
    assert result.total == everything


@pytest.mark.parametrize("query", ["ruby -sapphire", "rub* -sapphire"], ids=["ranker", "whoosh"])
def test_an_excluded_word_excludes_the_first_match_too(tmp_path: Path, query: str) -> None:
    """whoosh-community/whoosh#419: with the excluded word's first release before the first match,
    Whoosh's AndNot kept that match; both paths must exclude it."""
    docs = tmp_path / "documents"
    docs.mkdir()
    for name, body in (("a.txt", "sapphire"), ("b.txt", "ruby and sapphire"), ("c.txt", "ruby")):
        (docs / name).write_text(
            f"Note {name}\n\n(Source: Gem Office; issued 2020-01-01)\n\nA {body} statement.\n",
            encoding="utf-8",
        )
    with StatementIndex.create(tmp_path / "index") as ix:
        ix.build(docs)
        result = ix.search(query, collapse=False)
    assert [hit.id for hit in result.hits] == ["c.txt#1"]
    assert result.total == 1


def test_a_searcher_does_not_copy_the_index_into_memory(ranked_ix: StatementIndex) -> None:
    """whoosh3 wrapped each memory-mapped segment file in a BytesIO, a full copy per searcher (one per
    thread); a search from a new thread must allocate far less than the index's size."""
    import threading
    import tracemalloc

    size = sum(p.stat().st_size for p in ranked_ix.path.iterdir() if p.is_file())
    tracemalloc.start()
    try:
        worker = threading.Thread(target=lambda: ranked_ix.search("senate"))
        worker.start()
        worker.join()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 1_000_000
    assert peak < size / 4, (peak, size)


def test_the_block_caches_stay_within_their_bounds(
    ranked_ix: StatementIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny cache limits: the caches are emptied when full, and rankings do not change."""
    import statementsearch.ranking as ranking

    queries = _queries(ranked_ix)[:40]
    before = [[hit.id for hit in ranked_ix.search(q, limit=5).hits] for q in queries]
    monkeypatch.setattr(ranking, "BLOCK_CACHE_BLOCKS", 3)
    monkeypatch.setattr(ranking, "DECODED_CACHE_BLOCKS", 2)
    with ranked_ix._searcher() as lease:
        lease.ranker = None  # a new ranker, made under the small limits
        ranker = lease.ranking()
        for text in queries:
            planned, _ = _both_ways(ranked_ix, lease, text, {})
            assert planned.plan is not None
            ranker.top(planned.plan, 5)
            assert len(ranker._decoded) <= 2
            for segment in ranker._all_segments():
                largest = max((len(b or ()) for b in segment.blocks.values()), default=0)
                assert segment.cached_blocks <= max(3, largest)
    after = [[hit.id for hit in ranked_ix.search(q, limit=5).hits] for q in queries]
    assert after == before
