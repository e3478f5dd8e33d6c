"""A posting block's own layout (block_layout.py): what is packed reads back the same, damage is refused."""

from __future__ import annotations

from array import array
from itertools import accumulate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statementsearch import block_layout

GAPS = st.lists(st.integers(min_value=1, max_value=2**31 // 200), min_size=1, max_size=200)
WEIGHTS = st.one_of(
    st.just("ones"),
    st.lists(st.integers(min_value=0, max_value=255), min_size=200, max_size=200),
    st.lists(st.floats(min_value=0, max_value=1e6, width=32), min_size=200, max_size=200),
)
VALUES = st.one_of(st.none(), st.binary(max_size=2000), st.just(b"\x01\x02\x03" * 300))


@given(GAPS, WEIGHTS, VALUES, st.sampled_from([0, 3]))
def test_a_block_reads_back_as_it_was_packed(
    gaps: list[int], weights: object, values: bytes | None, level: int
) -> None:
    ids = list(accumulate(gaps, initial=gaps[0] - 1))[1:]
    chosen = [1.0] * len(ids) if weights == "ones" else list(weights)[: len(ids)]  # type: ignore[call-overload]
    packed = block_layout.pack_block(ids, array("f", chosen), values, level)
    assert block_layout.is_own(packed)
    read_ids, read_weights, read_values = block_layout.unpack_block(packed, len(ids))
    assert read_ids == ids
    assert list(read_weights) == list(array("f", chosen))  # float32, as Whoosh keeps a weight
    assert read_values == values
    assert block_layout.unpack_ids_weights(memoryview(packed), len(ids))[:2] == (read_ids, read_weights)


@pytest.mark.parametrize(("largest_gap", "width"), [(255, 1), (256, 2), (65535, 2), (65536, 4), (2**31, 4)])
def test_ids_take_the_narrowest_width_that_holds_the_largest_gap(largest_gap: int, width: int) -> None:
    ids = [0, 1, 1 + largest_gap]
    packed = block_layout.pack_block(ids, [1.0, 1.0, 1.0], None, 3)
    assert packed[1] == width and len(packed) == block_layout.HEADER + 3 * width
    assert block_layout.unpack_block(packed, 3) == (ids, [1.0, 1.0, 1.0], None)


def test_term_frequencies_take_a_byte_each_and_other_weights_float32() -> None:
    whole = block_layout.pack_block([1, 2], [3.0, 200.0], None, 0)
    assert whole[2] == block_layout.WEIGHTS_BYTES and len(whole) == block_layout.HEADER + 2 + 2
    for weights in ([2.5, 1.0], [256.0, 1.0], [-1.0, 1.0]):
        packed = block_layout.pack_block([1, 2], weights, None, 0)
        assert packed[2] == block_layout.WEIGHTS_FLOATS
        assert list(block_layout.unpack_block(packed, 2)[1]) == weights


def test_values_are_compressed_only_when_that_makes_them_smaller() -> None:
    repetitive, random_like = b"\x01\x02" * 200, bytes(range(256))
    assert block_layout.pack_block([1], [1.0], repetitive, 3)[3] == block_layout.VALUES_ZLIB
    assert block_layout.pack_block([1], [1.0], random_like, 3)[3] == block_layout.VALUES_RAW
    assert block_layout.pack_block([1], [1.0], repetitive, 0)[3] == block_layout.VALUES_RAW
    assert block_layout.pack_block([1], [1.0], b"\x01" * 10, 3)[3] == block_layout.VALUES_RAW  # too short


def test_a_damaged_block_is_refused() -> None:
    packed = block_layout.pack_block([5, 9, 300], [1.0, 2.0, 3.0], b"\x01\x02" * 100, 3)
    for damaged, count in [
        (packed[:5], 3),  # cut inside the ids
        (packed, 4),  # more postings than it holds
        (b"\x80\x02" + packed[2:], 3),  # a pickle's start: not this layout
        (packed[:1] + b"\x03" + packed[2:], 3),  # no such id width
        (packed[:-3], 3),  # cut inside the compressed values
    ]:
        with pytest.raises(ValueError):
            block_layout.unpack_block(damaged, count)


def test_packed_values_round_trip_and_refuse_damage() -> None:
    values = [b"", b"\x01", b"\x02\x81\x01" * 50, bytes(300)]
    packed = block_layout.pack_values(values)
    assert block_layout.split_values(packed) == tuple(values)
    for damaged in (packed[:-1], packed + b"x", packed[:2]):
        with pytest.raises(ValueError):
            block_layout.split_values(damaged)


def test_a_header_reads_back_and_damage_is_refused() -> None:
    header = block_layout.pack_header(128, 85_000, 3.5, 12, 200)
    assert len(header) == block_layout.HEADER_SIZE < 20  # Whoosh pickles these figures in ~35 bytes
    assert block_layout.unpack_header(header) == (128, 85_000, 3.5, 12, 200)
    for damaged in (header[:-1], b"\x80" + header[1:]):  # cut short; a pickle's first byte
        with pytest.raises(block_layout.DamagedBlockError):
            block_layout.unpack_header(damaged)
