"""Varints (varints.py): what is written reads back, from any start, whole or a count at a time, and
data that ends inside a number or too soon is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statementsearch import varints

numbers = st.lists(st.integers(min_value=0, max_value=2**40), max_size=40)


@given(numbers, st.binary(max_size=5))
def test_numbers_read_back_from_where_they_start(values: list[int], before: bytes) -> None:
    """Whatever bytes stand before them; whole, or a count at a time (one-byte numbers take the fast
    path, longer ones the loop: the strategy draws both)."""
    data = before + varints.encode(values)
    assert varints.decode(data, len(before)) == (values, len(data))
    for count in range(len(values) + 1):
        found, end = varints.decode(data, len(before), count)
        assert found == values[:count]
        assert varints.decode(data[len(before) : end]) == (values[:count], end - len(before))


@pytest.mark.parametrize(
    ("values", "encoded"),
    [([0], b"\x00"), ([127], b"\x7f"), ([128], b"\x80\x01"), ([300, 1], b"\xac\x02\x01"), ([], b"")],
)
def test_the_bytes_are_leb128(values: list[int], encoded: bytes) -> None:
    assert varints.encode(values) == encoded
    assert varints.decode(encoded) == (values, len(encoded))


def test_data_ending_inside_a_number_or_short_of_the_count_is_refused() -> None:
    with pytest.raises(ValueError):
        varints.decode(b"\x01\x80")
    with pytest.raises(ValueError):
        varints.decode(b"\x01\x02", count=3)
    with pytest.raises(ValueError):
        varints.encode([-1])


@given(st.lists(st.one_of(st.integers(0, 20000), st.integers(0, 2**40)), max_size=40))
def test_small_numbers_are_written_as_encode_writes_them(values: list[int]) -> None:
    """`encode_small` (a table for numbers under 16384) writes the very bytes `encode` writes, past the
    table too."""
    assert varints.encode_small(values) == varints.encode(values)


@given(st.one_of(st.integers(0, 20000), st.integers(0, 2**40)))
def test_a_list_of_one_number_is_written_as_encode_writes_it(value: int) -> None:
    assert varints.encode_one_of_one(value) == varints.encode([1, value])


def test_a_negative_number_is_refused_by_every_encoder() -> None:
    for encoder in (varints.encode, varints.encode_small):
        with pytest.raises(ValueError):
            encoder([3, -1])
    with pytest.raises(ValueError):
        varints.encode_one_of_one(-1)
