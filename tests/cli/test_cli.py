"""The command line end to end: click's runner for the contract, real subprocesses for the entry points
and a pseudo-terminal for colour."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from helpers import CJTF, DOD, SEED, Spawn, reissue_of_dod, repost_cjtf
from statementsearch import StatementIndex
from statementsearch.analysis import term_for
from statementsearch.cli import main
from synthetic import SyntheticIndex, records, vocabulary, write_jsonl


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


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_filters_sort_and_page(place: Path) -> None:
    _, out, _ = run("search", "attacks", "--json", "--sort", "oldest", "--limit", "1", "--page", "2")
    assert [(h["rank"], h["id"]) for h in json_lines(out)] == [(2, CJTF)]
    _, out, _ = run("search", "attacks", "--json", "--sort", "newest", "--limit", "1", "--page", "2")
    assert [(h["rank"], h["id"]) for h in json_lines(out)] == [(2, DOD)]
    _, out, _ = run("search", "attacks", "--json", "--sort", "newest")
    assert [(h["rank"], h["id"]) for h in json_lines(out)] == [(1, CJTF), (2, DOD)]
    _, out, _ = run("search", "attacks", "--json", "--issuer", "combined")
    assert [json.loads(line)["issuer"] for line in out.splitlines()] == [
        "Combined Joint Task Force - Operation Inherent Resolve"
    ]
    assert run("search", "attacks", "--until", "2019")[0] == 1


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
    with StatementIndex.open(place / "index") as ix:
        want = {qid: ix.search(text).hits for qid, text in (("q1", "soleimani"), ("q2", "daesh mission"))}
    run_lines = [
        f"{qid} Q0 {hit.id} {hit.rank} {hit.score:.4f} statementsearch" for qid in want for hit in want[qid]
    ]
    assert out.splitlines() == run_lines
    assert all(float(line.split()[4]) > 0 for line in run_lines)
    _, out, _ = run("batch", str(queries), "--format", "jsonl", "--limit", "1")
    rows = json_lines(out)
    firsts = [(qid, hits[0].id, hits[0].score) for qid, hits in want.items()]
    assert [(r["qid"], r["id"], r["score"]) for r in rows] == firsts
    assert all(r["snippet"] for r in rows)


def test_entry_points_as_subprocesses(place: Path) -> None:
    env = dict(os.environ)
    module = subprocess.run(
        [sys.executable, "-m", "statementsearch", "search", "soleimani", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=place,
        check=False,
        timeout=120,
    )
    assert module.returncode == 0 and json.loads(module.stdout.splitlines()[0])["id"] == DOD
    script = shutil.which("statementsearch", path=str(Path(sys.executable).parent))
    assert script is not None
    piped = subprocess.run(
        [script, "search", "soleimani"], capture_output=True, text=True, env=env, cwd=place, timeout=120
    )
    assert piped.returncode == 0 and "[Soleimani]" in piped.stdout and "\x1b[" not in piped.stdout


def test_a_search_on_an_unsharded_index_imports_nothing_of_writing_or_shards(place: Path) -> None:
    """A search starts fast: the build's modules and the sharded stack (process pools, the first pass)
    are not imported to read an unsharded index."""
    run("index")
    probe = (
        "import sys; from statementsearch.cli import main\n"
        "try: main(['search', 'soleimani', '--json'])\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('statementsearch.shards.', "
        "'statementsearch.indexer', 'concurrent.futures.process'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=place, check=True, timeout=120
    )
    lines = done.stdout.splitlines()
    assert json.loads(lines[0])["id"] == DOD
    assert lines[-1] == "['statementsearch.shards.layout']"


# ---------------------------------------------------------------------------------------------- colour


def on_terminal(spawn: Spawn, place: Path, *args: str, **env: str) -> str:
    """What `statementsearch ARGS` prints with its stdout on a pseudo-terminal (as in a shell)."""
    leader, follower = pty.openpty()
    try:
        process = spawn(
            [sys.executable, "-m", "statementsearch", *args],
            stdout=follower,
            stderr=subprocess.DEVNULL,
            cwd=place,
            env={**os.environ, **env},
        )
        os.close(follower)
        follower = -1
        out = b""
        while chunk := _read(leader):
            out += chunk
        assert process.wait(timeout=60) == 0
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    return out.decode("utf-8")


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the other end is closed
        return b""


def test_search_colours_matches_on_a_terminal(place: Path, spawn: Spawn) -> None:
    run("index")
    out = on_terminal(spawn, place, "search", "soleimani")
    assert "\x1b[1;33mSoleimani\x1b[0m" in out  # the snippet's match, as render_ansi marks it
    assert "\x1b[1m" in out and "[Soleimani]" not in out  # the bold title; no brackets


@pytest.mark.parametrize(
    ("args", "env"), [(["--no-color"], {}), ([], {"NO_COLOR": "1"})], ids=["flag", "env"]
)
def test_no_color_on_a_terminal_gives_brackets(
    place: Path, spawn: Spawn, args: list[str], env: dict[str, str]
) -> None:
    run("index")
    out = on_terminal(spawn, place, "search", "soleimani", *args, **env)
    assert "\x1b[" not in out and "[Soleimani]" in out


# ---------------------------------------------------------------------------------------------- timeline


def timeline_args(mixed: tuple[StatementIndex, Path], *args: str) -> list[str]:
    ix, docs = mixed
    return ["search", *args, "--timeline", "--index", str(ix.path), "--documents", str(docs)]


def bar(blocks: int) -> str:
    return f"{'█' * blocks:<50}"


def test_search_timeline_for_people(mixed: tuple[StatementIndex, Path]) -> None:
    code, out, _ = run(*timeline_args(mixed, "farm", "--since", "2019-01", "--until", "2019-04"))
    assert code == 0
    assert out.splitlines() == [
        f"2019-01  {bar(25)}  1",
        f"2019-02  {bar(0)}  0",
        f"2019-03  {bar(50)}  2",
        f"2019-04  {bar(0)}  0",
        "3 dated releases, re-issues counted",
    ]


def test_search_timeline_json(mixed: tuple[StatementIndex, Path]) -> None:
    code, out, _ = run(*timeline_args(mixed, "farm", "--json"))
    assert code == 0
    periods = json_lines(out)
    assert periods[:3] == [
        {"period": "2019-01", "count": 1},
        {"period": "2019-02", "count": 0},
        {"period": "2019-03", "count": 2},
    ]
    assert len(periods) == 14 and periods[-1] == {"period": "2020-02", "count": 1}
    code, out, _ = run(*timeline_args(mixed, "farm", "--json", "--issuer", "Navy"))
    assert (code, out) == (1, "")
    code, _, err = run(*timeline_args(mixed, "farm", "--since", "someday"))
    assert code == 2 and err.count("\n") == 1 and "someday" in err


# ---------------------------------------------------------------------------------------------- similar


def similar_args(mixed: tuple[StatementIndex, Path], *args: str) -> list[str]:
    ix, docs = mixed
    return ["similar", *args, "--index", str(ix.path), "--documents", str(docs)]


def test_similar_cli_json_keys(mixed: tuple[StatementIndex, Path]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "statementsearch", *similar_args(mixed, DOD, "--json")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0
    first = json.loads(out.stdout.splitlines()[0])
    assert first["id"] == CJTF and {"rank", "score", "snippet", "highlights"} <= set(first)


def test_similar_limit_no_collapse_and_unknown_id(mixed: tuple[StatementIndex, Path]) -> None:
    ix, docs = mixed
    repost_cjtf(ix, docs)
    code, out, _ = run(*similar_args(mixed, DOD, "--json"))
    collapsed = json_lines(out)
    assert code == 0 and len({CJTF, "repost.txt#1"} & {h["id"] for h in collapsed}) == 1
    assert [d["id"] for d in collapsed[0]["duplicates"]] in (["repost.txt#1"], [CJTF])
    _, out, _ = run(*similar_args(mixed, DOD, "--json", "--no-collapse"))
    everything = json_lines(out)
    assert {h["id"] for h in everything[:2]} == {CJTF, "repost.txt#1"}
    assert len(everything) == len(collapsed) + 1
    _, out, _ = run(*similar_args(mixed, DOD, "--json", "--no-collapse", "--limit", "1"))
    assert [h["id"] for h in json_lines(out)] == [everything[0]["id"]]
    code, out, err = run(*similar_args(mixed, "no-such-id"))
    assert (code, out) == (2, "") and err == "statementsearch: no release with id 'no-such-id'\n"


def test_collapse_in_cli_json_and_no_collapse(tmp_path: Path) -> None:
    docs = tmp_path / "documents"
    docs.mkdir()
    shutil.copy(SEED, docs)
    (docs / "repost.txt").write_text(reissue_of_dod("US Central Command", "Jan. 4, 2020"), encoding="utf-8")
    base = [sys.executable, "-m", "statementsearch", "search", "soleimani", "--json"]
    base += ["--index", str(tmp_path / "ix"), "--documents", str(docs)]
    one = subprocess.run(base, capture_output=True, text=True, check=True, timeout=120).stdout.splitlines()
    assert len(one) == 1
    hit = json.loads(one[0])
    assert [d["issuer"] for d in hit["duplicates"]] in (["US Central Command"], ["US Department of Defense"])
    both = subprocess.run(
        [*base, "--no-collapse"], capture_output=True, text=True, check=True, timeout=120
    ).stdout.splitlines()
    assert len(both) == 2 and all(json.loads(line)["duplicates"] == [] for line in both)


# ------------------------------------------------------------------------------------------ several segments


def on_segmented(segmented: SyntheticIndex, *args: str) -> list[dict[str, Any]]:
    """JSON hits of `search ARGS` on the synthetic index of three segments (all of them, uncollapsed)."""
    locations = ["--index", str(segmented.index), "--documents", str(segmented.documents)]
    code, out, err = run("search", *args, "--json", "--limit", "10000", "--no-collapse", *locations)
    assert code in (0, 1), err
    return json_lines(out)


@pytest.mark.parametrize(
    ("since", "until", "first", "last"),
    [
        ("2006-03-01", "2007-06-30", date(2006, 3, 1), date(2007, 6, 30)),
        ("Jan 2011", None, date(2011, 1, 1), date.max),
        (None, "2004", date.min, date(2004, 12, 31)),
    ],
    ids=["both", "since", "until"],
)
def test_search_since_until_on_several_segments(
    segmented: SyntheticIndex, since: str | None, until: str | None, first: date, last: date
) -> None:
    word = segmented.vocabulary.words[2]
    args = [word, *(["--since", since] if since else []), *(["--until", until] if until else [])]
    hits = on_segmented(segmented, *args)
    expected = segmented.ids(term_for(word), date=lambda d: d is not None and first <= d <= last)
    assert expected and {h["id"] for h in hits} == expected
    assert all(first <= date.fromisoformat(h["date"]) <= last for h in hits)


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_search_sort_orders_by_date_with_undated_last(segmented: SyntheticIndex, sort: str) -> None:
    word = segmented.vocabulary.words[0]
    hits = on_segmented(segmented, word, "--sort", sort)
    assert {h["id"] for h in hits} == segmented.ids(term_for(word))
    days = [h["date"] for h in hits]
    dated = [d for d in days if d is not None]
    assert dated and len(dated) < len(days) and days[: len(dated)] == dated  # undated ones last
    assert dated == sorted(dated, reverse=sort == "newest")
    locations = ["--index", str(segmented.index), "--documents", str(segmented.documents)]
    _, out, _ = run("search", word, "--sort", sort, "--json", "--limit", "5", "--page", "3", *locations)
    page = json_lines(out)
    assert [h["rank"] for h in page] == [11, 12, 13, 14, 15]
    assert [h["date"] for h in page] == days[10:15]


# ---------------------------------------------------------------------------------------------- stats, index


def test_stats_top_lists_the_busiest_issuers(segmented: SyntheticIndex) -> None:
    locations = ["--index", str(segmented.index), "--documents", str(segmented.documents)]
    counts = Counter(r.issuer for r in segmented.releases.values()).most_common()
    code, out, _ = run("stats", "--top", "3", "--json", *locations)
    data = json.loads(out)
    assert code == 0 and data["releases"] == len(segmented.releases) and data["issuers"] == len(counts)
    assert [(i["issuer"], i["count"]) for i in data["top_issuers"]] == counts[:3]
    assert data["segments"] == 3
    code, out, _ = run("stats", "--top", "2", *locations)
    listed = out.splitlines()[out.splitlines().index(f"issuers:   {len(counts)}") + 1 :]
    assert listed == [f"  {count:>8,}  {issuer}" for issuer, count in counts[:2]]
    assert run("stats", "--top", "0", *locations)[0] == 2


PARALLEL_INDEX = """
import sys
import statementsearch.indexer
from statementsearch.cli import main
statementsearch.indexer.PARALLEL_MIN_BYTES = 0  # Whoosh's multi-process writer for a small build too
sys.argv[0] = "statementsearch"
main()
"""


def test_index_procs_sets_the_writer_processes(tmp_path: Path) -> None:
    """300 releases: Whoosh's parallel writer hands 256 to a first process and the rest to a second,
    each writing a segment: two segments with --procs 2, one with --procs 1, the same releases."""
    docs = tmp_path / "documents"
    docs.mkdir()
    vocab = vocabulary()
    write_jsonl(docs / "a.jsonl", records(vocab, 150, seed=1))
    write_jsonl(docs / "b.jsonl", records(vocab, 150, seed=2))
    states = {}
    for procs in ("1", "2"):
        index = tmp_path / f"index-{procs}"
        command = [sys.executable, "-c", PARALLEL_INDEX, "index", "--procs", procs, "--json"]
        done = subprocess.run(
            [*command, "--index", str(index), "--documents", str(docs)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0 and json.loads(done.stdout)["releases_written"] == 300, done.stderr
        with StatementIndex.open(index) as ix:
            hits = ix.search("*", limit=1000, collapse=False, facets=False).hits
            states[procs] = ({(h.id, ix.show(h.id).content_hash) for h in hits}, ix.stats().segments)
    assert states["1"][0] == states["2"][0] and len(states["1"][0]) == 300
    assert (states["1"][1], states["2"][1]) == (1, 2)
    assert run("index", "--procs", "0", "--index", str(tmp_path / "x"), "--documents", str(docs))[0] == 2


# ---------------------------------------------------------------------------------------------- damage


def test_search_on_a_damaged_index_is_one_line_and_exit_2(place: Path) -> None:
    run("index")
    (segment,) = (place / "index").glob("*.seg")
    segment.write_bytes(b"\0" * 1000)
    code, out, err = run("search", "soleimani")
    assert (code, out) == (2, "")
    assert err.startswith("statementsearch: index at ") and err.count("\n") == 1 and "--rebuild" in err


# ---------------------------------------------------------------------------------------------- file names


def cli(place: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """The installed entry point as a shell runs it, in `place`; output kept as bytes."""
    return subprocess.run(
        [sys.executable, "-m", "statementsearch", *args],
        capture_output=True,
        cwd=place,
        env=env or dict(os.environ),
        check=False,
        timeout=120,
    )


def add_latin1_copy_of_the_seed(place: Path) -> None:
    """The seed under a Latin-1 file name (`caf\\xe9.txt`), as old archives and Windows zip files have."""
    with open(os.path.join(os.fsencode(place / "documents"), b"caf\xe9.txt"), "wb") as handle:
        handle.write(SEED.read_bytes().replace(b"Soleimani", b"Suleimani"))


def test_a_latin1_file_name_round_trips_through_every_command(place: Path) -> None:
    """Indexed with a printable id that `show`, `similar` and every --json output give and take, in
    valid UTF-8 (the bytes a pipe receives are decoded strictly)."""
    add_latin1_copy_of_the_seed(place)
    built = cli(place, "index")
    assert built.returncode == 0 and b"Traceback" not in built.stderr, built.stderr
    found = cli(place, "search", "suleimani", "--json")
    assert [json.loads(line)["id"] for line in found.stdout.decode("utf-8").splitlines()] == ["caf%E9.txt#1"]
    shown = cli(place, "show", "caf%E9.txt#1", "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout.decode("utf-8"))["path"] == "caf%E9.txt"
    similar = cli(place, "similar", "caf%E9.txt#2", "--json", "--no-collapse")
    assert similar.returncode == 0 and "caf%E9.txt#1" in similar.stdout.decode("utf-8")
    parsed = cli(place, "parse", "--json", str(place / "documents"))
    rows = [json.loads(line) for line in parsed.stdout.decode("utf-8").splitlines()]
    assert {row["id"] for row in rows} >= {"caf%E9.txt#1", "caf%E9.txt#2"}
    human = cli(place, "parse", str(place / "documents"))
    assert "caf%E9.txt#1" in human.stdout.decode("utf-8")


def test_a_latin1_file_name_in_the_runner(place: Path) -> None:
    add_latin1_copy_of_the_seed(place)
    code, out, err = run("index", "--json")
    assert code == 0 and json.loads(out)["added"] == 2, err
    code, out, _ = run("show", "caf%E9.txt#2")
    assert code == 0 and "caf%E9.txt#2" in out


def test_parse_prints_the_ids_the_index_gives_and_show_takes(place: Path) -> None:
    """`parse` of a file, of its folder and of the documents folder (the default ./documents, named
    as a user types it) print the same ids, and those are the index's."""
    (place / "documents" / "dod").mkdir()
    shutil.move(place / "documents" / SEED.name, place / "documents" / "dod" / "2020-01.txt")
    env = {k: v for k, v in os.environ.items() if k != "STATEMENTSEARCH_DOCUMENTS"}
    env["STATEMENTSEARCH_INDEX"] = "index"
    for path in ("documents/dod/2020-01.txt", "documents/dod", "documents", "./documents/dod/"):
        parsed = cli(place, "parse", path, env=env)
        assert parsed.returncode == 0 and parsed.stderr == b"", parsed.stderr
        lines = parsed.stdout.decode("utf-8").splitlines()
        assert [line.split("\t")[0] for line in lines if "\t" in line] == [
            "dod/2020-01.txt#1",
            "dod/2020-01.txt#2",
        ]
    shown = cli(place, "show", "dod/2020-01.txt#2", env=env)
    assert shown.returncode == 0, shown.stderr


def test_parse_outside_the_documents_folder_says_its_ids_are_not_the_index_ones(place: Path) -> None:
    (place / "elsewhere").mkdir()
    shutil.copy(SEED, place / "elsewhere" / "x.txt")
    code, out, err = run("parse", str(place / "elsewhere"))
    assert code == 0 and out.startswith("x.txt#1\t")
    assert "outside the documents folder" in err and "elsewhere" in err
    code, out, err = run("parse", str(place / "documents"))
    assert code == 0 and err == ""


# ---------------------------------------------------------------------------------------------- messages


def test_index_names_an_unreadable_file_once_then_counts_it(place: Path) -> None:
    (place / "documents" / "broken.txt").write_bytes(b"\x00\x00binary")
    code, _, err = run("index")
    assert code == 1 and "broken.txt: binary" in err
    code, out, err = run("index")
    assert code == 1 and "broken.txt" not in err
    assert "1 file still unreadable, unchanged since the last update" in err and "1 failed file;" in out
    code, _, err = run("index", "--verbose")
    assert code == 1 and "broken.txt: binary" in err
    _, out, _ = run("index", "--json")
    assert json.loads(out)["failures"] == [
        {"path": "broken.txt", "reason": "binary or undecodable file (NUL bytes)", "repeated": True}
    ]
    _, out, _ = run("stats")
    assert "unreadable: 1 file" in out and "broken.txt: binary" in out
    (place / "documents" / "broken.txt").write_bytes(b"\x00\x00binary, changed")
    _, _, err = run("index")
    assert "broken.txt: binary" in err


def test_touch_of_an_unchanged_file_writes_nothing(place: Path) -> None:
    assert run("index")[0] == 0
    os.utime(place / "documents" / SEED.name, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    code, out, _ = run("index")
    assert code == 0 and "1 unchanged" in out and "0 releases written" in out


def test_counts_of_one_are_singular(place: Path) -> None:
    (place / "documents" / SEED.name).write_text(
        "Title\n\n(Source: US Navy; issued Jan. 3, 2020)\n\nOne paragraph.\n\n(ends)\n", encoding="utf-8"
    )
    (place / "documents" / "broken.txt").write_bytes(b"\x00")
    _, out, _ = run("index")
    assert "1 added, 0 changed, 0 removed, 0 unchanged, 1 failed file; 1 release written" in out
    _, out, _ = run("parse", str(place / "documents" / SEED.name))
    assert "14 characters, 1 paragraph" in out
    _, out, _ = run("stats")
    assert "in 1 file\n" in out and "in 1 segment\n" in out
    _, out, _ = run("search", "paragraph")
    assert "1 result in" in out


# ---------------------------------------------------------------------------------------------- watch


Watch = tuple[subprocess.Popen[str], "queue.Queue[str]"]


@pytest.fixture
def start_watch(place: Path) -> Iterator[Callable[[], Watch]]:
    """Starts `statementsearch watch` on the place, its stderr lines in a queue; stopped whatever happens."""
    started: list[subprocess.Popen[str]] = []

    def start() -> Watch:
        proc = subprocess.Popen(
            [sys.executable, "-m", "statementsearch", "watch"], stderr=subprocess.PIPE, text=True, cwd=place
        )
        started.append(proc)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr or ()], daemon=True).start()
        return proc, lines

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def lines_until_summary(lines: queue.Queue[str], got: list[str], seconds: float = 30.0) -> list[str]:
    """stderr lines of `watch` added to `got` up to and including the next update's summary line; raises
    queue.Empty on timeout, leaving what came in `got`."""
    deadline = time.monotonic() + seconds
    while not got or " added, " not in got[-1]:
        got.append(lines.get(timeout=max(0.01, deadline - time.monotonic())))
    return got


def test_watch_names_an_unreadable_file_once(place: Path, start_watch: Callable[[], Watch]) -> None:
    (place / "documents" / "broken.txt").write_bytes(b"\x00\x00binary")
    proc, lines = start_watch()
    first = lines_until_summary(lines, [])
    assert sum("broken.txt: binary" in line for line in first) == 1, first
    second: list[str] = []
    for attempt in range(20):  # the watcher may not be listening yet when its first update is done
        (place / "documents" / "new.txt").write_text(
            f"Frigate visit\n\n(Source: US Navy; issued May 2, 2020)\n\nVisit {attempt}.\n", encoding="utf-8"
        )
        with contextlib.suppress(queue.Empty):
            lines_until_summary(lines, second, seconds=1.5)
            break
    assert second and not any("broken.txt" in line for line in second), second
    assert any("1 file still unreadable" in line for line in second), second
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15) == 0


def test_an_index_of_the_previous_layout_is_refused_until_rebuilt(place: Path) -> None:
    """The previous version kept size and mtime in the `file_state` terms: its manifest cannot be read
    as today's, so its index is refused with the rebuild message."""
    from statementsearch.index import MARKER_FILE
    from statementsearch.schema import SCHEMA_VERSION

    assert run("index")[0] == 0
    marker = {"schema_version": SCHEMA_VERSION - 1}
    (place / "index" / MARKER_FILE).write_text(json.dumps(marker), encoding="utf-8")
    code, _, err = run("search", "soleimani")
    assert code == 2 and "index --rebuild" in err and f"schema {SCHEMA_VERSION - 1}" in err
    code, _, err = run("index", "--rebuild")
    assert code == 0 and "recreating it" in err
    assert run("search", "soleimani")[0] == 0


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
        ("2", CJTF, ["soleimani"]),  # filled past the one match
    ]
    code, out, _ = run("batch", str(queries), "--format", "jsonl", "--no-fill")
    assert [json.loads(line)["qid"] for line in out.splitlines()] == ["1", "2"]
    code, out, _ = run("batch", str(queries), "--since", "2020-01-04", "--issuer", "Combined Joint")
    assert [line.split()[:3] for line in out.splitlines()] == [["2", "Q0", CJTF]]
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


def test_reissues_show_their_own_headlines(place: Path) -> None:
    from statementsearch.reader import read_file

    dod = read_file(SEED).releases[0]
    (place / "documents" / "reissue.txt").write_text(
        f"Pentagon Explains Strike on Soleimani\n(Source: DoD News; issued Jan. 4, 2020)\n\n{dod.body}\n",
        encoding="utf-8",
    )
    code, out, _ = run("search", "qassem", "--json")
    hit = json.loads(out.splitlines()[0])
    ids = {hit["id"], *(d["id"] for d in hit["duplicates"])}
    assert code == 0 and ids == {DOD, "reissue.txt#1"} and len(hit["duplicates"]) == 1
    other = hit["duplicates"][0]
    assert other["title"] != hit["title"] and other["title"] in {
        dod.title,
        "Pentagon Explains Strike on Soleimani",
    }
    code, out, _ = run("search", "qassem")
    assert "1-1 of 1 result (2 releases with re-issues)" in out
    assert f'also issued as 1 other: {other["issuer"]} {other["date"]} ("{other["title"]}")' in out


def test_phrase_suggestion_on_stderr(place: Path) -> None:
    lines = [
        f"Report {n}\n(Source: Office; issued 2020-01-02)\n\nFunds for the bridge to nowhere, part {n}.\n"
        for n in range(3)
    ]
    lines.append("Report 9\n(Source: Office; issued 2020-01-02)\n\nThe bridge was fixed; nowhere else.\n")
    (place / "documents" / "bridges.txt").write_text("\n".join(lines), encoding="utf-8")
    code, _, err = run("search", "bridge", "to", "nowhere")
    assert code == 0 and "as a phrase: statementsearch search '\"bridge to nowhere\"'" in err


def test_a_relaxed_long_query_says_how_many_words_the_hits_hold(place: Path) -> None:
    code, out, err = run("search", "soleimani", "daesh", "quds", "training", "--no-collapse")
    assert code == 0 and "1-2 of 2 results" in out
    assert (
        "no release has 3 of the 4 words; showing releases with 2 of them "
        "(each lacks some of: soleimani, daesh, quds, training)"
    ) in err
