"""Near-duplicate groups at index time (grouping.py), through real builds and updates: the same groups
whatever the build order, `--procs` or updates, and an office's boilerplate refreshed as it changes."""

from __future__ import annotations

import json
import random
import re
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from render import CorpusLoader, furniture_office, grouped
from statementsearch import StatementIndex, dedup, indexer
from statementsearch.reader import read_file

# ------------------------------------------------------------------ near-duplicate groups, any build order


def stored_groups(ix: StatementIndex) -> dict[str, str]:
    """Release id -> group id, read from the index's stored fields."""
    with ix._ix.searcher() as searcher:
        return {fields["id"]: fields["group"] for fields in searcher.all_stored_fields()}


def reissued(record: dict[str, Any], number: int) -> list[dict[str, Any]]:
    """Copies of a real release as archives re-issue it, each with its own id and a later date, plus a
    chain: a copy missing a ninth of the text, and a copy of that missing another ninth."""
    body, day = record["body"], date.fromisoformat(record["date"]) if record.get("date") else None
    ninth = len(body) // 9
    shorter = body[:ninth] + body[2 * ninth :]
    bodies = {
        "header": "FOR IMMEDIATE RELEASE\n\n" + body,
        "scrape": re.sub(r"[^\w\s]", " ", body),
        "chain1": shorter,
        "chain2": shorter[: 4 * ninth] + shorter[5 * ninth :],
    }
    copies = []
    for offset, (how, text) in enumerate(bodies.items(), 1):
        later = (day + timedelta(days=offset * (number % 3))).isoformat() if day else None
        copies.append({**record, "id": f"{record['id']}-{how}", "body": text, "date": later})
    return copies


@pytest.fixture(scope="module")
def grouped_records(corpus_records: CorpusLoader) -> list[dict[str, Any]]:
    """Real releases (long enough to fingerprint) with re-issues of a quarter of them, shuffled."""
    records = [r for r in corpus_records(240, seed=5) if len(r["body"]) > 1500][:120]
    out = list(records)
    for number, record in enumerate(records[:30]):
        out.extend(reissued(record, number))
    random.Random(16).shuffle(out)
    return out


def write_jsonl_files(folder: Path, records: list[dict[str, Any]], count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"part-{number}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records[number::count]), encoding="utf-8")
        paths.append(path)
    return paths


def stored_prints(ix: StatementIndex) -> dict[str, tuple[str, str]]:
    """Release id -> (group, encoded fingerprint), read from the index's stored fields."""
    with ix._ix.searcher() as searcher:
        return {f["id"]: (f["group"], f.get("fingerprint", "")) for f in searcher.all_stored_fields()}


def copy_sharing(title: str, body: str, shared: int) -> str:
    """The body with a header line added whose shingles' hashes are so small that the copy shares only
    `shared` of the original's ANCHOR_BASE smallest hashes, while it is still its near-duplicate."""
    original = dedup.fingerprint(title, body)
    assert original is not None
    base = set(original.sketch[: dedup.ANCHOR_BASE])
    for n in range(200_000):
        header = f"Filed {n}: the desk thanks the other teams, the wire and the photographers for item {n}. "
        copy = dedup.fingerprint(title, header + body)
        found = set(copy.sketch[: dedup.ANCHOR_BASE]) if copy else set()
        if copy and len(base & found) == shared and dedup.is_duplicate(original, copy, same_office=True):
            return header + body
    raise AssertionError(f"no header found that leaves {shared} of the smallest hashes shared")


def test_an_update_finds_an_indexed_original_by_two_of_its_five_smallest_hashes(
    tmp_path: Path, seed_path: Path
) -> None:
    """A copy that shares two of its original's five smallest hashes (one anchor) is found in the index
    by an update and joins the original's group, as a fresh build of both groups it."""
    original = read_file(seed_path).releases[0]
    record = {"id": "briefing", "title": original.title, "issuer": original.issuer, "body": original.body}
    copy = {**record, "id": "briefing-copy", "body": copy_sharing(original.title, original.body, 2)}
    docs = tmp_path / "documents"
    write_jsonl_files(docs / "first", [record], 1)
    ix = StatementIndex.create(tmp_path / "index")
    ix.update(docs)
    write_jsonl_files(docs / "later", [copy], 1)
    ix.update(docs)
    assert stored_groups(ix) == {"briefing": "briefing", "briefing-copy": "briefing"}
    fresh = StatementIndex.create(tmp_path / "fresh")
    fresh.update(docs)
    assert stored_prints(ix) == stored_prints(fresh)


def test_an_update_that_changes_an_offices_boilerplate_refreshes_its_releases(
    tmp_path: Path,
) -> None:
    """Three releases of an office have no boilerplate, so two alike only by its site's furniture are one
    group. When the office's other releases arrive, that furniture becomes its boilerplate: the update
    writes the three again with new fingerprints and groups, as a fresh build of all of them stores; and
    when those others go, back again."""
    first, rest, furniture, full = furniture_office()
    docs = tmp_path / "documents"
    write_jsonl_files(docs / "early", first, 1)
    ix = StatementIndex.create(tmp_path / "index")
    ix.update(docs)
    assert len({stored_groups(ix)[name] for name in furniture}) == 1

    late = write_jsonl_files(docs / "late", rest, 3)
    summary = ix.update(docs)
    assert summary.releases_written > len(rest)  # the early ones written again
    groups = stored_groups(ix)
    assert groups[furniture[0]] != groups[furniture[1]]
    assert groups[full + "-repost"] == groups[full]
    assert groups == grouped(first + rest)[1]
    fresh = StatementIndex.create(tmp_path / "fresh")
    fresh.update(docs)
    assert stored_prints(ix) == stored_prints(fresh)

    for path in late:
        path.unlink()
    ix.update(docs)
    again = StatementIndex.create(tmp_path / "again")
    again.update(docs)
    assert stored_prints(ix) == stored_prints(again)
    assert len({stored_groups(ix)[name] for name in furniture}) == 1


@pytest.mark.shared
def test_groups_are_the_same_whatever_the_build_order(
    tmp_path: Path, grouped_records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "documents"
    files = write_jsonl_files(docs, grouped_records, 6)
    expected = grouped(grouped_records)[1]
    sizes = Counter(expected.values())
    assert sum(1 for size in sizes.values() if size > 1) >= 25  # real groups to get right
    # A chain splits: a copy missing two ninths is no duplicate of the original, only of the middle copy.
    chain_ends = [r["id"] for r in grouped_records if r["id"].endswith("-chain2")]
    assert sum(1 for name in chain_ends if expected[name] == name) >= 5

    whole = StatementIndex.create(tmp_path / "whole")
    whole.update(docs)
    assert stored_groups(whole) == expected

    # File by file in reverse order, as incremental updates: later files hold earlier originals.
    step = tmp_path / "step-docs"
    step.mkdir()
    stepwise = StatementIndex.create(tmp_path / "stepwise")
    for path in reversed(files):
        shutil.copy(path, step / path.name)
        stepwise.update(step)
    assert stored_groups(stepwise) == expected

    # Two writer processes (Whoosh's multi-process writer, forced for this small batch).
    monkeypatch.setattr(indexer, "PARALLEL_MIN_BYTES", 0)
    parallel = StatementIndex.create(tmp_path / "parallel")
    parallel.update(docs, procs=2)
    assert stored_groups(parallel) == expected

    # Deleting and changing files regroups what they touched, as a fresh build of what is left would.
    (step / files[0].name).unlink()
    (step / files[1].name).write_text(files[2].read_text(encoding="utf-8").replace('"id": "', '"id": "x-'))
    summary = stepwise.update(step)
    fresh = StatementIndex.create(tmp_path / "fresh")
    fresh.update(step)
    assert stored_groups(stepwise) == stored_groups(fresh)
    assert summary.releases_written > len(grouped_records) // 6  # some releases of other files regrouped
