"""Fixtures used by more than one test module, defined once.

Data comes from three places: the seed file in the repo (`documents/`), synthetic releases the tests
generate (`synthetic.py`: every clone has them), and real corpus records from ../shared beside the checkout
(not copied into the repo; the tests that need them carry the `shared` marker and skip with the reason
when it is absent).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import REPO, SEED, Spawn, stop
from render import (
    CorpusLoader,
    OfficeLoader,
    corpus_lines,
    records_of_office,
    release_text,
    sample_records,
)
from serving import Served, served, write_web_documents
from statementsearch import StatementIndex
from statementsearch.shards import ShardedIndex
from synthetic import SyntheticIndex, build_segmented

# ---------------------------------------------------------------------------------------------- ../shared


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout (read-only corpora, IR collections, the seed)."""
    shared = REPO.parent / "shared"
    if not (shared / "corpora").is_dir():
        pytest.skip(f"../shared/ not found beside the checkout: no corpora at {shared / 'corpora'}")
    return shared


@pytest.fixture(scope="session")
def shared_lines(shared_dir: Path) -> list[bytes]:
    """Every record line of the corpora, undecoded: unpacked once per session (about two seconds)."""
    lines = corpus_lines(shared_dir)
    if not lines:
        pytest.skip(f"../shared/ has no corpus records: nothing under {shared_dir / 'corpora'}")
    return lines


@pytest.fixture(scope="session")
def corpus_records(shared_lines: list[bytes]) -> CorpusLoader:
    """`corpus_records(count, seed=0)`: that many real records, the same ones for the same arguments
    (each call only decodes its sample)."""

    def load(count: int, seed: int = 0) -> list[dict[str, Any]]:
        return sample_records(shared_lines, count, seed)

    return load


@pytest.fixture(scope="session")
def office_records(shared_lines: list[bytes]) -> OfficeLoader:
    """`office_records(issuer)`: every corpus record of one office, in corpus order (skips the test when
    the corpora hold none: another version of ../shared)."""

    def load(issuer: str) -> list[dict[str, Any]]:
        found = records_of_office(shared_lines, issuer)
        if not found:
            pytest.skip(f"../shared/ corpora hold no releases of {issuer!r}")
        return found

    return load


@pytest.fixture(scope="session")
def corpus_sample(corpus_records: CorpusLoader) -> list[dict[str, Any]]:
    """A fixed sample of 300 corpus records from every corpus, for tests that need real text."""
    return corpus_records(300, seed=1)


# ---------------------------------------------------------------------------------------------- the seed


@pytest.fixture(scope="session")
def seed_path() -> Path:
    """The sample file the project was specified from (documents/ in the repo)."""
    return SEED


@pytest.fixture(scope="session")
def seed_ix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StatementIndex]:
    """The seed's two releases, indexed (read-only: tests must not change it)."""
    base = tmp_path_factory.mktemp("seed")
    (base / "documents").mkdir()
    shutil.copy(SEED, base / "documents")
    with StatementIndex.create(base / "index") as ix:
        ix.update(base / "documents")
        yield ix


@pytest.fixture
def mixed(tmp_path: Path) -> Iterator[tuple[StatementIndex, Path]]:
    """The seed plus farm-bill releases over months of two years and one Navy notice; tests may change
    its documents."""
    docs = tmp_path / "documents"
    docs.mkdir()
    shutil.copy(SEED, docs)
    months = ["Jan. 10, 2019", "Mar. 2, 2019", "Mar. 9, 2019", "Feb. 1, 2020"]
    text = "".join(
        release_text(
            f"Farm bill update {n}",
            "Sen. Jane Doe (IA)",
            issued,
            "The farm bill helps farmers and rural roads. Crop insurance matters.",
        )
        for n, issued in enumerate(months)
    )
    (docs / "farm.txt").write_text(
        text + release_text("Weather notice", "US Navy", "Apr. 1, 2020", "Rain expected."), encoding="utf-8"
    )
    with StatementIndex.create(tmp_path / "index") as ix:
        ix.update(docs)
        yield ix, docs


# ---------------------------------------------------------------------------------------------- synthetic


@pytest.fixture(scope="session")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> SyntheticIndex:
    """Synthetic releases in an index of three segments with deleted releases in two of them, and the
    releases it must hold (see `synthetic.build_segmented`). Read-only: tests must not change it."""
    return build_segmented(tmp_path_factory.mktemp("segmented"))


@pytest.fixture
def segmented_ix(segmented: SyntheticIndex) -> Iterator[StatementIndex]:
    with StatementIndex.open(segmented.index) as ix:
        yield ix


# ---------------------------------------------------------------------------------------------- processes


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """`spawn(args, **popen_kwargs)`: a subprocess (text mode) that is killed and reaped when the test
    ends, passed or failed; with `start_new_session=True`, its whole process group is."""
    started: list[tuple[subprocess.Popen[str], bool]] = []

    def start(args: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        process: subprocess.Popen[str] = subprocess.Popen(args, text=True, **kwargs)
        started.append((process, bool(kwargs.get("start_new_session"))))
        return process

    yield start
    for process, group in started:
        stop(process, group=group)


# ---------------------------------------------------------------------------------------------- web

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`statementsearch serve` on the web documents (see tests/serving.py), one per test module.

    The index is missing at first, so the server builds it: that path is exercised every time.
    """
    work = tmp_path_factory.mktemp("web")
    write_web_documents(work / "documents")
    with served(work / "index", work / "documents") as server:
        yield server


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; the browser tests skip without it, except in CI (where .ci/run installs it)."""
    path = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if path is None:
        message = "no chromium on this machine (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: .ci/run should have installed it")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """One headless chromium per test module, driven by Playwright."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (.[dev])")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


# ---------------------------------------------------------------------------------------------- sharded

TOPICAL_RELEASES = 600


@pytest.fixture(scope="session")
def topical_documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A documents folder of made-up releases with named topics (tests/topical_releases.py): 600 in three
    files of 80/15/5%."""
    from topical_releases import synthetic_records, write_documents

    return write_documents(
        tmp_path_factory.mktemp("topical") / "documents", synthetic_records(TOPICAL_RELEASES)
    )


@pytest.fixture(scope="session")
def topical_index(
    topical_documents: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StatementIndex]:
    """One (unsharded) index of the topical documents: what a sharded index must answer as."""
    ix = StatementIndex.create(tmp_path_factory.mktemp("one") / "index")
    ix.update(topical_documents)
    yield ix
    ix.close()


@pytest.fixture(scope="session")
def sharded_index(
    topical_documents: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShardedIndex]:
    """A 3-shard index of the topical documents, built and searched locally (no cluster)."""
    ix = ShardedIndex.create(tmp_path_factory.mktemp("three") / "index", shards=3)
    ix.update(topical_documents)
    yield ix
    ix.close()


@pytest.fixture(scope="session")
def sharded_ahead(sharded_index: ShardedIndex) -> Iterator[ShardedIndex]:
    """The same 3-shard index searched as on a cluster: each shard makes its first hits in the find
    round, so a first page mostly needs no second round."""
    from statementsearch.shards.runner import LocalRunner

    ix = ShardedIndex(sharded_index.path, LocalRunner(makes_ahead=True))
    yield ix
    ix.close()
