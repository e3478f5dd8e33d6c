"""Weighing the title and issuer boosts on the domain set without rebuilding the corpus index each time.

    python bench/section_boosts.py [--index bench/out/statementsearch_index] [--shared ../shared] [--json OUT]

The boosts are index-time weights of one BM25F field (schema.py), so trying one the plain way costs a
full build. But a release's BM25F score is a function of each query word's frequency in its title,
issuer, date words and body, its length and the collection statistics, and none of these depend on the
boosts. So this script reads the candidate releases of each need of `bench/domain/` from the index,
counts each query word in each section of their stored text with the index's analyzer, and ranks them
under every (title, issuer, K1, B) of a grid as the engine would: its reading (how many words must
match; a word held only in the issuer does not count when the issuer's boost is 0), its scores, its
order of ties and its collapsing of re-issues. The top 10s are scored as `bench/domain.py` scores them.
Candidates are the releases holding enough of the query's words in the index: with the issuer left out of
the text field (schema 7), a release holding a word only in its issuer is not one, so issuer boosts above
0 are judged on the candidates the index gives. The chosen configuration is then built for real and
measured with `bench/domain.py` (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from domain import (
    JUDGMENTS_FILE,
    NEEDS_FILE,
    load_records,
    read_judgments,
    read_needs,
    repeat_groups,
    score_ranking,
)
from relevance import default_shared
from statementsearch import StatementIndex, schema
from statementsearch.scoring import Params, idf, length_norm
from statementsearch.searching import tied

TITLE_BOOSTS = (1.0, 1.5, 2.0, 3.0)
ISSUER_BOOSTS = (0.0, 0.5, 1.0, 1.5)
K1S = (1.2, 1.5, 2.0)
BS = (0.4, 0.6, 0.75)


@dataclass(frozen=True)
class Candidate:
    """One release and, for each query word, how often it occurs in each section."""

    docnum: int
    key: tuple[int, str]
    group: str
    length: float
    counts: tuple[tuple[int, int, int, int], ...]
    """Per query word: (title, issuer, date words, body) occurrences."""


def candidates(ix: StatementIndex, query: str) -> tuple[list[Candidate], Any, int, dict[str, int], float]:
    """The releases a need's query can match under any of the grid's boosts, with what scoring needs."""
    with ix._searcher() as lease:
        matching = ix._matching(lease, query, None, None, None)
        plan = matching.plan
        assert plan is not None and not plan.required, query
        terms = [item[0].text for item in plan.optional]
        need = matching.reading.min_words
        held: Counter[int] = Counter()
        for index in range(len(terms)):
            held.update(matching.holders(index))
        searcher = lease.searcher
        columns = matching.columns
        found = []
        for docnum, count in held.items():
            if count < need:
                continue
            stored = searcher.stored_fields(docnum)
            day = _day(stored.get("date"))  # all four sections, whatever the index's boosts left out
            sections = [
                stored.get("title", ""),
                stored.get("issuer", ""),
                schema.date_words(day),
                stored.get("body", ""),
            ]
            per_section = [Counter(schema.ANALYZER.terms(text)) for text in sections]
            length = float(sum(sum(c.values()) for c in per_section))
            counts = tuple(tuple(c[t] for c in per_section) for t in terms)
            found.append(
                Candidate(docnum, columns.key(docnum), columns.value("group", docnum), length, counts)
            )  # type: ignore[arg-type]
        frequencies = {t: searcher.doc_frequency(schema.DEFAULT_FIELD, t) for t in terms}
        average = searcher.avg_field_length(schema.DEFAULT_FIELD)
        return found, [columns.value("id", c.docnum) for c in found], need, frequencies, average


def _day(value: Any) -> Any:
    return value.date() if hasattr(value, "date") else None


def rank(
    found: list[Candidate],
    ids: list[str],
    need: int,
    frequencies: dict[str, int],
    average: float,
    config: tuple[float, float, float, float],
    doc_count: int,
) -> list[str]:
    """The top 10 ids under one configuration: the engine's match rule, scores, tie order, collapsing."""
    title, issuer, k1, b = config
    params = Params(k1, b)
    idfs = [idf(doc_count, frequencies[t]) for t in frequencies]
    boosts = (title, issuer, schema.DATE_BOOST, schema.BODY_BOOST)
    scored = []
    for candidate, release_id in zip(found, ids, strict=True):
        score = 0.0
        holds = 0
        norm = length_norm(params, candidate.length, average)
        for term_idf, counts in zip(idfs, candidate.counts, strict=True):
            weight = sum(boost * count for boost, count in zip(boosts, counts, strict=True))
            if weight > 0:
                holds += 1
                score += term_idf * ((weight * (k1 + 1)) / (weight + norm))
        if holds >= need:
            scored.append((-tied(score), candidate.key, candidate.group, release_id))
    scored.sort()
    shown, seen = [], set()
    for _, _, group, release_id in scored:
        if group not in seen:
            seen.add(group)
            shown.append(release_id)
            if len(shown) == 10:
                break
    return shown


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--index", type=Path, default=Path(__file__).resolve().parent / "out" / "statementsearch_index"
    )
    ap.add_argument("--shared", type=Path, default=default_shared())
    ap.add_argument("--unjudged", type=Path, help="write the unjudged (need, release) pairs of the top 10s")
    ap.add_argument("--json", type=Path, help="also write the table as JSON (bench/relevance_cv.py --domain)")
    args = ap.parse_args(list(argv) if argv is not None else None)
    needs = read_needs(NEEDS_FILE)
    judgments = read_judgments(JUDGMENTS_FILE, needs)
    ix = StatementIndex.open(args.index)
    with ix._searcher() as lease:
        doc_count = lease.searcher.doc_count_all()
    prepared = {need.id: candidates(ix, need.query) for need in needs}
    configs = list(itertools.product(TITLE_BOOSTS, ISSUER_BOOSTS, K1S, BS))
    rankings = {
        config: {
            need.id: rank(*prepared[need.id][:2], *prepared[need.id][2:], config, doc_count) for need in needs
        }
        for config in configs
    }
    shown = {rid for per_need in rankings.values() for ranking in per_need.values() for rid in ranking}
    if args.unjudged:
        pairs = sorted(
            {(n, r) for per_need in rankings.values() for n, ranking in per_need.items() for r in ranking}
            - {(n, r) for n, grades in judgments.items() for r in grades}
        )
        args.unjudged.write_text("".join(f"{n}\t{r}\n" for n, r in pairs), encoding="utf-8")
    judged = {r for grades in judgments.values() for r in grades}
    bodies = {rid: r.get("body", "") for rid, r in load_records(args.shared, shown | judged).items()}
    groups = {}  # per need, over every release any configuration shows and every judged one (once)
    for need in needs:
        known = set(judgments.get(need.id, {})).union(*(per_need[need.id] for per_need in rankings.values()))
        groups[need.id] = repeat_groups({r: bodies.get(r, "") for r in known})
    results = []
    for config, per_need in rankings.items():
        ndcgs, unjudged = [], 0
        for need in needs:
            grades = judgments.get(need.id, {})
            scores = score_ranking(per_need[need.id], grades, groups[need.id])
            unjudged += scores.unjudged
            if scores.ndcg is not None:
                ndcgs.append(scores.ndcg)
        results.append((sum(ndcgs) / len(ndcgs), unjudged, config))
    results.sort(reverse=True)
    if args.json:
        rows = [
            {"title": t, "issuer": i, "k1": k, "b": b, "ndcg": n, "unjudged": u}
            for n, u, (t, i, k, b) in results
        ]
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    print("| title | issuer | K1 | B | nDCG@10 | unjudged in top 10s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for ndcg_mean, unjudged, (title, issuer, k1, b) in results:
        print(f"| {title} | {issuer} | {k1} | {b} | {ndcg_mean:.4f} | {unjudged} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
