"""A sharded index on a Dask cluster, on the whole shared corpus: build time and query overhead.

    python bench/cluster.py build [--workers 1 2] [--shards 2] [--reference] [--rounds 1] [--out DIR]
    python bench/cluster.py queries --unsharded DIR --sharded DIR [--workers 2] [--rounds 3]

`build` starts a `dask scheduler` and W `dask worker`s (one thread each) on 127.0.0.1, builds a sharded
index of the corpus through them (`statementsearch index --shards N --scheduler ...`), and prints wall
and CPU seconds (client and workers); `--reference` also builds the unsharded index with `--procs 1`
(one process), the figure the sharded builds are measured against. `--rounds R` builds them all R times,
alternated: the machine's speed drifts over minutes, so each ratio is taken within its round (every other
round in the reverse order), and the median and range over the rounds are printed. `queries` runs the
300 public queries (`search` as the CLI calls it: facets, snippets, suggestions) on the unsharded index,
on the sharded one through local threads, and through a cluster of W workers, in alternated rounds, and
prints p50/p95 per query for each and what sharding adds, beside what a round of calls to every worker
costs when it asks nothing (the machine's share of what the cluster adds). Every process started is
stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import corpus_files, default_shared, dir_size_bytes, percentile, read_queries

DASK = Path(sys.executable).with_name("dask")
REFERENCE = "unsharded --procs 1"
STATEMENTSEARCH = Path(sys.executable).with_name("statementsearch")


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["build", "queries"])
    ap.add_argument("--shared", type=Path, default=default_shared())
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "cluster")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--reference", action="store_true", help="also build the unsharded index (--procs 1)")
    ap.add_argument("--unsharded", type=Path)
    ap.add_argument("--sharded", type=Path)
    ap.add_argument("--rounds", type=int, help="build: rounds of builds, alternated (1); queries: rounds (3)")
    return ap.parse_args()


@contextlib.contextmanager
def dask_cluster(workers: int, folder: Path) -> Iterator[str]:
    """A scheduler and `workers` single-threaded workers on 127.0.0.1, dashboards off; its address."""
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    scheduler_file.unlink(missing_ok=True)
    processes = []
    try:
        processes.append(
            subprocess.Popen(
                [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                 "--scheduler-file", str(scheduler_file)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            )
        )  # fmt: skip
        while not scheduler_file.exists():
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text(encoding="utf-8"))["address"]
        for n in range(workers):
            processes.append(
                subprocess.Popen(
                    [str(DASK), "worker", address, "--host", "127.0.0.1", "--no-dashboard", "--nthreads", "1",
                     "--memory-limit", "0", "--local-directory", str(folder / f"worker-{n}")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                )
            )  # fmt: skip
        from distributed import Client

        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def worker_cpu(address: str) -> float:
    """CPU seconds used so far by the cluster's worker processes."""
    from distributed import Client

    def used() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return own.ru_utime + own.ru_stime

    with Client(address, timeout=60, set_as_default=False) as client:
        return float(sum(client.run(used).values()))


def documents(shared: Path, out: Path) -> Path:
    """The corpus files, linked (never copied)."""
    docs = out / "documents"
    shutil.rmtree(docs, ignore_errors=True)
    docs.mkdir(parents=True)
    for corpus in corpus_files(shared):
        (docs / f"{corpus.parent.name}.jsonl.gz").symlink_to(corpus)
    return docs


def timed(command: list[str]) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "client_cpu_s": round(cpu, 1)}


def build(args: argparse.Namespace) -> None:
    docs = documents(args.shared, args.out)
    rounds: list[dict[str, Any]] = []
    for number in range(args.rounds or 1):
        rounds.append(build_round(args, docs, reverse=number % 2 == 1))
    (args.out / "build.json").write_text(json.dumps(rounds, indent=1), encoding="utf-8")
    header = f"{'build':32} {'wall s':>8} {'client CPU s':>13} {'workers CPU s':>14} {'of --procs 1':>13}"
    print(f"\n{'round':>5} {header}")
    for number, results in enumerate(rounds, start=1):
        reference = results.get(REFERENCE, {}).get("wall_s")
        for name, figures in results.items():
            share = f"{figures['wall_s'] / reference:.2f}" if reference else "-"
            print(f"{number:>5} {name:32} {figures['wall_s']:>8} {figures['client_cpu_s']:>13} "
                  f"{figures.get('workers_cpu_s', '-'):>14} {share:>13}")  # fmt: skip
    if len(rounds) > 1 and REFERENCE in rounds[0]:
        for name in (name for name in rounds[0] if name != REFERENCE):
            shares = [results[name]["wall_s"] / results[REFERENCE]["wall_s"] for results in rounds]
            print(f"{name}: of --procs 1, median of {len(shares)} rounds {statistics.median(shares):.2f}, "
                  f"range {min(shares):.2f}-{max(shares):.2f}")  # fmt: skip


def build_round(args: argparse.Namespace, docs: Path, reverse: bool = False) -> dict[str, Any]:
    """One build of each kind, one after the other; their ratios are taken within the round, since the
    machine's speed drifts over minutes. Every other round builds them in the reverse order, so that a
    drift within rounds (the machine slowing or speeding up over one) leans both ways."""
    builds: list[tuple[str, Callable[[], dict[str, Any]]]] = []
    if args.reference:
        builds.append((REFERENCE, partial(unsharded_build, args, docs)))
    for workers in args.workers:
        builds.append(
            (f"{args.shards} shards, {workers} worker(s)", partial(sharded_build, args, docs, workers))
        )
    results: dict[str, Any] = {}
    for name, run in reversed(builds) if reverse else builds:
        results[name] = run()
        print(json.dumps({name: results[name]}), flush=True)
    return {name: results[name] for name, _run in builds}


def unsharded_build(args: argparse.Namespace, docs: Path) -> dict[str, Any]:
    """The unsharded index built by one process (`--procs 1`): the figure the sharded builds are measured
    against."""
    index = args.out / "unsharded"
    shutil.rmtree(index, ignore_errors=True)
    figures: dict[str, Any] = timed(
        [str(STATEMENTSEARCH), "index", "--procs", "1", "--index", str(index), "--documents", str(docs)]
    )
    figures["size_mb"] = round(dir_size_bytes(index) / 1e6)
    return figures


def sharded_build(args: argparse.Namespace, docs: Path, workers: int) -> dict[str, Any]:
    """The sharded index built through a cluster of `workers` workers started for it."""
    index = args.out / f"sharded-{args.shards}x-{workers}w"
    shutil.rmtree(index, ignore_errors=True)
    with dask_cluster(workers, args.out / f"dask-{workers}") as address:
        figures: dict[str, Any] = timed(
            [str(STATEMENTSEARCH), "index", "--shards", str(args.shards), "--index", str(index),
             "--documents", str(docs), "--scheduler", address]
        )  # fmt: skip
        figures["workers_cpu_s"] = round(worker_cpu(address), 1)
    shards = sorted(index.glob("shards.*/shard-*"))
    figures["shard_mb"] = [round(dir_size_bytes(shard) / 1e6) for shard in shards]
    return figures


def query_times(ix: Any, queries: list[tuple[str, str]]) -> list[float]:
    from statementsearch import QueryError

    times = []
    for _qid, text in queries:
        started = time.perf_counter()
        with contextlib.suppress(QueryError):
            ix.search(text)
        times.append(time.perf_counter() - started)
    return times


def queries(args: argparse.Namespace) -> None:
    from distributed import Client

    from statementsearch import StatementIndex
    from statementsearch.shards import ShardedIndex

    asked = read_queries(args.shared / "queries" / "corpora-public.tsv")
    workers = args.workers[-1]
    rounds = args.rounds or 3
    with (
        tempfile.TemporaryDirectory() as scratch,
        dask_cluster(workers, Path(scratch)) as address,
        Client(address, timeout=60, set_as_default=False) as client,
    ):
        actors = shard_actors(client)
        engines = {
            "unsharded": StatementIndex.open(args.unsharded),
            "sharded, local threads": ShardedIndex.open(args.sharded),
            f"sharded, cluster of {workers}": ShardedIndex.open(args.sharded, scheduler=address),
        }
        for ix in engines.values():
            query_times(ix, asked[:30])  # warm: searchers opened, caches filled, actors made
        times: dict[str, list[float]] = {name: [] for name in engines}
        trips: list[float] = []
        for _round in range(rounds):
            for name, ix in engines.items():
                times[name].extend(query_times(ix, asked))
            trips.extend(round_trips(client, actors))
        for ix in engines.values():
            ix.close()
    base = percentile(times["unsharded"], 50)
    print(f"{len(asked)} queries x {rounds} rounds; sharded: {args.sharded}")
    print(f"{'':28} {'p50 ms':>8} {'p95 ms':>8} {'total s/round':>14} {'p50 added ms':>13}")
    for name, found in times.items():
        p50, p95 = percentile(found, 50), percentile(found, 95)
        per_round = sum(found) / rounds
        print(f"{name:28} {p50 * 1e3:8.1f} {p95 * 1e3:8.1f} {per_round:14.2f} {(p50 - base) * 1e3:13.1f}")
    print(
        f"a request to each of the {workers} workers and back, answering nothing (a first page takes one "
        f"such round, two when it needs hits or duplicates the first did not make, more when it loosens or "
        f"collapses deeper): p50 {percentile(trips, 50) * 1e3:.1f} ms, "
        f"p95 {percentile(trips, 95) * 1e3:.1f} ms"
    )


def shard_actors(client: Any) -> list[Any]:
    """A shard actor on every worker of the client's cluster (as a sharded search makes them)."""
    from statementsearch.shards.work import ShardServer

    workers = sorted(client.scheduler_info()["workers"])
    with client.as_current():
        return [client.submit(ShardServer, actor=True, workers=[w], pure=False).result() for w in workers]


def round_trips(client: Any, actors: list[Any], count: int = 100) -> list[float]:
    """Seconds of `count` rounds that ask every actor nothing: what the cluster's own calls cost on this
    machine at this time, beside what the shards add per query."""
    times = []
    with client.as_current():
        for _ in range(count):
            started = time.perf_counter()
            for call in [actor.answer([]) for actor in actors]:
                call.result()
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.what == "build":
        build(args)
    else:
        if args.unsharded is None or args.sharded is None:
            raise SystemExit("queries needs --unsharded DIR and --sharded DIR")
        queries(args)


if __name__ == "__main__":
    main()
