"""Near-duplicate detection: real releases and their re-issues, stable fingerprints, group assignment."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from statementsearch import dedup
from statementsearch.dedup import Fingerprint, GroupAssigner
from statementsearch.models import Release
from statementsearch.reader import read_file

# Pairs that bench/duplicates.py found on the corpora (grimmer-senate), checked by eye.
SAME_STATEMENT = [
    # The same release posted twice on one day under two headlines ("U.S. Department" in one).
    ("grimmer-Snowe-2Sep2004Snowe448", "grimmer-Snowe-2Sep2004Snowe449"),
    # A joint release: Bond's wire copy and Harkin's web scrape of it, without punctuation.
    ("grimmer-Bond-22Mar2007Bond34", "grimmer-Harkin-22Mar2007Harkin410"),
]
# Template releases: ~90% the same text, but another Head Start centre and another amount.
TEMPLATE_SIBLINGS = ("grimmer-Lugar-29Oct2007Lugar97", "grimmer-Lugar-29Oct2007Lugar99")
UNRELATED = ("grimmer-Snowe-22Sep2006Snowe138", "grimmer-Snowe-2Sep2004Snowe449")
Records = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def seed_releases(seed_path: Path) -> tuple[Release, Release]:
    """The two releases of the seed file: a DoD briefing and a CJTF-OIR statement, three days apart."""
    report = read_file(seed_path)
    assert report.error is None and len(report.releases) == 2
    return report.releases[0], report.releases[1]


@pytest.fixture(scope="module")
def briefing(seed_releases: tuple[Release, Release]) -> Release:
    return seed_releases[0]


def fp_of(title: str, body: str) -> Fingerprint:
    fp = dedup.fingerprint(title, body)
    assert fp is not None, f"no fingerprint for {title!r}"
    return fp


def test_the_two_seed_releases_are_not_duplicates(seed_releases: tuple[Release, Release]) -> None:
    first, second = (fp_of(release.title, release.body) for release in seed_releases)
    assert dedup.similarity(first, second) < 0.1
    assert not dedup.is_duplicate(first, second)
    assert not set(first.anchors) & set(second.anchors)


def reissues(briefing: Release) -> dict[str, tuple[str, str]]:
    """(title, body) of the briefing re-issued the ways archives do it."""
    sentence = "This U.S. attack was carried out in a manner that minimized collateral damage."
    assert sentence in briefing.body
    return {
        "new header line": (briefing.title, "FOR IMMEDIATE RELEASE -- Jan. 4, 2020\n\n" + briefing.body),
        "different title": ("Pentagon explains the strike on Soleimani", briefing.body),
        "title repeated in the body": ("Pentagon briefing", f"Pentagon briefing\n\n{briefing.body}"),
        "a changed sentence": (briefing.title, briefing.body.replace(sentence, "Civilians were spared.")),
        "whitespace and case": (briefing.title.upper(), " ".join(briefing.body.upper().split())),
        "web scrape without punctuation": (briefing.title, re.sub(r"[^\w\s]", " ", briefing.body)),
        "curly quotes and dashes": (
            briefing.title,
            briefing.body.replace('"', "\u201c").replace(" — ", "\u2014"),
        ),
    }


@pytest.mark.parametrize(
    "how",
    [
        "new header line",
        "different title",
        "title repeated in the body",
        "a changed sentence",
        "whitespace and case",
        "web scrape without punctuation",
        "curly quotes and dashes",
    ],
)
def test_a_reissue_is_a_duplicate(briefing: Release, how: str) -> None:
    original = fp_of(briefing.title, briefing.body)
    title, body = reissues(briefing)[how]
    again = fp_of(title, body)
    assert dedup.similarity(original, again) >= dedup.DUPLICATE_THRESHOLD
    assert dedup.similarity(again, original) == dedup.similarity(original, again)
    assert dedup.is_duplicate(original, again)
    assert set(original.anchors) & set(again.anchors), "the index would not find it as a candidate"


def test_templates_with_other_amounts_are_not_duplicates(briefing: Release) -> None:
    lead = "The Pentagon today announced that the Fort Bragg Fire Department will receive $86,504. "
    first = fp_of(briefing.title, lead + briefing.body)
    second = fp_of(briefing.title, lead.replace("Bragg", "Hood").replace("86,504", "24,387") + briefing.body)
    assert dedup.similarity(first, second) >= dedup.DUPLICATE_THRESHOLD
    assert dedup.numbers_conflict(first, second)
    assert not dedup.is_duplicate(first, second)
    # The same amount written another way, or rounded in a headline, is no conflict.
    reworded = fp_of(
        briefing.title, "Over $86,000: " + lead.replace("$86,504", "86 504 dollars") + briefing.body
    )
    assert dedup.is_duplicate(first, reworded)


def test_short_notices_get_no_fingerprint() -> None:
    assert dedup.fingerprint("Office closed", "The district office is closed today for the holiday.") is None
    assert dedup.fingerprint("", "") is None
    # Text in another script is not judged either: the method reads English (see dedup.SEPARATOR).
    assert dedup.fingerprint("Заявление", "Министерство обороны сообщает " * 40) is None


def test_fingerprint_shape(briefing: Release) -> None:
    fp = fp_of(briefing.title, briefing.body)
    assert list(fp.sketch) == sorted(set(fp.sketch))
    assert 0 < len(fp.sketch) <= dedup.SKETCH_SIZE
    assert all(0 <= value < 2**32 for value in fp.sketch)
    assert fp.anchors == tuple(f"{value:08x}" for value in fp.sketch[: dedup.ANCHOR_COUNT])
    assert dedup.similarity(fp, fp) == 1.0


def test_encode_decode_round_trip(seed_releases: tuple[Release, Release]) -> None:
    templated = fp_of(
        "t", "The county will receive $86,504 for its new fire engine. " + seed_releases[0].body
    )
    assert templated.numbers
    for fp in (*(fp_of(r.title, r.body) for r in seed_releases), templated):
        text = dedup.encode(fp)
        assert text.isascii() and len(text) < 400
        assert dedup.decode(text) == fp


@pytest.mark.parametrize(
    "text", ["", "d1", "xx" + "A" * 8 + ".", "d1AAAA!.", "d1AAA=.", "d1AAAAAQAAAAA=.", "d1..", "d1."]
)
def test_decode_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError):
        dedup.decode(text)


def test_fingerprints_are_the_same_in_other_processes(seed_releases: tuple[Release, Release]) -> None:
    """Fingerprints are stored in the index: a new process (another hash seed) must make the same ones."""
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from statementsearch import dedup
        from statementsearch.reader import read_file
        for release in read_file(Path(sys.argv[1])).releases:
            print(dedup.encode(dedup.fingerprint(release.title, release.body)))
        """
    )
    expected = [dedup.encode(fp_of(release.title, release.body)) for release in seed_releases]
    path = Path(__file__).resolve().parents[1] / "documents" / "000_fb62ce4d62dc1888.txt"
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", script, str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        assert done.stdout.split() == expected


def test_assigner_groups_a_reissue_with_the_first(seed_releases: tuple[Release, Release]) -> None:
    briefing, statement = seed_releases
    title, body = reissues(briefing)["a changed sentence"]
    assigner = GroupAssigner()
    assert assigner.assign("brief", fp_of(briefing.title, briefing.body)) == "brief"
    assert assigner.assign("statement", fp_of(statement.title, statement.body)) == "statement"
    assert assigner.assign("brief-again", fp_of(title, body)) == "brief"
    assert (
        assigner.assign("brief-scraped", fp_of(*reissues(briefing)["web scrape without punctuation"]))
        == "brief"
    )
    assert assigner.assign("short", None) == "short"


def test_assigner_joins_the_most_similar_earlier_release(briefing: Release) -> None:
    """Not the first similar one: the briefing is closer to its copy with a header than to the edited one."""
    original = fp_of(briefing.title, briefing.body)
    edited = fp_of(*reissues(briefing)["a changed sentence"])
    headed = fp_of(*reissues(briefing)["new header line"])
    threshold = 0.82
    assert dedup.similarity(edited, headed) < threshold  # so that these two start separate groups
    assert threshold <= dedup.similarity(original, edited) < dedup.similarity(original, headed)
    assigner = GroupAssigner(threshold)
    assert [assigner.assign(name, fp) for name, fp in [("edited", edited), ("headed", headed)]] == [
        "edited",
        "headed",
    ]
    assert assigner.assign("original", original) == "headed"


def test_assigner_uses_candidates_from_the_index(seed_releases: tuple[Release, Release]) -> None:
    briefing, statement = seed_releases
    old = fp_of(briefing.title, briefing.body)
    other = fp_of(statement.title, statement.body)
    again = fp_of(*reissues(briefing)["new header line"])
    candidates = [("old-statement", "g-statement", other), ("old-briefing", "g-briefing", old)]
    assert GroupAssigner().assign("new", again, candidates) == "g-briefing"
    assert GroupAssigner().assign("new", again, [("old-statement", "g-statement", other)]) == "new"
    # A release of this run is compared too, and the candidates only add to it.
    assigner = GroupAssigner()
    assigner.assign("first", old)
    assert assigner.assign("second", again, iter([("old-statement", "g-statement", other)])) == "first"


def test_assigner_keeps_template_siblings_apart(briefing: Release) -> None:
    lead = "The Pentagon today announced that the Fort Bragg Fire Department will receive $86,504. "
    assigner = GroupAssigner()
    assert assigner.assign("bragg", fp_of(briefing.title, lead + briefing.body)) == "bragg"
    hood = lead.replace("Bragg", "Hood").replace("86,504", "24,387") + briefing.body
    assert assigner.assign("hood", fp_of(briefing.title, hood)) == "hood"


def test_assigner_remembers_only_a_bounded_list_per_anchor(briefing: Release) -> None:
    """A phrase shared by very many releases must not make every new release compare with all of them."""
    assigner = GroupAssigner()
    fp = fp_of(briefing.title, briefing.body)
    for number in range(dedup.MAX_ENTRIES_PER_ANCHOR * 3):
        # The same text with another amount each time: similar, but never one statement.
        text = f"The county will receive ${number + 101:,}.57 in grants. {briefing.body}"
        assert assigner.assign(f"r{number}", fp_of(briefing.title, text)) == f"r{number}"
    for anchor in fp.sketch[: dedup.ANCHOR_COUNT]:
        filed = assigner._table.get(anchor)
        assert filed is None or isinstance(filed, tuple) or len(filed) <= dedup.MAX_ENTRIES_PER_ANCHOR


@pytest.fixture(scope="module")
def corpus_pairs(shared_dir: Path) -> Records:
    """The corpus records of the pairs above, by id (from ../shared: skipped when it is absent)."""
    wanted = {name for pair in [*SAME_STATEMENT, TEMPLATE_SIBLINGS, UNRELATED] for name in pair}
    path = shared_dir / "corpora" / "grimmer-senate" / "releases.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"../shared/ has no grimmer-senate corpus at {path}")
    data = gzip.decompress(path.read_bytes())
    found: Records = {}
    for name in wanted:
        start = data.find(b'{"id": "%s"' % name.encode())
        if start >= 0:
            found[name] = json.loads(data[start : data.find(b"\n", start)])
    missing = wanted - set(found)
    if missing:
        pytest.skip(f"../shared/ corpus lacks the releases {sorted(missing)}")
    return found


def corpus_fp(record: dict[str, Any]) -> Fingerprint:
    return fp_of(record["title"], record["body"])


@pytest.mark.shared
@pytest.mark.parametrize(("first", "second"), SAME_STATEMENT)
def test_real_reissues_are_duplicates(corpus_pairs: Records, first: str, second: str) -> None:
    a, b = corpus_fp(corpus_pairs[first]), corpus_fp(corpus_pairs[second])
    assert dedup.is_duplicate(a, b)
    assigner = GroupAssigner()
    assert [assigner.assign(name, fp) for name, fp in [(first, a), (second, b)]] == [first, first]


@pytest.mark.shared
def test_real_template_siblings_and_strangers_are_not(corpus_pairs: Records) -> None:
    a, b = (corpus_fp(corpus_pairs[name]) for name in TEMPLATE_SIBLINGS)
    assert dedup.similarity(a, b) >= dedup.DUPLICATE_THRESHOLD  # the prose alone would group them
    assert not dedup.is_duplicate(a, b)
    c, d = (corpus_fp(corpus_pairs[name]) for name in UNRELATED)
    assert dedup.similarity(c, d) < 0.2
    assigner = GroupAssigner()
    assert [assigner.assign(n, fp) for n, fp in zip(["a", "b", "c", "d"], [a, b, c, d], strict=True)] == [
        "a",
        "b",
        "c",
        "d",
    ]
