"""The one door to Whoosh's private parts: every reliance on names outside its public API lives here.

statementsearch pins `whoosh3==3.54.0` (pyproject.toml) because of what follows. Each reliance says what
it relies on, what happens when that is not there (the fallback to Whoosh's public path), and the test
that holds it (`tests/test_whoosh_internals.py` checks each on a small index, fallback included):

1. Posting blocks (`blocks`, `decode`, `decode_all`): the W3 codec's leaf matcher and its attributes
   (`_postfile`, `_dataoffset`, `_nextoffset`, `_compression`, `_maxid`, `_maxweight`, `_minlength`,
   `_blocklength`, `_byteids`, `_next_block`), `ListMatcher`'s `_ids/_weights/_values` for short lists
   kept in the term's info, the term table's `matcher`. Fallback: `blocks` returns None for any other
   layout and the caller ranks the query with Whoosh's matchers.
2. The pickle cut point (`_VALUES_START`): a block in Whoosh's layout (an index's own blocks are in
   `block_layout`'s) is a protocol-2 pickle of (ids, weights, values) whose values start, after a mark,
   with a call to `_codecs.encode`; the ranker unpickles only what comes before.
   Fallback: when the cut does not give a tuple of the block's length, the whole block is unpickled.
3. Numeric columns read whole (`length_bytes`, `numeric_values`): each field's lengths column
   (`_perdoc._cached_reader`, `LENGTHS_COLUMN`, `_lenfield`) and the date column, each read as one slice
   of its file (`NumericColumn.Reader`'s `_dbfile`, `_basepos`, `_count`, `_typecode`, `_default`; values
   big-endian, documents past `_count` hold the default). Fallback: the public column or
   `doc_field_length`, a call per document (~30x slower).
4. The codec's automata (`terms_within`): Whoosh's public `terms_within` on a segment looks in the
   field's *spelling* field; this reads the field's own terms with `_codec.automata`. Fallback: the
   base reader's public prefix scan with an edit distance per term.
5. Tables of contents (`sweep_leftovers`): `whoosh.index.TOC.read` and `clean_files` find the files of
   segments no generation uses. Fallback: nothing is swept (the index stays correct, only larger).
6. Two patched methods (`apply_fixes`): `AndNotMatcher._find_first` (whoosh-community/whoosh#419: `a -b`
   returned a first `a` holding `b`) and `BufferFile.__init__` (it copied each memory-mapped segment
   into a `BytesIO`: every searcher read and held the whole index). Fallback: when the names are not
   there, nothing is patched and Whoosh's own behaviour stands.
7. A codec that keeps a one-release posting list in its term's entry (`InliningCodec`): the W3 codec's
   postings writer (`written`, `_inlinelimit`, `_terminfo`, `_ids`, `_weights`, `_values`) calls
   `terminfo.set_inline`, a name `W3TermInfo` does not have (it has `set_inlined`), so Whoosh's own
   inlining raises; its default limit (fewer than 1 posting) never reaches it; and a list of a format
   without values is read back (`ListMatcher.value`) as "", which a merge rejects, so empty values are
   written. Such an entry is written compactly (`CompactTermInfo`: Whoosh's header, which already holds
   the posting's id and weight, then its value bytes, instead of a ~60-byte pickle), through the W3
   field writer's `start_term` and `_postwriter`, and read through a terms reader whose every decoding
   of an entry (`term_info`, `items`, `items_from`, the cursor's `term_info`: `_tindex`, `_keycoder`,
   `_keydecoder`, `_datapos`, `_datalen`) goes through it; entries in Whoosh's own forms read as before.
   A block is written in `block_layout`'s layout instead of a pickle (the W3 postings writer's
   `_write_block`, rewritten: `_blockcount`, `_postfile`, `_format`, `_ids`, `_weights`, `_values`,
   `_minlength`, `_maxlength`, `_new_block`, `_compression`; its header `block_layout.pack_header`'s
   13 bytes instead of a pickled tuple) and read by a leaf matcher whose `_goto` (`_postfile`, `_i`,
   `_lastblock`, `_nextoffset`, `_dataoffset`, `_blocklength`, `_maxid`, `_maxweight`,
   `_compression`, `_minlength`, `_maxlength`), `_read_data`, `_read_ids`, `_read_weights` and
   `_read_values` know it (`_data`, `_fixedsize`); a block in Whoosh's layout reads as before.
   Segments record their codec (pickled in the table of contents), so an index written with it needs
   this class to be read. Fallback: when those names are not there, `writing_codec` gives Whoosh's
   default codec.
8. A term's postings read in one read (`raw_blocks`): the segment reader's `_terms._postfile`, the
   term info's `extent()` (whose length Whoosh's `from_bytes` leaves as a 1-tuple) and the W3 postings
   file's layout (the `W3Bl` magic, then per block a big-endian signed length, negative for the last,
   and its header and data). Fallback: None for a list kept in its term's entry or blocks with
   Whoosh's pickled headers, and `blocks` reads those.
9. The writers' posting pool (`pooling.TermPool`): `SegmentWriter.__init__` takes a `poolclass` and
   ignores it (patched to honour it, `apply_fixes`); the writer uses its pool's `add`,
   `iter_postings`, `cleanup` and `fieldnames`; the W3 field writer's `add_postings`, `start_field`,
   `start_term`, `finish_term`, `finish_field`, `_fieldid`, `_tindex`, `_codec._inlinelimit` and
   `_postwriter`, and the postings writer's `start_postings` (rewritten: no `tell` for a list kept in
   its entry), `_blocklimit`, `_startoffset` and `finish_postings` write a pooled term a block at a
   time; a one-posting entry is packed with `W3TermInfo._struct`. Fallback: a writer given no pool
   class (or a Whoosh without the names) pools and writes postings one by one, as Whoosh does; the
   segment written is byte for byte the same (`tests/test_pooling.py`).
"""

from __future__ import annotations

import contextlib
import io
import struct
import threading
import zlib
from array import array
from dataclasses import dataclass
from itertools import accumulate
from operator import itemgetter
from pathlib import Path
from pickle import loads
from typing import Any

from whoosh.codec.whoosh3 import (
    W3Codec,
    W3FieldCursor,
    W3FieldWriter,
    W3LeafMatcher,
    W3PerDocReader,
    W3PostingsWriter,
    W3TermInfo,
    W3TermsReader,
    pack_ushort,
)
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length, length_to_byte

from . import block_layout, pooling

# ---------------------------------------------------------------------------------- 1. posting blocks


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a posting list as its header tells it: enough to bound it and to decode it later."""

    max_id: int
    max_weight: float
    min_length: float
    count: int
    data: tuple[Any, ...]  # (postfile, data offset, data length, compressed)
    inline: tuple[list[int], Any, Any] | None = None  # (ids, weights, values) of a list kept in its term


def blocks(reader: Any, field: str, text: str) -> list[Block] | None:
    """The blocks of a term's postings in one segment ([] when absent); None for a layout not known here."""
    from whoosh.matching import ListMatcher

    btext = text.encode("utf-8")
    if (field, btext) not in reader:
        return []
    try:
        matcher = reader._terms.matcher(field, btext, reader.schema[field].format)
    except AttributeError:
        return None
    if isinstance(matcher, ListMatcher):  # a posting list short enough to be kept in the term's info
        info = reader.term_info(field, btext)
        ids = list(matcher._ids)
        weights = [1.0] * len(ids) if matcher._weights is None else list(matcher._weights)
        inline = (ids, weights, list(matcher._values))
        return [Block(ids[-1], info.max_weight(), info.min_length(), len(ids), (), inline)]
    if not isinstance(matcher, W3LeafMatcher) or matcher._byteids:
        return None
    found = []
    while matcher.is_active():
        m = matcher
        extent = (m._postfile, m._dataoffset, m._nextoffset - m._dataoffset, m._compression)
        found.append(Block(m._maxid, m._maxweight, m._minlength, m._blocklength, extent))
        m._next_block()
    return found


RawBlock = tuple[int, int, memoryview]
"""A block of `block_layout`'s layout as `raw_blocks` cuts it out: (postings, last id, its bytes)."""


def raw_blocks(reader: Any, field: str, text: str) -> list[RawBlock] | None:
    """A term's blocks cut out of one read of its postings (the W3 postings file's layout: a magic, then
    per block its signed length, negative for the last, its header and its data), where `blocks`
    walks a leaf matcher block by block; [] when the term is absent. None when the list is kept in
    the term's entry or its blocks are not in `block_layout`'s layout (then `blocks` reads it)."""
    btext = text.encode("utf-8")
    if (field, btext) not in reader:
        return []
    try:
        info = reader.term_info(field, btext)
        postfile = reader._terms._postfile
    except AttributeError:
        return None
    if info.is_inlined():
        return None
    offset, length = info.extent()
    if isinstance(length, tuple):  # Whoosh's `from_bytes` keeps the length as `unpack_int` gives it
        (length,) = length
    raw = memoryview(bytes(postfile.get(offset, length)))  # blocks cut out below are views of it
    if raw[:4].tobytes() != b"W3Bl":
        raise block_layout.DamagedBlockError("a posting list without its magic")
    found: list[RawBlock] = []
    at, end, size = 4, len(raw), block_layout.HEADER_SIZE
    while at < end:
        length = int.from_bytes(raw[at : at + 4], "big", signed=True)
        if at + 4 + abs(length) > end or abs(length) < size:
            raise block_layout.DamagedBlockError("a posting block past the end of its list")
        if raw[at + 4] != block_layout.HEADER_TAG:
            return None  # Whoosh's pickled header
        count, max_id, *_ = block_layout.unpack_header(bytes(raw[at + 4 : at + 4 + size]))
        found.append((count, max_id, raw[at + 4 + size : at + 4 + abs(length)]))
        at += 4 + abs(length)
        if length < 0:
            break
    if at != end:
        raise block_layout.DamagedBlockError("a posting list whose blocks do not fill its extent")
    return found


# ---------------------------------------------------------------------------------- 2. pickle cut point

_VALUES_START = b"c_codecs\nencode\n"
"""Where a block's pickled (ids, weights, values) reaches its values: Whoosh pickles it with protocol 2,
which writes bytes as a call to `_codecs.encode`, after a mark the tuple of each posting's encoded
positions. Unpickling those was ~90% of a block's decoding time in Whoosh's layout, and ranking needs
only ids and weights."""


def decode(block: Block) -> tuple[list[int], Any]:
    """A block's document numbers and weights, without reading its positions when it can."""
    if block.inline is not None:
        return block.inline[0], block.inline[1]
    raw = block_bytes(block)
    if block_layout.is_own(raw):
        own = block_layout.unpack_ids_weights(raw, block.count, block.max_id)
        return own[0], own[1]
    cut = raw.find(_VALUES_START)
    if cut > 0 and raw[cut - 1 : cut] == b"(":  # Whoosh's tuple of values: cut before its mark
        cut -= 1
    if cut > 0:
        try:
            ids, weights, _ = loads(raw[:cut] + b"N\x87.")  # (ids, weights, None)
        except Exception:  # the pattern was not where the values start: read the whole block
            ids = None
        if isinstance(ids, tuple) and len(ids) == block.count:
            return _expand(block, ids, weights)
    ids, weights, _ = loads(raw)[:3]
    return _expand(block, ids, weights)


def decode_all(block: Block) -> tuple[list[int], Any, Any]:
    """A block's document numbers, weights and values (the postings' encoded positions)."""
    if block.inline is not None:
        return block.inline
    raw = block_bytes(block)
    if block_layout.is_own(raw):
        ids, weights, values = block_layout.unpack_block(raw, block.count, block.max_id)
        return ids, weights, None if values is None else block_layout.PackedValues(values)
    ids, weights, values = loads(raw)[:3]
    return *_expand(block, ids, weights), values


def block_bytes(block: Block) -> bytes:
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


# ---------------------------------------------------------------------------------- 3. length column


def length_bytes(reader: Any, field: str) -> bytes | None:
    """Each document's length byte in a field (Whoosh's one-byte encoding, 0 for none), read as one
    slice of the column's file; None when the column is not in that form."""
    try:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        lengths = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    except (ImportError, AttributeError):
        return None
    return _column_bytes(lengths, reader.doc_count_all())


def _column_bytes(lengths: Any, count: int) -> bytes | None:
    """A lengths column's bytes for `count` documents (absent: all 0); None when not in that form."""
    from whoosh.columns import NumericColumn

    if lengths is None:
        return bytes(count)
    if type(lengths) is not NumericColumn.Reader or lengths._typecode != "B":
        return None
    stored = bytes(lengths._dbfile.get(lengths._basepos, min(lengths._count, count)))
    return stored + bytes(count - len(stored))


def numeric_values(column: Any, count: int) -> tuple[list[int], int] | None:
    """A whole 8-byte numeric column (e.g. the dates) of `count` documents and its default (the value
    of a document that has none), read as one slice; None when the column is not in that form."""
    import sys
    from array import array

    try:
        from whoosh.columns import NumericColumn
    except ImportError:  # pragma: no cover - another Whoosh
        return None
    if type(column) is not NumericColumn.Reader or column._typecode not in ("Q", "q"):
        return None
    stored = min(column._count, count)
    values = array(column._typecode)
    values.frombytes(bytes(column._dbfile.get(column._basepos, stored * 8)))
    if sys.byteorder == "little":
        values.byteswap()
    default = int(column._default)
    return values.tolist() + [default] * (count - stored), default


def field_lengths(reader: Any, field: str) -> list[float]:
    """Each document's length in a field as BM25 sees it (Whoosh's lossy one-byte length)."""
    from whoosh.util.numeric import byte_to_length

    encoded = length_bytes(reader, field)
    if encoded is None:
        count = reader.doc_count_all()
        return [float(reader.doc_field_length(d, field, 0)) for d in range(count)]
    table = [float(byte_to_length(b)) for b in range(256)]
    return [table[b] for b in encoded]


# ---------------------------------------------------------------------------------- 4. automata


def terms_within(reader: Any, fieldname: str, text: str, maxdist: int, prefix: int = 0) -> list[str]:
    """Terms of the field itself within `maxdist` edits of `text` (Whoosh's DFA over each segment)."""
    from whoosh.reading import IndexReader

    found: set[str] = set()
    for leaf, _offset in reader.leaf_readers():
        if fieldname not in leaf.indexed_field_names():
            continue
        try:
            automata = leaf._codec.automata(leaf._storage, leaf._segment)
            found.update(automata.terms_within(leaf.cursor(fieldname), text, maxdist, prefix))
        except AttributeError:
            found.update(IndexReader.terms_within(leaf, fieldname, text, maxdist, prefix))
    return sorted(found)


# ---------------------------------------------------------------------------------- 5. tables of contents


def sweep_leftovers(ix: Any) -> None:
    """Remove what a killed writer left: temporary tables of contents, its temp folder, and files of
    segments no committed generation uses. Call it under the writer lock, so no live writer owns them."""
    import shutil

    folder = Path(ix.storage.folder)
    for leftover in folder.glob("_MAIN_*.toc.*"):
        with contextlib.suppress(OSError):
            leftover.unlink()
    shutil.rmtree(folder / "MAIN.tmp", ignore_errors=True)
    with contextlib.suppress(Exception):
        from whoosh.index import TOC, clean_files

        toc = TOC.read(ix.storage, ix.indexname, schema=ix.schema)
        clean_files(ix.storage, ix.indexname, toc.generation, toc.segments)


# ---------------------------------------------------------------------------------- 6. patched methods

_applied = False
_lock = threading.Lock()


def apply_fixes() -> None:
    """Install the two fixes (idempotent, thread-safe); called before the first index opens."""
    global _applied
    with _lock:
        if _applied:
            return
        with contextlib.suppress(ImportError, AttributeError):
            _fix_and_not()
        with contextlib.suppress(ImportError, AttributeError):
            _fix_buffer_file()
        with contextlib.suppress(ImportError, AttributeError):
            _fix_pool_class()
        _applied = True


def _fix_and_not() -> None:
    """`AndNotMatcher` checks its first document against the excluded words only when the excluded
    list starts on that very document (whoosh#419); check whenever both lists are active."""
    from whoosh.matching.binary import AndNotMatcher

    def find_first(self: Any) -> None:
        if self.a.is_active() and self.b.is_active():
            self._find_next()

    AndNotMatcher._find_first = find_first


def _fix_pool_class() -> None:
    """`SegmentWriter` takes a `poolclass` argument and ignores it (it always makes Whoosh's
    `PostingPool`); honour it, so that the index's writers, and `MpWriter`'s sub-writers (given the
    same arguments), gather their postings in `pooling.TermPool`. A writer not given one is Whoosh's."""
    from whoosh.writing import SegmentWriter

    original = SegmentWriter.__init__

    def init(self: Any, ix: Any, poolclass: Any = None, **kwargs: Any) -> None:
        original(self, ix, **kwargs)
        if poolclass is not None:
            self.pool = poolclass(self._tempstorage, self.newsegment, limitmb=kwargs.get("limitmb", 128))

    SegmentWriter.__init__ = init


class _ViewReader(io.RawIOBase):
    """A seekable raw reader over a memoryview; `readinto` copies only the bytes asked for."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view: memoryview | None = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        assert self._view is not None
        n = max(0, min(len(buffer), len(self._view) - self._pos))
        buffer[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        assert self._view is not None
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view = None  # let the owner release the view
        super().close()


def _fix_buffer_file() -> None:
    """`BufferFile` wraps a memory-mapped file in a `BytesIO` (a full copy); read the mapping in place."""
    from whoosh.filedb.structfile import BufferFile

    original = BufferFile.__init__

    def init(self: Any, buf: Any, name: str | None = None, onclose: Any = None) -> None:
        original(self, b"" if isinstance(buf, memoryview) else buf, name, onclose)
        if isinstance(buf, memoryview):
            self._buf = buf
            self.file = io.BufferedReader(_ViewReader(buf), buffer_size=16 * 1024)

    BufferFile.__init__ = init


# ---------------------------------------------------------------------------------- 7. inlining codec

INLINE_BELOW = 2
"""Posting lists of fewer releases than this are kept in their term's entry: one release's block of its
own in the postings file costs about 100 bytes, and most terms of the id, group and near-duplicate
anchor fields, and many words, are in a single release."""


def writing_codec() -> Any:
    """The codec every writer of an index uses (merges rewrite older segments with it)."""
    from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter, W3TermInfo

    if all(hasattr(W3PostingsWriter, name) for name in ("written", "finish_postings")) and hasattr(
        W3TermInfo, "set_inlined"
    ):
        return InliningCodec(inlinelimit=INLINE_BELOW)
    return W3Codec()  # pragma: no cover - another Whoosh


def _variable(fixed_size: int | None) -> bool:
    """Whether a format's posting values vary in size (positions), which Whoosh keeps as a tuple."""
    return fixed_size is None or fixed_size < 0


_HEADER_TAG = bytes([block_layout.HEADER_TAG])


class _OwnBlock(tuple):  # type: ignore[type-arg]
    """A block's (ids, weights, values) read from `block_layout`'s layout: ids absolute, values packed."""


class _BlockLeafMatcher(W3LeafMatcher):  # type: ignore[misc]
    """Whoosh's reader of a posting list, for blocks in `block_layout`'s layout or in Whoosh's own."""

    def _goto(self, position: int) -> None:
        postfile = self._postfile
        postfile.seek(position)
        length = postfile.read_int()
        start = postfile.tell()
        header = postfile.read(block_layout.HEADER_SIZE)
        if header[:1] != _HEADER_TAG:  # Whoosh's pickled header
            super()._goto(position)
            return
        count, max_id, max_weight, min_length, max_length = block_layout.unpack_header(header)
        unread: Any = None  # read when asked for (`_read_data`)
        self._data = self._ids = self._weights = self._values = unread
        self._i = 0
        self._lastblock = length < 0
        self._nextoffset = start + abs(length)
        self._dataoffset = start + block_layout.HEADER_SIZE
        self._blocklength, self._maxid, self._maxweight, self._compression = count, max_id, max_weight, 0
        self._minlength, self._maxlength = byte_to_length(min_length), byte_to_length(max_length)

    def _read_data(self) -> None:
        raw = self._postfile.get(self._dataoffset, self._nextoffset - self._dataoffset)
        if not self._compression and block_layout.is_own(raw):
            self._data = _OwnBlock(block_layout.unpack_block(raw, self._blocklength, self._maxid))
        else:
            self._data = loads(zlib.decompress(raw) if self._compression else raw)

    def _own(self) -> _OwnBlock | None:
        """The block's data when it is in `block_layout`'s layout (read on first use), else None."""
        if self._data is None:
            self._read_data()
        return self._data if isinstance(self._data, _OwnBlock) else None

    def _read_ids(self) -> None:
        own = self._own()
        if own is None:
            super()._read_ids()
        else:
            self._ids = own[0]

    def _read_weights(self) -> None:
        own = self._own()
        if own is None:
            super()._read_weights()
        else:
            self._weights = own[1]

    def _read_values(self) -> None:
        own = self._own()
        if own is None:
            super()._read_values()
        elif own[2] is None:
            self._values = (None,) * self._blocklength
        elif _variable(self._fixedsize):
            self._values = block_layout.split_values(own[2])
        else:
            size = self._fixedsize
            self._values = tuple(own[2][i : i + size] for i in range(0, len(own[2]), size))


class _LengthsReader(W3PerDocReader):  # type: ignore[misc]
    """Whoosh's per-document reader whose lengths for a segment's writing are read as one slice.

    Writing a segment's postings asks each posting's document length (`doc_field_length_reader`), a
    column lookup per posting (~8% of a build); here a field's lengths are decoded once, into a list."""

    def doc_field_length_reader(self, fieldname: str, default: Any = 0) -> Any:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        from whoosh.util.numeric import byte_to_length

        column = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        encoded = _column_bytes(column, self._doccount) if column is not None else None
        if encoded is None:
            return super().doc_field_length_reader(fieldname, default)
        table = [None, *map(byte_to_length, range(1, 256))]  # as Whoosh's: None for a 0 byte
        return [table[b] for b in encoded].__getitem__


_DOCNUM, _WEIGHT, _VALUE = itemgetter(2), itemgetter(3), itemgetter(4)
"""The parts of a posting tuple (field name, term bytes, document, weight, value)."""


class _InliningPostingsWriter(W3PostingsWriter):  # type: ignore[misc]
    def start_postings(self, format_: Any, terminfo: Any) -> None:
        """Whoosh's `start_postings` without asking the file where the list starts: most lists are kept
        in their term's entry and write nothing there (a `tell` per term was 3% of a build); the first
        block written asks instead."""
        if self._terminfo:  # type: ignore[has-type]
            raise RuntimeError("Called start in a term")
        self._format, self._blockcount, self._terminfo = format_, 0, terminfo
        self._new_block()

    def _write_block(self, last: bool = False) -> None:
        """Whoosh's `_write_block`, the block's data in `block_layout`'s layout instead of a pickle."""
        if not self._blockcount:
            self._startoffset = self._postfile.tell()
        if self._byteids:  # a term vector's postings (not written by this index): Whoosh's layout
            super()._write_block(last)
            return
        from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC

        postfile = self._postfile
        if not self._blockcount:
            postfile.write(WHOOSH3_HEADER_MAGIC)
            self._extent = len(WHOOSH3_HEADER_MAGIC)  # the list's bytes so far (no `tell` at its end)
        terminfo: Any = self._terminfo
        terminfo.add_block(self)
        ids, weights = self._ids, self._weights
        data = block_layout.pack_block(ids, weights, self._block_values(), self._compression)
        lengths = (length_to_byte(self._minlength), length_to_byte(self._maxlength))
        info = block_layout.pack_header(len(ids), ids[-1], max(weights), *lengths)
        size = len(info) + len(data)
        postfile.write_int(-size if last else size)  # negative: the last block
        postfile.write(info)
        postfile.write(data)
        self._extent += 4 + size
        self._blockcount += 1
        self._new_block()

    def add_term(self, postings: list[Any], length_of: Any) -> None:
        """A whole term's postings (`pooling`: Whoosh's posting tuples, in order), a block at a time:
        what `add_posting` per posting buffers and writes, in C-level slices. The last block stays
        buffered for `finish_postings`, which writes it or keeps a short list in the term's entry."""
        limit, count = self._blocklimit, len(postings)
        for start in range(0, count, limit):
            block = postings[start : start + limit]
            self._ids = array("I", map(_DOCNUM, block))
            weights = list(map(_WEIGHT, block))
            self._weights = array("f", weights)
            best = max(weights)
            self._maxweight = best if best > 0 else 0
            self._values = [value for value in map(_VALUE, block) if value]
            known = [length for length in map(length_of, self._ids) if length]
            self._minlength = min(known) if known else None
            self._maxlength = max(known) if known else 0
            if start + limit < count:
                self._write_block()

    def _block_values(self) -> bytes | None:
        fixed_size = self._format.fixed_value_size()
        if _variable(fixed_size):
            return block_layout.pack_values(self._values)
        return b"".join(self._values) if fixed_size else None

    def finish_postings(self) -> Any:
        if self._byteids:
            return super().finish_postings()
        terminfo: Any = self._terminfo
        if self.written() or len(self) >= self._inlinelimit:  # Whoosh's, the extent from `_write_block`
            if self._ids:
                self._write_block(last=True)
            terminfo.set_extent(self._startoffset, self._extent)
            self._terminfo = None
            return terminfo
        terminfo.add_block(self)
        # A format without values (existence, frequency) writes none; an inlined list is read back by
        # a `ListMatcher`, which then gives "" (not bytes) for a value, and a merge rejects that.
        values = self._values or [b""] * len(self._ids)
        terminfo.set_inlined(self._ids, self._weights, values)
        self._terminfo = None  # between terms, as Whoosh's own writer leaves it
        return terminfo


ONE_POSTING = 2
"""The flags byte of a term entry whose one posting follows its header as raw value bytes. Whoosh writes
0 (postings in the postings file) or 1 (a pickled tuple of lists follows: ~60 bytes for one posting)."""


class CompactTermInfo(W3TermInfo):  # type: ignore[misc]
    """A term entry that writes a one-posting list as its value bytes alone.

    The header Whoosh writes first (flags, total weight, document frequency, lengths, best weight, first
    and last id) already holds that posting's id and weight, so only its value (positions, or nothing)
    follows. Entries of the other kinds are Whoosh's own; the header stays where Whoosh's readers of
    single figures (`read_weight`, `read_doc_freq`) look for them.
    """

    def to_bytes(self) -> bytes:
        inlined = self._inlined
        if inlined is None or len(inlined[0]) != 1:
            return bytes(super().to_bytes())
        figures = (self._weight, self._minlength, self._maxlength, self._maxweight, self._minid)
        return self._one_posting_entry(*figures, inlined[2][0])

    @classmethod
    def one_posting(cls, docnum: int, weight: float, value: bytes | None, length: int | None) -> bytes:
        """The entry `to_bytes` writes for a list of one posting, made from the posting alone (what
        Whoosh's writer would gather in a term info: its total and best weight are the posting's, its
        shortest and longest length the document's)."""
        return cls._one_posting_entry(weight, length or None, length or 0, max(weight, 0), docnum, value)

    @classmethod
    def _one_posting_entry(
        cls,
        weight: float,
        min_length: int | None,
        max_length: int,
        best: float,
        docnum: int,
        value: bytes | None,
    ) -> bytes:
        """Whoosh's header as its `to_bytes` packs it (which would also pickle the posting, unused
        here), flagged `ONE_POSTING`, then the posting's value."""
        min_byte = 0 if min_length is None else length_to_byte(min_length)
        figures = (weight, 1, min_byte, length_to_byte(max_length), best, docnum, docnum)
        header: bytes = cls._struct.pack(ONE_POSTING, *figures)
        return header + (value or b"")

    @classmethod
    def from_bytes(cls, data: bytes) -> Any:
        if data[0] != ONE_POSTING:
            terminfo = W3TermInfo.from_bytes(data)
            terminfo.__class__ = cls
            return terminfo
        size = cls._struct.size
        terminfo = W3TermInfo.from_bytes(b"\x00" + data[1:size] + _NO_EXTENT)
        terminfo.__class__ = cls
        terminfo._offset = terminfo._length = None
        terminfo._inlined = ((terminfo._minid,), (terminfo._weight,), (data[size:],))
        return terminfo


_NO_EXTENT = bytes(12)
"""The offset (8 bytes) and length (4) Whoosh's own decoding of a header expects after it."""


class _CompactFieldWriter(W3FieldWriter):  # type: ignore[misc]
    def start_term(self, btext: bytes) -> None:
        super().start_term(btext)
        self._postwriter._terminfo = CompactTermInfo()

    def add_postings(self, schema: Any, lengths: Any, items: Any) -> None:
        """Whoosh's `add_postings` (postings one at a time, from its sorted pool), a term at a time when
        they come from `pooling.TermPool`: the same calls per term, none per posting."""
        if not isinstance(items, pooling.PooledPostings):
            super().add_postings(schema, lengths, items)
            return
        fieldname = None
        inlined_one = self._codec._inlinelimit > 1  # a list of one posting is kept in its entry
        for term_field, tbytes, postings in items.terms():
            if term_field != fieldname:
                if fieldname is not None:
                    self.finish_field()
                fieldname = term_field
                self.start_field(fieldname, schema[fieldname])
                length_of = _length_reader(lengths, fieldname)
                key = pack_ushort(self._fieldid)
            if postings[0][2] < 0:  # Whoosh's mark of a word for the spelling graph, never a posting
                postings = [posting for posting in postings if posting[2] >= 0]
                if not postings:
                    continue
            if len(postings) == 1 and inlined_one:  # most terms: their entry made at once
                _, _, docnum, weight, value = postings[0]
                entry = CompactTermInfo.one_posting(docnum, weight, value, length_of(docnum))
                self._tindex.add(key + tbytes, entry)
                continue
            self.start_term(tbytes)
            self._postwriter.add_term(postings, length_of)
            self.finish_term()
        if fieldname is not None:
            self.finish_field()


def _length_reader(lengths: Any, fieldname: str) -> Any:
    """Each document's length in a field, as Whoosh's `add_postings` reads it (0 without lengths)."""
    if not lengths:
        return lambda docnum: 0
    reader = getattr(lengths, "doc_field_length_reader", None)
    if reader is None:
        return lambda docnum: lengths.doc_field_length(docnum, fieldname)
    return reader(fieldname)


class _CompactFieldCursor(W3FieldCursor):  # type: ignore[misc]
    def term_info(self) -> Any:
        if self._pos is None:
            return None
        return CompactTermInfo.from_bytes(self._tindex.dbfile.get(self._datapos, self._datalen))


class _CompactTermsReader(W3TermsReader):  # type: ignore[misc]
    """Whoosh's terms reader whose every reading of an entry goes through `CompactTermInfo`, and whose
    reading of a damaged term key (a field number no field has) says so instead of an IndexError."""

    def _keydecoder(self, keybytes: bytes) -> tuple[str, bytes]:
        try:
            return super()._keydecoder(keybytes)  # type: ignore[no-any-return]
        except (IndexError, struct.error) as exc:
            from whoosh.reading import CorruptIndexError

            raise CorruptIndexError(f"damaged term dictionary ({exc})") from None

    def cursor(self, fieldname: str, fieldobj: Any) -> Any:
        return _CompactFieldCursor(self._tindex, fieldname, self._keycoder, self._keydecoder, fieldobj)

    def items(self) -> Any:
        decode_key = self._keydecoder
        return ((decode_key(k), CompactTermInfo.from_bytes(v)) for k, v in self._tindex.items())

    def items_from(self, fieldname: str, prefix: bytes) -> Any:
        decode_key = self._keydecoder
        found = self._tindex.items_from(self._keycoder(fieldname, prefix))
        return ((decode_key(k), CompactTermInfo.from_bytes(v)) for k, v in found)

    def term_info(self, fieldname: str, tbytes: bytes) -> Any:
        try:
            return CompactTermInfo.from_bytes(self._tindex[self._keycoder(fieldname, tbytes)])
        except KeyError:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}") from None


class InliningCodec(W3Codec):  # type: ignore[misc]
    """Whoosh's W3 codec whose postings writer inlines one-posting lists and writes them compactly
    (`CompactTermInfo`); its name is in every segment."""

    def field_writer(self, storage: Any, segment: Any) -> Any:
        return _CompactFieldWriter(self, storage, segment)

    def per_document_reader(self, storage: Any, segment: Any) -> Any:
        return _LengthsReader(storage, segment)

    def postings_reader(
        self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None, scorer: Any = None
    ) -> Any:
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return _BlockLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)

    def terms_reader(self, storage: Any, segment: Any) -> Any:
        name = segment.make_filename(self.TERMS_EXT)
        postfile = segment.open_file(storage, self.POSTS_EXT)
        return _CompactTermsReader(self, storage.open_file(name), storage.file_length(name), postfile)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> Any:
        return _InliningPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )
