"""bench/domain.py: the judged set's files, its repeat rule and its measures (nDCG@10, P@10)."""

from __future__ import annotations

import gzip
import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import domain

# Bodies of 200 words (196 word 5-shingles). Each changed word far from the others drops 5 shingles and
# adds 5, so k changes give a Jaccard similarity of (196 - 5k) / (196 + 5k): 0.86 for 3, 0.73 for 6.
BASE = " ".join(f"word{i}" for i in range(200))
OTHER = " ".join(f"other{i}" for i in range(200))


def changed(body: str, *positions: int) -> str:
    """The body with the words at these positions replaced."""
    words = body.split()
    for position in positions:
        words[position] = f"changed{position}"
    return " ".join(words)


NEAR = changed(BASE, 20, 60, 100)


def test_shipped_needs_are_thirty_short_queries_with_descriptions() -> None:
    needs = domain.read_needs()
    assert len(needs) >= 30
    for need in needs:
        assert 2 <= len(need.query.split()) <= 4, need
        assert len(need.description.split()) >= 15, need


def test_shipped_judgments_name_known_needs_and_every_need_has_a_relevant_release() -> None:
    needs = domain.read_needs()
    judgments = domain.read_judgments(needs=needs)
    assert {need.id for need in needs} == set(judgments)
    for need_id, grades in judgments.items():
        assert max(grades.values()) == 2, need_id


def test_judgments_refuse_conflicts_bad_grades_and_unknown_needs(tmp_path: Path) -> None:
    needs = [domain.Need("N1", "iraq troop withdrawal", "military", "what counts")]
    path = tmp_path / "judgments.tsv"
    path.write_text("# comment\nN1\ta\t2\nN1\ta\t2\nN1\tb\t0\n", encoding="utf-8")
    assert domain.read_judgments(path, needs) == {"N1": {"a": 2, "b": 0}}
    for bad in ("N1\ta\t2\nN1\ta\t1\n", "N1\ta\t3\n", "N1\ta\n", "N2\ta\t1\n"):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(ValueError):
            domain.read_judgments(path, needs)


def test_near_identical_bodies_are_repeats_and_chains_join_one_group() -> None:
    # a-c, c-d and d-b are three changes apart (repeats); a-d, b-c six and a-b nine (not repeats).
    # The pairs are compared in id order, so b and d are joined before d meets the others.
    d = changed(NEAR, 140, 170, 190)
    b = changed(d, 10, 80, 120)
    groups = domain.repeat_groups({"a": BASE, "b": b, "c": NEAR, "d": d, "e": OTHER})
    assert groups == {"a": "a", "b": "a", "c": "a", "d": "a", "e": "e"}


def test_bodies_below_the_threshold_or_too_short_are_not_repeats() -> None:
    six_changes = changed(BASE, 20, 60, 100, 140, 170, 190)  # Jaccard 0.73
    half = " ".join(BASE.split()[:100] + OTHER.split()[:100])
    bodies = {"a": BASE, "b": six_changes, "c": half, "d": "too short", "e": "too short"}
    groups = domain.repeat_groups(bodies)
    assert groups == {key: key for key in bodies}


def test_a_repeat_gains_nothing_and_the_ideal_counts_its_group_once() -> None:
    grades = {"a": 2, "b": 2, "c": 1}
    group_of = {"a": "a", "b": "a", "c": "c"}
    assert domain.ranked_gains(["b", "a", "c", "x"], grades, group_of) == [2, 0, 1, 0]
    assert domain.ideal_gains(grades, group_of) == [2, 1]
    scores = domain.score_ranking(["b", "a", "c", "x"], grades, group_of)
    assert scores.repeats == 1 and scores.unjudged == 1
    assert scores.precision == pytest.approx(0.2)
    assert scores.strict_precision == pytest.approx(0.1)
    assert scores.ndcg == pytest.approx((2 + 1 / math.log2(4)) / (2 + 1 / math.log2(3)))


def test_ndcg_is_one_for_the_ideal_order_and_none_without_relevant_releases() -> None:
    grades = {"a": 1, "b": 2, "c": 0}
    assert domain.ndcg(domain.ranked_gains(["b", "a"], grades, {}), domain.ideal_gains(grades, {})) == 1.0
    assert domain.ndcg([0, 0], domain.ideal_gains({"c": 0}, {})) is None


def test_ndcg_and_precision_agree_with_ir_measures_without_repeats() -> None:
    ir_measures = pytest.importorskip("ir_measures")
    grades = {
        "d1": 2,
        "d2": 0,
        "d3": 1,
        "d4": 2,
        "d5": 1,
        "d6": 0,
        "d7": 2,
        "d8": 1,
        "d9": 0,
        "d10": 2,
        "d11": 2,
    }
    rankings = {
        "q1": ["d2", "d1", "u1", "d5", "d9", "d3", "d7", "d6", "u2", "d8", "d4"],
        "q2": ["d11", "d10", "d7", "d4", "d1", "d3"],
        "q3": ["u1", "u2", "d9", "d6", "d2"],
    }
    qrels = [ir_measures.Qrel(q, d, g) for q in rankings for d, g in grades.items()]
    run = [
        ir_measures.ScoredDoc(q, d, float(100 - rank))
        for q, ids in rankings.items()
        for rank, d in enumerate(ids)
    ]
    theirs = {
        (str(m.measure), m.query_id): m.value
        for m in ir_measures.iter_calc([ir_measures.nDCG @ 10, ir_measures.P @ 10], qrels, run)
    }
    for qid, ranking in rankings.items():
        ours = domain.score_ranking(ranking, grades, {})
        assert ours.ndcg == pytest.approx(theirs[("nDCG@10", qid)])
        assert ours.precision == pytest.approx(theirs[("P@10", qid)])


def test_the_judging_pool_is_blind_fixed_and_leaves_out_judged_releases() -> None:
    needs = [domain.Need("N1", "q", "k", "d"), domain.Need("N2", "q", "k", "d")]
    first = {"N1": [f"r{i}" for i in range(8)], "N2": ["s1"]}
    second = {"N1": [f"r{i}" for i in range(5, 12)], "N2": ["s1"]}
    judged = {"N1": {"r0": 2, "r11": 0}, "N2": {"s1": 1}}
    pool = domain.unjudged_pool(needs, {"x": first, "y": second}, judged)
    assert set(pool) == {"N1"}
    assert sorted(pool["N1"]) == sorted(f"r{i}" for i in range(1, 11))
    assert pool == domain.unjudged_pool(needs, {"y": second, "x": first}, judged)
    assert pool["N1"] != sorted(pool["N1"], key=lambda r: int(r[1:]))


def _record(release_id: str, title: str, issuer: str, body: str) -> dict[str, str]:
    return {"id": release_id, "title": title, "issuer": issuer, "date": "2013-01-07", "body": body}


NOMINATION = (
    "The Senator released a statement today on the nomination of former Senator Chuck Hagel to be the "
    "next Secretary of Defense, saying the confirmation hearing must examine his record on Iran and Israel "
    "and that the Armed Services Committee should take the time it needs before any vote is held."
)
SMALL_CORPUS = [
    _record("n1", "Statement on Hagel nomination", "Sen. A (XX)", NOMINATION),
    _record("n2", "Statement on the Hagel nomination", "Sen. B (YY)", NOMINATION),  # a re-issue of n1
    _record("n3", "Hagel nomination vote delayed", "Sen. C (ZZ)", BASE + " hagel nomination vote delayed"),
    _record("n4", "Statement on a judge", "Sen. Chuck Hagel (NE)", OTHER + " nomination of a judge"),
    _record("n5", "Farm bill passes", "Sen. D (WW)", changed(OTHER, 5, 50, 150) + " farm bill"),
]


@pytest.fixture
def small_setup(tmp_path: Path) -> list[str]:
    """Three real indexes of five releases, the needs and judgments files: the options that run on them."""
    import baselines
    import fts5
    import plain_whoosh
    from statementsearch import StatementIndex

    shared = tmp_path / "shared" / "corpora" / "small"
    shared.mkdir(parents=True)
    lines = "".join(json.dumps(record) + "\n" for record in SMALL_CORPUS)
    (shared / "releases.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "releases.jsonl").write_text(lines, encoding="utf-8")
    ix = StatementIndex.create(tmp_path / "index")
    try:
        ix.build(documents)
    finally:
        ix.close()
    plain_whoosh.build(tmp_path / "baselines" / baselines.WHOOSH_DIR, SMALL_CORPUS)
    fts5.build(tmp_path / "baselines" / baselines.FTS5_FILE, SMALL_CORPUS)
    (tmp_path / "needs.tsv").write_text(
        "N1\thagel nomination\tperson-issuer\tHagel's nomination, not his own statements on others.\n",
        encoding="utf-8",
    )
    (tmp_path / "judgments.tsv").write_text("N1\tn1\t2\nN1\tn3\t1\nN1\tn4\t0\n", encoding="utf-8")
    return [
        *("--index", str(tmp_path / "index"), "--baselines", str(tmp_path / "baselines")),
        *("--shared", str(tmp_path / "shared"), "--needs", str(tmp_path / "needs.tsv")),
        *("--judgments", str(tmp_path / "judgments.tsv")),
    ]


def test_main_scores_three_real_indexes_counting_a_reissue_as_a_repeat(
    small_setup: list[str], tmp_path: Path
) -> None:
    lines: list[str] = []
    assert domain.main([*small_setup, "--json", str(tmp_path / "out.json")], out=lines.append) == 0
    figures = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["figures"]
    # statementsearch collapses the re-issue n2 into n1; the baselines list both, and n2 gains nothing.
    assert figures["statementsearch"]["needs"]["N1"]["repeats"] == 0
    assert figures["plain_whoosh"]["needs"]["N1"]["repeats"] == 1
    assert figures["fts5"]["needs"]["N1"]["repeats"] == 1
    assert "| statementsearch |" in "\n".join(lines)


def test_judge_mode_lists_unjudged_pooled_releases_blind(small_setup: list[str]) -> None:
    lines: list[str] = []
    assert domain.main([*small_setup, "--judge"], out=lines.append) == 0
    to_add = [line.strip() for line in lines if line.strip().startswith("line: ")]
    assert to_add == ["line: N1\tn2\t?"]
    sheet = "\n".join(lines)
    assert NOMINATION[:60] in sheet
    assert not any(name in sheet for name in ("statementsearch", "plain_whoosh", "fts5"))


def test_explain_mode_names_systems_grades_and_repeats(small_setup: list[str]) -> None:
    lines: list[str] = []
    assert domain.main([*small_setup, "--explain", "N1"], out=lines.append) == 0
    whoosh = lines[lines.index("--- plain_whoosh") + 1 : lines.index("--- fts5")]
    assert any(" ?R " in line and "[n2]" in line for line in whoosh)
    assert domain.main([*small_setup, "--explain", "N9"], out=lines.append) == 2


def test_a_missing_or_foreign_index_exits_2_with_one_line(
    small_setup: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_an_index = tmp_path / "not-an-index"
    not_an_index.mkdir()
    for index in (tmp_path / "missing", not_an_index):
        options = list(small_setup)
        options[options.index("--index") + 1] = str(index)
        assert domain.main(options, out=lambda line: None) == 2
        message = capsys.readouterr().err
        assert message.startswith("domain: ") and message.count("\n") == 1, message
