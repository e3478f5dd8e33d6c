"""Where a sharded index's work runs: local threads and processes, or a Dask cluster.

Two kinds of work:
- **requests** (`ask`): read-only questions about shards, one per shard, answered together (a round of
  a search). Locally, by a thread per shard. On a cluster, by a `ShardServer` actor on each worker (a
  call goes straight to the worker), each shard always to the same worker so its caches stay warm. A
  call that fails for any reason but an answer (its worker was killed, say) is asked again as a plain
  Dask task, which the scheduler runs on a surviving worker, and the actors are made again.
- **tasks** (`run`): a build's steps, one per shard. Locally, in worker processes (or in this process
  when one is asked for). On a cluster, as Dask tasks: a worker lost while running one has it run
  again on another (the steps are idempotent: see `shards.build`). A step whose result later steps take
  (`keep`: a shard's reading of the files) leaves it where it ran: on a cluster, in its worker's memory,
  where Dask runs the tasks that take it (and runs the step again when that worker is lost); in this
  process when the steps run here; with local worker processes, nowhere: each step that takes it runs
  it again first.

Dask is imported only for a cluster (the `cluster` extra); nothing here needs it otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from typing import Any, Protocol, TypeVar

from ..errors import StatementSearchError
from .work import Request, StaleShard, answer_all

T = TypeVar("T")

CONNECT_TIMEOUT = 20.0
"""Seconds to reach a scheduler before saying it cannot be reached."""
WORKERS_TIMEOUT = 30.0
"""Seconds to wait for a scheduler to have a worker."""
WORKERS_CHECK = 2.0
"""Seconds between looks at the scheduler's list of workers."""
DOWN_FOR = 60.0
"""Seconds a worker whose actor failed gets no actor call (its work goes as tasks meanwhile)."""
ACTOR_TIMEOUT = 30.0
"""Seconds to start an actor on a worker before giving up on that worker."""
LARGE_TASK = "2GiB"
"""The size of a task's inputs past which Dask warns (10 MB by default: a user's build would print a
warning). A write step carries its shard's groups and every office's boilerplate, which grow with the
corpus; they stay in the task rather than scattered to a worker beforehand, as scattered data is lost
with a killed worker, and the step's retry on another worker with it."""
CLUSTER_EXTRA = 'pip install "statementsearch[cluster]" (in a checkout: pip install -e ".[cluster]")'


class ClusterError(StatementSearchError):
    """The Dask cluster cannot be used: no scheduler at the address, no worker, Dask not installed."""


class Runner(Protocol):
    makes_ahead: bool
    """Whether a search's first round should also make the first hits of each shard (`work.Show`): where
    a round costs more than making a few hits that may not be shown (a cluster's calls), not in threads
    of this process."""

    def ask(self, requests: Sequence[Request]) -> list[Any]:
        """The answers to requests about shards (one per shard), in order."""
        ...

    def run(self, function: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, T]]:
        """Run `function(*call)` for each call; yield (index of the call, result) as each finishes. A
        call's arguments may be what `keep` returned: the function receives the results they stand for."""
        ...

    def keep(self, function: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Stand-ins for the results of `function(*call)`, for later calls of `run`, one per call."""
        ...

    def close(self) -> None: ...


class LocalRunner:
    """Threads for requests, processes for build steps (`procs` at a time; 1: this process)."""

    def __init__(self, procs: int = 1, makes_ahead: bool = False) -> None:
        self.procs = procs
        self.makes_ahead = makes_ahead
        self._threads: ThreadPoolExecutor | None = None

    def ask(self, requests: Sequence[Request]) -> list[Any]:
        if len(requests) < 2:
            return answer_all(requests)
        if self._threads is None:
            self._threads = ThreadPoolExecutor(thread_name_prefix="statementsearch-shard")
        return list(self._threads.map(lambda request: answer_all([request])[0], requests))

    def run(self, function: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, T]]:
        if self.procs <= 1 or len(calls) < 2:
            for n, call in enumerate(calls):
                yield n, _with_results(function, *call)
            return
        # Fresh processes (not forks of a process that may run threads), at most `procs` at a time.
        with ProcessPoolExecutor(min(self.procs, len(calls)), mp_context=get_context("spawn")) as pool:
            yield from _completed(pool, partial(_with_results, function), calls)

    def keep(self, function: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        if self.procs <= 1:
            return [function(*call) for call in calls]
        return [_Later(function, call) for call in calls]

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=False)
            self._threads = None


@dataclass(frozen=True)
class _Later:
    """A kept result that local worker processes cannot share: the step that takes it runs the call."""

    function: Callable[..., Any]
    call: tuple[Any, ...]


def _with_results(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, each `_Later` among the arguments replaced by its result."""
    return function(*(arg.function(*arg.call) if isinstance(arg, _Later) else arg for arg in args))


def _completed(
    pool: Executor, function: Callable[..., T], calls: Sequence[tuple[Any, ...]]
) -> Iterator[tuple[int, T]]:
    futures = {pool.submit(function, *call): n for n, call in enumerate(calls)}
    for future in as_completed(futures):
        yield futures[future], future.result()


class ClusterRunner:
    """Work on a Dask cluster through its scheduler at `address` (tcp://HOST:PORT)."""

    makes_ahead = True

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError(
                f"--scheduler needs Dask distributed, which is not installed: {CLUSTER_EXTRA}"
            ) from None
        self.address = address
        _probe(address)
        try:
            self._client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {_reason(exc)}") from None
        try:
            self._client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            self._client.close()
            raise ClusterError(
                f"the Dask scheduler at {address} has no worker after {WORKERS_TIMEOUT:.0f} s: {_reason(exc)}"
            ) from None
        self._actors: dict[str, tuple[Any, Any]] = {}  # worker address -> (actor's future, actor)
        self._down: dict[str, float] = {}  # worker address -> when it was lost
        self._live: list[str] = []
        self._checked = 0.0

    # -- requests

    def ask(self, requests: Sequence[Request]) -> list[Any]:
        # Actor handles find their client as Dask's current one: this runner's (not a process default).
        with self._client.as_current():
            return self._ask(requests)

    def _ask(self, requests: Sequence[Request]) -> list[Any]:
        workers = self._workers()
        placed: dict[str, list[int]] = {}
        for n, request in enumerate(requests):
            worker = workers[request.scope.shard.number % len(workers)] if workers else ""
            placed.setdefault(worker, []).append(n)
        calls = {
            worker: self._call(worker, [requests[n] for n in numbers]) for worker, numbers in placed.items()
        }
        answers: list[Any] = [None] * len(requests)
        for worker, call in calls.items():
            numbers = placed[worker]
            replies = None
            if call is not None:
                try:
                    replies = call.result()
                except (StatementSearchError, StaleShard, LookupError):
                    raise
                except Exception:  # the worker is gone (or its actor with it)
                    self._lost(worker)
            if replies is None:  # ask again as a plain task: the scheduler runs it on a live worker
                replies = self._as_task([requests[n] for n in numbers])
            for n, reply in zip(numbers, replies, strict=True):
                answers[n] = reply
        return answers

    def _call(self, worker: str, requests: list[Request]) -> Any:
        """The actor call of `requests` on `worker` (its answer to come), or None when it has no actor."""
        actor = self._actor(worker) if worker else None
        if actor is None:
            return None
        try:
            return actor.answer(requests)
        except Exception:  # Dask already knows the actor's worker is lost
            self._lost(worker)
            return None

    def _as_task(self, requests: list[Request]) -> list[Any]:
        future = self._client.submit(answer_all, requests, pure=False)
        result: list[Any] = future.result()
        return result

    def _workers(self) -> list[str]:
        """The workers to place shards on, sorted (a shard goes to the same one while they stay), less
        those lost lately that the scheduler may not have noticed yet."""
        now = time.monotonic()
        if now - self._checked > WORKERS_CHECK:
            self._checked = now
            live = set(self._client.scheduler_info().get("workers", {}))
            self._down = {w: at for w, at in self._down.items() if w in live and now - at < DOWN_FOR}
            for gone in set(self._actors) - live:
                self._actors.pop(gone, None)
            self._live = sorted(live)
        return [worker for worker in self._live if worker not in self._down]

    def _lost(self, worker: str) -> None:
        self._actors.pop(worker, None)
        self._down[worker] = time.monotonic()
        self._checked = 0.0

    def _actor(self, worker: str) -> Any:
        """The worker's actor, made on first use (None when it cannot be made: the worker is lost)."""
        found = self._actors.get(worker)
        if found is None:
            from .work import ShardServer

            future = self._client.submit(ShardServer, actor=True, workers=[worker], pure=False)
            try:
                found = self._actors[worker] = (future, future.result(timeout=ACTOR_TIMEOUT))
            except Exception:
                future.cancel()
                self._lost(worker)
                return None
        return found[1]

    # -- tasks

    def run(self, function: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, T]]:
        futures = self._submitted(function, calls)  # all submitted now
        return ((n, future.result()) for n, future in enumerate(futures))  # results taken in order

    def keep(self, function: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        # Futures: a task given one as an argument gets its result, and runs where it is.
        return self._submitted(function, calls)

    def _submitted(self, function: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        import dask

        with dask.config.set({"distributed.admin.large-graph-warning-threshold": LARGE_TASK}):
            return [self._client.submit(function, *call, pure=False) for call in calls]

    def close(self) -> None:
        self._actors.clear()
        self._client.close()


def _probe(address: str) -> None:
    """Fail at once when nothing listens at a tcp:// address (Dask itself retries until its timeout)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme != "tcp":
        return
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: give it as tcp://HOST:PORT")
    try:
        socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def runner_for(scheduler: str | None, procs: int = 1) -> Runner:
    """A cluster runner when a scheduler address is given, else a local one."""
    return ClusterRunner(scheduler) if scheduler else LocalRunner(procs)
