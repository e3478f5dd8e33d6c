"""Ranking quality of statementsearch on the shared IR test collections, beside a plain BM25 reference.

    python bench/relevance.py [--shared DIR] [--collections cranfield,time,cisi] [--json OUT]

For each collection under SHARED/ir/ it indexes docs.jsonl in a temporary folder with `statementsearch index`,
runs every query through `statementsearch batch --format trec --limit 1000 --no-collapse` (the same code
path as a user's batch run, query text passed as is), and scores the run with ir-measures: MAP, nDCG@10,
P@10 and R@1000. Judgements with grade 0 count as judged non-relevant; the mean is over the queries with at
least one relevant document (a query that returns nothing, or fails, scores 0), as the reference run does.

`evaluate(name, shared)` returns the same figures as a dict, for tests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ir_measures
from ir_measures import AP, P, R, nDCG

COLLECTIONS = ("cranfield", "time", "cisi")
MEASURES = {"MAP": AP, "nDCG@10": nDCG @ 10, "P@10": P @ 10, "R@1000": R @ 1000}
DEPTH = 1000

# Plain BM25 (title+body, Porter stemming, k1 0.9, b 0.4, top 1000) from shared/README.md and the
# collections' PROVENANCE.txt. TIME has two figures for the same qrels.tsv: the README's (0.646 / 0.708) is
# the run on the corrected judgements (ids above 370 shifted by -2, see the "Correction" note in
# PROVENANCE.txt) that qrels.tsv now holds; PROVENANCE's table (0.5706 / 0.6384) predates the correction.
REFERENCE: dict[str, dict[str, float]] = {
    "cranfield": {"MAP": 0.289, "nDCG@10": 0.352, "P@10": 0.2231, "R@100": 0.7213},
    "time": {"MAP": 0.646, "nDCG@10": 0.708},
    "cisi": {"MAP": 0.196, "nDCG@10": 0.358, "P@10": 0.3303, "R@100": 0.4232},
}
TIME_PRE_CORRECTION = {"MAP": 0.5706, "nDCG@10": 0.6384}


def default_shared() -> Path:
    """../shared beside the repo root, where the read-only data lives."""
    return Path(__file__).resolve().parents[1].parent / "shared"


def _cli() -> list[str]:
    return [sys.executable, "-m", "statementsearch"]


def read_qrels(path: Path) -> list[ir_measures.Qrel]:
    qrels = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, docid, grade = line.split("\t")[:3]
            qrels.append(ir_measures.Qrel(qid.strip(), docid.strip(), int(grade)))
    return qrels


def read_run(trec: str) -> list[ir_measures.ScoredDoc]:
    run = []
    for line in trec.splitlines():
        parts = line.split()
        if len(parts) == 6:
            qid, _q0, docid, _rank, score, _tag = parts
            run.append(ir_measures.ScoredDoc(qid, docid, float(score)))
    return run


def score_run(qrels: list[ir_measures.Qrel], run: list[ir_measures.ScoredDoc]) -> dict[str, Any]:
    """Mean of each measure over the queries with >= 1 relevant document; missing queries count 0."""
    judged = sorted({q.query_id for q in qrels if q.relevance > 0})
    per_query: dict[str, dict[str, float]] = {name: dict.fromkeys(judged, 0.0) for name in MEASURES}
    names = {str(m): name for name, m in MEASURES.items()}
    wanted = set(judged)
    for metric in ir_measures.iter_calc(list(MEASURES.values()), qrels, run):
        if metric.query_id in wanted:
            per_query[names[str(metric.measure)]][metric.query_id] = float(metric.value)
    figures: dict[str, Any] = {name: sum(v.values()) / len(v) if v else 0.0 for name, v in per_query.items()}
    figures["queries"] = len(judged)
    figures["answered"] = len({d.query_id for d in run} & wanted)
    return figures


def _check_aggregate(
    qrels: list[ir_measures.Qrel], run: list[ir_measures.ScoredDoc], figures: dict[str, Any]
) -> None:
    """When every judged query has hits, calc_aggregate must agree with the per-query mean."""
    if figures["answered"] != figures["queries"]:
        return
    agg = ir_measures.calc_aggregate(list(MEASURES.values()), qrels, run)
    for name, measure in MEASURES.items():
        assert abs(agg[measure] - figures[name]) < 1e-9, (name, agg[measure], figures[name])


def evaluate(name: str, shared: Path | None = None, *, workdir: Path | None = None) -> dict[str, Any]:
    """Index one collection, run its queries through `statementsearch batch`, return the figures."""
    folder = (shared or default_shared()) / "ir" / name
    if not (folder / "docs.jsonl").is_file():
        raise FileNotFoundError(f"no collection at {folder}")
    with tempfile.TemporaryDirectory(prefix=f"relevance-{name}-", dir=workdir) as tmp:
        documents = Path(tmp) / "documents"
        documents.mkdir()
        (documents / "docs.jsonl").symlink_to((folder / "docs.jsonl").resolve())
        index = Path(tmp) / "index"
        where = ["--index", str(index), "--documents", str(documents)]
        started = time.perf_counter()
        subprocess.run([*_cli(), "index", *where], check=True, capture_output=True, text=True)
        built = time.perf_counter() - started
        started = time.perf_counter()
        batch = subprocess.run(
            [
                *_cli(),
                "batch",
                str(folder / "queries.tsv"),
                "--format",
                "trec",
                "--limit",
                str(DEPTH),
                "--no-collapse",
                *where,
            ],
            capture_output=True,
            text=True,
            encoding="utf-8",
        )
        searched = time.perf_counter() - started
    if batch.returncode not in (0, 1):  # 1: some queries failed (counted as 0 below); else a crash
        raise RuntimeError(f"batch failed on {name}: {batch.stderr.strip()}")
    qrels = read_qrels(folder / "qrels.tsv")
    run = read_run(batch.stdout)
    figures = score_run(qrels, run)
    _check_aggregate(qrels, run, figures)
    figures["failed_queries"] = [line for line in batch.stderr.splitlines() if line.strip()]
    figures["index_seconds"] = round(built, 2)
    figures["batch_seconds"] = round(searched, 2)
    return figures


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _ratio(ours: float, reference: float | None) -> str:
    return "-" if not reference else f"{ours / reference:.3f}"


def table(results: dict[str, dict[str, Any]]) -> str:
    head = "| collection | queries | MAP | ref MAP | ratio | nDCG@10 | ref nDCG@10 | ratio | P@10 | R@1000 |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, f in results.items():
        ref = REFERENCE.get(name, {})
        rows = [(ref, "")]
        if name == "time":
            rows.append((TIME_PRE_CORRECTION, " (PROVENANCE table, pre-correction)"))
        for i, (r, note) in enumerate(rows):
            label = name + note
            ours = (f"{f['MAP']:.4f}", f"{f['nDCG@10']:.4f}", f"{f['P@10']:.4f}", f"{f['R@1000']:.4f}")
            if i:
                ours = ("″", "″", "″", "″")
            ref_map, ref_ndcg = _cell(r.get("MAP")), _cell(r.get("nDCG@10"))
            lines.append(
                f"| {label} | {f['queries']} | {ours[0]} | {ref_map} | {_ratio(f['MAP'], r.get('MAP'))} | "
                f"{ours[1]} | {ref_ndcg} | {_ratio(f['nDCG@10'], r.get('nDCG@10'))} | {ours[2]} | {ours[3]} |"
            )
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=default_shared(), help="shared data dir (../shared)")
    ap.add_argument("--collections", default=",".join(COLLECTIONS), help="comma-separated collection names")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(list(argv) if argv is not None else None)
    names = [n.strip() for n in args.collections.split(",") if n.strip()]
    results = {}
    for name in names:
        print(f"{name}: indexing and running queries ...", file=sys.stderr, flush=True)
        results[name] = evaluate(name, args.shared)
        for line in results[name]["failed_queries"]:
            print(f"  {line}", file=sys.stderr)
    print(table(results))
    print(
        "\nqrels: each collection's qrels.tsv (TIME: the corrected judgements, PROVENANCE.txt 'Correction')."
    )
    if args.json:
        args.json.write_text(json.dumps({"results": results, "reference": REFERENCE}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
