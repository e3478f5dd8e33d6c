"""Choosing the ranking defaults so that they generalise: variants, leave-one-collection-out, a reference.

    python bench/relevance_cv.py [--shared DIR] [--out bench/out/relevance_cv.json] [--quick]
    python bench/relevance_cv.py --compare cranfield/rare      # query by query against the reference

Each shared collection (Cranfield, TIME, CISI) is run as it is and in five variants that change its shape:
titles dropped, bodies cut to their first 30 words, queries cut to their 2-3 rarest words, queries
upper-cased, and stop words around one content word. Every (collection, variant) is scored two ways:

- statementsearch, in process, through `StatementIndex.search(..., fill=True)` (what `batch` does: the
  same parser, ranker and scores), for each configuration of the grid below;
- a plain BM25 of our own (`reference_run`): title+body, lower-case [a-z0-9]+ tokens, Lucene's 33 stop
  words, Porter stemming, k1 0.9, b 0.4: the reference of shared/README.md, recomputed on every variant.

The ratio ours / reference for MAP and nDCG@10 is what counts. A configuration is chosen by its worst
ratio over all (collection, variant) pairs it is tuned on. Leave-one-collection-out: tuned on two
collections (all their variants), judged on the third; the default is then tuned on all three. Figures
are written to `--out` as JSON and printed as tables (BENCHMARKS.md "Relevance").
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import ir_measures
from ir_measures import AP, nDCG
from whoosh.lang.porter import stem

sys.path.insert(0, str(Path(__file__).resolve().parent))
from relevance import COLLECTIONS, REFERENCE, default_shared, read_qrels
from statementsearch import StatementIndex, schema
from statementsearch.analysis import (
    LUCENE_STOP_WORDS,
)  # the reference's 33 words, as Lucene's English analyzer
from statementsearch.errors import QueryError
from statementsearch.ranking import Ranker
from statementsearch.scoring import Params, Weighting
from statementsearch.searching import Columns, Matching, relaxed

VARIANTS = ("base", "notitle", "cut30", "rare", "upper", "stopwrap")
MEASURES = {"MAP": AP, "nDCG@10": nDCG @ 10}
DEPTH = 1000
# The grid: index-time title boost, query-time K1 and B.
TITLE_BOOSTS = (1.0, 2.0, 3.0)
K1S = (1.2, 1.5, 2.0)
BS = (0.4, 0.6, 0.75)
Config = tuple[float, float, float]
"""(title boost, K1, B)."""


# ---------------------------------------------------------------------------------------------- data


def load(shared: Path, name: str) -> tuple[list[dict[str, Any]], list[tuple[str, str]], list[Any]]:
    folder = shared / "ir" / name
    docs = [json.loads(line) for line in (folder / "docs.jsonl").read_text(encoding="utf-8").splitlines()]
    queries = []
    for line in (folder / "queries.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, _, text = line.partition("\t")
            queries.append((qid.strip(), text))
    return docs, queries, read_qrels(folder / "qrels.tsv")


def _plain_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def variants(docs: list[dict[str, Any]], queries: list[tuple[str, str]]) -> dict[str, tuple[Any, Any]]:
    """The collection as it is and in five other shapes (see the module docstring)."""
    df: Counter[str] = Counter()
    for doc in docs:
        df.update({stem(w) for w in _plain_words(f"{doc.get('title', '')} {doc.get('body', '')}")})

    def rarest(qid: str, text: str, count: int) -> list[str]:
        words = [w for w in dict.fromkeys(_plain_words(text)) if w not in LUCENE_STOP_WORDS and len(w) > 1]
        return sorted(words, key=lambda w: (df[stem(w)] or math.inf, w))[:count]

    def rare(qid: str, text: str) -> str:
        return " ".join(rarest(qid, text, 2 + int(qid) % 2 if qid.isdigit() else 2)) or text

    def stopwrap(qid: str, text: str) -> str:
        word = rarest(qid, text, 1)
        return f"the {word[0]} of the" if word else text

    return {
        "base": (docs, queries),
        "notitle": ([{**d, "title": ""} for d in docs], queries),
        "cut30": ([{**d, "body": " ".join(d.get("body", "").split()[:30])} for d in docs], queries),
        "rare": (docs, [(q, rare(q, t)) for q, t in queries]),
        "upper": (docs, [(q, t.upper()) for q, t in queries]),
        "stopwrap": (docs, [(q, stopwrap(q, t)) for q, t in queries]),
    }


# ---------------------------------------------------------------------------------------------- reference


def _reference_terms(text: str) -> list[str]:
    return [stem(w) for w in _plain_words(text) if w not in LUCENE_STOP_WORDS]


def reference_run(
    docs: list[dict[str, Any]], queries: list[tuple[str, str]]
) -> dict[str, list[tuple[str, float]]]:
    """Plain BM25 (k1 0.9, b 0.4, Lucene idf), title+body as one field: the shared README's reference."""
    k1, b = 0.9, 0.4
    postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
    lengths = []
    for n, doc in enumerate(docs):
        terms = _reference_terms(f"{doc.get('title', '')} {doc.get('body', '')}")
        lengths.append(len(terms))
        for term, tf in Counter(terms).items():
            postings[term].append((n, tf))
    average = sum(lengths) / max(len(lengths), 1)
    runs = {}
    for qid, text in queries:
        scores: dict[int, float] = defaultdict(float)
        for term, qtf in Counter(_reference_terms(text)).items():
            found = postings.get(term, [])
            idf = math.log(1 + (len(docs) - len(found) + 0.5) / (len(found) + 0.5))
            for n, tf in found:
                scores[n] += qtf * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[n] / average))
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:DEPTH]
        runs[qid] = [(docs[n]["id"], score) for n, score in ranked]
    return runs


# ---------------------------------------------------------------------------------------------- ours


class Ours:
    """statementsearch on one (collection, variant), one index per title boost, in process."""

    def __init__(self, docs: list[dict[str, Any]], workdir: Path) -> None:
        self.docs = docs
        self.workdir = workdir
        self.indexes: dict[float, StatementIndex] = {}
        self.readings: dict[float, dict[str, Matching | None]] = {}

    def index(self, title_boost: float) -> StatementIndex:
        if title_boost not in self.indexes:
            folder = self.workdir / f"title-{title_boost}"
            (folder / "documents").mkdir(parents=True)
            lines = (
                json.dumps({"id": d["id"], "title": d.get("title", ""), "body": d.get("body", "")})
                for d in self.docs
            )
            (folder / "documents" / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
            with _patched(schema, TITLE_BOOST=title_boost):
                ix = StatementIndex.create(folder / "index")
                ix.update(folder / "documents")
            self.indexes[title_boost] = ix
        return self.indexes[title_boost]

    def run(
        self, config: Config, queries: list[tuple[str, str]], strict: bool = False, relax: bool = True
    ) -> dict[str, list[tuple[str, float]]]:
        """Each query's ranked list as `batch` makes it (`search(..., fill=True)`: the same reading,
        ranker and order), without building hits: ids come from the id column. `fill` ranks the
        loosest reading (`searching.filled` takes the matches alone only when that gives the same
        list): ranked here directly, at half the cost. Queries are read once per index. `strict`: the
        matches only, as `search` lists them (relaxed when nothing matches, unless not `relax`)."""
        title_boost, k1, b = config
        ix = self.index(title_boost)
        readings = self.readings.setdefault(title_boost, {})
        params = Params(k1, b)
        searcher = ix._ix.searcher(weighting=Weighting(params))
        try:
            columns = Columns(searcher)
            ranker = Ranker(searcher, params)
            runs: dict[str, list[tuple[str, float]]] = {}
            for qid, text in queries:
                if text not in readings:
                    readings[text] = self._read(ix, text)
                matching = readings[text]
                if matching is None:
                    runs[qid] = []
                    continue
                reading = matching.reading if strict else matching.reading.loosest()
                ranked = Matching(searcher, reading, matching.allowed, columns, ranker)
                if strict and relax and not ranked.any():
                    ranked = relaxed(ranked, lambda word: False) or ranked
                runs[qid] = [(columns.value("id", d), score) for d, score in ranked.top(DEPTH)]
        finally:
            searcher.close()
        return runs

    @staticmethod
    def _read(ix: StatementIndex, text: str) -> Matching | None:
        with ix._searcher() as lease:
            try:
                return ix._matching(lease, text, None, None, None)
            except QueryError:
                return None

    def close(self) -> None:
        for ix in self.indexes.values():
            ix.close()


class _patched:
    """Set module attributes for the duration of a `with` block."""

    def __init__(self, module: Any, **values: Any) -> None:
        self.module, self.values, self.saved = module, values, {}

    def __enter__(self) -> None:
        for name, value in self.values.items():
            self.saved[name] = getattr(self.module, name)
            setattr(self.module, name, value)

    def __exit__(self, *exc: object) -> None:
        for name, value in self.saved.items():
            setattr(self.module, name, value)


# ---------------------------------------------------------------------------------------------- scoring


def measure(qrels: list[Any], runs: dict[str, list[tuple[str, float]]]) -> dict[str, float]:
    """Mean MAP and nDCG@10 over the queries with a relevant document (missing queries count 0);
    ranks, not scores, order a run (ties are ranked as the system ranked them)."""
    judged = sorted({q.query_id for q in qrels if q.relevance > 0})
    run = [
        ir_measures.ScoredDoc(qid, doc, float(DEPTH - rank))
        for qid, hits in runs.items()
        for rank, (doc, _) in enumerate(hits)
    ]
    totals: dict[str, float] = defaultdict(float)
    names = {str(m): name for name, m in MEASURES.items()}
    for metric in ir_measures.iter_calc(list(MEASURES.values()), qrels, run):
        if metric.query_id in judged:
            totals[names[str(metric.measure)]] += metric.value
    return {name: totals[name] / len(judged) for name in MEASURES}


def per_query(qrels: list[Any], runs: dict[str, list[tuple[str, float]]]) -> dict[str, float]:
    run = [
        ir_measures.ScoredDoc(qid, doc, float(DEPTH - rank))
        for qid, hits in runs.items()
        for rank, (doc, _) in enumerate(hits)
    ]
    return {m.query_id: m.value for m in ir_measures.iter_calc([AP], qrels, run)}


def ratios(ours: dict[str, float], reference: dict[str, float]) -> dict[str, float]:
    return {name: ours[name] / reference[name] if reference[name] else 1.0 for name in MEASURES}


def worst(results: dict[tuple[str, str], dict[str, float]], pairs: Iterable[tuple[str, str]]) -> float:
    return min(min(results[pair].values()) for pair in pairs)


# ---------------------------------------------------------------------------------------------- main


def grid(quick: bool) -> list[Config]:
    if quick:
        return [(3.0, 2.0, 0.8), (2.0, 1.2, 0.6), (1.0, 0.9, 0.4)]
    return list(itertools.product(TITLE_BOOSTS, K1S, BS))


def evaluate_all(shared: Path, configs: list[Config], log: Callable[[str], None]) -> dict[str, Any]:
    """Every configuration on every (collection, variant): ratios to the reference."""
    table: dict[Config, dict[tuple[str, str], dict[str, float]]] = defaultdict(dict)
    absolute: dict[str, Any] = {}
    for name in COLLECTIONS:
        docs, queries, qrels = load(shared, name)
        for variant, (vdocs, vqueries) in variants(docs, queries).items():
            reference = bar(name, variant, measure(qrels, reference_run(vdocs, vqueries)))
            absolute[f"{name}/{variant}"] = {"reference": reference}
            with tempfile.TemporaryDirectory(prefix=f"cv-{name}-{variant}-") as tmp:
                ours = Ours(vdocs, Path(tmp))
                for config in configs:
                    figures = measure(qrels, ours.run(config, vqueries))
                    table[config][(name, variant)] = ratios(figures, reference)
                    absolute[f"{name}/{variant}"][repr(config)] = figures
                ours.close()
            log(f"{name}/{variant}: reference MAP {reference['MAP']:.4f} nDCG@10 {reference['nDCG@10']:.4f}")
    return {"table": table, "absolute": absolute}


def bar(name: str, variant: str, ours: dict[str, float]) -> dict[str, float]:
    """What a configuration is measured against: for a collection as it is, the plain BM25 figures of
    shared/README.md (`relevance.REFERENCE`, what bench/relevance.py compares with: its nDCG@10 on CISI is
    4% above our reference run's); for a variant, our reference run of it (no published figure exists)."""
    published = REFERENCE.get(name, {})
    if variant == "base" and "MAP" in published:
        return {"MAP": published["MAP"], "nDCG@10": published["nDCG@10"]}
    return ours


def rescore(saved: dict[str, Any]) -> dict[Config, dict[tuple[str, str], dict[str, float]]]:
    """The ratios of a saved run (`--out`) against today's bars, without running anything again."""
    table: dict[Config, dict[tuple[str, str], dict[str, float]]] = defaultdict(dict)
    for pair, rows in saved["absolute"].items():
        name, variant = pair.split("/")
        reference = bar(name, variant, rows["reference"])
        for key, figures in rows.items():
            if key != "reference":
                config = tuple(float(x) for x in key.strip("()").split(","))
                table[config][(name, variant)] = ratios(figures, reference)  # type: ignore[index]
    return table


TOLERANCE = 0.005
"""Worst ratios this close are equal (the spread of one collection's figure between neighbouring
configurations); among them the corpus needs' nDCG@10 (bench/section_boosts.py --json) decides."""


def choose(
    table: dict[Config, dict[tuple[str, str], dict[str, float]]],
    collections: Iterable[str],
    domain: dict[Config, float] | None = None,
) -> Config:
    """The configuration whose worst ratio over the collections and their variants is best, among those
    at least 1.00 of the published reference on every collection as it is (when any is); worst ratios
    within TOLERANCE of the best are equal, and the domain set's figure (when given) picks among them."""
    names = list(collections)
    pairs = [(c, v) for c in names for v in VARIANTS]
    floor = [c for c in table if all(min(table[c][(n, "base")].values()) >= 1.0 for n in names)]
    candidates = floor or list(table)
    best = max(worst(table[c], pairs) for c in candidates)
    near = [c for c in candidates if worst(table[c], pairs) >= best - TOLERANCE]
    return max(near, key=lambda c: ((domain or {}).get(c, 0.0), worst(table[c], pairs), c))


def report(
    table: dict[Config, dict[tuple[str, str], dict[str, float]]], domain: dict[Config, float] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"cross_validated": {}}
    for held in COLLECTIONS:
        train = [c for c in COLLECTIONS if c != held]
        config = choose(table, train, domain)
        out["cross_validated"][held] = {
            "config": config,
            "train_worst": worst(table[config], [(c, v) for c in train for v in VARIANTS]),
            "held_out": {v: table[config][(held, v)] for v in VARIANTS},
        }
    chosen = choose(table, COLLECTIONS, domain)
    out["chosen"] = {
        "config": chosen,
        "ratios": {f"{c}/{v}": table[chosen][(c, v)] for c in COLLECTIONS for v in VARIANTS},
    }
    return out


def compare(shared: Path, pair: str, config: Config) -> None:
    """Query by query, ours against the reference on one (collection, variant): the worst first."""
    name, variant = pair.split("/")
    docs, queries, qrels = load(shared, name)
    vdocs, vqueries = variants(docs, queries)[variant]
    reference = per_query(qrels, reference_run(vdocs, vqueries))
    with tempfile.TemporaryDirectory() as tmp:
        ours_runs = Ours(vdocs, Path(tmp)).run(config, vqueries)
    ours = per_query(qrels, ours_runs)
    texts = dict(vqueries)
    rows = sorted(reference, key=lambda q: ours.get(q, 0.0) - reference[q])
    for qid in rows[:25]:
        print(f"{qid:>5} ours {ours.get(qid, 0.0):.3f} ref {reference[qid]:.3f}  {texts[qid][:100]}")


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=default_shared())
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "relevance_cv.json")
    ap.add_argument("--quick", action="store_true", help="three configurations only")
    ap.add_argument("--compare", help="COLLECTION/VARIANT: query by query against the reference")
    ap.add_argument("--config", default=f"{schema.TITLE_BOOST},{schema.BM25_K1},{schema.BM25_B}")
    ap.add_argument("--report", type=Path, help="print the tables of a saved --out file again (no run)")
    ap.add_argument("--domain", type=Path, help="bench/section_boosts.py --json output: the tie-breaker")
    ap.add_argument(
        "--strict", action="store_true", help="--config's ratios, filled lists beside the matches only"
    )
    args = ap.parse_args(list(argv) if argv is not None else None)
    domain = _domain(args.domain) if args.domain else None
    if args.strict:
        boost, k1, b = (float(x) for x in args.config.split(","))
        strict_beside_filled(args.shared, (boost, k1, b))
        return 0
    if args.report:
        print_tables(report(rescore(json.loads(args.report.read_text())), domain))
        return 0
    if args.compare:
        boost, k1, b = (float(x) for x in args.config.split(","))
        compare(args.shared, args.compare, (boost, k1, b))
        return 0
    found = evaluate_all(args.shared, grid(args.quick), lambda line: print(line, file=sys.stderr, flush=True))
    summary = report(found["table"], domain)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "summary": summary,
                "table": {
                    repr(c): {f"{n}/{v}": r for (n, v), r in rows.items()}
                    for c, rows in found["table"].items()
                },
                "absolute": found["absolute"],
            },
            indent=1,
        )
        + "\n"
    )
    print_tables(summary)
    return 0


def strict_beside_filled(shared: Path, config: Config) -> None:
    """Ratios to the reference of the filled lists (`batch`) and of the matches only (`search`)."""
    print(
        "| collection/variant | filled (batch) MAP / nDCG@10 | matches only (search) MAP / nDCG@10 "
        "| matches only, never relaxed |"
    )
    print("|---|---|---|---|")
    for name in COLLECTIONS:
        docs, queries, qrels = load(shared, name)
        for variant, (vdocs, vqueries) in variants(docs, queries).items():
            reference = bar(name, variant, measure(qrels, reference_run(vdocs, vqueries)))
            with tempfile.TemporaryDirectory() as tmp:
                ours = Ours(vdocs, Path(tmp))
                filled = ratios(measure(qrels, ours.run(config, vqueries)), reference)
                strict = ratios(measure(qrels, ours.run(config, vqueries, strict=True)), reference)
                bare = ratios(measure(qrels, ours.run(config, vqueries, strict=True, relax=False)), reference)
                ours.close()
            cells = [f"{r['MAP']:.3f} / {r['nDCG@10']:.3f}" for r in (filled, strict, bare)]
            print(f"| {name}/{variant} | {' | '.join(cells)} |", flush=True)


def _domain(path: Path) -> dict[Config, float]:
    """(title, K1, B) -> the corpus needs' nDCG@10 with the issuer left out of the text field."""
    rows = json.loads(path.read_text())
    return {(r["title"], r["k1"], r["b"]): r["ndcg"] for r in rows if r["issuer"] == 0.0}


def print_tables(summary: dict[str, Any]) -> None:
    print(
        "| held out | chosen on the others (title, K1, B) | worst ratio on the others "
        "| held-out ratios MAP / nDCG@10 by variant |"
    )
    print("|---|---|---|---|")
    for held, row in summary["cross_validated"].items():
        cells = ", ".join(f"{v} {r['MAP']:.3f}/{r['nDCG@10']:.3f}" for v, r in row["held_out"].items())
        print(f"| {held} | {row['config']} | {row['train_worst']:.3f} | {cells} |")
    print(f"\nchosen on all three: {summary['chosen']['config']}")
    for pair, r in summary["chosen"]["ratios"].items():
        print(f"  {pair:22} MAP {r['MAP']:.3f}  nDCG@10 {r['nDCG@10']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
