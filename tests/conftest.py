"""Shared fixtures: the seed file in the repo, and real corpus records from ../shared beside the checkout.

The corpora are not copied into the repo; tests that need them skip with the reason when they are absent.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from render import CorpusLoader, corpus_lines, sample_records
from serving import Served, served, write_web_documents

REPO = Path(__file__).resolve().parents[1]
SEED_NAME = "000_fb62ce4d62dc1888.txt"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout (read-only corpora, IR collections, the seed)."""
    shared = REPO.parent / "shared"
    if not (shared / "corpora").is_dir():
        pytest.skip(f"../shared/ not found beside the checkout: no corpora at {shared / 'corpora'}")
    return shared


@pytest.fixture(scope="session")
def seed_path() -> Path:
    """The sample file the project was specified from (documents/ in the repo)."""
    return REPO / "documents" / SEED_NAME


@pytest.fixture(scope="session")
def corpus_records(shared_dir: Path) -> CorpusLoader:
    """`corpus_records(count, seed=0)`: that many real records, the same ones for the same arguments.

    The corpora are unpacked once per session (about two seconds); each call only decodes its sample.
    """
    lines = corpus_lines(shared_dir)
    if not lines:
        pytest.skip(f"../shared/ has no corpus records: nothing under {shared_dir / 'corpora'}")

    def load(count: int, seed: int = 0) -> list[dict[str, Any]]:
        return sample_records(lines, count, seed)

    return load


@pytest.fixture(scope="session")
def corpus_sample(corpus_records: CorpusLoader) -> list[dict[str, Any]]:
    """A fixed sample of 300 corpus records from every corpus, for tests that need real text."""
    return corpus_records(300, seed=1)


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
