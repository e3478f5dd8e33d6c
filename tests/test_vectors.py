"""A word's postings as arrays (`vectors`): read in one read, the same postings Whoosh reads; the array
operations the ranker builds on, against plain Python."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statementsearch import StatementIndex, block_layout, vectors, whoosh_internals


def _whooshs_postings(reader: Any, field: str, text: str) -> tuple[list[int], list[float]]:
    matcher = reader.postings(field, text)
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return ids, weights


def test_every_terms_postings_read_whole_are_whooshs(segmented_ix: StatementIndex) -> None:
    """Every term of the ranked fields, in each of three segments: one read of its blocks
    (`raw_blocks`) and block by block (`blocks`) give the ids and weights of Whoosh's own matcher (which
    leaves deleted releases out); lists of one block, of many, and kept in their term's entry."""
    shapes = {"inline": 0, "one block": 0, "many blocks": 0}
    with segmented_ix._searcher() as lease:
        for leaf, _ in lease.searcher.leaf_searchers():
            reader = leaf.reader()
            for field, btext in reader.all_terms():
                if field not in ("text", "title", "issuer"):
                    continue
                text = btext.decode("utf-8")
                raw = whoosh_internals.raw_blocks(reader, field, text)
                blocks = whoosh_internals.blocks(reader, field, text)
                assert blocks is not None
                by_blocks = vectors.postings_of(blocks)
                whole = vectors.read_postings(reader, field, text, lambda blocks=blocks: blocks)
                assert whole is not None
                ids, weights = _whooshs_postings(reader, field, btext)  # deleted releases left out
                for found in (by_blocks, whole):
                    live = [not reader.is_deleted(d) for d in found.ids.tolist()]
                    assert found.ids[live].tolist() == ids, (field, text)
                    assert found.weights[live].tolist() == weights, (field, text)
                shape = "inline" if raw is None else "one block" if len(raw) == 1 else "many blocks"
                shapes[shape] += 1
    assert all(count > 5 for count in shapes.values()), shapes


def test_a_block_not_ending_where_its_header_says_is_damaged(segmented_ix: StatementIndex) -> None:
    with segmented_ix._searcher() as lease:
        reader = lease.searcher.leaf_searchers()[0][0].reader()
        word = max(
            (text.decode() for field, text in reader.all_terms() if field == "text"),
            key=lambda text: reader.doc_frequency("text", text),
        )
        raw = whoosh_internals.raw_blocks(reader, "text", word)
        assert raw is not None and len(raw) > 2
        count, last_id, data = raw[1]
        damaged = [*raw[:1], (count, last_id + 1, data), *raw[2:]]
        with pytest.raises(block_layout.DamagedBlockError):
            vectors.postings_of_raw(damaged)
        cut = [*raw[:1], (count, last_id, data[:8]), *raw[2:]]  # cut inside its ids
        with pytest.raises(block_layout.DamagedBlockError):
            vectors.postings_of_raw(cut)


sorted_ids = st.lists(st.integers(0, 300), max_size=60, unique=True).map(sorted)


@settings(max_examples=100, deadline=None)
@given(ids=sorted_ids, other=sorted_ids)
def test_positions_in_finds_the_common_ids(ids: list[int], other: list[int]) -> None:
    held, at = vectors.positions_in(np.array(ids, np.int64), np.array(other, np.int64))
    assert [d for d, h in zip(ids, held.tolist(), strict=True) if h] == [d for d in ids if d in other]
    assert [other[n] for n in at.tolist()] == [d for d in ids if d in other]


@settings(max_examples=100, deadline=None)
@given(
    scores=st.lists(st.sampled_from([0.5, 1.0, 1.0 + 1e-12, 2.0, 3.5, 7.0]), max_size=40),
    k=st.integers(1, 10),
    floor=st.sampled_from([float("-inf"), 1.0, 3.0]),
)
def test_best_keeps_what_can_make_a_top_k_and_its_ties(scores: list[float], k: int, floor: float) -> None:
    """The positions `best` keeps: every score at least the k-th best less the tie, and at least the
    floor; nothing else."""
    tie = 1e-9
    kept = sorted(vectors.best(np.array(scores, float), k, floor, tie).tolist())
    kth = sorted(scores, reverse=True)[k - 1] if len(scores) > k else float("-inf")
    assert kept == [n for n, s in enumerate(scores) if s >= max(floor, kth - tie)]


def test_a_mask_holds_the_numbers_inside_the_segment() -> None:
    mask = vectors.mask_of({0, 3, 9, -2, 12}, 10)
    assert np.flatnonzero(mask).tolist() == [0, 3, 9]
    assert vectors.mask_of(np.array([1, 1, 4]), 5).tolist() == [False, True, False, False, True]
