"""All shards' terms as one index, for the coordinator of a sharded index.

What a search decides before any shard ranks anything needs every shard's terms: how a wildcard or fuzzy
word expands (to its most frequent terms in all shards), whether a word is misspelt, which issuers a
filter names, the statistics BM25 scores with (document count, field lengths, document frequencies),
the key terms of a release for `similar`. `ShardSet` makes the shards one Whoosh index for those:
its searcher reads every shard's segments side by side (Whoosh's `MultiReader`, as it reads the
segments of one index), so these are exactly the values one index of the same documents would give.
It only looks terms up; the postings are read by the shards (`work`).

The client reaches the shards' folders for this (the shards live on a path the client and every worker
can reach: see README, "Past one machine").
"""

from __future__ import annotations

from typing import Any

from ..errors import IndexCorruptError
from ..index import StatementIndex, _check_marker, _open_whoosh
from .layout import Layout


class ShardSet:
    """The shards of a layout as one (read-only) Whoosh index: what `StatementIndex` and the update's
    grouping need of one (`latest_generation`, `searcher`, `is_empty`, `schema`)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        opened = [self._open(n) for n in range(layout.shards)]
        self.indexes = [ix for ix, _ in opened]
        self.schema = opened[0][1]

    def _open(self, shard: int) -> tuple[Any, Any]:
        path = self.layout.shard_path(shard)
        if not StatementIndex.exists(path):
            raise IndexCorruptError(
                f"{self.layout.shard_name(shard)} is missing: "
                "rebuild the index with `statementsearch index --rebuild`"
            )
        try:
            _check_marker(path)
            return _open_whoosh(path)
        except IndexCorruptError as exc:
            raise IndexCorruptError(f"{self.layout.shard_name(shard)} is damaged: {exc}") from exc

    def latest_generation(self) -> tuple[int, ...]:
        return tuple(int(ix.latest_generation()) for ix in self.indexes)

    def is_empty(self) -> bool:
        return all(ix.is_empty() for ix in self.indexes)

    def searcher(self, weighting: Any = None) -> Any:
        """A searcher over every shard's segments; `shard_generations` says which commit of each."""
        from whoosh.reading import EmptyReader, MultiReader
        from whoosh.searching import Searcher

        readers = [self._reader(n) for n in range(len(self.indexes))]
        generations = tuple(
            int(gen) if (gen := reader.generation()) is not None and gen >= 0 else int(ix.latest_generation())
            for reader, ix in zip(readers, self.indexes, strict=True)
        )
        leaves = [leaf for reader in readers for leaf, _ in reader.leaf_readers() if leaf.doc_count_all()]
        combined = MultiReader(leaves) if leaves else EmptyReader(self.schema)
        searcher = Searcher(combined, weighting=weighting) if weighting is not None else Searcher(combined)
        searcher.shard_generations = generations
        return searcher

    def _reader(self, shard: int) -> Any:
        try:
            return self.indexes[shard].reader()
        except FileNotFoundError:
            raise  # a commit at that instant: the caller opens the searcher again
        except Exception as exc:  # Whoosh raises many kinds on damaged files
            raise IndexCorruptError(
                f"{self.layout.shard_name(shard)} cannot be read ({type(exc).__name__}: {exc}); "
                "rebuild the index with `statementsearch index --rebuild`"
            ) from exc

    def close(self) -> None:
        for ix in self.indexes:
            ix.close()

    def __enter__(self) -> ShardSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
