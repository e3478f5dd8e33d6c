"""Concurrent clients searching while another process updates the index: the load run behind
tests/web/test_web_server.py (a few seconds) and bench/web_load.py (16 clients, 30 s, the full corpus).

The clients are threads, each with its own keep-alive connection to `/api/search` (or, for the in-process
comparison, calling `StatementIndex.search` directly: `Caller` hides which). Meanwhile `Churn` rewrites
one documents file, round after round, and runs `statementsearch index` as a separate process after each
rewrite. Round r's file holds r % 3 + 1 releases, all titled with the round, so a search for CHURN_WORD
shows exactly one committed state when all its hits come from one round that was written and their count
is that round's. Every other answer is checked for what any state must show: ranks in order from the
page's offset, no id twice, a total no smaller than the page.
"""

from __future__ import annotations

import http.client
import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

CHURN_WORD = "churnmarker"
CHURN_FILE = "churn.jsonl"
# One request in this many is the churn search, whose answer is checked against the committed rounds.
CHURN_EVERY = 4
LIMIT = 10
INDEX_WAIT_SECONDS = 60
# How long clients go on past their time while the writer still works (a bound for a stuck writer).
BUSY_SECONDS = 120

Caller = Callable[[str], dict[str, Any]]
"""Runs one search and returns the `/api/search` JSON object."""


def http_caller(url: str) -> Caller:
    """A caller with its own keep-alive connection to the server at `url` (one per client thread)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)

    def call(query: str) -> dict[str, Any]:
        connection.request("GET", "/api/search?" + urlencode({"q": query, "limit": LIMIT}))
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
        answer: dict[str, Any] = json.loads(body)
        return answer

    return call


def library_caller(ix: Any, pool: Executor) -> Caller:
    """The same search in process, as the server's handler runs it: on one of a pool of threads (each
    with its own searcher and caches, as the server's are), for the HTTP layer's own cost."""
    from statementsearch.web.app import search_json

    def call(query: str) -> dict[str, Any]:
        return pool.submit(lambda: search_json(ix.search(query, limit=LIMIT))).result()

    return call


# ------------------------------------------------------------------------------------------ the writer


def churn_records(round_number: int) -> list[dict[str, Any]]:
    words = random.Random(round_number)
    vocabulary = [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
        "kilo",
        "lima",
        "mike",
    ]
    return [
        {
            "id": f"churn-{part}",
            "title": f"{CHURN_WORD} round {round_number} part {part}",
            "issuer": "Churn Office",
            "date": "2021-06-01",
            "body": f"{CHURN_WORD} " + " ".join(words.choice(vocabulary) for _ in range(80)) + f" {part}",
        }
        for part in range(round_number % 3 + 1)
    ]


def write_churn(documents: Path, round_number: int) -> int:
    """Round `round_number`'s file, renamed into place whole; how many releases it holds."""
    records = churn_records(round_number)
    partial = documents / f".{CHURN_FILE}.tmp"
    partial.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    partial.replace(documents / CHURN_FILE)
    return len(records)


def index_command(index: Path, documents: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "statementsearch",
        "index",
        "--index",
        str(index),
        "--documents",
        str(documents),
        "--wait",
        str(INDEX_WAIT_SECONDS),
    ]


class Churn:
    """Rewrites the churn file and runs `statementsearch index` on it, round after round, until stopped."""

    def __init__(self, index: Path, documents: Path, rounds: int | None = None) -> None:
        self.index = index
        self.documents = documents
        self.rounds = rounds
        """Rounds after `prepare()` before the writer stops by itself (None: until stopped)."""
        self.written: dict[int, int] = {}
        """Round -> releases, for every round whose file was written (so possibly committed)."""
        self.updates = 0
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def prepare(self) -> None:
        """Round 0, indexed before the clients start, so the churn search always has a state to show."""
        self._round(0)

    def _round(self, number: int) -> None:
        self.written[number] = write_churn(self.documents, number)
        done = subprocess.run(index_command(self.index, self.documents), capture_output=True, text=True)
        if done.returncode != 0:
            self.failures.append(f"index exited {done.returncode}: {done.stderr.strip()[-300:]}")
        else:
            self.updates += 1

    def _loop(self) -> None:
        number = 1
        while not self.stop.is_set() and (self.rounds is None or number <= self.rounds):
            self._round(number)
            number += 1

    def busy(self) -> bool:
        return self.thread.is_alive()

    def __enter__(self) -> Churn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


# ------------------------------------------------------------------------------------------ the clients


@dataclass
class LoadFigures:
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    """Seconds per request, for the ordinary queries (the churn checks left out)."""
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    churn_checks: int = 0
    inconsistent: list[str] = field(default_factory=list)
    rounds_seen: set[int] = field(default_factory=set)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0

    def line(self, name: str) -> str:
        return (
            f"{name:<28} {self.clients:>3} clients  {self.requests:>7,} requests  {self.per_second:>7.1f}/s  "
            f"p50 {self.percentile(0.5) * 1000:>6.1f} ms  p95 {self.percentile(0.95) * 1000:>6.1f} ms  "
            f"errors {len(self.errors)}  churn checks {self.churn_checks} "
            f"(inconsistent {len(self.inconsistent)}, rounds seen {len(self.rounds_seen)})"
        )


def run_clients(
    make_caller: Callable[[], Caller],
    queries: list[str],
    clients: int,
    seconds: float,
    written: dict[int, int] | None = None,
    busy: Callable[[], bool] = lambda: False,
) -> LoadFigures:
    """`clients` threads searching `queries` in turn for `seconds`, and on while `busy()` (for at most
    BUSY_SECONDS more); with `written` (the churn rounds), one request in CHURN_EVERY searches CHURN_WORD
    and its answer must be one of those rounds, whole."""
    figures = LoadFigures(clients)
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds

    def going() -> bool:
        now = time.monotonic()
        return now < deadline or (busy() and now < deadline + BUSY_SECONDS)

    def client(number: int) -> None:
        call = make_caller()
        position = number * 7
        while going():
            position += 1
            churn = written is not None and position % CHURN_EVERY == 0
            query = CHURN_WORD if churn else queries[position % len(queries)]
            began = time.perf_counter()
            try:
                answer = call(query)
            except Exception as exc:  # every failure is counted and named, none stops the run
                with lock:
                    figures.errors.append(f"{query!r}: {type(exc).__name__}: {exc}")
                call = make_caller()
                continue
            took = time.perf_counter() - began
            problem = _check_churn(answer, written or {}) if churn else _check_page(answer)
            with lock:
                figures.requests += 1
                if churn:
                    figures.churn_checks += 1
                    figures.rounds_seen.add(_round_of(answer))
                else:
                    figures.latencies.append(took)
                if problem:
                    (figures.inconsistent if churn else figures.errors).append(f"{query!r}: {problem}")

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures.seconds = time.monotonic() - started
    return figures


def _check_page(answer: dict[str, Any]) -> str | None:
    hits = answer["hits"]
    ranks = [hit["rank"] for hit in hits]
    if ranks != list(range(1, len(hits) + 1)):
        return f"ranks {ranks}"
    if len({hit["id"] for hit in hits}) != len(hits):
        return "an id twice"
    if answer["total"] < len(hits):
        return f"total {answer['total']} below {len(hits)} hits"
    return None


def _round_of(answer: dict[str, Any]) -> int:
    rounds = {int(hit["title"].split()[2]) for hit in answer["hits"]}
    return rounds.pop() if len(rounds) == 1 else -1


def _check_churn(answer: dict[str, Any], written: dict[int, int]) -> str | None:
    """One committed state: every hit from one written round, as many as that round has, and no more."""
    shown = _round_of(answer)
    if shown < 0:
        return f"hits of several rounds: {[hit['title'] for hit in answer['hits']]}"
    if shown not in written:
        return f"round {shown} was never written"
    if not len(answer["hits"]) == answer["total"] == written[shown]:
        return f"round {shown}: {len(answer['hits'])} hits, total {answer['total']}, written {written[shown]}"
    return _check_page(answer)
