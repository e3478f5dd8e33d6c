"""Reading Whoosh's posting lists a block at a time, beneath its matcher objects.

`ranking.py` scores queries from what this module reads: each block's header (its last document, best
weight and shortest length: enough to bound the block without decoding it), a block's document numbers
and weights (without unpickling the positions stored beside them), the positions themselves when a
phrase needs them, and two per-document columns: a field's length bytes and the release dates. It
relies on the layout of whoosh3's W3 codec (pinned `<4` in pyproject.toml); a posting list in any
other layout makes `blocks` return None, and the caller leaves that query to Whoosh.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from pickle import loads
from typing import Any


@dataclass(frozen=True)
class Word:
    """A word of a query as a field's index term, with the boost the query gives it."""

    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a posting list as its header tells it: enough to bound it and to decode it later."""

    max_id: int
    max_weight: float
    min_length: float
    count: int
    data: tuple[Any, ...]  # (postfile, data offset, data length, compressed)
    inline: tuple[list[int], Any, Any] | None = None  # (ids, weights, values) of a list kept in its term


def blocks(reader: Any, word: Word) -> list[Block] | None:
    """The blocks of a word's postings in one segment ([] when absent); None for a layout not known here."""
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.matching import ListMatcher

    text = word.text.encode("utf-8")
    if (word.field, text) not in reader:
        return []
    matcher = reader._terms.matcher(word.field, text, reader.schema[word.field].format)
    if isinstance(matcher, ListMatcher):  # a posting list short enough to be kept in the term's info
        info = reader.term_info(word.field, text)
        ids = list(matcher._ids)
        weights = [1.0] * len(ids) if matcher._weights is None else list(matcher._weights)
        inline = (ids, weights, list(matcher._values))
        return [Block(ids[-1], info.max_weight(), info.min_length(), len(ids), (), inline)]
    if type(matcher) is not W3LeafMatcher or matcher._byteids:
        return None
    blocks = []
    while matcher.is_active():
        m = matcher
        extent = (m._postfile, m._dataoffset, m._nextoffset - m._dataoffset, m._compression)
        blocks.append(Block(m._maxid, m._maxweight, m._minlength, m._blocklength, extent))
        m._next_block()
    return blocks


_VALUES_START = b"(c_codecs\nencode\n"
"""Where a block's pickled (ids, weights, values) reaches its values: Whoosh pickles it with protocol 2,
which writes each posting's encoded positions as a call to `_codecs.encode`. Unpickling those is ~90% of
a block's decoding time, and ranking needs only ids and weights."""


def decode(block: Block) -> tuple[list[int], Any]:
    """A block's document numbers and weights, without unpickling its positions when it can."""
    if block.inline is not None:
        return block.inline[0], block.inline[1]
    raw = _block_bytes(block)
    cut = raw.find(_VALUES_START)
    if cut > 0:
        try:
            ids, weights, _ = loads(raw[:cut] + b"N\x87.")  # (ids, weights, None)
        except Exception:  # the pattern was not where the values start: read the whole block
            ids = None
        if isinstance(ids, tuple) and len(ids) == block.count:
            return _expand(block, ids, weights)
    ids, weights, _ = loads(raw)[:3]
    return _expand(block, ids, weights)


def _block_bytes(block: Block) -> bytes:
    postfile, offset, length, compressed = block.data
    raw = postfile.get(offset, length)
    return zlib.decompress(raw) if compressed else bytes(raw)


def _expand(block: Block, ids: Any, weights: Any) -> tuple[list[int], Any]:
    """Undo Whoosh's block minifying: delta-coded ids, weights None (all 1) or one float for all."""
    if weights is None:
        weights = [1.0] * block.count
    elif isinstance(weights, float):
        weights = [weights] * block.count
    return list(accumulate(ids)), weights


def decode_all(block: Block) -> tuple[list[int], Any, Any]:
    """A block's document numbers, weights and values (the postings' encoded positions)."""
    if block.inline is not None:
        return block.inline
    ids, weights, values = loads(_block_bytes(block))[:3]
    return *_expand(block, ids, weights), values


def length_bytes(lengths: Any, count: int) -> bytes | list[int]:
    """Each document's length byte (0 for none), read as one slice of the column's file when it is
    Whoosh's one-byte numeric column (a call per document took ~0.1 s on 85,000 releases)."""
    from whoosh.columns import NumericColumn

    if lengths is None:
        return bytes(count)
    if type(lengths) is NumericColumn.Reader and lengths._typecode == "B":
        stored = bytes(lengths._dbfile.get(lengths._basepos, min(lengths._count, count)))
        return stored + bytes(count - len(stored))
    return [lengths[d] for d in range(count)]


def document_dates(reader: Any) -> list[int | None]:
    """Each document's date as Whoosh stores it (a long), or None when it has none: the `date` and
    `dateless` columns of one segment read together, for date filters and date sorting alike."""
    count = reader.doc_count_all()
    if not count:
        return []
    stored = reader.column_reader("date", translate=False)
    dateless = reader.column_reader("dateless")
    return [None if dateless[d] else stored[d] for d in range(count)]


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
        self._decoded: dict[tuple[Word, int], dict[int, Any]] = {}

    def hold(self, doc: int) -> bool:
        return all(self._holds(phrase, doc) for phrase in self._phrases)

    def _holds(self, phrase: tuple[Word, ...], doc: int) -> bool:
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
        values = self._decoded.get((word, n))
        if values is None:
            ids, _, encoded = decode_all(blocks[n])
            values = self._decoded[(word, n)] = dict(zip(ids, encoded, strict=True))
        value = values.get(doc)
        if value is None:
            return []
        return self._reader.schema[word.field].format.decode_positions(value)  # type: ignore[no-any-return]
