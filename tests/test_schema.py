"""The index's fields (schema.py): the one boosted text field (sections, weights, positions), spelling
words, date words and date ranges."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from statementsearch import StatementIndex
from statementsearch.schema import (
    BODY_BOOST,
    DATE_BOOST,
    ISSUER_BOOST,
    SECTION_GAP,
    TITLE_BOOST,
    TextField,
    VarintPositions,
    VocabularyField,
    date_range,
    date_words,
    text_sections,
)


def postings(field: TextField, value: object) -> dict[str, tuple[int, float, list[int]]]:
    """term -> (frequency, weight, positions) as the field indexes the value."""
    decode = field.format.decode_positions
    return {
        term.decode(): (freq, weight, decode(encoded)) for term, freq, weight, encoded in field.index(value)
    }


def test_a_word_weighs_the_boosts_of_the_sections_it_occurs_in() -> None:
    sections = text_sections(
        "Embassy attack",
        "Embassy Security Office",
        date(2020, 1, 5),
        "The embassy was attacked. Embassy staff.",
    )
    found = postings(TextField(), sections)
    assert ISSUER_BOOST == 0  # issuer words are not in the text field: `issuer:` searches them
    assert found["embassi"][:2] == (3, TITLE_BOOST + 2 * BODY_BOOST)
    assert found["attack"][:2] == (2, TITLE_BOOST + BODY_BOOST)
    assert "secur" not in found and "offic" not in found
    assert found["staff"][:2] == (1, BODY_BOOST)
    for word in ("2020", "januari", "jan"):
        assert found[word][:2] == (1, DATE_BOOST)


def test_a_section_with_a_boost_is_weighed_and_one_of_boost_0_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import statementsearch.schema as schema

    monkeypatch.setattr(schema, "ISSUER_BOOST", 1.5)
    found = postings(TextField(), text_sections("Embassy attack", "Embassy Security Office", None, "Staff"))
    assert found["embassi"][:2] == (2, TITLE_BOOST + 1.5) and found["secur"][:2] == (1, 1.5)
    monkeypatch.setattr(schema, "TITLE_BOOST", 0.0)
    assert "attack" not in postings(TextField(), text_sections("Embassy attack", "", None, "Staff"))


def test_sections_are_apart_by_a_gap_of_positions() -> None:
    """Each section starts SECTION_GAP positions after the last one ends: no phrase spans two."""
    found = postings(TextField(), text_sections("Embassy attack", "Security Office", None, "Staff safe"))
    assert found["embassi"][2] == [0] and found["attack"][2] == [1]
    # An undated release has no date words: the body follows after two gaps (the title's, the date's).
    assert found["staff"][2] == [2 + 2 * SECTION_GAP] and found["safe"][2] == [3 + 2 * SECTION_GAP]


def test_a_field_boost_multiplies_every_weight() -> None:
    plain = postings(TextField(), "attack attacks")
    boosted = postings(TextField(field_boost=2.5), "attack attacks")
    assert plain["attack"][:2] == (2, 2.0) and boosted["attack"][:2] == (2, 5.0)


def test_spellable_words_are_the_words_stemming_changes() -> None:
    """Words equal to their stem ("soleimani") are index terms already; the others go to spelling."""
    field = TextField(spelling=True)
    text = "The attacks on Soleimani"
    list(field.index(text))
    assert list(field.spellable_words(text)) == ["attacks"]
    # Without a preceding index() call on the same value, it computes them itself.
    assert list(field.spellable_words("Quds Forces attacked")) == ["attacked", "forces", "quds"]


def test_the_vocabulary_files_each_word_under_the_releases_holding_it() -> None:
    text = TextField()
    vocabulary = VocabularyField(text)
    sections = text_sections("Attacks condemned", "", None, "The attacks on Soleimani")
    list(text.index(sections))
    assert list(vocabulary.index(sections)) == [(b"attacks", 1, 1.0, b""), (b"condemned", 1, 1.0, b"")]
    found = [word for word, *_ in vocabulary.index("Quds Forces attacked")]
    assert found == [b"attacked", b"forces", b"quds"]


def test_a_word_lasts_while_a_release_holds_it_through_deletes_and_merges(tmp_path: Path) -> None:
    """Deleting a segment's first release and merging keeps the words of its other releases (Whoosh's
    spelling field lost them all: it filed every word under the segment's first document)."""
    from whoosh.index import open_dir

    docs = tmp_path / "documents"
    docs.mkdir()

    def write(name: str, n: int, body: str) -> None:
        (docs / name).write_text(json.dumps({"id": f"x{n}", "title": f"Note {n}", "body": body}) + "\n")

    def vocabulary() -> set[str]:
        with open_dir(str(tmp_path / "index")).reader() as reader:
            return {text.decode() for field, text in reader.all_terms() if field == "vocabulary"}

    write("a.jsonl", 0, "The admiral was speaking about cooperation.")
    write("b.jsonl", 1, "Negotiations continued amicably between delegations.")
    index = StatementIndex.create(tmp_path / "index")
    index.update(docs)
    assert {"cooperation", "negotiations", "delegations"} <= vocabulary()
    write("a.jsonl", 0, "The admiral was speaking about something else.")
    index.update(docs)
    merged = False
    for n in range(10):
        write(f"c{n}.jsonl", 10 + n, f"Drill number {n}.")
        index.update(docs)
        with open_dir(str(tmp_path / "index")).reader() as reader:
            merged = merged or len(reader.leaf_readers()) < n + 3
    assert merged
    words = vocabulary()
    assert {"negotiations", "delegations", "amicably", "speaking"} <= words and "cooperation" not in words
    assert index.search("negotiatons").suggestion == "negotiations"
    index.close()


def test_date_words_name_the_year_and_the_month_both_ways() -> None:
    assert date_words(date(2020, 9, 3)) == "2020 September Sep"
    assert date_words(None) == ""


def test_a_date_range_covers_its_last_day_whole() -> None:
    q = date_range("date", date(2020, 1, 3), date(2020, 1, 5))
    assert (q.startdate, q.enddate) == (datetime(2020, 1, 3), datetime(2020, 1, 5, 23, 59, 59))
    assert date_range("date", None, date(2020, 1, 5)).startdate is None
    assert date_range("date", date(2020, 1, 3), None).enddate is None


@pytest.mark.parametrize("positions", [[0], [3, 4, 5], [0, 127, 128, 16_511, 16_512, 2_000_000]])
def test_varint_positions_read_back_with_their_count(positions: list[int]) -> None:
    """Positions are written as their count and gaps in varints (one byte for gaps under 128)."""
    encoded = VarintPositions().encode(positions)
    assert VarintPositions().decode_positions(encoded) == positions
    assert VarintPositions().decode_frequency(encoded) == len(positions)
    assert VarintPositions(field_boost=2.0).decode_weight(encoded) == 2.0 * len(positions)
    assert len(VarintPositions().encode([5, 9, 100])) == 4
