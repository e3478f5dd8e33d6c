"""Ranking quality on the real corpus: analysts' information needs, judged 0/1/2, for three systems.

    python bench/domain.py [--index DIR] [--baselines DIR] [--shared DIR] [--json OUT]
    python bench/domain.py --judge [--index DIR] [--baselines DIR] [--body-chars N]
    python bench/domain.py --explain N01 [--explain N02 ...]   # each system's top 10, graded (not blind)

`bench/domain/needs.tsv` holds the needs (`id, query, kind, description`), written before any results
were seen; `bench/domain/judgments.tsv` holds `need_id<TAB>release_id<TAB>grade` lines (2 relevant,
1 partly relevant, 0 not), judged blind on the pooled top 10 of the three systems:

- statementsearch: `StatementIndex.search(query, limit=10)` on `--index` (default: the full-corpus index
  in ../cache/corpus-index beside the checkout), near-duplicates collapsed as by default;
- plain Whoosh and SQLite FTS5: the indexes and search calls of `bench/baselines.py`, read from
  `--baselines` (build them with `python bench/baselines.py --out DIR`).

The figures are nDCG@10 (gain = grade, discount log2(rank + 1), as trec_eval and ir-measures) and P@10
(grade >= 1; P2@10 counts grade 2 only), per need and as means over the needs with a relevant release.
They are computed here rather than by ir-measures because of the repeat rule below (a repeat's gain
depends on what the same list showed above it); `tests/test_domain.py` holds the two to the same figures
on rankings without repeats.

Repeats: two releases are repeats when the word 5-shingles of their bodies have a Jaccard similarity of
at least 0.8 (`bench/corpus.py`'s `word_shingles`, an engine-free measure), or when a chain of such pairs
links them within the releases known for the need (judged or retrieved). A release repeating one ranked
higher in the same list gains 0: a re-issue tells the reader nothing new. The ideal ranking holds one
release of each group of repeats, at the best grade in the group.

A release in a top 10 without a judgment gains 0 and is reported: `--judge` prints the unjudged ones of
every need, shuffled (fixed seed per need) and without saying which system returned them, with the line
to add to judgments.tsv for each.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fts5
import plain_whoosh
from baselines import FTS5_FILE, WHOOSH_DIR
from corpus import default_shared, iter_corpus_records, shingle_overlap, word_shingles
from statementsearch import StatementIndex, StatementSearchError

HERE = Path(__file__).resolve().parent
NEEDS_FILE = HERE / "domain" / "needs.tsv"
JUDGMENTS_FILE = HERE / "domain" / "judgments.tsv"
CACHE = HERE.parents[1] / "cache"
"""../cache beside the checkout: the shared scratch where the full-corpus indexes are built once."""
DEFAULT_INDEX = CACHE / "corpus-index"
DEFAULT_BASELINES = CACHE / "baselines"
DEPTH = 10
GRADES = (0, 1, 2)
REPEAT_JACCARD = 0.8
SEED = 15

Rankings = dict[str, list[str]]
"""need id -> release ids of one system's top 10, best first."""
Judgments = dict[str, dict[str, int]]
"""need id -> release id -> grade."""


@dataclass(frozen=True)
class Need:
    """One information need: the query an analyst types, and what a relevant release is."""

    id: str
    query: str
    kind: str
    description: str


@dataclass(frozen=True)
class Scores:
    """One system's figures on one need."""

    ndcg: float | None
    """None when nothing relevant is judged for the need (no ideal ranking to compare with)."""
    precision: float
    strict_precision: float
    repeats: int
    unjudged: int


def read_needs(path: Path = NEEDS_FILE) -> list[Need]:
    """The needs file: `id<TAB>query<TAB>kind<TAB>description` lines; `#` lines are comments."""
    needs: list[Need] = []
    for lineno, line in _data_lines(path):
        fields = line.split("\t")
        if len(fields) != 4 or not all(f.strip() for f in fields):
            raise ValueError(f"{path}:{lineno}: expected id, query, kind, description separated by tabs")
        needs.append(Need(*(f.strip() for f in fields)))
    ids = [need.id for need in needs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: need ids repeat")
    return needs


def read_judgments(path: Path = JUDGMENTS_FILE, needs: Iterable[Need] | None = None) -> Judgments:
    """The judgments file: `need_id<TAB>release_id<TAB>grade` lines, grade 0, 1 or 2.

    A release judged twice for one need with different grades is an error, not a silent choice; so is a
    need id that `needs` (when given) does not hold.
    """
    known = {need.id for need in needs} if needs is not None else None
    judgments: Judgments = {}
    if not path.exists():
        return judgments
    for lineno, line in _data_lines(path):
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) != 3 or fields[2] not in {str(g) for g in GRADES}:
            raise ValueError(f"{path}:{lineno}: expected need_id, release_id, grade 0/1/2 separated by tabs")
        need_id, release_id, grade = fields[0], fields[1], int(fields[2])
        if known is not None and need_id not in known:
            raise ValueError(f"{path}:{lineno}: unknown need {need_id!r}")
        grades = judgments.setdefault(need_id, {})
        if grades.get(release_id, grade) != grade:
            raise ValueError(f"{path}:{lineno}: {release_id} judged {grades[release_id]} and {grade}")
        grades[release_id] = grade
    return judgments


def _data_lines(path: Path) -> Iterable[tuple[int, str]]:
    """(line number, line) of the non-blank, non-comment lines of a TSV file."""
    with open(path, encoding="utf-8") as handle:
        for lineno, raw in enumerate(handle, 1):
            line = raw.rstrip("\r\n")
            if line.strip() and not line.startswith("#"):
                yield lineno, line


# --- the repeat rule and the measures ----------------------------------------------------------------


def repeat_groups(bodies: Mapping[str, str], threshold: float = REPEAT_JACCARD) -> dict[str, str]:
    """Release id -> the id of its group of repeats (the smallest id in the group).

    Releases are linked when their bodies' word 5-shingle Jaccard similarity reaches `threshold`; a
    group is a connected set of links (union-find), so the result does not depend on the order given.
    """
    ids = sorted(bodies)
    shingles = {release_id: word_shingles(bodies[release_id]) for release_id in ids}
    parent = {release_id: release_id for release_id in ids}

    def root(release_id: str) -> str:
        while parent[release_id] != release_id:
            parent[release_id] = parent[parent[release_id]]
            release_id = parent[release_id]
        return release_id

    for i, first in enumerate(ids):
        for second in ids[i + 1 :]:
            if shingle_overlap(shingles[first], shingles[second])[0] >= threshold:
                low, high = sorted((root(first), root(second)))
                parent[high] = low
    return {release_id: root(release_id) for release_id in ids}


def ranked_gains(ranking: Sequence[str], grades: Mapping[str, int], group_of: Mapping[str, str]) -> list[int]:
    """The gain at each rank: the release's grade, or 0 for an unjudged release or a repeat.

    A repeat is a release whose group already appeared higher in the same ranking. A release missing
    from `group_of` is its own group.
    """
    seen: set[str] = set()
    gains: list[int] = []
    for release_id in ranking:
        group = group_of.get(release_id, release_id)
        gains.append(0 if group in seen else grades.get(release_id, 0))
        seen.add(group)
    return gains


def ideal_gains(grades: Mapping[str, int], group_of: Mapping[str, str]) -> list[int]:
    """The best gains any ranking could have: one release per group of repeats, at the group's best grade."""
    best: dict[str, int] = {}
    for release_id, grade in grades.items():
        group = group_of.get(release_id, release_id)
        best[group] = max(best.get(group, 0), grade)
    return sorted((grade for grade in best.values() if grade > 0), reverse=True)


def dcg(gains: Sequence[int], depth: int = DEPTH) -> float:
    """Discounted cumulative gain of the first `depth` gains: gain / log2(rank + 1), as trec_eval."""
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains[:depth], 1))


def ndcg(gains: Sequence[int], ideal: Sequence[int], depth: int = DEPTH) -> float | None:
    """DCG over the ideal DCG at `depth`; None when the ideal is empty (nothing relevant is known)."""
    best = dcg(ideal, depth)
    return dcg(gains, depth) / best if best > 0 else None


def precision(gains: Sequence[int], depth: int = DEPTH, minimum: int = 1) -> float:
    """Share of the first `depth` ranks gaining at least `minimum` (missing ranks of a short list miss)."""
    return sum(1 for gain in gains[:depth] if gain >= minimum) / depth


def score_ranking(ranking: Sequence[str], grades: Mapping[str, int], group_of: Mapping[str, str]) -> Scores:
    """All figures of one ranking for one need."""
    ranking = list(ranking[:DEPTH])
    gains = ranked_gains(ranking, grades, group_of)
    groups = [group_of.get(release_id, release_id) for release_id in ranking]
    return Scores(
        ndcg=ndcg(gains, ideal_gains(grades, group_of)),
        precision=precision(gains),
        strict_precision=precision(gains, minimum=2),
        repeats=len(groups) - len(set(groups)),
        unjudged=sum(1 for release_id in ranking if release_id not in grades),
    )


# --- the three systems -----------------------------------------------------------------------------


def statementsearch_rankings(index_dir: Path, needs: Sequence[Need]) -> Rankings:
    """statementsearch's top 10 per need through the library, near-duplicates collapsed (the default)."""
    ix = StatementIndex.open(index_dir)
    try:
        return {
            need.id: [
                hit.id
                for hit in ix.search(
                    need.query, limit=DEPTH, facets=False, snippets=False, suggestions=False
                ).hits
            ]
            for need in needs
        }
    finally:
        ix.close()


def all_rankings(index_dir: Path, baselines: Path, needs: Sequence[Need]) -> dict[str, Rankings]:
    """Each system's top 10 per need: statementsearch on `index_dir`, the baselines from `baselines`."""
    missing = [p for p in (index_dir, baselines / WHOOSH_DIR, baselines / FTS5_FILE) if not p.exists()]
    if missing:
        raise FileNotFoundError(
            f"missing {', '.join(map(str, missing))}: build statementsearch's index with `statementsearch "
            f"index --index DIR`, the baselines with `python bench/baselines.py --out {baselines} --reuse`"
        )
    queries = [(need.id, need.query) for need in needs]
    return {
        "statementsearch": statementsearch_rankings(index_dir, needs),
        "plain_whoosh": plain_whoosh.ranked_ids(baselines / WHOOSH_DIR, queries, limit=DEPTH),
        "fts5": fts5.ranked_ids(baselines / FTS5_FILE, queries, limit=DEPTH),
    }


def load_records(shared: Path, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The corpus records with these ids (one pass over the corpus), read from the source, not any index."""
    found: dict[str, dict[str, Any]] = {}
    for record in iter_corpus_records(shared):
        if record["id"] in ids:
            found[record["id"]] = record
    missing = ids - found.keys()
    if missing:
        raise ValueError(f"{len(missing)} ids not in the corpus under {shared}, e.g. {sorted(missing)[:3]}")
    return found


# --- evaluation and the report ---------------------------------------------------------------------


def evaluate(
    needs: Sequence[Need],
    rankings: Mapping[str, Rankings],
    judgments: Judgments,
    bodies: Mapping[str, str],
) -> dict[str, dict[str, Scores]]:
    """system -> need id -> Scores, with repeat groups formed per need over its judged and ranked releases."""
    figures: dict[str, dict[str, Scores]] = {system: {} for system in rankings}
    for need in needs:
        grades = judgments.get(need.id, {})
        known = set(grades).union(*(ranking.get(need.id, []) for ranking in rankings.values()))
        group_of = repeat_groups({release_id: bodies.get(release_id, "") for release_id in known})
        for system, ranking in rankings.items():
            figures[system][need.id] = score_ranking(ranking.get(need.id, []), grades, group_of)
    return figures


def mean_figures(scores: Mapping[str, Scores]) -> dict[str, float]:
    """Means over the needs that have a relevant release (the others have no nDCG), and total counts."""
    scored = [s for s in scores.values() if s.ndcg is not None]
    count = len(scored) or 1
    return {
        "nDCG@10": sum(s.ndcg or 0.0 for s in scored) / count,
        "P@10": sum(s.precision for s in scored) / count,
        "P2@10": sum(s.strict_precision for s in scored) / count,
        "needs": len(scored),
        "repeats": sum(s.repeats for s in scores.values()),
        "unjudged": sum(s.unjudged for s in scores.values()),
    }


def summary_table(figures: Mapping[str, Mapping[str, Scores]]) -> str:
    """Means per system as a Markdown table."""
    lines = ["| system | nDCG@10 | P@10 | P2@10 | needs | repeats in top 10 | unjudged in top 10 |"]
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for system, scores in figures.items():
        m = mean_figures(scores)
        lines.append(
            f"| {system} | {m['nDCG@10']:.3f} | {m['P@10']:.3f} | {m['P2@10']:.3f} | {m['needs']} | "
            f"{m['repeats']} | {m['unjudged']} |"
        )
    return "\n".join(lines)


def per_need_table(needs: Sequence[Need], figures: Mapping[str, Mapping[str, Scores]]) -> str:
    """nDCG@10 and P@10 of each system on each need, as a Markdown table (`-`: nothing relevant known)."""
    systems = list(figures)
    head = "| need | query | " + " | ".join(f"{s} nDCG / P@10" for s in systems) + " |"
    lines = [head, "|---|---|" + "---:|" * len(systems)]
    for need in needs:
        cells = []
        for system in systems:
            s = figures[system][need.id]
            note = f" ({s.unjudged} unjudged)" if s.unjudged else ""
            cells.append(f"{'-' if s.ndcg is None else f'{s.ndcg:.3f}'} / {s.precision:.1f}{note}")
        lines.append(f"| {need.id} | `{need.query}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figures_json(needs: Sequence[Need], figures: Mapping[str, Mapping[str, Scores]]) -> dict[str, Any]:
    """The figures as plain data: means and per-need scores of every system."""
    return {
        system: {
            "mean": mean_figures(scores),
            "needs": {need.id: vars(scores[need.id]) for need in needs},
        }
        for system, scores in figures.items()
    }


# --- blind judging ---------------------------------------------------------------------------------


def unjudged_pool(needs: Sequence[Need], rankings: Mapping[str, Rankings], judgments: Judgments) -> Rankings:
    """need id -> the releases some system ranks in its top 10 that have no judgment, shuffled blind.

    The order is a shuffle of the sorted ids seeded by the need's id, so it says nothing of which system
    returned a release or at what rank, and is the same on every run.
    """
    pool: Rankings = {}
    for need in needs:
        grades = judgments.get(need.id, {})
        ids = sorted({i for r in rankings.values() for i in r.get(need.id, []) if i not in grades})
        random.Random(f"{SEED}:{need.id}").shuffle(ids)
        if ids:
            pool[need.id] = ids
    return pool


def judging_sheet(
    needs: Sequence[Need], pool: Rankings, records: Mapping[str, Mapping[str, Any]], body_chars: int
) -> Iterable[str]:
    """Lines to read for judging: each need's description, then each release, blind, with its line to add."""
    default = JUDGMENTS_FILE.relative_to(HERE.parent)  # no checkout path: the sheet names no system
    yield f"# Add one line per release to {default} (or --judgments): need_id<TAB>release_id<TAB>grade"
    yield "# grade: 2 relevant, 1 partly relevant, 0 not relevant (against the need's description)"
    for need in needs:
        if need.id not in pool:
            continue
        yield ""
        yield f"=== {need.id} `{need.query}` ({len(pool[need.id])} to judge)"
        yield f"    {need.description}"
        for number, release_id in enumerate(pool[need.id], 1):
            record = records[release_id]
            body = " ".join(str(record.get("body") or "").split())
            cut = body[:body_chars] + (" […]" if len(body) > body_chars else "")
            yield ""
            yield f"--- {need.id} #{number}: {record.get('title') or '(no title)'}"
            yield f"    {record.get('issuer') or '(no issuer)'}, {record.get('date') or '(no date)'}"
            yield f"    {cut}"
            for mention in later_mentions(body, need.query, body_chars):
                yield f"    later: …{mention}…"
            yield f"    line: {need.id}\t{release_id}\t?"


def later_mentions(body: str, query: str, start: int, limit: int = 4, width: int = 160) -> list[str]:
    """Passages after `start` holding a query word (its first 5 letters), so a cut body can still be judged.

    A long release may reach the need only near its end; the judge sees where, whatever system found it.
    """
    stems = sorted({word[:5] for word in re.findall(r"[^\W_]{3,}", query.lower())})
    if not stems:
        return []
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, stems)) + ")", re.IGNORECASE)
    passages: list[str] = []
    end = start
    for match in pattern.finditer(body, start):
        if match.start() < end:
            continue
        begin, end = max(start, match.start() - width), match.end() + width
        passages.append(body[begin:end])
        if len(passages) == limit:
            break
    return passages


# --- looking at a need's rankings (not blind: after judging) -----------------------------------------


def explain_need(
    need: Need,
    rankings: Mapping[str, Rankings],
    grades: Mapping[str, int],
    records: Mapping[str, Mapping[str, Any]],
) -> Iterable[str]:
    """Each system's top 10 for one need: rank, grade (`?` unjudged), `R` for a repeat, issuer, date, title.

    For reading where a ranking loses once the judging is done; it names the systems, so never judge from it.
    """
    known = set(grades).union(*(ranking.get(need.id, []) for ranking in rankings.values()))
    group_of = repeat_groups({release_id: str(records[release_id].get("body") or "") for release_id in known})
    yield f"=== {need.id} `{need.query}`: {need.description}"
    for system, ranking in rankings.items():
        yield f"--- {system}"
        seen: set[str] = set()
        for rank, release_id in enumerate(ranking.get(need.id, []), 1):
            record = records[release_id]
            repeat = "R" if group_of[release_id] in seen else " "
            seen.add(group_of[release_id])
            grade = grades.get(release_id, "?")
            yield (
                f"{rank:3} {grade}{repeat} {str(record.get('issuer') or '')[:32]:32} "
                f"{record.get('date') or '':10} {str(record.get('title') or '')[:80]}  [{release_id}]"
            )


# --- command line ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command line; the defaults find the shared corpus and the cached full-corpus indexes."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="statementsearch index to evaluate")
    ap.add_argument("--baselines", type=Path, default=DEFAULT_BASELINES, help="bench/baselines.py --out")
    ap.add_argument("--shared", type=Path, default=default_shared(), help="shared data dir (../shared)")
    ap.add_argument("--needs", type=Path, default=NEEDS_FILE)
    ap.add_argument("--judgments", type=Path, default=JUDGMENTS_FILE)
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--judge", action="store_true", help="print unjudged pooled releases, blind, to judge")
    ap.add_argument("--body-chars", type=int, default=2500, help="--judge: characters of body shown")
    ap.add_argument(
        "--explain",
        metavar="NEED_ID",
        action="append",
        default=[],
        help="print each system's top 10 for a need",
    )
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    """Evaluate the three systems on the needs (or judge, or explain); a missing file or index exits 2."""
    args = parse_args(argv)
    try:
        run(args, out)
    except (OSError, ValueError, StatementSearchError) as exc:
        print(f"domain: {exc}", file=sys.stderr)
        return 2
    return 0


def run(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    """The mode the options ask for, on the systems' current rankings and the corpus records they name."""
    needs = read_needs(args.needs)
    judgments = read_judgments(args.judgments, needs)
    unknown = set(args.explain) - {need.id for need in needs}
    if unknown:
        raise ValueError(f"--explain names unknown needs: {', '.join(sorted(unknown))}")
    rankings = all_rankings(args.index, args.baselines, needs)
    wanted = {i for r in rankings.values() for ids in r.values() for i in ids}
    records = load_records(args.shared, wanted.union(*judgments.values()))
    if args.explain:
        for need in (need for need in needs if need.id in args.explain):
            for line in explain_need(need, rankings, judgments.get(need.id, {}), records):
                out(line)
    elif args.judge:
        pool = unjudged_pool(needs, rankings, judgments)
        for line in judging_sheet(needs, pool, records, args.body_chars):
            out(line)
        print(f"{sum(map(len, pool.values()))} releases to judge", file=sys.stderr)
    else:
        report(args, needs, rankings, judgments, records, out)


def report(
    args: argparse.Namespace,
    needs: Sequence[Need],
    rankings: Mapping[str, Rankings],
    judgments: Judgments,
    records: Mapping[str, Mapping[str, Any]],
    out: Callable[[str], None],
) -> None:
    """The figures: means and per-need tables on stdout, unjudged releases on stderr, JSON with --json."""
    bodies = {release_id: str(record.get("body") or "") for release_id, record in records.items()}
    figures = evaluate(needs, rankings, judgments, bodies)
    out(summary_table(figures))
    out("")
    out(per_need_table(needs, figures))
    unjudged = sum(mean_figures(scores)["unjudged"] for scores in figures.values())
    if unjudged:
        print(f"{unjudged} unjudged releases in top 10s (gain 0): judge them with --judge", file=sys.stderr)
    if args.json:
        payload = {"index": str(args.index), "figures": figures_json(needs, figures), "rankings": rankings}
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
