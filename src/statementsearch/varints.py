"""Unsigned integers as LEB128 varints: 7 bits a byte, low bits first, the high bit set on all but the
last byte of a number. The index's compact encodings (positions, a block's posting values) use them:
most numbers there are small, and they read the same on every machine."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache


def encode(numbers: Iterable[int]) -> bytes:
    """The numbers (each 0 or more) as varints, one after another."""
    numbers = list(numbers)
    if numbers and max(numbers) < 0x80 and min(numbers) >= 0:  # one byte each: written in C
        return bytes(numbers)
    out = bytearray()
    append = out.append
    for number in numbers:
        while number >= 0x80:
            append(number & 0x7F | 0x80)
            number >>= 7
        append(number)
    return bytes(out)


def encode_small(numbers: list[int]) -> bytes:
    """`encode` for numbers most of which are small, as a posting's positions are: each number under
    16384 (one or two bytes) is taken from a table, the bytes joined at C speed."""
    table = _two_bytes()
    if numbers and min(numbers) < 0:
        return encode(numbers)  # refuses it
    try:
        return b"".join([table[number] for number in numbers])
    except IndexError:  # a number past the table
        return encode(numbers)


def encode_one_of_one(number: int) -> bytes:
    """`encode([1, number])`: a list of one number (a posting's single position), from a table for
    numbers under 16384."""
    table = _one_of_one()
    if 0 <= number < len(table):
        return table[number]
    return encode([1, number])


@cache
def _one_of_one() -> list[bytes]:
    """The encoding of [1, n] for each n under 16384, made on first use."""
    return [b"\x01" + two for two in _two_bytes()]


@cache
def _two_bytes() -> list[bytes]:
    """The encoding of each number under 16384, made on first use."""
    return [encode([number]) for number in range(1 << 14)]


def decode(data: bytes, start: int = 0, count: int = -1) -> tuple[list[int], int]:
    """The numbers `encode` wrote from `start` on (`count` of them, or all), and where they end.
    ValueError when the data ends inside a number or holds fewer than `count`."""
    chunk = data[start:] if count < 0 else data[start : start + count]
    if chunk and max(chunk) < 0x80 and (count < 0 or len(chunk) == count):  # one byte each: read in C
        return list(chunk), start + len(chunk)
    numbers: list[int] = []
    append = numbers.append
    value = shift = 0
    at = start
    end = len(data)
    while at < end and count != len(numbers):
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            append(value)
            value = shift = 0
    if shift or (count >= 0 and len(numbers) != count):
        raise ValueError("varints end early")
    return numbers, at
