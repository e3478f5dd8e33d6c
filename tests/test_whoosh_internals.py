"""Each reliance on Whoosh's private names (whoosh_internals.py), and its fallback, on a small real index.

If a Whoosh upgrade moves one of these names, the reliance's test fails here first, and the fallback's
test shows what statementsearch does meanwhile (the same answers, by Whoosh's public path).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from statementsearch import StatementIndex, whoosh_internals
from statementsearch.analysis import term_for


@pytest.fixture(scope="module")
def small_ix(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """400 releases: "budget" in every one (several blocks of postings), "ferry" in one (kept inline in
    its term's information), "crossing" in three (a block of its own)."""
    place = tmp_path_factory.mktemp("internals")
    docs = place / "documents"
    docs.mkdir()
    records = []
    for n in range(400):
        extra = (" ferry" if n == 150 else "") + (" crossing" if n in (3, 150, 390) else "")
        body = f"The budget for district {n} " + "roads " * (n % 7) + f"was approved{extra}."
        records.append(
            {"id": f"r{n}", "title": f"Budget {n}", "issuer": "Office", "date": "2020-01-01", "body": body}
        )
    (docs / "r.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    ix = StatementIndex.create(place / "index")
    ix.update(docs)
    yield ix
    ix.close()


def _reader(ix: Any) -> Any:
    with ix._searcher() as lease:
        return lease.searcher.reader().leaf_readers()[0][0]


def test_blocks_of_a_long_list_a_short_list_and_an_absent_word(small_ix: Any) -> None:
    reader = _reader(small_ix)
    long = whoosh_internals.blocks(reader, "text", "budget")
    assert long is not None and len(long) > 1 and all(b.inline is None for b in long)
    assert sum(b.count for b in long) == 400 and long[-1].max_id == 399
    short = whoosh_internals.blocks(reader, "text", "cross")
    assert short is not None and len(short) == 1 and short[0].inline is None
    assert whoosh_internals.decode(short[0])[0] == [3, 150, 390]
    assert whoosh_internals.blocks(reader, "text", "absent") == []


def test_blocks_fall_back_to_none_when_the_layout_is_unknown(
    small_ix: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whoosh.codec.whoosh3 import W3TermsReader
    from whoosh.matching import WrappingMatcher

    reader = _reader(small_ix)
    before = [h.id for h in small_ix.search("budget roads", limit=20, collapse=False).hits]
    original = W3TermsReader.matcher

    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:  # another layout, as Whoosh sees it
        return WrappingMatcher(original(self, *args, **kwargs))

    monkeypatch.setattr(W3TermsReader, "matcher", wrapped)
    assert whoosh_internals.blocks(reader, "text", "budget") is None
    reopened = StatementIndex.open(small_ix.path)  # its searchers read blocks through the new layout
    try:
        assert [h.id for h in reopened.search("budget roads", limit=20, collapse=False).hits] == before
    finally:
        reopened.close()


def test_the_pickle_cut_gives_what_the_whole_block_gives(
    tmp_path: Path, small_ix: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks in Whoosh's own layout (a pickle) are read by cutting the pickle before the values."""
    from whoosh.index import open_dir

    written_by_whoosh(small_ix.path.parent / "documents", tmp_path / "whoosh", monkeypatch)
    with open_dir(str(tmp_path / "whoosh")).reader() as reader:
        blocks = whoosh_internals.blocks(reader.leaf_readers()[0][0], "text", "road")
        assert blocks and not any(whoosh_internals.block_layout.is_own(_raw(b)) for b in blocks)
        for block in blocks:
            ids, weights, values = whoosh_internals.decode_all(block)
            cut_ids, cut_weights = whoosh_internals.decode(block)
            assert (cut_ids, list(cut_weights)) == (ids, list(weights)) and len(values) == len(ids)
        monkeypatch.setattr(whoosh_internals, "_VALUES_START", b"no such bytes")  # the fallback: no cut
        assert [whoosh_internals.decode(b)[0] for b in blocks] == [
            whoosh_internals.decode_all(b)[0] for b in blocks
        ]


def _raw(block: Any) -> bytes:
    return whoosh_internals.block_bytes(block)


def _lists(decoded: tuple[Any, ...]) -> list[list[Any]]:
    """A decoded block's parts as lists (weights come as an array from one layout, a tuple from the other)."""
    return [list(part) for part in decoded]


def test_length_column_equals_whoosh_field_lengths(small_ix: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = _reader(small_ix)
    public = [float(reader.doc_field_length(d, "text", 0)) for d in range(reader.doc_count_all())]
    assert whoosh_internals.length_bytes(reader, "text") is not None
    assert whoosh_internals.field_lengths(reader, "text") == public
    monkeypatch.setattr(whoosh_internals, "length_bytes", lambda reader, field: None)
    assert whoosh_internals.field_lengths(reader, "text") == public


def test_terms_within_reads_the_fields_own_terms(small_ix: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with small_ix._searcher() as lease:
        reader = lease.searcher.reader()
        found = whoosh_internals.terms_within(reader, "text", "budgat", 1)
        assert found == [term_for("budget")]
        for leaf, _ in reader.leaf_readers():
            monkeypatch.setattr(leaf, "_codec", None)  # no automata: the public prefix scan
        assert whoosh_internals.terms_within(reader, "text", "budgat", 1) == found


def test_sweep_removes_what_a_killed_writer_left(small_ix: Any) -> None:
    folder = Path(small_ix.path)
    (folder / "_MAIN_99.toc.tmp123").write_bytes(b"half")
    (folder / "MAIN.tmp").mkdir()
    (folder / "MAIN.tmp" / "x.seg").write_bytes(b"x")
    (folder / "MAIN_zzzzzz.seg").write_bytes(b"not in any table of contents")
    whoosh_internals.sweep_leftovers(small_ix._ix)
    assert not (folder / "_MAIN_99.toc.tmp123").exists() and not (folder / "MAIN.tmp").exists()
    assert not (folder / "MAIN_zzzzzz.seg").exists()
    assert small_ix.search("budget").total == 400


def test_fixes_install_once_and_survive_missing_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from whoosh.filedb.structfile import BufferFile
    from whoosh.matching.binary import AndNotMatcher

    whoosh_internals.apply_fixes()
    assert AndNotMatcher._find_first.__module__ == "statementsearch.whoosh_internals"
    assert BufferFile.__init__.__module__ == "statementsearch.whoosh_internals"

    def missing() -> None:
        raise AttributeError("moved")

    monkeypatch.setattr(whoosh_internals, "_applied", False)
    monkeypatch.setattr(whoosh_internals, "_fix_and_not", missing)
    monkeypatch.setattr(whoosh_internals, "_fix_buffer_file", missing)
    whoosh_internals.apply_fixes()  # nothing to patch: no error, Whoosh's own behaviour stands


def written_by_whoosh(docs: Path, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index of `docs` at `path` written with Whoosh's own codec (no compact entries, no packing)."""
    from whoosh.codec.whoosh3 import W3Codec

    from statementsearch import indexer

    monkeypatch.setattr(indexer, "writing_codec", W3Codec)
    with StatementIndex.create(path) as ix:
        ix.update(docs)


def _postings(path: Path) -> dict[tuple[str, bytes], tuple[Any, ...]]:
    """Every term of an index (one segment), with its figures and its postings as Whoosh reads them."""
    from whoosh.index import open_dir

    found = {}
    with open_dir(str(path)).reader() as reader:
        for field, text in reader.all_terms():
            matcher = reader.postings(field, text)
            items = []
            while matcher.is_active():
                items.append((matcher.id(), matcher.weight(), matcher.value() or b""))
                matcher.next()
            info = reader.term_info(field, text)
            lengths = (info.min_length(), info.max_length())  # from each document's length, at writing
            key = (field, text)
            found[key] = (reader.doc_frequency(field, text), reader.frequency(field, text), items, lengths)
    return found


def test_compact_entries_read_back_as_whoosh_writes_postings(
    tmp_path: Path, seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same documents written with the compact codec and with Whoosh's own give every term the same
    document frequency, weight and postings (ids, weights, positions), and most terms of one release
    are written compactly: their header and their value bytes, nothing else."""
    from whoosh.index import open_dir

    docs = tmp_path / "documents"
    docs.mkdir()
    (docs / "seed.txt").write_bytes(seed_path.read_bytes())
    body = "The ferry crossing at {n} reopened after the storm, the harbour office said on {n} May. " * 3
    records = [{"id": f"r{n}", "title": f"Ferry {n}", "body": body.format(n=n)} for n in range(60)]
    (docs / "r.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    with StatementIndex.create(tmp_path / "compact") as ix:
        ix.update(docs)
    written_by_whoosh(docs, tmp_path / "whoosh", monkeypatch)
    compact, plain = _postings(tmp_path / "compact"), _postings(tmp_path / "whoosh")
    assert compact == plain
    with open_dir(str(tmp_path / "compact")).reader() as reader:
        table = reader.leaf_readers()[0][0]._terms._tindex
        flags = [value[0] for _, value in table.items()]
    singles = sum(1 for df, *_ in compact.values() if df == 1)
    assert flags.count(whoosh_internals.ONE_POSTING) == singles > 100
    assert set(flags) == {0, whoosh_internals.ONE_POSTING}


def test_blocks_are_written_in_the_own_layout_and_read_as_whooshs(
    tmp_path: Path, small_ix: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block is written in `block_layout`'s layout, and read back (ids and weights alone, or with
    the values, or by Whoosh's own matcher) as the same postings as the pickle Whoosh's writer makes."""
    from whoosh.index import open_dir

    written_by_whoosh(small_ix.path.parent / "documents", tmp_path / "whoosh", monkeypatch)
    with open_dir(str(small_ix.path)).reader() as ours, open_dir(str(tmp_path / "whoosh")).reader() as theirs:
        for word in ("road", "budget", "cross"):
            own = whoosh_internals.blocks(ours.leaf_readers()[0][0], "text", word)
            plain = whoosh_internals.blocks(theirs.leaf_readers()[0][0], "text", word)
            assert own and plain and all(whoosh_internals.block_layout.is_own(_raw(b)) for b in own)
            for decode in (whoosh_internals.decode_all, whoosh_internals.decode):
                assert [_lists(decode(b)) for b in own] == [_lists(decode(b)) for b in plain]
            mine, whooshs = ours.postings("text", word.encode()), theirs.postings("text", word.encode())
            assert list(mine.items_as("positions")) == list(whooshs.items_as("positions"))


def test_an_entry_in_whooshs_inline_form_still_reads(small_ix: Any) -> None:
    """Indexes written before compact entries keep Whoosh's pickled inline form; it reads the same."""
    from whoosh.codec.whoosh3 import W3TermInfo

    info = W3TermInfo()
    info._weight, info._df, info._maxweight, info._minid, info._maxid = 2.0, 1, 2.0, 7, 7
    info.set_inlined([7], [2.0], [b"\x01\x02"])
    read = whoosh_internals.CompactTermInfo.from_bytes(info.to_bytes())
    assert read.inlined_postings() == ((7,), (2.0,), (b"\x01\x02",))
    assert (read.weight(), read.doc_frequency()) == (2.0, 1)
    compact = whoosh_internals.CompactTermInfo()
    compact._weight, compact._df, compact._maxweight, compact._minid, compact._maxid = 2.0, 1, 2.0, 7, 7
    compact.set_inlined([7], [2.0], [b"\x01\x02"])
    data = compact.to_bytes()
    assert len(data) == W3TermInfo._struct.size + 2
    assert whoosh_internals.CompactTermInfo.from_bytes(data).inlined_postings() == read.inlined_postings()
