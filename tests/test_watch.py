"""Analyst features on real files: timeline, more-like-this, watch mode."""

from __future__ import annotations

import json
import os
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

import pytest

from statementsearch import ReleaseNotFoundError, StatementIndex
from statementsearch.timeline import buckets, draw

SEED = Path(__file__).resolve().parents[1] / "documents" / "000_fb62ce4d62dc1888.txt"
DOD = "000_fb62ce4d62dc1888.txt#1"
CJTF = "000_fb62ce4d62dc1888.txt#2"


def release_text(title: str, issuer: str, issued: str, body: str) -> str:
    return f"{title}\n\n(Source: {issuer}; issued {issued})\n\n{body}\n\n-ends-\n\n"


def poll(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    """Wait for a condition with a deadline (no fixed sleeps in assertions)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def mixed(tmp_path: Path) -> tuple[StatementIndex, Path]:
    """The seed plus unrelated releases spread over months of two years."""
    docs = tmp_path / "documents"
    docs.mkdir()
    shutil.copy(SEED, docs)
    months = [
        ("Jan. 10, 2019", "farm"),
        ("Mar. 2, 2019", "farm"),
        ("Mar. 9, 2019", "farm"),
        ("Feb. 1, 2020", "farm"),
    ]
    text = "".join(
        release_text(
            f"Farm bill update {n}",
            "Sen. Jane Doe (IA)",
            issued,
            f"The {word} bill helps farmers and rural roads. Crop insurance matters.",
        )
        for n, (issued, word) in enumerate(months)
    )
    (docs / "farm.txt").write_text(
        text + release_text("Weather notice", "US Navy", "Apr. 1, 2020", "Rain expected."), encoding="utf-8"
    )
    ix = StatementIndex.create(tmp_path / "index")
    ix.update(docs)
    return ix, docs


def test_timeline_counts_equal_hit_counts_per_month(mixed: tuple[StatementIndex, Path]) -> None:
    ix, _ = mixed
    series = ix.timeline("farm")
    assert [(b.period, b.count) for b in series] == [
        ("2019-01", 1),
        ("2019-02", 0),
        ("2019-03", 2),
        ("2019-04", 0),
        ("2019-05", 0),
        ("2019-06", 0),
        ("2019-07", 0),
        ("2019-08", 0),
        ("2019-09", 0),
        ("2019-10", 0),
        ("2019-11", 0),
        ("2019-12", 0),
        ("2020-01", 0),
        ("2020-02", 1),
    ]
    hits = ix.search("farm", limit=100, collapse=False).hits
    per_month = Counter(h.date[:7] for h in hits if h.date)
    assert {b.period: b.count for b in series if b.count} == dict(per_month)
    assert sum(b.count for b in series) == len(hits)


def test_timeline_window_and_filters(mixed: tuple[StatementIndex, Path]) -> None:
    ix, _ = mixed
    assert [b.period for b in ix.timeline("farm", since="2019-03", until="2019-04")] == ["2019-03", "2019-04"]
    assert sum(b.count for b in ix.timeline("farm", issuer="Navy")) == 0


def test_timeline_is_yearly_beyond_ten_years() -> None:
    series = buckets([date(2001, 5, 1), date(2012, 1, 1), date(2012, 6, 1)])
    assert [b.period for b in series][:2] == ["2001", "2002"] and series[-1].count == 2
    assert len(series) == 12
    assert draw(series)[0].startswith("   2001  ")


def test_similar_returns_the_related_seed_release_first(mixed: tuple[StatementIndex, Path]) -> None:
    ix, _ = mixed
    result = ix.similar(DOD)
    assert result.hits[0].id == CJTF
    assert DOD not in [h.id for h in result.hits]
    with pytest.raises(ReleaseNotFoundError):
        ix.similar("nope")


def test_similar_cli_json_keys(mixed: tuple[StatementIndex, Path]) -> None:
    ix, docs = mixed
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "statementsearch",
            "similar",
            DOD,
            "--json",
            "--index",
            str(ix.path),
            "--documents",
            str(docs),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0
    first = json.loads(out.stdout.splitlines()[0])
    assert first["id"] == CJTF and {"rank", "score", "snippet", "highlights"} <= set(first)


@pytest.fixture
def watching(mixed: tuple[StatementIndex, Path]) -> Iterator[tuple[StatementIndex, Path, list[int]]]:
    ix, docs = mixed
    stop = threading.Event()
    updates: list[int] = []
    thread = threading.Thread(
        target=ix.watch,
        args=(docs,),
        kwargs={"stop": stop, "on_update": lambda s: updates.append(s.releases_written)},
    )
    thread.start()
    assert poll(lambda: len(updates) >= 1)
    yield ix, docs, updates
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_watch_picks_up_new_changed_and_deleted_files(
    watching: tuple[StatementIndex, Path, list[int]],
) -> None:
    ix, docs, _ = watching
    searcher = StatementIndex.open(ix.path)  # another reader, as another process would have
    (docs / "new.txt").write_text(
        release_text("Submarine visit", "US Navy", "May 1, 2020", "A submarine visited."), encoding="utf-8"
    )
    assert poll(lambda: searcher.search("submarine").total == 1)
    (docs / "new.txt").write_text(
        release_text("Frigate visit", "US Navy", "May 2, 2020", "A frigate visited."), encoding="utf-8"
    )
    assert poll(
        lambda: searcher.search("frigate").total == 1 and searcher.search("submarine", limit=1).total == 0
    )
    (docs / "new.txt").unlink()
    assert poll(lambda: searcher.search("frigate").total == 0)


def test_watch_command_stops_cleanly_on_ctrl_c(mixed: tuple[StatementIndex, Path]) -> None:
    ix, docs = mixed
    proc = subprocess.Popen(
        [sys.executable, "-m", "statementsearch", "watch", "--index", str(ix.path), "--documents", str(docs)],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "watching" in line
    time.sleep(0.5)  # let it finish its first update and start watching
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=15) == 0
    assert StatementIndex.open(ix.path).search("farm").total == 4


def reissue_of_dod(issuer: str, issued: str) -> str:
    """The seed's DoD release re-issued: a new header line, another issuer and date, same text."""
    from statementsearch.reader import read_file

    dod = read_file(SEED).releases[0]
    return release_text("REPOST: " + dod.title, issuer, issued, "Re-posted statement.\n\n" + dod.body)


@pytest.mark.parametrize("incremental", [False, True])
def test_reissues_collapse_into_one_hit(tmp_path: Path, incremental: bool) -> None:
    docs = tmp_path / "documents"
    docs.mkdir()
    shutil.copy(SEED, docs)
    ix = StatementIndex.create(tmp_path / "index")
    if incremental:  # the re-issue arrives in a later update: its group is found through the index
        ix.update(docs)
    (docs / "repost.txt").write_text(reissue_of_dod("US Central Command", "Jan. 4, 2020"), encoding="utf-8")
    ix.update(docs)
    collapsed = ix.search("soleimani")
    assert [h.id for h in collapsed.hits] == [DOD] or [h.id for h in collapsed.hits] == ["repost.txt#1"]
    assert collapsed.total == 1
    (dup,) = collapsed.hits[0].duplicates
    assert {dup.id, collapsed.hits[0].id} == {DOD, "repost.txt#1"}
    everything = ix.search("soleimani", collapse=False)
    assert {h.id for h in everything.hits} == {DOD, "repost.txt#1"} and everything.total == 2
    # The unrelated CJTF release stays its own group.
    assert ix.search("daesh").hits[0].duplicates == ()


def test_collapse_in_cli_json_and_no_collapse(tmp_path: Path) -> None:
    docs = tmp_path / "documents"
    docs.mkdir()
    shutil.copy(SEED, docs)
    (docs / "repost.txt").write_text(reissue_of_dod("US Central Command", "Jan. 4, 2020"), encoding="utf-8")
    base = [
        sys.executable,
        "-m",
        "statementsearch",
        "search",
        "soleimani",
        "--json",
        "--index",
        str(tmp_path / "ix"),
    ]
    base += ["--documents", str(docs)]
    one = subprocess.run(base, capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(one) == 1
    hit = json.loads(one[0])
    assert [d["issuer"] for d in hit["duplicates"]] in (["US Central Command"], ["US Department of Defense"])
    both = subprocess.run(
        [*base, "--no-collapse"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(both) == 2 and all(json.loads(line)["duplicates"] == [] for line in both)
