"""Shared fixtures: the seed file in the repo, and real corpus records from ../shared beside the checkout.

The corpora are not copied into the repo; tests that need them skip with the reason when they are absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from render import CorpusLoader, corpus_lines, sample_records
from statementsearch import StatementIndex
from statementsearch.shards import ShardedIndex

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


# --------------------------------------------------------------------------------------- sharded indexes

SYNTHETIC_RELEASES = 600


@pytest.fixture(scope="session")
def synthetic_documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A documents folder of made-up releases (tests/synthetic.py): 600 in three files of 80/15/5%."""
    from synthetic import synthetic_records, write_documents

    return write_documents(
        tmp_path_factory.mktemp("synthetic") / "documents", synthetic_records(SYNTHETIC_RELEASES)
    )


@pytest.fixture(scope="session")
def synthetic_index(
    synthetic_documents: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StatementIndex]:
    """One (unsharded) index of the synthetic documents: what a sharded index must answer as."""
    ix = StatementIndex.create(tmp_path_factory.mktemp("one") / "index")
    ix.update(synthetic_documents)
    yield ix
    ix.close()


@pytest.fixture(scope="session")
def sharded_index(
    synthetic_documents: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShardedIndex]:
    """A 3-shard index of the synthetic documents, built and searched locally (no cluster)."""
    ix = ShardedIndex.create(tmp_path_factory.mktemp("three") / "index", shards=3)
    ix.update(synthetic_documents)
    yield ix
    ix.close()
