"""Load on `statementsearch serve`: concurrent clients on /api/search while another process updates the
index, beside the library searching in process on the same queries.

Four timed phases on one index: the library in process (on a pool of as many threads as the server
answers with) and the server over HTTP, first with one client (what the HTTP layer adds to one search),
then with CLIENTS clients at once while `statementsearch index` rewrites a documents file round after
round (see tests/web_load.py, shared with the suite's short run).
Each phase is preceded by an unmeasured warm-up (every thread's searcher opened and its caches filled).
Latencies are those of the benchmark queries; requests/s counts the churn checks too. Exits 1 when any
request failed or any churn answer was not one committed state.

The index is updated (a churn.jsonl file is written into the documents folder), so use a copy:

    mkdir -p bench/out/web-load/documents
    ln -s ../shared/corpora/*/releases.jsonl.gz ...   (one link per corpus, distinct names)
    statementsearch index --index bench/out/web-load/index --documents bench/out/web-load/documents
    python bench/web_load.py --index bench/out/web-load/index --documents bench/out/web-load/documents
"""

from __future__ import annotations

import argparse
import functools
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

from serving import served  # noqa: E402
from statementsearch import StatementIndex  # noqa: E402
from statementsearch.web.app import WORKER_THREADS  # noqa: E402
from web_load import Churn, LoadFigures, http_caller, library_caller, run_clients  # noqa: E402

WARM_UP_SECONDS = 8.0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="index folder (updated: use a copy)")
    parser.add_argument("--documents", type=Path, required=True, help="its documents folder")
    parser.add_argument(
        "--queries",
        type=Path,
        default=REPO.parent / "shared" / "queries" / "corpora-public.tsv",
        help="qid<TAB>query lines (default ../shared/queries/corpora-public.tsv)",
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the concurrent phases")
    parser.add_argument("--single-seconds", type=float, default=15.0, help="length of the one-client phases")
    return parser.parse_args()


def read_queries(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[1] for line in lines if "\t" in line and not line.startswith("#")]


def main() -> int:
    args = _arguments()
    queries = read_queries(args.queries)
    churn = Churn(args.index, args.documents)
    churn.prepare()
    figures: list[tuple[str, LoadFigures]] = []
    with StatementIndex.open(args.index) as ix, ThreadPoolExecutor(WORKER_THREADS) as pool:
        in_process = functools.partial(library_caller, ix, pool)
        run_clients(in_process, queries, args.clients, WARM_UP_SECONDS)
        figures.append(("library, in process", run_clients(in_process, queries, 1, args.single_seconds)))
        with churn:
            loaded = run_clients(in_process, queries, args.clients, args.seconds, churn.written)
        figures.append(("library, in process, updates", loaded))
    updates_library = churn.updates
    churn = Churn(args.index, args.documents)
    churn.prepare()
    with served(args.index, args.documents) as server:
        over_http = functools.partial(http_caller, server.url)
        run_clients(over_http, queries, args.clients, WARM_UP_SECONDS)
        figures.append(("HTTP /api/search", run_clients(over_http, queries, 1, args.single_seconds)))
        with churn:
            loaded = run_clients(over_http, queries, args.clients, args.seconds, churn.written)
        figures.append(("HTTP /api/search, updates", loaded))
        failures = [line for line in server.lines if "Traceback" in line or "Error" in line]
    print(f"{len(queries)} queries from {args.queries}; index {args.index}")
    for name, result in figures:
        print(result.line(name))
    print(f"updates by another process: {updates_library} (library phase), {churn.updates} (HTTP phase)")
    for clients, (library, http) in (("1 client", (0, 2)), (f"{args.clients} clients", (1, 3))):
        ratio = figures[http][1].percentile(0.95) / max(figures[library][1].percentile(0.95), 1e-9)
        print(f"p95 HTTP / library, {clients}: {ratio:.2f}")
    errors = [e for _, result in figures for e in result.errors + result.inconsistent] + churn.failures
    for line in (errors + failures)[:20]:
        print("  ", line)
    return 1 if errors or failures else 0


if __name__ == "__main__":
    sys.exit(main())
