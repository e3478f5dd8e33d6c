"""The block ranker (ranking.py) against Whoosh's own matchers: the same hits in the same order with the
same scores, the same date orders and the same match sets for counts.

The proof runs in every clone on the synthetic index (`segmented`: three segments, deleted releases in
two), over queries drawn from its Zipf vocabulary so that each path of the ranker is taken: common words
(posting lists of many blocks, skipped by their bounds) and rare ones (a posting or two), `^` boosts on
the rarest word of a query and on the others, two and three words (all required), long queries (most
of their words), explicit ORs, wildcard and fuzzy words, `-word`s, "phrases", `issuer:` and `title:`
words; without filters, with dates and with an issuer; k = 1, 10 and 40, by relevance and by date both
ways. With ../shared beside the checkout the same proof runs on real corpus records too (`shared`
marker).
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import threading
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from render import CorpusLoader
from statementsearch import StatementIndex
from statementsearch.analysis import term_for
from statementsearch.ranking import Ranker
from statementsearch.searching import Matching, filled
from synthetic import SyntheticIndex

LIMITS = (1, 10, 40)
Filters = dict[str, Any]


def _both_ways(ix: StatementIndex, lease: Any, text: str, filters: Filters) -> tuple[Matching, Matching]:
    """The same reading matched by the posting-block ranker and by Whoosh's matchers."""
    planned = ix._matching(lease, text, filters.get("issuer"), filters.get("since"), filters.get("until"))
    return planned, dataclasses.replace(planned, ranker=None)


def _same_ranking(ours: list[tuple[int, float]], theirs: list[tuple[int, float]]) -> None:
    """Same scores position by position; the same documents except where two scores tie (the sum of a
    document's word scores may differ in the last bit between the paths, so ties may order differently)."""
    assert len(ours) == len(theirs), (ours, theirs)
    scores = [s for _, s in ours]
    for n, ((doc, score), (their_doc, their_score)) in enumerate(zip(ours, theirs, strict=True)):
        assert abs(score - their_score) < 1e-9, (n, ours, theirs)
        tied = sum(1 for s in scores if abs(s - score) < 1e-9) > 1 or n == len(ours) - 1
        assert doc == their_doc or tied, (n, ours, theirs)


def check_against_whoosh(ix: StatementIndex, queries: list[str], filters: Filters) -> int:
    """Rank every query both ways and compare; returns how many were ranked from the posting blocks."""
    planned = 0
    with ix._searcher() as lease:
        for text in queries:
            ours, theirs = _both_ways(ix, lease, text, filters)
            assert ours.allowed is None or ours.allowed  # (an empty filter is answered before ranking)
            assert ours.plan is not None and theirs.plan is None, (text, ours.reading)
            planned += 1
            # Whoosh's orders are total (ties by a stable key), so its deepest list's first k are its
            # top k: fetched once; the ranker's are fetched for each k, its pruning depending on k.
            deepest = max(LIMITS)
            their_top = theirs.top(deepest)
            their_dates = {
                newest: [d for d, _ in theirs.by_date(deepest, newest)] for newest in (True, False)
            }
            for limit in LIMITS:
                _same_ranking(ours.top(limit), their_top[:limit])
                # A list filled past the matches, pruned by its k-th match, ranks as every release
                # holding any word (the loosest reading) ranked in full.
                loosest = ours.with_reading(ours.reading.loosest())
                _same_ranking(filled(ours)(limit), loosest.top(limit))
                for newest in (True, False):
                    by_date = [d for d, _ in ours.by_date(limit, newest)]
                    assert by_date == their_dates[newest][:limit], (text, newest)
            assert [docs for _, _, docs in ours.leaf_matches()] == [
                docs for _, _, docs in theirs.leaf_matches()
            ], text
    return planned


# ---------------------------------------------------------------------------------------------- synthetic


def synthetic_queries(segmented: SyntheticIndex, ix: StatementIndex) -> list[str]:
    """Queries of every kind the ranker takes, from the synthetic vocabulary (most frequent first)."""
    rng = random.Random(5)
    words = segmented.vocabulary.words
    frequency = Counter(term for release in segmented.releases.values() for term in release.terms)
    # Rare: in one or two releases.
    rare = tuple(w for w in words[1000:] if frequency[term_for(w)] in (1, 2))
    common, middle = words[:12], words[40:400]

    def pick(pool: tuple[str, ...], n: int = 1) -> list[str]:
        return rng.sample(pool, n)

    queries = [*pick(common, 4), *pick(middle, 4), *pick(rare, 3)]
    queries += [f"{pick(common)[0]}^2", f"{pick(middle)[0]}^0.5", f"{pick(common)[0]}^3.5"]
    queries += [f"{pick(common)[0]} {pick(middle)[0]}" for _ in range(4)]
    queries += [" ".join(pick(common, 2)), " ".join(pick(middle, 2)), f"{pick(middle)[0]} {pick(rare)[0]}"]
    # Boosts on a word that is not the rarest (scored while intersecting) and on the rarest one.
    queries += [f"{pick(common)[0]}^2 {pick(middle)[0]}" for _ in range(3)]
    queries += [f"{pick(middle)[0]}^2 {pick(common)[0]}" for _ in range(3)]
    queries += [f"{pick(common)[0]} {pick(middle)[0]}^0.5", f"{common[0]}^1.5 {common[1]}^3"]
    queries += [" ".join(pick(common, 3)), f"{common[2]}^2 {pick(middle)[0]} {common[3]}^0.7"]
    # Long queries: most of their words, a word said twice counting twice, boosts.
    queries += [" ".join(pick(common, 2) + pick(middle, 3)) for _ in range(3)]
    queries += [f"{common[4]} {common[4]} {' '.join(pick(middle, 3))}"]
    queries += [f"{common[5]}^2 {' '.join(pick(middle, 4))}^0.5"]
    queries += [f"{a} OR {b}" for a, b in (pick(middle, 2), pick(common, 2))]
    queries += [
        f"{pick(middle)[0]}^2 OR {pick(common)[0]}",
        f"({pick(middle)[0]} OR {pick(middle)[0]}) {common[6]}",
        f"({pick(middle)[0]} OR {pick(common)[0]})^2 {common[6]}",  # a group's boost on each word
        f"({' '.join(pick(middle, 2))})^0.5 {common[7]}",
    ]
    queries += [f"{a} -{b}" for a, b in (pick(common, 2), pick(common, 2), pick(middle, 2))]
    queries += [
        f"{pick(common)[0]} {pick(middle)[0]} -{common[7]}",
        f"{' '.join(pick(middle, 4))} -{common[8]}",
    ]
    # Wildcard and fuzzy words: each an OR of the terms it stands for.
    queries += [f"{common[9][:3]}* {pick(middle)[0]}", f"{pick(middle)[0][:3]}*^2 {common[10]}"]
    queries += [f"{pick(middle)[0]}~ {common[11]}", f"{pick(middle)[0]}~2"]
    queries += _phrases(ix, rng, 8)
    queries += [f"{phrase} {pick(common)[0]}" for phrase in _phrases(ix, rng, 3)]
    issuer_words = sorted({w.lower() for i in segmented.vocabulary.issuers for w in i.split()[-2:]})
    queries += [f"issuer:{rng.choice(issuer_words)} {pick(common)[0]}" for _ in range(3)]
    queries += [
        f"issuer:{rng.choice(issuer_words)}",
        f"issuer:{rng.choice(issuer_words)}^2 {pick(middle)[0]}",
    ]
    queries += [f"title:{pick(middle)[0]} {pick(common)[0]}" for _ in range(3)]
    queries += [f"title:{pick(middle)[0]}", f"title:{pick(middle)[0]}^2 {pick(common)[0]}"]
    # Required items of several words each (groups, a wildcard): their scores add up, item by item.
    queries += [
        f"({a} OR {b}) ({c} OR {d})" for a, b, c, d in (pick(common, 4), pick(common, 2) + pick(middle, 2))
    ]
    return queries


def _phrases(ix: StatementIndex, rng: random.Random, count: int) -> list[str]:
    """Two or three consecutive words of live releases' bodies, quoted."""
    out = []
    with ix._searcher() as lease:
        searcher = lease.searcher
        live = [n for n in range(searcher.doc_count_all()) if not searcher.reader().is_deleted(n)]
        for docnum in rng.sample(live, count):
            run = re.findall(r"[A-Za-z]{3,}", searcher.stored_fields(docnum)["body"])
            start = rng.randrange(max(1, len(run) - 3))
            out.append('"' + " ".join(run[start : start + rng.choice((2, 3))]) + '"')
    return out


def synthetic_filters(segmented: SyntheticIndex, which: str) -> Filters:
    return {
        "none": {},
        "dates": {"since": "2006-01-01", "until": "2008-12-31"},
        "issuer": {"issuer": segmented.vocabulary.issuers[0]},  # a prefix of two issuers
    }[which]


@pytest.mark.parametrize("which", ["none", "dates", "issuer"])
def test_ranker_ranks_as_whoosh_does(
    segmented: SyntheticIndex, segmented_ix: StatementIndex, which: str
) -> None:
    with segmented_ix._searcher() as lease:
        leaves = list(lease.searcher.leaf_searchers())
        assert len(leaves) == 3 and sum(sub.reader().has_deletions() for sub, _ in leaves) == 2
    queries = synthetic_queries(segmented, segmented_ix)
    assert (
        check_against_whoosh(segmented_ix, queries, synthetic_filters(segmented, which)) == len(queries) > 60
    )


def test_the_synthetic_queries_take_every_path_of_the_ranker(
    segmented: SyntheticIndex, segmented_ix: StatementIndex
) -> None:
    """What the proof above covers: plans of one word and of all words, boosted words among them, plans
    with optional words (long queries, ORs), exclusions, phrases, and title/issuer fields; words of
    many blocks and words of one posting."""
    plans = []
    with segmented_ix._searcher() as lease:
        for text in synthetic_queries(segmented, segmented_ix):
            plan = _both_ways(segmented_ix, lease, text, {})[0].plan
            assert plan is not None
            plans.append(plan)
        blocks = [
            lease.ranking()._blocks(segment, word)
            for plan in plans
            for item in plan.required + plan.optional
            for word in item
            for segment in lease.ranking()._all_segments()
        ]
    all_words = [plan.all_words() for plan in plans]
    boosts = [word.boost for words in all_words if words for word in words]
    assert sum(1 for words in all_words if words and len(words) == 1) >= 10
    assert sum(1 for words in all_words if words and len(words) > 1) >= 15
    assert len({b for b in boosts if b != 1.0}) >= 4
    assert sum(1 for plan in plans if plan.optional and plan.min_optional < len(plan.optional)) >= 5
    assert sum(1 for plan in plans if plan.excluded) >= 5 and sum(1 for plan in plans if plan.phrases) >= 8
    assert sum(1 for plan in plans if sum(len(item) > 1 for item in plan.required) >= 2) >= 2
    fields = {word.field for plan in plans for item in plan.required + plan.optional for word in item}
    assert fields == {"text", "title", "issuer"}
    assert any(b and len(b) > 3 for b in blocks) and any(b and b[0].count == 1 for b in blocks)


def test_filled_lists_rank_their_partial_matches_above_a_floor(
    segmented: SyntheticIndex, segmented_ix: StatementIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proof above covers filled lists ranked from the k-th strict match's score as a floor (the
    `at_least` of `Ranker._top_matches`)."""
    floors: list[float] = []
    real = Ranker._top_matches

    def top_matches(self: Ranker, *args: Any) -> Any:
        floors.append(args[-1])
        return real(self, *args)

    monkeypatch.setattr(Ranker, "_top_matches", top_matches)
    with segmented_ix._searcher() as lease:
        for text in synthetic_queries(segmented, segmented_ix):
            filled(_both_ways(segmented_ix, lease, text, {})[0])(10)
    assert sum(1 for floor in floors if floor > 0) >= 3, floors


def test_which_of_some_releases_hold_a_word_is_read_from_their_blocks_alone(
    segmented: SyntheticIndex, segmented_ix: StatementIndex
) -> None:
    """`holders(item, among)`, which a list's missing words ask for its hits, is the full holders set
    cut to those releases: common words and rare ones, deleted releases and numbers past the end."""
    rng = random.Random(11)
    words = segmented.vocabulary.words
    with segmented_ix._searcher() as lease:
        ranker = lease.ranking()
        size = lease.searcher.doc_count_all()
        checked = 0
        for text in [*words[:6], *words[40:46], *words[2000:2004]]:
            item = _both_ways(segmented_ix, lease, text, {})[0].plan.optional[0]
            everyone = ranker.holders(item)
            assert everyone is not None
            for _ in range(5):
                among = rng.sample(range(size + 20), 60) + rng.sample(sorted(everyone) or [0], 1)
                assert ranker.holders(item, among) == everyone & set(among), text
                checked += len(everyone & set(among))
        assert checked > 100


def test_queries_the_ranker_leaves_to_whoosh(segmented: SyntheticIndex, segmented_ix: StatementIndex) -> None:
    """Sloppy phrases, nested groups and id: lookups are Whoosh's; search still answers them."""
    a, b, c = segmented.vocabulary.words[:3]
    queries = (f'"{a} {b}"~3', "id:j0.jsonl", f"({a} ({b} OR {c})) OR zzzz")
    with segmented_ix._searcher() as lease:
        for text in queries:
            ours, _ = _both_ways(segmented_ix, lease, text, {})
            assert ours.plan is None, text
    assert segmented_ix.search(queries[0]).total > 0
    assert segmented_ix.search(queries[2]).total > 0


def test_search_results_come_from_the_ranker_unchanged(
    segmented: SyntheticIndex, segmented_ix: StatementIndex
) -> None:
    """The public search gives the ranker's order; counts cover the whole result set."""
    word = segmented.vocabulary.words[0]
    result = segmented_ix.search(word, collapse=False, limit=20)
    with segmented_ix._searcher() as lease:
        _, theirs = _both_ways(segmented_ix, lease, word, {})
        top = theirs.top(20)
        everything = sum(len(docs) for _, _, docs in theirs.leaf_matches())
    assert [round(h.score, 4) for h in result.hits] == [round(s, 4) for _, s in top]
    assert result.total == everything == len(segmented.ids(term_for(word)))


@pytest.mark.parametrize("query", ["ruby -sapphire", "(ruby OR rubies) -sapphire"], ids=["ranker", "whoosh"])
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


def test_a_searcher_does_not_copy_the_index_into_memory(
    segmented: SyntheticIndex, segmented_ix: StatementIndex
) -> None:
    """whoosh3 wrapped each memory-mapped segment file in a BytesIO, a full copy per searcher (one per
    thread); a search from a new thread must allocate far less than the index's size."""
    size = sum(p.stat().st_size for p in segmented_ix.path.iterdir() if p.is_file())
    word = segmented.vocabulary.words[0]
    tracemalloc.start()
    try:
        worker = threading.Thread(target=lambda: segmented_ix.search(word))
        worker.start()
        worker.join()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 1_000_000
    assert peak < size / 4, (peak, size)


def test_the_block_caches_stay_within_their_bounds(
    segmented: SyntheticIndex, segmented_ix: StatementIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny cache limits: the caches are emptied when full, and rankings do not change."""
    import statementsearch.ranking as ranking
    import statementsearch.vectors as vectors

    queries = synthetic_queries(segmented, segmented_ix)[:40]
    before = [[hit.id for hit in segmented_ix.search(q, limit=5).hits] for q in queries]
    monkeypatch.setattr(ranking, "BLOCK_CACHE_BLOCKS", 3)
    monkeypatch.setattr(vectors, "ARRAYS_KEPT", 50)
    with segmented_ix._searcher() as lease:
        lease.ranker = None  # a new ranker, made under the small limits
        ranker = lease.ranking()
        for text in queries:
            planned, _ = _both_ways(segmented_ix, lease, text, {})
            assert planned.plan is not None
            ranker.top(planned.plan, 5)
            cache = ranker._postings_cache
            assert cache.held <= max(50, *(len(p.ids) for p in cache._lists.values()))
            for segment in ranker._all_segments():
                largest = max((len(b or ()) for b in segment.blocks.values()), default=0)
                assert segment.cached_blocks <= max(3, largest)
    after = [[hit.id for hit in segmented_ix.search(q, limit=5).hits] for q in queries]
    assert after == before


# ---------------------------------------------------------------------------------------------- corpus


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(scope="module")
def ranked_ix(
    tmp_path_factory: pytest.TempPathFactory, corpus_records: CorpusLoader
) -> Iterator[StatementIndex]:
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


def corpus_queries(ix: StatementIndex) -> list[str]:
    """Queries made of the index's own words: common and rare, pairs, phrases, -words, issuer: words."""
    rng = random.Random(3)
    with ix._searcher() as lease:
        searcher = lease.searcher
        stored = [searcher.stored_fields(n) for n in range(0, searcher.doc_count_all(), 7)]
    bodies = [s.get("body", "") for s in stored if s.get("body")]
    words = [w for b in bodies for w in re.findall(r"[A-Za-z]{4,}", b) if term_for(w.lower()) is not None]
    common = [w for w, _ in Counter(w.lower() for w in words).most_common(40)]
    issuers = sorted({w for s in stored for w in re.findall(r"[A-Za-z]{4,}", s.get("issuer", ""))})
    queries = list(common[:15])
    queries += [rng.choice(words) for _ in range(15)]
    queries += [f"{rng.choice(common)} {rng.choice(words)}" for _ in range(15)]
    queries += [" ".join(rng.sample(common, 3)) for _ in range(8)]
    queries += [" ".join(rng.sample(words, 6)) for _ in range(8)]  # long: most of the words
    for body in rng.sample(bodies, 12):
        run = re.findall(r"[A-Za-z]{3,}", body)
        start = rng.randrange(max(1, len(run) - 3))
        queries.append('"' + " ".join(run[start : start + rng.choice((2, 3))]) + '"')
    queries += [f"{a} -{b}" for a, b in zip(common[:6], common[6:12], strict=True)]
    queries += [f"issuer:{rng.choice(issuers)} {rng.choice(common)}" for _ in range(6)]
    queries += [f'"{a} {b}" {c}' for a, b, c in zip(common[:4], common[4:8], common[8:12], strict=True)]
    queries += [f"{a}^2 {b}" for a, b in zip(common[12:16], common[16:20], strict=True)]
    return queries


@pytest.mark.shared
def test_ranker_ranks_as_whoosh_does_on_corpus_records(ranked_ix: StatementIndex) -> None:
    """The proof on real releases, without filters, with dates, and with the commonest issuer's prefix."""
    with ranked_ix._searcher() as lease:
        searcher = lease.searcher
        assert len(list(searcher.leaf_searchers())) == 2 and searcher.reader().has_deletions()
    queries = corpus_queries(ranked_ix)
    issuer = ranked_ix.stats(top=1).top_issuers[0].issuer[:4]
    for filters in ({}, {"since": "2006-01-01", "until": "2008-12-31"}, {"issuer": issuer}):
        assert check_against_whoosh(ranked_ix, queries, filters) == len(queries) > 80
