"""`statementsearch serve` as a real process, for the web tests and bench/web_load.py.

`served(...)` starts the command on a free port of 127.0.0.1, waits for its `serving http://…` line and
stops it when the block ends (SIGTERM, then SIGKILL if it does not go), even when the block fails.
Also the documents the web tests search: generated releases in three issuers over two years (facets,
timeline, pages), a pair of re-issues, the repo's seed file, and hostile releases.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "documents" / "000_fb62ce4d62dc1888.txt"
START_SECONDS = 60.0
STOP_SECONDS = 15.0

# The generated releases: every one says WORD; ISSUERS take turns; one every MONTH_STEP days from FIRST_DAY.
WORD = "ceasefire"
GENERATED = 36
ISSUERS = ("Department of Defense", "Department of State", "NATO ISAF Joint Command")
FIRST_DAY = date(2019, 1, 10)
DAY_STEP = 20
REISSUED_WORD = "desalination"
PHRASE = "grain corridor"
HOSTILE_WORD = "marmalade"
HOSTILE_TITLE = "<script>window.pwned = 1</script> Hostile headline"
HOSTILE_BODY = 'Paragraph one about marmalade <img src="x" onerror="window.pwned = 2"> and more.'
HOSTILE_URL = "javascript:window.pwned = 3"
HOSTILE_ISSUER = '<b onmouseover="window.pwned = 4">Evil</b> Office'

_VOCABULARY = [
    "convoy",
    "patrol",
    "harbor",
    "bridge",
    "supply",
    "medical",
    "village",
    "council",
    "border",
    "airfield",
    "training",
    "advisers",
    "election",
    "ballot",
    "vaccine",
    "grain",
    "export",
    "tariff",
    "senator",
    "committee",
    "hearing",
    "budget",
    "drought",
    "wildfire",
    "flood",
    "shelter",
    "refugee",
    "pipeline",
    "reactor",
    "satellite",
    "cyber",
    "ransomware",
    "embassy",
    "consulate",
    "treaty",
    "summit",
    "fishing",
    "timber",
    "railway",
    "highway",
    "school",
    "clinic",
    "water",
    "power",
    "grid",
    "veterans",
    "housing",
    "farmers",
    "wheat",
]


@dataclass
class Served:
    """A running `statementsearch serve`: its base URL and everything it printed on stderr so far."""

    process: subprocess.Popen[str]
    index: Path
    documents: Path
    url: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def fetch(self, path: str, params: Any = (), method: str = "GET") -> Reply:
        """One request (`params`: a dict or pairs); a 4xx or 5xx answer is returned, not raised."""
        query = "?" + urlencode(params, doseq=True) if params else ""
        request = Request(self.url.rstrip("/") + path + query, method=method)
        try:
            with urlopen(request, timeout=60) as answer:
                return Reply(answer.status, answer.headers, answer.read().decode("utf-8"))
        except HTTPError as error:
            return Reply(error.code, error.headers, error.read().decode("utf-8"))

    def get_json(self, path: str, params: Any = ()) -> Any:
        reply = self.fetch(path, params)
        assert reply.status == 200, (reply.status, reply.text)
        return json.loads(reply.text)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def serve_command(index: Path, documents: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "statementsearch",
        "serve",
        "--port",
        "0",
        "--index",
        str(index),
        "--documents",
        str(documents),
        *extra,
    ]


@contextmanager
def served(index: Path, documents: Path, *extra: str) -> Iterator[Served]:
    """The server running on a free port until the block ends; fails if it does not start."""
    process = subprocess.Popen(
        serve_command(index, documents, *extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    server = Served(process, index, documents)
    ready = threading.Event()
    reader = threading.Thread(target=_read_stderr, args=(server, ready), daemon=True)
    reader.start()
    try:
        if not ready.wait(START_SECONDS) or not server.url:
            raise RuntimeError(f"serve did not start (exit {process.poll()}):\n{server.stderr}")
        yield server
    finally:
        stop(process)
        reader.join(STOP_SECONDS)


def _read_stderr(server: Served, ready: threading.Event) -> None:
    assert server.process.stderr is not None
    for line in server.process.stderr:
        server.lines.append(line.rstrip("\n"))
        if " serving http://" in line and not server.url:
            server.url = line.split(" serving ", 1)[1].split()[0]
            ready.set()
    ready.set()  # the process ended: whoever waits sees no URL


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> int:
    """Ask the process to stop with `sig`; kill it if it has not gone after STOP_SECONDS. Its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            return process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


# ------------------------------------------------------------------------------------------ documents


def write_web_documents(folder: Path) -> None:
    """The web tests' documents folder (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, folder / SEED.name)
    _write_jsonl(folder / "generated.jsonl", generated_records())
    _write_jsonl(folder / "reissued.jsonl", reissued_records())
    _write_jsonl(folder / "hostile.jsonl", hostile_records())
    _write_jsonl(folder / "phrases.jsonl", phrase_records())


def generated_records(count: int = GENERATED) -> list[dict[str, Any]]:
    """`count` releases that all say WORD, distinct enough not to be grouped as re-issues."""
    words = random.Random(13)
    records = []
    for number in range(count):
        day = FIRST_DAY + timedelta(days=DAY_STEP * number)
        topic = " ".join(words.sample(_VOCABULARY, 3))
        sentences = [" ".join(words.sample(_VOCABULARY, 9)).capitalize() + "." for _ in range(6)]
        sentences.insert(words.randrange(1, 5), f"Talks on the {WORD} continued ({number}).")
        body = " ".join(sentences[:3]) + "\n\n" + " ".join(sentences[3:])
        records.append(
            {
                "id": f"gen-{number:02d}",
                "title": f"{topic.title()}: {WORD} update {number}",
                "issuer": ISSUERS[number % len(ISSUERS)],
                "date": day.isoformat(),
                "body": body,
            }
        )
    return records


def reissued_records() -> list[dict[str, Any]]:
    """The same statement issued twice: one search hit, 'also issued as 1 other'."""
    body = (
        "The new desalination plant on the coast will supply drinking water to forty thousand residents. "
        "Engineers from the provincial authority completed the intake pipes this week, and the first "
        "water reached the reservoir on Tuesday. The plant cost twelve million and was built in two years."
    )
    return [
        {
            "id": f"reissue-{n}",
            "title": "Desalination plant opens",
            "issuer": issuer,
            "date": day,
            "body": body,
        }
        for n, (issuer, day) in enumerate((("Department of State", "2020-03-02"), (ISSUERS[2], "2020-03-04")))
    ]


def phrase_records() -> list[dict[str, Any]]:
    """PHRASE's two words side by side in half of the releases holding both: a phrase to suggest."""
    bodies = (
        "Ships used the grain corridor from the northern ports again this week.",
        "The grain corridor agreement was extended by sixty days after talks.",
        "A corridor for aid convoys opened; grain prices fell in the region.",
        "Officials inspected the corridor where trucks carry grain to the border.",
    )
    return [
        {
            "id": f"phrase-{n}",
            "title": f"Shipping report {n}",
            "issuer": ISSUERS[0],
            "date": "2022-07-0" + str(n + 1),
            "body": body,
        }
        for n, body in enumerate(bodies)
    ]


def hostile_records() -> list[dict[str, Any]]:
    return [
        {
            "id": "hostile-1",
            "title": HOSTILE_TITLE,
            "issuer": HOSTILE_ISSUER,
            "date": "2020-05-05",
            "body": f"{HOSTILE_BODY}\n\nSecond paragraph <script>window.pwned = 5</script> of marmalade.",
            "url": HOSTILE_URL,
        }
    ]


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def wait_for(predicate: Any, seconds: float, what: str) -> None:
    """Poll `predicate()` until true; fail naming `what` after `seconds` (a bound, not a speed check)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {seconds:.0f} s")
        time.sleep(0.2)
