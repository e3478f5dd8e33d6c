"""A sharded index built and searched on a real Dask cluster: a `dask scheduler` and two `dask worker`
processes on 127.0.0.1 (dashboards off), started once for this module and stopped by its fixture.

The answers are those of one index; a worker killed (SIGKILL) during a batch of queries or while it
writes a shard costs nothing but time; a client killed during a build leaves shards that the next
`index` completes; an unreachable scheduler is one line and exit 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from statementsearch import IndexCorruptError, StatementIndex
from statementsearch.cli import main
from statementsearch.shards import ShardedIndex
from statementsearch.shards.layout import read_layout

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")

DASK = Path(sys.executable).with_name("dask")
QUERIES = ["grant", "security veterans", '"homeland security"', "attack*", "kandahar OR helmand",
           "police -army", "title:grant", "issuer:clinton budget", "hurricane flood katrina relief recovery",
           "kandhar~2 convoy", "salmon uranium pandemic", "securty", "date:2006 police", "*"]  # fmt: skip


@dataclass
class Cluster:
    address: str
    client: Any

    def worker_pids(self) -> dict[str, int]:
        return dict(self.client.run(os.getpid))

    def wait_for_two_workers(self) -> None:
        self.client.wait_for_workers(2, timeout=120)


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a nanny stops its worker), then SIGKILL whatever is left of its process group."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    processes: list[subprocess.Popen[bytes]] = []
    client = None
    try:
        processes.append(
            _start(
                [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                 "--scheduler-file", str(scheduler_file)],
                folder / "scheduler.log",
            )
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text(encoding="utf-8"))["address"]
        for n in range(2):
            processes.append(
                _start(
                    [str(DASK), "worker", address, "--host", "127.0.0.1", "--no-dashboard", "--nthreads", "2",
                     "--local-directory", str(folder / f"worker-{n}")],
                    folder / f"worker-{n}.log",
                )
            )  # fmt: skip
        client = distributed.Client(address, timeout=60, set_as_default=False)
        found = Cluster(address, client)
        found.wait_for_two_workers()
        yield found
    finally:
        if client is not None:
            client.close()
        for process in reversed(processes):
            _stop(process)


@pytest.fixture(scope="module")
def cluster_index(
    cluster: Cluster, topical_documents: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShardedIndex]:
    """A 3-shard index of the synthetic documents built by the cluster's workers, searched through it."""
    ix = ShardedIndex.create(
        tmp_path_factory.mktemp("cluster") / "index", shards=3, scheduler=cluster.address
    )
    ix.update(topical_documents)
    yield ix
    ix.close()


def comparable(result: Any) -> dict[str, Any]:
    found = asdict(result)
    found.pop("seconds")
    return found


def test_the_cluster_builds_and_searches_as_one_index(
    cluster: Cluster, cluster_index: ShardedIndex, topical_index: StatementIndex
) -> None:
    for query in QUERIES:
        for options in ({}, {"sort": "newest", "offset": 10}, {"collapse": False, "fill": True, "limit": 30}):
            expected = comparable(topical_index.search(query, **options))  # type: ignore[arg-type]
            assert comparable(cluster_index.search(query, **options)) == expected, (query, options)  # type: ignore[arg-type]
    assert cluster_index.timeline("kandahar OR helmand") == topical_index.timeline("kandahar OR helmand")
    assert cluster_index.issuers() == topical_index.issuers()
    assert cluster_index.stats().releases == 600
    assert comparable(cluster_index.similar("syn-00100")) == comparable(topical_index.similar("syn-00100"))
    # The shards were opened by the workers, not only by this process.
    opened = cluster.client.run(lambda: sorted(__import__("statementsearch.shards.work").shards.work._shards))
    assert all(paths for paths in opened.values()) and len(opened) == 2


def test_a_worker_killed_during_a_batch_costs_nothing_but_time(
    cluster: Cluster, cluster_index: ShardedIndex, topical_index: StatementIndex, tmp_path: Path
) -> None:
    queries = tmp_path / "queries.tsv"
    queries.write_text("".join(f"q{n}\t{QUERIES[n % len(QUERIES)]}\n" for n in range(120)), encoding="utf-8")
    expected = CliRunner().invoke(main, ["batch", str(queries), "--index", str(topical_index.path)])
    command = [sys.executable, "-m", "statementsearch", "batch", str(queries),
               "--index", str(cluster_index.path), "--scheduler", cluster.address]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(30)]  # some queries are answered ...
        victim = next(iter(cluster.worker_pids().values()))
        os.kill(victim, signal.SIGKILL)  # ... then a worker dies under the others
        rest, errors = process.communicate(timeout=300)
    finally:
        _stop(process)  # type: ignore[arg-type]
    output = b"".join(lines).decode() + rest.decode()
    assert process.returncode == expected.exit_code, errors.decode()
    assert output == expected.stdout
    cluster.wait_for_two_workers()  # the nanny starts a new worker


def test_a_worker_killed_while_writing_a_shard_the_build_completes(
    cluster: Cluster, topical_documents: Path, topical_index: StatementIndex, tmp_path: Path
) -> None:
    """The worker that holds a shard's writer lock is killed; Dask runs its task again on the other."""
    index = tmp_path / "index"
    command = [sys.executable, "-m", "statementsearch", "index", "--shards", "3", "--index", str(index),
               "--documents", str(topical_documents), "--scheduler", cluster.address]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        workers = set(cluster.worker_pids().values())
        victim = _writer_among(index, workers, process)
        os.kill(victim, signal.SIGKILL)
        _out, err = process.communicate(timeout=300)
    finally:
        _stop(process)  # type: ignore[arg-type]
    assert process.returncode == 0, err.decode()
    with ShardedIndex.open(index) as built:
        assert releases_of(built) == releases_of(topical_index)
        assert comparable(built.search("grant veterans")) == comparable(
            topical_index.search("grant veterans")
        )
    cluster.wait_for_two_workers()


def _writer_among(index: Path, workers: set[int], process: subprocess.Popen[bytes]) -> int:
    """The pid of a worker holding a shard's writer lock (written into the lock file by the holder)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the build ended before a worker could be killed"
        for lock in index.glob("shards.*/shard-*/.statementsearch-writer.lock"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                pid = int(lock.read_text(encoding="ascii").split()[0])
                if pid in workers:
                    return pid
        time.sleep(0.005)
    raise AssertionError("no worker was seen writing a shard")


def test_a_client_killed_during_a_build_leaves_shards_the_next_index_completes(
    cluster: Cluster, topical_documents: Path, topical_index: StatementIndex, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    where = ["--index", str(index), "--documents", str(topical_documents), "--scheduler", cluster.address]
    command = [sys.executable, "-m", "statementsearch", "index", "--shards", "3", *where]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while not any(index.glob("shards.*/shard-*/_MAIN_1.toc")) and time.monotonic() < deadline:
            assert process.poll() is None, "the build ended before it could be killed"
            time.sleep(0.005)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        _stop(process)
    again = subprocess.run(
        [sys.executable, "-m", "statementsearch", "index", *where],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert again.returncode == 0, again.stderr.decode()
    with ShardedIndex.open(index) as built:
        assert releases_of(built) == releases_of(topical_index)


def releases_of(ix: StatementIndex | ShardedIndex) -> set[tuple[str, str]]:
    ids = [hit.id for hit in ix.search("*", limit=10_000, collapse=False).hits]
    return {(rid, ix.show(rid).content_hash) for rid in ids}


def test_a_task_with_large_inputs_runs_without_a_warning(cluster: Cluster) -> None:
    """A build step carries its shard's fingerprints (tens of MB on a large corpus); Dask's warning about
    a large graph would reach the user's terminal."""
    import warnings

    from statementsearch.shards.runner import ClusterRunner

    runner = ClusterRunner(cluster.address)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = list(runner.run(len, [(b"x" * 12_000_000,), (b"y" * 3,)]))
    finally:
        runner.close()
    assert results == [(0, 12_000_000), (1, 3)]
    assert not [w for w in caught if "graph" in str(w.message).lower()], [str(w.message) for w in caught]


def test_an_unreachable_scheduler_is_one_line_and_exit_2(sharded_index: ShardedIndex) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "statementsearch", "search", "grant", "--index", str(sharded_index.path),
         "--scheduler", address],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.decode().count("\n") == 1 and address in done.stderr.decode()
    assert time.monotonic() - started < 60


def test_a_shard_a_worker_cannot_open_is_named(
    cluster: Cluster, cluster_index: ShardedIndex, tmp_path: Path
) -> None:
    from statementsearch.shards.runner import ClusterRunner
    from statementsearch.shards.work import Lookup, Scope, ShardRef, Snapshot

    runner = ClusterRunner(cluster.address)
    try:
        missing = ShardRef(str(tmp_path / "gone" / "shard-000"), "shard 0 of the index at gone", 0)
        with pytest.raises(IndexCorruptError, match="shard 0 of the index at gone"):
            runner.ask([Lookup(Scope(missing, 1, Snapshot(("gone",), 0, (), ())), "syn-00001")])
    finally:
        runner.close()
    assert read_layout(cluster_index.path).shards == 3
