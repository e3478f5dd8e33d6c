"""`statementsearch serve` as a process: start-up, stopping, warnings, updates while serving, and load."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from serving import WORD, Served, served, stop, wait_for, write_web_documents
from statementsearch.web.server import listen
from web_load import CHURN_WORD, Churn, http_caller, index_command, run_clients

LATE_WORD = "latecomer"
WATCH_SECONDS = 60.0
LOAD_CLIENTS = 16
LOAD_SECONDS = 3.0
# Updates by `statementsearch index` while the clients run (they go on until the last is done).
LOAD_ROUNDS = 3


def docs(tmp_path: Path) -> Path:
    write_web_documents(tmp_path / "documents")
    return tmp_path / "documents"


def total(server: Served, query: str) -> int:
    return int(server.get_json("/api/search", {"q": query})["total"])


def write_late_release(documents: Path) -> Path:
    path = documents / "late.jsonl"
    record = {
        "id": "late-1",
        "title": "A late release",
        "date": "2021-02-02",
        "body": f"The {LATE_WORD} came.",
    }
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def test_builds_a_missing_index_serves_and_stops_on_sigterm_with_exit_0(tmp_path: Path) -> None:
    with served(tmp_path / "index", docs(tmp_path)) as server:
        assert "no index at" in server.stderr and "building it" in server.stderr
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/")
        assert server.fetch("/").status == 200 and total(server, WORD) == 36
        assert stop(server.process, signal.SIGTERM) == 0
    assert server.lines[-1] == "statementsearch: stopped" and "Traceback" not in server.stderr


def test_ctrl_c_stops_with_exit_0(tmp_path: Path) -> None:
    with served(tmp_path / "index", docs(tmp_path)) as server:
        assert stop(server.process, signal.SIGINT) == 0
    assert server.lines[-1] == "statementsearch: stopped" and "Traceback" not in server.stderr


def test_another_host_is_served_with_a_warning(tmp_path: Path) -> None:
    with served(tmp_path / "index", docs(tmp_path), "--host", "127.0.0.2") as server:
        assert "warning: serving on 127.0.0.2: the page has no authentication" in server.stderr
        assert server.url.startswith("http://127.0.0.2:") and server.fetch("/").status == 200
    with served(tmp_path / "index", docs(tmp_path)) as local:
        assert "warning" not in local.stderr


def run_serve(*args: str, prelude: str = "pass") -> subprocess.CompletedProcess[str]:
    """`statementsearch serve ARGS` with `prelude` run first in the same interpreter; it must not start."""
    code = f"import sys; {prelude}; from statementsearch.cli import main; main(prog_name='statementsearch')"
    return subprocess.run(
        [sys.executable, "-c", code, "serve", *args], capture_output=True, text=True, timeout=60
    )


def test_without_the_web_extra_it_says_the_pip_command(tmp_path: Path) -> None:
    done = run_serve("--index", str(tmp_path / "i"), prelude="sys.modules['starlette'] = None")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "statementsearch: serve needs the web extra (starlette is not installed): "
        'pip install "statementsearch[web]" (in a checkout: pip install -e ".[web]")'
    )


def test_a_taken_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    documents = docs(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        done = run_serve("--port", port, "--index", str(tmp_path / "index"), "--documents", str(documents))
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(f"statementsearch: cannot listen on 127.0.0.1:{port}:")
    )
    assert "Traceback" not in done.stderr


def test_updates_by_another_process_are_served_without_restart(tmp_path: Path) -> None:
    documents = docs(tmp_path)
    with served(tmp_path / "index", documents) as server:
        assert total(server, LATE_WORD) == 0
        late = write_late_release(documents)
        subprocess.run(index_command(server.index, documents), check=True, capture_output=True)
        assert total(server, LATE_WORD) == 1
        assert server.get_json("/api/release", {"id": "late-1"})["title"] == "A late release"
        late.unlink()
        subprocess.run(index_command(server.index, documents), check=True, capture_output=True)
        assert total(server, LATE_WORD) == 0 and server.fetch("/api/release", {"id": "late-1"}).status == 404


def test_watch_keeps_the_index_current_while_serving(tmp_path: Path) -> None:
    documents = docs(tmp_path)
    with served(tmp_path / "index", documents, "--watch") as server:
        wait_for(lambda: "watching" in server.stderr, WATCH_SECONDS, "the watcher's first update")
        late = write_late_release(documents)
        found: Callable[[], bool] = lambda: total(server, LATE_WORD) == 1  # noqa: E731
        wait_for(found, WATCH_SECONDS, "the watcher indexing a new file")
        late.unlink()
        wait_for(lambda: total(server, LATE_WORD) == 0, WATCH_SECONDS, "the watcher removing a deleted file")
        assert stop(server.process) == 0
    assert "index updated: 1 added" in server.stderr and server.lines[-1] == "statementsearch: stopped"


def test_16_clients_while_another_process_updates_the_index(tmp_path: Path) -> None:
    """The few-second version of bench/web_load.py: no error, every answer one committed state."""
    documents = docs(tmp_path)
    queries = [WORD, "convoy", "patrol harbor", '"talks on the"', "quds force", "department", "ceasfire"]
    with served(tmp_path / "index", documents) as server:
        churn = Churn(server.index, documents, rounds=LOAD_ROUNDS)
        churn.prepare()
        with churn:
            figures = run_clients(
                lambda: http_caller(server.url),
                queries,
                LOAD_CLIENTS,
                LOAD_SECONDS,
                churn.written,
                churn.busy,
            )
        last = server.get_json("/api/search", {"q": CHURN_WORD})["hits"]
    assert churn.failures == [] and churn.updates == LOAD_ROUNDS + 1
    assert {hit["title"].split()[2] for hit in last} == {str(LOAD_ROUNDS)}  # the last commit is served
    assert figures.errors == [] and figures.inconsistent == []
    assert figures.requests > LOAD_CLIENTS and figures.churn_checks > 0
    assert len(figures.rounds_seen) >= 2, "the clients never saw the index change"
    print(figures.line("HTTP /api/search"), f"; {churn.updates} updates")


BROKEN_SERVER = """
import os, signal, sys, threading, urllib.error, urllib.request
from statementsearch.web.server import listen, serve

class BrokenIndex:  # every search hits a bug, not a user error
    def search(self, *args, **kwargs):
        raise RuntimeError("internal detail /secret/path")

sock = listen("127.0.0.1", 0)

def request_then_stop():
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sock.getsockname()[1]}/search?q=x", timeout=30)
    except urllib.error.HTTPError as error:
        print(error.code, error.read().decode(), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=request_then_stop).start()
serve(BrokenIndex(), sock, say=lambda message: print(message, file=sys.stderr))
"""


def test_a_bug_answers_a_generic_500_and_logs_the_traceback_on_stderr() -> None:
    done = subprocess.run([sys.executable, "-c", BROKEN_SERVER], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("500 ") and "Server error" in done.stdout
    assert "secret" not in done.stdout and "Traceback" not in done.stdout
    assert "Traceback" in done.stderr and "RuntimeError: internal detail /secret/path" in done.stderr


def test_the_listening_socket_is_tcp_so_connections_get_no_nagle_delay() -> None:
    """asyncio sets TCP_NODELAY only on connections of a socket whose protocol is TCP; without it, each
    answer on a kept-alive connection waited ~40 ms for the client's delayed ACK (seen: 50 ms a request)."""
    sock = listen("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()
