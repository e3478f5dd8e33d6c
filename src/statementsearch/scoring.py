"""BM25F scoring: its parameters, its idf, and the collection statistics it reads.

One definition serves both ways a query is ranked: Whoosh's own matchers (for the queries `ranking.py`
leaves to Whoosh) score through `Weighting`, and the posting-block ranker calls the same functions, so the
path a query takes never changes its scores. The statistics (document count, average field lengths,
document frequencies) are read through one `Statistics` object: a sharded index hands every shard the
statistics of all shards (the "DFS" phase of distributed engines), so it ranks exactly as one index.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import log
from typing import Any, Protocol

from whoosh.scoring import WeightingModel, WeightLengthScorer, WeightScorer

from . import schema


@dataclass(frozen=True)
class Params:
    """BM25's two free parameters (see schema.py for the values and the measurements behind them)."""

    k1: float
    b: float

    @classmethod
    def default(cls) -> Params:
        """schema.py's values, read when called (bench/relevance.py tries others in-process)."""
        return cls(schema.BM25_K1, schema.BM25_B)


def idf(doc_count: int, doc_frequency: int) -> float:
    """Robertson-Sparck Jones idf as Lucene's BM25 has it: log(1 + (N - n + 0.5) / (n + 0.5)).

    Whoosh's default, 1 + log(N / (n + 1)), never falls much below 1, so a word in half the releases
    still weighs two thirds of a rare one's share in a long query; this one goes to ~0 for such words
    (BENCHMARKS.md "Relevance": measured on the shared collections and their variants).
    """
    return log(1.0 + (doc_count - doc_frequency + 0.5) / (doc_frequency + 0.5))


def length_norm(params: Params, length: float, average: float) -> float:
    """BM25's length normalisation: K1 * ((1 - B) + B * length / average length)."""
    return params.k1 * ((1 - params.b) + params.b * length / average)


def bm25(params: Params, term_idf: float, weight: float, length: float, average: float) -> float:
    """One term's share of a document's score; the ranker's comprehensions write this out inline."""
    return term_idf * ((weight * (params.k1 + 1)) / (weight + length_norm(params, length, average)))


class Statistics(Protocol):
    """What BM25F needs of the collection: an index's own, or those of all shards of a sharded one."""

    def doc_count(self) -> int: ...

    def doc_frequency(self, field: str, text: str) -> int: ...

    def average_length(self, field: str) -> float: ...


class SearcherStatistics:
    """The statistics of one index, read from a Whoosh searcher (deleted releases count until merged,
    as Whoosh's own statistics count them)."""

    def __init__(self, searcher: Any) -> None:
        self._searcher = searcher

    def doc_count(self) -> int:
        return int(self._searcher.doc_count_all())

    def doc_frequency(self, field: str, text: str) -> int:
        return int(self._searcher.doc_frequency(field, text))

    def average_length(self, field: str) -> float:
        return float(self._searcher.avg_field_length(field) or 1)


class Weighting(WeightingModel):  # type: ignore[misc]
    """BM25F for Whoosh's matchers, reading `Statistics` (its own searcher's when none is given)."""

    def __init__(self, params: Params | None = None, statistics: Statistics | None = None) -> None:
        self.params = params or Params.default()
        self.statistics = statistics

    def _stats(self, searcher: Any) -> Statistics:
        return self.statistics or SearcherStatistics(searcher.get_parent())

    def supports_block_quality(self) -> bool:
        return True

    def idf(self, searcher: Any, fieldname: str, text: str) -> float:
        stats = self._stats(searcher)
        return idf(stats.doc_count(), stats.doc_frequency(fieldname, text))

    def scorer(self, searcher: Any, fieldname: str, text: str, qf: int = 1) -> Any:
        if not searcher.schema[fieldname].scorable:
            return WeightScorer.for_(searcher, fieldname, text)
        parent = searcher.get_parent()
        return _Scorer(
            searcher, fieldname, text, self.params, parent.idf(fieldname, text), self._stats(searcher)
        )


class _Scorer(WeightLengthScorer):  # type: ignore[misc]
    def __init__(
        self,
        searcher: Any,
        fieldname: str,
        text: str,
        params: Params,
        term_idf: float,
        stats: Statistics,
    ) -> None:
        self.params = params
        self.idf = term_idf
        self.average = stats.average_length(fieldname)
        self.setup(searcher, fieldname, text)

    def _score(self, weight: float, length: int) -> float:
        return bm25(self.params, self.idf, weight, length, self.average)
