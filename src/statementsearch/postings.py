"""Posting lists as the ranker reads them: query words, a segment's blocks, phrases, per-document columns.

Blocks are read through `whoosh_internals` (the one module that knows Whoosh's private layout); what is
here works on what it returns: phrase checks over decoded positions, and the per-document date column
that date filters, date sorting and tie-breaking share.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .whoosh_internals import Block, decode_all, numeric_values


@dataclass(frozen=True)
class Word:
    """A word of a query as a field's index term, with the boost the query gives it."""

    field: str
    text: str
    boost: float = 1.0


def document_dates(reader: Any) -> list[int | None]:
    """Each document's date as Whoosh stores it (a long), or None when it has none, for date filters,
    date sorting and ties alike: the date column read in one slice, where a release without a date
    holds the column's default (else the `date` and `dateless` columns a document at a time)."""
    count = reader.doc_count_all()
    if not count:
        return []
    stored = reader.column_reader("date", translate=False)
    whole = numeric_values(stored, count)
    if whole is not None:
        values, default = whole
        return [None if value == default else value for value in values]
    dateless = reader.column_reader("dateless")
    return [None if dateless[d] else stored[d] for d in range(count)]


def document_ids(reader: Any) -> Any:
    """Each document's release id by document number (the sortable `id` column of one segment)."""
    return reader.column_reader("id")


class Phrases:
    """Checks that a document holds each phrase's words at consecutive positions (Whoosh's `Phrase`
    with slop 1), decoding a word's blocks only when asked about a document in them, each once."""

    def __init__(
        self,
        reader: Any,
        phrases: tuple[tuple[Word, ...], ...],
        blocks_of: Callable[[Word], list[Block] | None],
    ) -> None:
        self._phrases = phrases
        self._reader = reader
        self._blocks_of = blocks_of
        self._blocks: dict[Word, tuple[list[int], list[Block]]] = {}
        self._decoded: dict[tuple[Word, int], tuple[Sequence[int], Sequence[Any]]] = {}

    def hold(self, doc: int) -> bool:
        return all(self.holds(phrase, doc) for phrase in self._phrases)

    def holds(self, phrase: tuple[Word, ...], doc: int) -> bool:
        starts = set(self._positions(phrase[0], doc))
        for n, word in enumerate(phrase[1:], start=1):
            if not starts:
                return False
            here = set(self._positions(word, doc))
            starts = {p for p in starts if p + n in here}
        return bool(starts)

    def _positions(self, word: Word, doc: int) -> list[int]:
        if word not in self._blocks:
            blocks = self._blocks_of(word) or []
            self._blocks[word] = ([b.max_id for b in blocks], blocks)
        max_ids, blocks = self._blocks[word]
        n = bisect_left(max_ids, doc)
        if n == len(blocks):
            return []
        decoded = self._decoded.get((word, n))
        if decoded is None:
            block_ids, _, encoded = decode_all(blocks[n])
            decoded = self._decoded[(word, n)] = (block_ids, encoded)
        at = bisect_left(decoded[0], doc)
        if at == len(decoded[0]) or decoded[0][at] != doc:
            return []
        return self._reader.schema[word.field].format.decode_positions(decoded[1][at])  # type: ignore[no-any-return]
