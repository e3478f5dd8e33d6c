"""Running the web application: a socket on the given address, uvicorn, and optionally the watcher.

uvicorn stops gracefully on SIGINT and SIGTERM and then re-raises the signal to the handler that was in
place before it; SIGTERM's is set here to raise `KeyboardInterrupt` like SIGINT's, so both end in a
clean return (exit 0) instead of a process killed by a signal. `--watch` runs `StatementIndex.watch` in a
thread on the same index, stopped through its event when the server stops.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import uvicorn

from ..errors import StatementSearchError
from ..models import UpdateSummary
from ..shards import AnyIndex
from .app import create_app

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# Seconds open connections get to finish once a stop is asked for.
GRACEFUL_SECONDS = 5
WATCHER_JOIN_SECONDS = 10


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free one); `OSError` when the address is taken or not ours.

    Made with the protocol named: asyncio turns Nagle's algorithm off only on connections of a socket
    whose protocol is TCP, and with it on, a kept-alive connection waits ~40 ms for the client's delayed
    ACK between a response's headers and its body.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def address(sock: socket.socket) -> str:
    """The page's address, with the port the system chose when 0 was asked for."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    ix: AnyIndex,
    sock: socket.socket,
    *,
    say: Callable[[str], None],
    documents: Path | None = None,
) -> None:
    """Serve `ix` on `sock` until Ctrl-C or SIGTERM; with `documents`, keep the index current meanwhile."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(ix),
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
        )
    )
    stop = threading.Event()
    watcher = None
    if documents is not None:
        watcher = threading.Thread(target=_keep_current, args=(ix, documents, stop, say), daemon=True)
        watcher.start()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        # In the `try`: a Ctrl-C right after this line, before uvicorn handles signals, still stops cleanly.
        say(f"serving {address(sock)} (Ctrl-C stops)")
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop.set()
        if watcher is not None:
            watcher.join(WATCHER_JOIN_SECONDS)
        sock.close()
    say("stopped")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _keep_current(ix: AnyIndex, documents: Path, stop: threading.Event, say: Callable[[str], None]) -> None:
    """The `--watch` thread: every batch of file changes becomes an update; a failure is said, not raised."""

    watching = threading.Event()

    def report(summary: UpdateSummary) -> None:
        if not watching.is_set():  # the first update, made before watching starts
            watching.set()
            say(f"watching {documents} for changes")
        for failure in summary.failures:
            say(f"{failure.path}: {failure.reason}")
        if summary.added or summary.changed or summary.removed:
            say(
                f"index updated: {summary.added} added, {summary.changed} changed, {summary.removed} removed "
                f"files; {summary.releases_written:,} releases written"
            )

    try:
        ix.watch(documents, on_update=report, stop=stop)
    except StatementSearchError as exc:
        say(f"watching stopped: {exc}")
