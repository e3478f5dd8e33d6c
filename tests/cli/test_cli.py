"""The command line end to end: click's runner for the contract, real subprocesses for the entry points."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from statementsearch.cli import main

SEED = Path(__file__).resolve().parents[2] / "documents" / "000_fb62ce4d62dc1888.txt"
DOD = "000_fb62ce4d62dc1888.txt#1"


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with documents/ holding the seed, and the env pointing at it."""
    (tmp_path / "documents").mkdir()
    shutil.copy(SEED, tmp_path / "documents")
    monkeypatch.setenv("STATEMENTSEARCH_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("STATEMENTSEARCH_DOCUMENTS", str(tmp_path / "documents"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_search_builds_missing_index_first_and_says_so(place: Path) -> None:
    code, out, err = run("search", "soleimani")
    assert code == 0
    assert "building it" in err
    assert "[Soleimani]" in out and "US Department of Defense" in out and "1 result in" in out
    assert (place / "index" / "statementsearch.json").exists()


def test_search_json_lines_only_on_stdout(place: Path) -> None:
    code, out, err = run("search", '"quds force"', "--json")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [h["id"] for h in lines] == [DOD]
    hit = lines[0]
    assert set(hit) >= {"rank", "score", "id", "title", "issuer", "date", "path", "snippet", "highlights"}
    assert [hit["snippet"][s:e].lower() for s, e in hit["highlights"]][:2] == ["quds", "force"]
    assert "1 result in" in err


def test_search_exit_codes(place: Path) -> None:
    assert run("search", "soleimani")[0] == 0
    assert run("search", "nonexistentword")[0] == 1
    code, _, err = run("search", "x", "--limit", "0")
    assert code == 2 and "--limit" in err
    code, _, err = run("search", "attack", "--since", "someday")
    assert code == 2 and "someday" in err
    code, _, err = run("search", "a*")
    assert code == 2 and "wildcard" in err


def test_did_you_mean_goes_to_stderr(place: Path) -> None:
    code, out, err = run("search", "soleimany", "--json")
    assert code == 0 and "did you mean: soleimani" in err and "did you mean" not in out


def test_filters_sort_and_page(place: Path) -> None:
    _, out, _ = run("search", "attacks", "--json", "--sort", "oldest", "--limit", "1", "--page", "2")
    assert [json.loads(line)["rank"] for line in out.splitlines()] == [2]
    _, out, _ = run("search", "attacks", "--json", "--issuer", "combined")
    assert [json.loads(line)["issuer"] for line in out.splitlines()] == [
        "Combined Joint Task Force - Operation Inherent Resolve"
    ]
    assert run("search", "attacks", "--until", "2019")[0] == 1


def test_no_color_and_brackets_when_piped(place: Path) -> None:
    _, out, _ = run("search", "soleimani", "--no-color")
    assert "\x1b[" not in out and "[Soleimani]" in out


def test_index_reports_summary_and_json(place: Path) -> None:
    code, out, _ = run("index", "--json")
    assert code == 0 and json.loads(out)["added"] == 1
    code, out, _ = run("index", "--json")
    assert json.loads(out)["unchanged"] == 1
    code, out, _ = run("index", "--rebuild", "--json")
    assert code == 0 and json.loads(out)["releases_written"] == 2


def test_index_exit_1_names_unreadable_files(place: Path) -> None:
    (place / "documents" / "broken.txt").write_bytes(b"\x00\x00binary")
    code, _, err = run("index")
    assert code == 1 and "broken.txt" in err
    assert run("search", "soleimani")[0] == 0


def test_index_into_a_folder_of_other_files_is_refused(place: Path) -> None:
    other = place / "elsewhere"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    code, _, err = run("index", "--index", str(other))
    assert code == 2 and "holds other files" in err
    assert (other / "notes.txt").read_text() == "mine"


def test_show_and_stats(place: Path) -> None:
    code, out, _ = run("show", DOD, "--json")
    assert code == 0 and json.loads(out)["date"] == "2020-01-03"
    code, _, err = run("show", "missing-id")
    assert code == 2 and "missing-id" in err
    code, out, _ = run("stats", "--json")
    data = json.loads(out)
    assert (data["releases"], data["files"], data["first_date"], data["last_date"]) == (
        2,
        1,
        "2020-01-03",
        "2020-01-05",
    )


def test_parse_json_and_exit_1_on_bad_file(place: Path) -> None:
    code, out, _ = run("parse", str(place / "documents"), "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["position"] for r in rows] == [1, 2]
    assert set(rows[0]) == {"path", "position", "id", "title", "issuer", "date", "body"}
    empty = place / "empty.txt"
    empty.write_text("")
    code, out, err = run("parse", str(empty), str(place / "documents"))
    assert code == 1 and "empty.txt" in err and DOD in out


def test_batch_trec_and_jsonl(place: Path) -> None:
    queries = place / "q.tsv"
    queries.write_text("q1\tsoleimani\nq2\tdaesh mission\nq3\ta*\nbad line\n", encoding="utf-8")
    code, out, err = run("batch", str(queries))
    assert code == 1 and "q3" in err and "line 4" in err
    assert out.splitlines()[0].split() == ["q1", "Q0", DOD, "1", out.split()[4], "statementsearch"]
    _, out, _ = run("batch", str(queries), "--format", "jsonl", "--limit", "1")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["qid"] for r in rows] == ["q1", "q2"] and all(r["snippet"] for r in rows)


def test_entry_points_as_subprocesses(place: Path) -> None:
    env = dict(os.environ)
    module = subprocess.run(
        [sys.executable, "-m", "statementsearch", "search", "soleimani", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=place,
        check=False,
    )
    assert module.returncode == 0 and json.loads(module.stdout.splitlines()[0])["id"] == DOD
    script = shutil.which("statementsearch", path=str(Path(sys.executable).parent))
    assert script is not None
    piped = subprocess.run(
        [script, "search", "soleimani"], capture_output=True, text=True, env=env, cwd=place
    )
    assert piped.returncode == 0 and "[Soleimani]" in piped.stdout and "\x1b[" not in piped.stdout


def test_relaxed_query_names_the_dropped_word_and_exits_0(place: Path) -> None:
    code, out, err = run("search", "soleimani", "quembrolixzz")
    assert code == 0 and "[Soleimani]" in out
    assert "showing releases without: quembrolixzz" in out and "showing releases without: quembrolixzz" in err
    code, out, err = run("search", "--json", "soleimani", "quembrolixzz")
    assert code == 0 and "without: quembrolixzz" in err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [hit["id"] for hit in lines] == [DOD] and lines[0]["missing"] == ["quembrolixzz"]


def test_batch_relaxes_and_fills_and_takes_filters(place: Path, tmp_path: Path) -> None:
    queries = tmp_path / "q.tsv"
    queries.write_text("1\tsoleimani quembrolixzz\n2\tattacks soleimani\n", encoding="utf-8")
    code, out, err = run("batch", str(queries), "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and "query 1: no release has all the words" in err
    assert [(r["qid"], r["id"], r["missing"]) for r in rows] == [
        ("1", DOD, ["quembrolixzz"]),
        ("2", DOD, []),
        ("2", "000_fb62ce4d62dc1888.txt#2", ["soleimani"]),  # filled past the one match
    ]
    code, out, _ = run("batch", str(queries), "--format", "jsonl", "--no-fill")
    assert [json.loads(line)["qid"] for line in out.splitlines()] == ["1", "2"]
    code, out, _ = run("batch", str(queries), "--since", "2020-01-04", "--issuer", "Combined Joint")
    assert [line.split()[:3] for line in out.splitlines()] == [["2", "Q0", "000_fb62ce4d62dc1888.txt#2"]]
    code, _, err = run("batch", str(queries), "--since", "someday")
    assert code == 2 and "invalid date 'someday'" in err


def test_page_past_the_last_one_is_said(place: Path) -> None:
    code, out, err = run("search", "attacks", "--limit", "1", "--page", "9")
    assert code == 1 and out == ""
    assert "page 9 is past the last page (2: 2 results, 1 a page)" in err


def test_timeline_refuses_options_that_shape_a_page(place: Path) -> None:
    code, _, err = run("search", "attacks", "--timeline", "--limit", "5", "--sort", "newest")
    assert code == 2 and "--timeline counts every matching release: --sort, --limit does not apply" in err
    code, out, _ = run("search", "attacks", "--timeline")
    assert code == 0 and "2 dated releases, re-issues counted" in out


def test_issuers_command_and_facets(place: Path) -> None:
    code, out, err = run("issuers")
    assert code == 0 and "US Department of Defense" in out and "2 issuers" in err
    code, out, _ = run("issuers", "joint", "--json")
    assert [json.loads(line) for line in out.splitlines()] == [
        {"issuer": "Combined Joint Task Force - Operation Inherent Resolve", "count": 1}
    ]
    assert run("issuers", "navy")[0] == 1
    code, out, _ = run("search", "attacks", "--json", "--facets")
    *hits, facets = [json.loads(line) for line in out.splitlines()]
    assert len(hits) == 2 and "rank" not in facets and facets["total"] == 2
    assert {f["issuer"] for f in facets["facets"]["issuers"]} == {
        "US Department of Defense",
        "Combined Joint Task Force - Operation Inherent Resolve",
    }
    code, out, _ = run("search", "attacks", "--issuer", "defense", "--issuer", "joint task")
    assert code == 0 and "1-2 of 2 results" in out


def test_an_empty_index_answers_every_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "documents").mkdir()
    monkeypatch.setenv("STATEMENTSEARCH_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("STATEMENTSEARCH_DOCUMENTS", str(tmp_path / "documents"))
    queries = tmp_path / "q.tsv"
    queries.write_text("1\tiraq\n", encoding="utf-8")
    code, out, err = run("search", "iraq")
    assert code == 1 and out.startswith("0 results in ") and "Traceback" not in err
    assert run("search", "iraq", "--json")[0:2] == (1, "")
    assert run("search", "iraq", "--timeline")[0] == 1
    assert run("search", "*", "--sort", "newest")[0] == 1
    assert run("batch", str(queries)) == (0, "", "")
    code, out, _ = run("stats", "--json")
    assert code == 0 and json.loads(out)["releases"] == 0
    assert run("issuers")[0] == 1
    assert run("similar", "x#1")[0] == 2


def test_a_missing_documents_folder_leaves_no_index_behind(tmp_path: Path) -> None:
    where = ["--index", str(tmp_path / "index"), "--documents", str(tmp_path / "nowhere")]
    for command in (["search", "iraq"], ["index"], ["stats"]):
        code, _, err = run(*command, *where)
        assert code == 2 and "documents folder" in err and "does not exist" in err, command
        assert not (tmp_path / "index").exists(), command
