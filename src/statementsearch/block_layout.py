"""A posting block's bytes as this index writes them: ids and weights as plain arrays, values apart.

Whoosh writes a block as a zlib-compressed pickle of (id gaps, weights, values): reading a block's ids
meant decompressing and unpickling all of it, positions included, and a weight cost 9 bytes before
compression. Here a block is

    magic | id width | weights kind | values kind | id gaps | weights | values

after its header (`pack_header`: 13 bytes of figures where Whoosh pickles a tuple), four bytes of
kinds, then the gaps between ids as little-endian unsigned integers of 1, 2 or 4 bytes (the narrowest
that holds the largest), the weights as one byte each when they are whole numbers under 256 (term
frequencies: nearly always) or none when all are 1, else as float32 (what Whoosh keeps), and last the
posting values (positions), zlib-compressed when that makes them smaller. Ranking reads ids and weights
as arrays, at C speed, and never touches the values; only phrase checks decompress them.
On the whole corpus the postings are smaller this way than Whoosh's (`bench/index_bytes.py`).

A block in Whoosh's own layout starts with a pickle's or a zlib stream's first byte, never `MAGIC`;
readers (`whoosh_internals`) tell the two apart by it.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from collections.abc import Iterator, Sequence
from itertools import accumulate, chain, pairwise
from operator import sub
from typing import overload

from . import varints

MAGIC = 0xB5
_ID_TYPES = {1: "B", 2: "H", 4: "I"}
WEIGHTS_ONE, WEIGHTS_BYTES, WEIGHTS_FLOATS = 0, 1, 2
VALUES_NONE, VALUES_RAW, VALUES_ZLIB = 0, 1, 2
HEADER = 4
COMPRESS_FROM = 80
"""Values shorter than this are never compressed (zlib's own header and checksum outweigh its gain)."""


HEADER_TAG = 0xB6
_HEADER = struct.Struct("<BHIfBB")
"""A block's header (what Whoosh keeps as a pickled tuple of ~35 bytes): tag, postings, last id, best
weight (float32, the largest of the block's own float32 weights), shortest and longest document
length (Whoosh's length bytes)."""
HEADER_SIZE = _HEADER.size


class DamagedBlockError(ValueError):
    """A block's bytes do not hold what its header says (a damaged index file)."""


def is_own(data: bytes | memoryview) -> bool:
    """Whether a block's (uncompressed) bytes are in this layout."""
    return len(data) >= HEADER and data[0] == MAGIC


def pack_block(ids: Sequence[int], weights: Sequence[float], values: bytes | None, compression: int) -> bytes:
    """A block of ascending `ids` with their `weights` and values (None: a format without values)."""
    gaps = list(map(sub, ids, chain((0,), ids)))
    largest = max(gaps)
    width = 1 if largest < 0x100 else 2 if largest < 0x10000 else 4
    weights_kind, weight_bytes = _packed_weights(weights)
    values_kind, value_bytes = _packed_values(values, compression)
    header = bytes((MAGIC, width, weights_kind, values_kind))
    return header + _little(array(_ID_TYPES[width], gaps)) + weight_bytes + value_bytes


def pack_header(count: int, max_id: int, max_weight: float, min_length: int, max_length: int) -> bytes:
    """A block's header: the figures a reader needs to skip or bound the block without reading it."""
    return _HEADER.pack(HEADER_TAG, count, max_id, max_weight, min_length, max_length)


def unpack_header(data: bytes) -> tuple[int, int, float, int, int]:
    """(postings, last id, best weight, shortest and longest length bytes) of a `pack_header` header."""
    try:
        tag, *figures = _HEADER.unpack(data)
    except struct.error as exc:
        raise DamagedBlockError(f"damaged posting block header: {exc}") from None
    if tag != HEADER_TAG:
        raise DamagedBlockError("not a posting block header of this index's layout")
    count, max_id, max_weight, min_length, max_length = figures
    return count, max_id, max_weight, min_length, max_length


def unpack_ids_weights(
    data: bytes | memoryview, count: int, last_id: int | None = None
) -> tuple[list[int], Sequence[float], int]:
    """A block's document numbers and weights, and where its values start (DamagedBlockError, a
    ValueError, when damaged: among other checks, the last id must be the header's `last_id`)."""
    if not is_own(data) or data[1] not in _ID_TYPES or data[2] > WEIGHTS_FLOATS:
        raise DamagedBlockError("not a posting block of this index's layout")
    width, weights_kind = data[1], data[2]
    at = HEADER + count * width
    ids = list(accumulate(_read_array(_ID_TYPES[width], data[HEADER:at], count)))
    if last_id is not None and ids and ids[-1] != last_id:
        raise DamagedBlockError(f"a posting block ends at {ids[-1]}, its header says {last_id}")
    weights: Sequence[float]
    if weights_kind == WEIGHTS_ONE:
        weights = [1.0] * count
    elif weights_kind == WEIGHTS_BYTES:
        weights, at = _read_array("B", data[at : at + count], count), at + count
    else:
        weights, at = _read_array("f", data[at : at + 4 * count], count), at + 4 * count
    return ids, weights, at


def read_values(data: bytes | memoryview, start: int) -> bytes | None:
    """A block's values as `pack_block` was given them (None: a format without values)."""
    kind = data[3]
    if kind == VALUES_NONE:
        return None
    rest = bytes(data[start:])
    if kind == VALUES_RAW:
        return rest
    if kind == VALUES_ZLIB:
        try:
            return zlib.decompress(rest)
        except zlib.error as exc:
            raise DamagedBlockError(f"damaged posting values: {exc}") from None
    raise DamagedBlockError("not a posting block of this index's layout")


def unpack_block(
    data: bytes | memoryview, count: int, last_id: int | None = None
) -> tuple[list[int], Sequence[float], bytes | None]:
    """A block's document numbers, weights and values (checked as `unpack_ids_weights` checks them)."""
    ids, weights, at = unpack_ids_weights(data, count, last_id)
    return ids, weights, read_values(data, at)


def pack_values(values: Sequence[bytes]) -> bytes:
    """Values of varying size (each posting's positions) as one bytes: their count and lengths as
    varints, then the values."""
    return varints.encode([len(values), *map(len, values)]) + b"".join(values)


class PackedValues(Sequence[bytes]):
    """The values `pack_values` packed, each cut out when asked for (a phrase check asks for a few of a
    block's postings; cutting out all of them was most of its time)."""

    def __init__(self, data: bytes) -> None:
        try:
            (count,), at = varints.decode(data, count=1)
            lengths, at = varints.decode(data, at, count)
        except ValueError as exc:
            raise DamagedBlockError(f"damaged posting values: {exc}") from None
        self._ends = list(accumulate(lengths, initial=at))
        if self._ends[-1] != len(data):
            raise DamagedBlockError("packed posting values of the wrong length")
        self._data = data

    def __len__(self) -> int:
        return len(self._ends) - 1

    @overload
    def __getitem__(self, n: int) -> bytes: ...
    @overload
    def __getitem__(self, n: slice) -> Sequence[bytes]: ...
    def __getitem__(self, n: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(n, slice):
            return tuple(self)[n]
        if n < 0:
            n += len(self)
        if not 0 <= n < len(self):
            raise IndexError("posting value out of range")
        return self._data[self._ends[n] : self._ends[n + 1]]

    def __iter__(self) -> Iterator[bytes]:
        data = self._data
        return (data[start:end] for start, end in pairwise(self._ends))


def split_values(data: bytes) -> tuple[bytes, ...]:
    """The values `pack_values` packed (DamagedBlockError, a ValueError, when damaged)."""
    return tuple(PackedValues(data))


def _packed_weights(weights: Sequence[float]) -> tuple[int, bytes]:
    floats = array("f", weights)
    if floats.count(1.0) == len(floats):
        return WEIGHTS_ONE, b""
    try:
        whole = bytes(map(int, floats))  # ValueError past 0..255 (or NaN), OverflowError for infinity
    except (ValueError, OverflowError):
        return WEIGHTS_FLOATS, _little(floats)
    if array("B", whole) == floats:  # item by item: whole numbers only
        return WEIGHTS_BYTES, whole
    return WEIGHTS_FLOATS, _little(floats)


def _packed_values(values: bytes | None, compression: int) -> tuple[int, bytes]:
    if values is None:
        return VALUES_NONE, b""
    if compression and len(values) >= COMPRESS_FROM:
        squeezed = zlib.compress(values, compression)
        if len(squeezed) < len(values):
            return VALUES_ZLIB, squeezed
    return VALUES_RAW, values


def _little(numbers: array) -> bytes:  # type: ignore[type-arg]
    if sys.byteorder != "little":  # pragma: no cover - a big-endian machine
        numbers.byteswap()
    return numbers.tobytes()


def _read_array(typecode: str, data: bytes | memoryview, count: int) -> array:  # type: ignore[type-arg]
    numbers = array(typecode)
    numbers.frombytes(data)
    if len(numbers) != count:
        raise DamagedBlockError("a posting block shorter than its header says")
    if sys.byteorder != "little":  # pragma: no cover - a big-endian machine
        numbers.byteswap()
    return numbers
