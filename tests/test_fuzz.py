"""Hostile input: random and malformed queries, dates and limits through the library and the CLI, and
broken, huge, deep, looping, unreadable and changing files through the reader.

Every query gives a result or a clear message (a StatementSearchError; from the CLI exit 0/1/2 and one
line on stderr, or click's usage error), in bounded time, never a traceback. Every file gives releases or
a FileReport error, never an exception.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import SEED
from statementsearch import StatementIndex, StatementSearchError
from statementsearch.cli import main
from statementsearch.models import FileReport
from statementsearch.query import make_parser, parse_query
from statementsearch.reader import read_file, read_paths, scan_documents

BOUND_SECONDS = 5.0
"""Generous bound for one hostile query or file on a loaded 2-core machine."""
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=timedelta(seconds=BOUND_SECONDS),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Enough distinct "ab…" words that `ab*` expands past the 1,000-word bound.
VOCABULARY = [f"ab{n:04x}word" for n in range(1_200)]


# ---------------------------------------------------------------------------------------------- index


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed and 60 JSON Lines releases with a large vocabulary, indexed."""
    base = tmp_path_factory.mktemp("fuzz")
    docs = base / "documents"
    docs.mkdir()
    shutil.copy(SEED, docs)
    records = [
        {
            "id": f"rec-{n}",
            "title": f"Statement {n} on regional security",
            "issuer": f"Agency {n % 5}",
            "date": f"2020-{1 + n % 12:02}-{1 + n % 28:02}",
            "body": " ".join(VOCABULARY[n * 20 : n * 20 + 20]) + " forces attacked the embassy",
        }
        for n in range(60)
    ]
    (docs / "records.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    with StatementIndex.create(base / "index") as ix:
        ix.update(docs)
    return base


@pytest.fixture(scope="module")
def ix(place: Path) -> Iterator[StatementIndex]:
    with StatementIndex.open(place / "index") as index:
        yield index


TOKENS = [
    *["soleimani", "quds", "force", "embassy", "attack", "Baghdad", "al-Qaeda", "2020-01-03", "the", "of"],
    *["AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO", "and", "or"],
    *['"', "(", ")", "[", "]", "{", "}", "*", "?", "~", "~2", "~9", "^", "^2", ":", "-", "+", "\\", "/", "'"],
    *[
        "title:",
        "issuer:",
        "body:",
        "date:",
        "headline:",
        "source:",
        "nosuchfield:",
        "id:",
        "path:",
        "group:",
    ],
    *["a*", "ab*", "ab0*", "s?", "so*", "sol*", "*ani", "?uds", "ab??word", "*", "?", "**"],
    *["soleimany~", "quds~3", "x~0", "embasy~1", "force~2/3", "ab0~2", "quds~1/4", "~/9", "/"],
    *["[2020-01-01 TO 2020-03-31]", "date:[2020 TO]", "date:[TO 2019]", "date:2020", 'date:"Jan 2020"'],
    *["\u0000", "\u200b", "\ufffd", "\ud800", "日本", "مرحبا", "😀", "\t", "\n"],
]

structured_queries = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12).flatmap(
    lambda tokens: st.sampled_from([" ".join(tokens), "".join(tokens)])
)
huge_queries = st.one_of(
    st.integers(1_000, 6_000).map(lambda n: "quds " * n),
    st.integers(100, 600).map(lambda n: " OR ".join(["quds"] * n)),
    st.integers(100, 600).map(lambda n: "(" * n + "quds" + ")" * n),
    st.integers(100, 400).map(lambda n: " ".join(f"w{i}*" for i in range(n))),
    st.integers(1, 400).map(lambda n: '"' * n),
)
queries = st.one_of(st.text(max_size=200), structured_queries, huge_queries)


def check_result_or_message(run: object) -> None:
    """`run()` returns a well-formed SearchResult or raises a StatementSearchError with a one-line message."""
    started = time.perf_counter()
    try:
        result = run()  # type: ignore[operator]
    except StatementSearchError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
    else:
        assert len(result.hits) <= result.limit and result.total >= 0
        for hit in result.hits:
            assert all(0 <= start < end <= len(hit.snippet) for start, end in hit.highlights)
            assert all(0 <= start < end <= len(hit.title) for start, end in hit.title_highlights)
    assert time.perf_counter() - started < BOUND_SECONDS


@FUZZ
@given(text=queries)
@example(text="ab*")  # expands past the bound
@example(text="a*")
@example(text="nosuchfield:quds")
@example(text="position:[TO]")  # a stored-only field: Whoosh's TermNotFound
@example(text='anchors:"jan 2020"')  # a field without positions: Whoosh's own QueryError
@example(text="quds~9")
@example(text="quds~1/4")  # a fuzzy prefix longer than the stemmed term ("qud")
@example(text="0~/10")
@example(text='"quds force')
@example(text="((quds")
@example(text="NOT")
@example(text="OR AND NOT")
@example(text="*")
def test_search_gives_a_result_or_a_clear_message(ix: StatementIndex, text: str) -> None:
    check_result_or_message(lambda: ix.search(text, limit=5))


FIELD_VALUES = [
    "quds",
    "[TO]",
    "[a TO b]",
    "[2020 TO 2019]",
    '"jan 2020"',
    '""',
    "*",
    "ab*",
    "quds~1",
    "(a OR b)",
]


def test_every_field_name_with_any_value_gives_a_result_or_a_message(ix: StatementIndex) -> None:
    """Internal fields too (stored-only ones, ones without positions), under every kind of value."""
    names = [*ix._ix.schema.names(), "headline", "source", "agency", "from", "body", "content", "issued"]
    for name in names:
        for value in FIELD_VALUES:
            check_result_or_message(lambda: ix.search(f"{name}:{value}", limit=3))  # noqa: B023


@FUZZ
@given(text=queries)
@example(text="quds~1/4")
@example(text="0~/10")
def test_parser_gives_a_bounded_query_or_a_query_error(ix: StatementIndex, text: str) -> None:
    from statementsearch import QueryError

    parser = make_parser(ix._ix.schema)
    with ix._ix.reader() as reader:
        started = time.perf_counter()
        try:
            parse_query(text, parser, reader)
        except QueryError as exc:
            assert str(exc) and "\n" not in str(exc)
        assert time.perf_counter() - started < BOUND_SECONDS


date_texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["2020", "Jan 2020", "30d", "2w", "6m", "1y", "today", "yesterday", "30 days ago"]),
    st.sampled_from(["99999", "0", "-1", "2020-13-45", "1y ago ago", "9999999999d", "Feb 30 2020", ""]),
)


@FUZZ
@given(text=queries, since=st.none() | date_texts, until=st.none() | date_texts, issuer=st.none() | st.text())
def test_filters_give_a_result_or_a_clear_message(
    ix: StatementIndex, text: str, since: str | None, until: str | None, issuer: str | None
) -> None:
    check_result_or_message(lambda: ix.search(text, since=since, until=until, issuer=issuer))


@FUZZ
@given(limit=st.integers(-(10**20), 10**20), offset=st.integers(-(10**20), 10**20))
def test_limits_and_offsets_give_a_result_or_a_clear_message(
    ix: StatementIndex, limit: int, offset: int
) -> None:
    check_result_or_message(lambda: ix.search("statement", limit=limit, offset=offset))


# ---------------------------------------------------------------------------------------------- CLI


def assert_cli_contract(args: list[str]) -> None:
    started = time.perf_counter()
    result = CliRunner().invoke(main, args)
    assert time.perf_counter() - started < BOUND_SECONDS
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        usage = lines and lines[-1].startswith("Error: ")  # click's usage error (with or without help)
        assert usage or (len(lines) == 1 and lines[0].startswith("statementsearch: ")), result.stderr


cli_words = st.one_of(st.text(min_size=1, max_size=30), st.sampled_from(TOKENS))


@FUZZ
@given(words=st.lists(cli_words, min_size=1, max_size=6), separated=st.booleans())
def test_cli_search_random_queries(place: Path, words: list[str], separated: bool) -> None:
    """Random words, after `--` or not (then a word like `-x` is a usage error)."""
    locations = ["--index", str(place / "index"), "--documents", str(place / "documents")]
    assert_cli_contract(["search", *locations, *(["--"] if separated else []), *words])


@FUZZ
@given(
    since=st.none() | date_texts,
    until=st.none() | date_texts,
    limit=st.none() | st.integers(-(10**12), 10**12).map(str) | st.text(max_size=8),
    page=st.none() | st.integers(-(10**12), 10**12).map(str),
    sort=st.none() | st.sampled_from(["relevance", "newest", "oldest", "random", ""]),
)
def test_cli_search_random_options(
    place: Path, since: str | None, until: str | None, limit: str | None, page: str | None, sort: str | None
) -> None:
    args = ["search", "--index", str(place / "index"), "--documents", str(place / "documents"), "--json"]
    for name, value in (
        ("--since", since),
        ("--until", until),
        ("--limit", limit),
        ("--page", page),
        ("--sort", sort),
    ):
        if value is not None:
            args.append(f"{name}={value}")
    assert_cli_contract([*args, "embassy"])


# ---------------------------------------------------------------------------------------------- reader


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """One folder for the reader examples (hypothesis reruns a test body many times per fixture)."""
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def check_report(report: FileReport) -> None:
    assert isinstance(report, FileReport)
    if report.error is None:
        assert report.releases
        assert all(r.content_hash and r.id for r in report.releases)
    else:
        assert report.error.strip() and "\n" not in report.error


def read_bytes_as(scratch: Path, data: bytes, name: str) -> FileReport:
    path = scratch / name
    path.write_bytes(data)
    started = time.perf_counter()
    report = read_file(path, scratch)
    assert time.perf_counter() - started < BOUND_SECONDS
    check_report(report)
    return report


def seed_variants() -> list[bytes]:
    text = SEED.read_text(encoding="utf-8")
    jsonl = "\n".join(
        json.dumps(
            {"id": f"r{n}", "title": f"Title {n}", "body": text[n * 50 : n * 50 + 400], "date": "2020-01-03"}
        )
        for n in range(8)
    ).encode()
    return [
        text.encode("utf-8"),
        codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8"),
        text.encode("utf-16"),
        text.replace("’", "'").encode("cp1252", errors="replace"),
        jsonl,
        gzip.compress(jsonl),
    ]


VARIANTS = seed_variants()
NAMES = ["f.txt", "f.txt", "f.txt", "f.txt", "f.jsonl", "f.jsonl.gz"]


@FUZZ
@given(which=st.integers(0, len(VARIANTS) - 1), cut=st.floats(0, 1))
def test_truncated_files_give_releases_or_an_error(scratch: Path, which: int, cut: float) -> None:
    data = VARIANTS[which]
    read_bytes_as(scratch, data[: int(len(data) * cut)], NAMES[which])


@FUZZ
@given(
    which=st.integers(0, len(VARIANTS) - 1),
    positions=st.lists(st.floats(0, 1), min_size=1, max_size=5),
    junk=st.sampled_from([b"\x00", b"\x00\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\x81", b"\x1f\x8b"]),
)
def test_nul_and_stray_bytes_give_releases_or_an_error(
    scratch: Path, which: int, positions: list[float], junk: bytes
) -> None:
    data = bytearray(VARIANTS[which])
    for position in sorted(positions, reverse=True):
        data[int(len(data) * position) : int(len(data) * position)] = junk
    read_bytes_as(scratch, bytes(data), NAMES[which])


ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "utf-16-le", "utf-16-be", "mac_roman"]


@FUZZ
@given(
    parts=st.lists(st.tuples(st.sampled_from(ENCODINGS), st.text(max_size=200)), min_size=2, max_size=5),
    suffix=st.sampled_from(["f.txt", "f.jsonl"]),
)
def test_mixed_encodings_in_one_file_give_releases_or_an_error(
    scratch: Path, parts: list[tuple[str, str]], suffix: str
) -> None:
    header = b"A title\n(Source: Some Office; issued Jan. 3, 2020)\n"
    body = b"".join(text.encode(encoding, errors="replace") for encoding, text in parts)
    read_bytes_as(scratch, header + body + b"\n(ends)\n", suffix)


@FUZZ
@given(data=st.binary(max_size=2_000), name=st.sampled_from(["f.txt", "f.jsonl", "f.jsonl.gz", "f.text"]))
def test_random_bytes_give_releases_or_an_error(scratch: Path, data: bytes, name: str) -> None:
    read_bytes_as(scratch, data, name)


def test_mixed_encodings_keep_the_release(tmp_path: Path) -> None:
    """A UTF-8 file with one cp1252 paragraph pasted in is read (as cp1252), not refused."""
    path = tmp_path / "mixed.txt"
    path.write_bytes(
        "Caf\u00e9 statement\n(Source: Office; issued 2020-01-03)\n".encode()
        + "\u201cQuoted\u201d words.\n".encode("cp1252")
        + b"\n(ends)\n"
    )
    report = read_file(path, tmp_path)
    assert report.error is None and len(report.releases) == 1
    assert "Quoted" in report.releases[0].body


MEMORY_SCRIPT = """
import resource, sys
from pathlib import Path
from statementsearch.reader import read_file
import statementsearch.dates, statementsearch.models
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = read_file(Path(sys.argv[1]))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before * 1024, after * 1024, len(report.releases), report.error)
"""


def test_a_50_mb_file_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """Peak memory grows by a few times the file size at most (bytes, text, releases), measured in a
    fresh process so that earlier tests' peaks do not hide it."""
    release = (
        "Statement on operations {n}\n\n(Source: Department of Defense; issued Jan. 3, 2020)\n\n"
        + "Forces conducted operations in the region and reported the results to command. " * 12
        + "\n\n(ends)\n\n"
    )
    block = "".join(release.format(n=n) for n in range(100)).encode()
    path = tmp_path / "big.txt"
    with open(path, "wb") as handle:
        while handle.tell() < 50 * 2**20:
            handle.write(block)
    size = path.stat().st_size
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(path)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    before, after, releases, error = result.stdout.split()
    assert error == "None" and int(releases) == size // len(block) * 100
    growth = int(after) - int(before)
    assert growth < 6 * size, f"peak RSS grew by {growth / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB file"


def test_200_levels_of_folders_are_scanned_and_read(tmp_path: Path) -> None:
    deep = tmp_path / "docs"
    leaf = deep.joinpath(*["d"] * 200)
    leaf.mkdir(parents=True)
    shutil.copy(SEED, leaf / "seed.txt")
    files, failures = scan_documents(deep)
    assert failures == [] and files == [leaf / "seed.txt"]
    reports = list(read_paths([deep]))
    assert [len(r.releases) for r in reports] == [2]
    assert reports[0].path == "/".join(["d"] * 200) + "/seed.txt"


def test_symlink_loops_end_the_walk_and_are_reported(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "a" / "b").mkdir(parents=True)
    shutil.copy(SEED, docs / "a" / "seed.txt")
    (docs / "a" / "b" / "up").symlink_to("../..")  # a folder loop
    (docs / "a" / "self.txt").symlink_to("self.txt")  # a file link to itself
    (docs / "ping.txt").symlink_to("pong.txt")  # two links to each other
    (docs / "pong.txt").symlink_to("ping.txt")
    started = time.perf_counter()
    files, failures = scan_documents(docs)
    assert time.perf_counter() - started < BOUND_SECONDS
    assert docs / "a" / "seed.txt" in files
    assert {f.path for f in failures} >= {"a/self.txt", "ping.txt", "pong.txt"}
    for report in read_paths([docs]):
        check_report(report)


def test_unreadable_files_are_reported_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import statementsearch.reader as reader

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / "locked.txt")
    shutil.copy(SEED, docs / "open.txt")

    def opener(path: object, *args: object, **kwargs: object) -> object:
        if str(path).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(reader, "open", opener, raising=False)
    reports = {r.path: r for r in read_paths([docs])}
    assert reports["locked.txt"].error == "permission denied"
    assert len(reports["open.txt"].releases) == 2


def test_files_rewritten_while_being_scanned_and_read(tmp_path: Path) -> None:
    """A thread rewrites, truncates and deletes a file while the scan and reads run: every read gives
    releases or an error; a read whose hash is one of the versions gives exactly that version's releases."""
    docs = tmp_path / "docs"
    docs.mkdir()
    seed = SEED.read_bytes()
    versions = [seed, seed + seed.replace(b"Soleimani", b"Someone"), b"", b"not a release\n" * 100]
    expected: dict[str, tuple[str, ...]] = {}
    for number, data in enumerate(versions):
        (tmp_path / f"v{number}.txt").write_bytes(data)
        report = read_file(tmp_path / f"v{number}.txt", tmp_path)
        expected[report.file_hash] = tuple(r.content_hash for r in report.releases)
    target = docs / "live.txt"
    stop = threading.Event()

    def rewrite() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            if n % 7 == 0:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(versions[n % len(versions)])

    writer = threading.Thread(target=rewrite)
    writer.start()
    seen = scans = 0
    deadline = time.monotonic() + 60  # the writer may keep the file away for a while on a busy machine
    try:
        while (scans < 300 or seen < 50) and time.monotonic() < deadline:
            scans += 1
            for report in read_paths([docs]):
                check_report(report)
                if report.file_hash in expected:
                    assert tuple(r.content_hash for r in report.releases) == expected[report.file_hash]
                seen += 1
    finally:
        stop.set()
        writer.join()
    assert seen >= 50
