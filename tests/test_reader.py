"""The reader on real inputs: the seed, corpus records rendered as archives write them, and broken files."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from render import (
    DATE_FORMS,
    ENCODINGS,
    END_MARKS,
    HEADERS,
    SOURCE_STYLES,
    CorpusLoader,
    Variant,
    actual_fields,
    expected_fields,
    group_records,
    random_variant,
    release_text,
    render_text_file,
)
from statementsearch import reader
from statementsearch.models import FileReport
from statementsearch.reader import (
    NO_RELEASE,
    SUPPORTED_SUFFIXES,
    document_name,
    is_document_file,
    is_inside,
    read_file,
    read_paths,
    scan_documents,
    unescape_name,
    unpacked_size,
)
from synthetic import records, vocabulary

SEED_TITLES = (
    "Senior DOD Official Describes Rationale for Attack on Quds Force Commander",
    "CJTF-OIR Statement on the Ongoing Defeat Daesh Mission",
)
SEED_ISSUERS = ("US Department of Defense", "Combined Joint Task Force - Operation Inherent Resolve")
END_MARK_LINES = {"(ends)", "-ends-", "(end)", "-end-", "###", "# # #", "-30-", "- 30 -"}


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def only_release(report: FileReport) -> Any:
    assert report.error is None, report.error
    assert len(report.releases) == 1
    return report.releases[0]


# --- the seed ---------------------------------------------------------------------------------------------


def test_seed_gives_exactly_its_two_releases(seed_path: Path) -> None:
    report = read_file(seed_path, root=seed_path.parent)
    assert report.error is None and report.warnings == ()
    assert report.path == "000_fb62ce4d62dc1888.txt"
    assert [r.title for r in report.releases] == list(SEED_TITLES)
    assert [r.issuer for r in report.releases] == list(SEED_ISSUERS)
    assert [r.date for r in report.releases] == [date(2020, 1, 3), date(2020, 1, 5)]
    assert [r.id for r in report.releases] == ["000_fb62ce4d62dc1888.txt#1", "000_fb62ce4d62dc1888.txt#2"]
    assert [r.position for r in report.releases] == [1, 2]


def test_seed_bodies_keep_caption_dateline_and_paragraphs_but_no_end_mark(seed_path: Path) -> None:
    first, second = read_file(seed_path, root=seed_path.parent).releases
    assert first.body.startswith("A Marine stands guard atop a building at the U.S. Embassy compound")
    assert "(DoD photo)\n\nPresident Donald J. Trump last night directed" in first.body
    assert first.body.endswith('responsible for any harm to U.S. personnel," the official concluded.')
    assert second.body.startswith("SOUTHWEST ASIA --- Our first priority is protecting all Coalition")
    for body in (first.body, second.body):
        assert "\n\n\n" not in body and body == body.strip()
        assert not END_MARK_LINES & set(body.split("\n"))
        assert "date 2000-01-01" not in body
    assert "The attack \u2014 in which 31 rockets were fired \u2014 killed" in first.body
    assert first.body.count("\n\n") == 9 and second.body.count("\n\n") == 2  # 10 and 3 paragraphs


def test_seed_hashes(seed_path: Path) -> None:
    report = read_file(seed_path)
    assert report.path == seed_path.as_posix()  # no root: the path as given
    assert report.file_hash == hashlib.blake2b(seed_path.read_bytes(), digest_size=16).hexdigest()
    first = report.releases[0]
    content = "\x1f".join([first.title, first.issuer, "2020-01-03", first.body]).encode()
    assert first.content_hash == hashlib.blake2b(content, digest_size=16).hexdigest()
    assert first.id == f"{seed_path.as_posix()}#1"


def test_seed_in_crlf_and_cp1252_reads_the_same(seed_path: Path, tmp_path: Path) -> None:
    text = seed_path.read_text(encoding="utf-8")
    variant = write(tmp_path, "dod/seed.txt", text.replace("\n", "\r\n").encode("cp1252"))
    want = read_file(seed_path).releases
    got = read_file(variant, root=tmp_path).releases
    assert [(r.title, r.issuer, r.date, r.body, r.content_hash) for r in got] == [
        (r.title, r.issuer, r.date, r.body, r.content_hash) for r in want
    ]
    assert [r.id for r in got] == ["dod/seed.txt#1", "dod/seed.txt#2"]


# --- rendered corpus files --------------------------------------------------------------------------------

AXES: list[Variant] = [
    *(Variant(date_form=form) for form in DATE_FORMS),
    *(Variant(end_mark=mark) for mark in END_MARKS),
    *(Variant(encoding=encoding) for encoding in ENCODINGS),
    Variant(newline="\r\n"),
    Variant(newline="\r"),
    *(Variant(header=header) for header in HEADERS),
    *(Variant(source_style=style) for style in range(len(SOURCE_STYLES))),
    Variant(end_mark=None, paragraph_gap=0, title_gap=0, trailer_gap=1),
    Variant(end_mark="-30-", trailer_text=True, trailer_gap=1),
]


def variant_id(variant: Variant) -> str:
    """The fields that differ from the default variant, e.g. `encoding=cp1252`."""
    default = Variant()
    changed = {k: v for k, v in vars(variant).items() if getattr(default, k) != v}
    return ",".join(f"{k}={v!r}" for k, v in changed.items()) or "default"


def check_rendered(records: list[dict[str, Any]], variant: Variant, folder: Path) -> list[str]:
    """Render, read back, and list every field that differs from what the format promises."""
    path = write(folder, "rendered.txt", render_text_file(records, variant))
    report = read_file(path, root=folder)
    assert report.error is None, report.error
    assert len(report.releases) == len(records)
    wrong = []
    for got, record in zip(report.releases, records, strict=True):
        want, have = expected_fields(record, variant), actual_fields(got)
        wrong += [f"{record['id']} {field}" for field in want if want[field] != have[field]]
    return wrong


@pytest.mark.parametrize("variant", AXES, ids=variant_id)
def test_rendered_files_read_back_exactly(variant: Variant, tmp_path: Path) -> None:
    """Synthetic releases (numbers, capitals, accents, curly quotes, end marks inside lines) written
    as each axis varies the format: every field comes back."""
    batch = records(vocabulary(), 6, seed=len(repr(variant)))
    assert check_rendered(batch, variant, tmp_path) == []


def test_parse_accuracy_over_rendered_synthetic_files(tmp_path: Path) -> None:
    """Every axis at once, chosen at random for each of 100 files."""
    rng = random.Random(17)
    files = group_records(records(vocabulary(), 350, seed=9), rng)[:100]
    wrong = [check_rendered(batch, random_variant(rng), tmp_path / str(n)) for n, batch in enumerate(files)]
    assert [item for items in wrong for item in items] == []


def rendered_corpus_files_read_back(corpus_records: CorpusLoader, tmp_path: Path) -> None:
    """Real releases, with their mess: exactly along each axis, and at least 99.5% of them with every
    field right when all axes vary at random."""
    failed = {}
    for variant in AXES:
        batch = corpus_records(6, seed=len(repr(variant)))
        wrong = check_rendered(batch, variant, tmp_path / variant_id(variant).replace("/", "_"))
        if wrong:
            failed[variant_id(variant)] = wrong
    assert failed == {}
    rng = random.Random(31)
    files = group_records(corpus_records(1100, seed=5), rng)[:300]
    right = total = 0
    for number, batch in enumerate(files):
        folder = tmp_path / str(number)
        wrong = check_rendered(batch, random_variant(rng), folder)
        total += len(batch)
        right += len(batch) - len({item.split()[0] for item in wrong})
    accuracy = right / total
    print(f"parse accuracy: {accuracy:.2%} of {total} releases in {len(files)} files (every field right)")
    assert accuracy >= 0.995


def shared_json_lines_files_read_whole(shared_dir: Path) -> None:
    """A corpus (the big two, 85k releases and ~10 s, are covered by samples and the bench) and the IR
    collections, whose records have extra keys and some neither title nor body."""
    for name in ("isaf-pr",):
        path = shared_dir / "corpora" / name / "releases.jsonl.gz"
        report = read_file(path, root=shared_dir)
        lines = gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")
        rows = [json.loads(line) for line in lines if line.strip()]
        assert report.error is None and report.warnings == ()
        assert [r.id for r in report.releases] == [row["id"] for row in rows]
        assert report.releases[0].date == date.fromisoformat(rows[0]["date"])
        assert report.path == f"corpora/{name}/releases.jsonl.gz"
        assert unpacked_size(path, path.stat().st_size) == len("\n".join(lines).encode("utf-8"))
    for name, count in (("cranfield", 1398), ("time", 423), ("cisi", 1460)):
        report = read_file(shared_dir / "ir" / name / "docs.jsonl")
        assert report.error is None and len(report.releases) == count
        assert all(w.endswith("record has neither title nor body, skipped") for w in report.warnings)
    time_doc = read_file(shared_dir / "ir" / "time" / "docs.jsonl").releases[0]
    assert time_doc.id == "1" and time_doc.title == "" and time_doc.body.startswith("THE ALLIES AFTER NASSAU")


@pytest.mark.shared
def test_real_files_read_back(corpus_records: CorpusLoader, shared_dir: Path, tmp_path: Path) -> None:
    """The shared files as they are, and corpus releases rendered in the text format: one test, so that
    a clone without ../shared skips one."""
    shared_json_lines_files_read_whole(shared_dir)
    rendered_corpus_files_read_back(corpus_records, tmp_path)
    shards_read_their_share_of_corpus_files(corpus_records, tmp_path / "shares")


# --- the text format, case by case ------------------------------------------------------------------------


def test_without_end_marks_the_title_line_before_a_source_line_starts_the_next_release(
    tmp_path: Path,
) -> None:
    text = release_text("First", "A", "2020-01-01", "Para one.\n\nPara two.", None) + release_text(
        "Second", "B", "2020-01-02", "Only para.", None
    )
    first, second = read_file(write(tmp_path, "a.txt", text)).releases
    assert (first.title, first.body) == ("First", "Para one.\n\nPara two.")
    assert (second.title, second.body) == ("Second", "Only para.")


def test_text_after_an_end_mark_is_dropped_and_headers_stripped_before_any_title(tmp_path: Path) -> None:
    text = (
        " date 2000-01-01 First   release\n(source:US ;  Issued:  Jan. 3, 2020 )\nBody one.\n- 30 -\n"
        "Contact: press office\n\n\n date 2000-01-01  Second\n\n(SOURCE: B; issued 3 January 2020)\n"
        "Body two\n###\n"
    )
    first, second = read_file(write(tmp_path, "a.txt", text)).releases
    assert (first.title, first.issuer, first.body) == ("First release", "US", "Body one.")
    assert (second.title, second.body) == ("Second", "Body two")
    assert first.date == second.date == date(2020, 1, 3)


def test_issuer_may_hold_parentheses_and_date_a_time_zone(tmp_path: Path) -> None:
    text = release_text("T", "Barbara Lee (D-CA)", "Jan. 3, 2020 10:30 AM (EST)", "Body.")
    got = only_release(read_file(write(tmp_path, "a.txt", text)))
    assert (got.issuer, got.date) == ("Barbara Lee (D-CA)", date(2020, 1, 3))


def test_unparseable_date_keeps_the_release_and_warns(tmp_path: Path) -> None:
    text = release_text("One", "A", "Jan. 3, 2020", "B1") + release_text("Two", "A", "Jnuary 45", "B2")
    report = read_file(write(tmp_path, "a.txt", text))
    assert [r.date for r in report.releases] == [date(2020, 1, 3), None]
    assert report.warnings == ("release 2: unparseable date 'Jnuary 45'",)


def test_cp1252_curly_quotes_and_utf16_come_out_right(tmp_path: Path) -> None:
    body = "\u201cWe remain resolute,\u201d the official said \u2014 twice."
    text = release_text("Quotes \u2019n\u2019 dashes", "A", "2020-01-03", body)
    for encoding in ("cp1252", "utf-16", "utf-8-sig"):
        got = only_release(read_file(write(tmp_path, f"{encoding}.txt", text.encode(encoding))))
        assert (got.title, got.body) == ("Quotes \u2019n\u2019 dashes", body)


def test_file_without_source_line_is_an_error(tmp_path: Path) -> None:
    report = read_file(write(tmp_path, "a.txt", "A title\n\nSome text that is not a release.\n"))
    assert report.error == NO_RELEASE and report.releases == ()
    assert report.file_hash  # the bytes were read: the indexer can still record them


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "empty file"),
        (b" \r\n\t\n  ", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary or undecodable file (NUL bytes)"),
        ("Title\n(Source: A; issued 2020)\n".encode("utf-16-le"), "binary or undecodable file (NUL bytes)"),
        (b"Title \x81\x8d\xc3(\n(Source: A; issued 2020-01-01)\n", "binary or undecodable file (neither"),
        (b"\xef\xbb\xbfTitle \xff\n(Source: A; issued 2020-01-01)\n", "binary or undecodable file (invalid"),
    ],
    ids=["empty", "whitespace", "png", "utf16-without-bom", "not-cp1252", "bad-utf8-after-bom"],
)
def test_broken_text_files_are_errors_not_exceptions(content: bytes, error: str, tmp_path: Path) -> None:
    report = read_file(write(tmp_path, "broken.txt", content))
    assert report.error is not None and report.error.startswith(error)
    assert report.releases == ()


def test_os_errors_are_reported(tmp_path: Path) -> None:
    assert read_file(tmp_path / "missing.txt").error == "no such file or directory"
    assert read_file(tmp_path).error == "is a directory"
    os.mkfifo(tmp_path / "pipe.txt")
    assert read_file(tmp_path / "pipe.txt").error == "not a regular file"  # and does not hang


def test_permission_denied_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.txt", release_text("T", "A", "2020-01-01", "B"))
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip(
                "running as a user who can read a mode-000 file (root): cannot test permission denied"
            )
        assert read_file(path).error == "permission denied"
    finally:
        path.chmod(0o644)


def test_permission_denied_is_reported_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "secret.txt", release_text("T", "A", "2020-01-01", "B"))

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(reader, "open", refuse, raising=False)  # the reader's own `open` only
    assert read_file(path).error == "permission denied"


def test_files_above_the_size_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", 64)
    path = write(tmp_path, "big.txt", release_text("T", "A", "2020-01-01", "B" * 100))
    error = read_file(path).error
    assert error is not None and error.startswith("file too large")


# --- JSON Lines -------------------------------------------------------------------------------------------


def test_jsonl_bad_lines_warn_and_the_rest_still_count(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {"id": 7, "title": "T1", "body": "B1", "issuer": " A  B ", "date": "Jan. 3, 2020", "x": 1}
        ),
        "",
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"title": "", "body": "  "}),
        json.dumps({"title": "T2", "body": "B2", "date": "sometime", "url": "https://example.org/2"}),
        json.dumps({"body": "Body only \ud800"}),
    ]
    report = read_file(write(tmp_path, "sub/r.jsonl", "\n".join(lines) + "\n"), root=tmp_path)
    assert report.error is None
    assert [r.id for r in report.releases] == ["7", "sub/r.jsonl#6", "sub/r.jsonl#7"]
    assert [r.position for r in report.releases] == [1, 2, 3]
    assert report.releases[0].issuer == "A B" and report.releases[0].date == date(2020, 1, 3)
    assert report.releases[1].url == "https://example.org/2" and report.releases[1].date is None
    assert report.releases[2].body == "Body only \ufffd"
    assert report.warnings == (
        "line 3: not a JSON object",
        "line 4: not a JSON object",
        "line 5: record has neither title nor body, skipped",
        "line 6: unparseable date 'sometime'",
    )


def test_jsonl_gz_reads_and_a_truncated_one_is_an_error(tmp_path: Path) -> None:
    records = "".join(
        json.dumps({"id": f"r{n}", "title": f"T{n}", "body": "B" * 500}) + "\n" for n in range(50)
    )
    packed = gzip.compress(records.encode())
    assert len(read_file(write(tmp_path, "ok.jsonl.gz", packed)).releases) == 50
    error = read_file(write(tmp_path, "cut.jsonl.gz", packed[: len(packed) // 2])).error
    assert error is not None and error.startswith("corrupt gzip file")
    error = read_file(write(tmp_path, "fake.jsonl.gz", b"not gzip at all")).error
    assert error is not None and error.startswith("corrupt gzip file")


def test_unpacked_size_is_a_gzip_files_text_and_any_other_files_size(tmp_path: Path) -> None:
    """What decides a build's parallelism: the text a file holds, read from a gzip trailer."""
    text = "".join(
        json.dumps({"id": f"r{n}", "title": f"T{n}", "body": f"B{n} " * 300}) + "\n" for n in range(40)
    )
    packed = write(tmp_path, "a.jsonl.gz", gzip.compress(text.encode()))
    assert unpacked_size(packed, packed.stat().st_size) == len(text.encode()) > 3 * packed.stat().st_size
    plain = write(tmp_path, "a.jsonl", text.encode())
    assert unpacked_size(plain, plain.stat().st_size) == len(text.encode())
    for name, data in (("tiny.jsonl.gz", b"\x1f\x8b"), ("fake.jsonl.gz", b"not gzip at all, but long")):
        odd = write(tmp_path, name, data)
        assert unpacked_size(odd, len(data)) >= len(data)
    assert unpacked_size(tmp_path / "gone.jsonl.gz", 100) == 100


def test_jsonl_without_records_is_an_error(tmp_path: Path) -> None:
    assert read_file(write(tmp_path, "r.jsonl", "\n[1]\n\n")).error == "no release found"


# --- a shard's share of a file ------------------------------------------------------------------------------


def assert_each_shard_reads_its_share(path: Path, root: Path | None = None, shards: int = 3) -> None:
    """Each shard's reading (`wanted`: its ids) holds exactly the whole file's releases of the shard, with
    the ids and positions they have in the whole file, and the whole file's warnings and hash."""
    from statementsearch.shards.build import owned

    whole = read_file(path, root)
    shares = [read_file(path, root, owned(shard, shards)) for shard in range(shards)]
    for shard, share in enumerate(shares):
        mine = owned(shard, shards)
        assert share.releases == tuple(release for release in whole.releases if mine(release.id))
        assert (share.error, share.warnings, share.file_hash) == (
            whole.error,
            whole.warnings,
            whole.file_hash,
        )
    assert sum(len(share.releases) for share in shares) == len(whole.releases)


_SPACES = " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000"
_FIELD = st.one_of(st.none(), st.integers(-3, 3), st.text(alphabet=_SPACES + "ab\ud800", max_size=6))
_RECORD = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.none(), st.sampled_from(["", " ", "x", "7"]), st.integers(0, 5)),
        "title": _FIELD,
        "body": _FIELD,
        "issuer": _FIELD,
        "date": st.sampled_from(["2020-01-03", "Jan. 3, 2020", "sometime", " ", ""]),
        "url": _FIELD,
    },
)
_LINE = st.one_of(_RECORD.map(json.dumps), st.sampled_from(["", "  ", "{not json", "[1]", '"text"']))


@given(st.lists(_LINE, min_size=1, max_size=12), st.sampled_from([2, 3]))
@example(['{"title": " \\u2028", "body": "\\u001f"}', '{"body": "b"}', '{"id": 7, "title": "t"}'], 2)
def test_a_shard_reads_its_share_of_any_json_lines_file(lines: list[str], shards: int) -> None:
    """A record not wanted is only checked (is it a release? its date?), never made: the check must
    count exactly the records a whole reading makes, or the positions after it shift."""
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), "part.jsonl", "\n".join(lines))
        assert_each_shard_reads_its_share(path, shards=shards)


def test_a_shard_reads_its_share_of_the_seed(seed_path: Path) -> None:
    assert_each_shard_reads_its_share(seed_path, seed_path.parent)


def shards_read_their_share_of_corpus_files(corpus_records: CorpusLoader, tmp_path: Path) -> None:
    """Corpus records as JSON Lines, some with a body only or neither title nor body, one without an id;
    and in the text format."""
    records = corpus_records(300, seed=5)
    for record in records[::7]:
        record["title"] = ""  # releases with a body only, and some with neither (skipped, warned)
        record["body"] = record["body"] if len(record["body"]) % 3 else " \n "
    del records[10]["id"]  # ids from the line
    packed = gzip.compress("\n".join(json.dumps(record) for record in records).encode("utf-8"))
    assert_each_shard_reads_its_share(write(tmp_path, "corpus.jsonl.gz", packed), tmp_path)
    text = render_text_file(records[:40], random_variant(random.Random(5)))
    assert_each_shard_reads_its_share(write(tmp_path, "text.txt", text), tmp_path)


# --- finding files ----------------------------------------------------------------------------------------


def test_document_suffixes() -> None:
    assert SUPPORTED_SUFFIXES == (".txt", ".text", ".jsonl", ".jsonl.gz")
    assert all(is_document_file(name) for name in ("a.txt", "B.TXT", "c.text", "d.jsonl", "e.JSONL.GZ"))
    assert not any(is_document_file(name) for name in ("a.gz", "a.json", "a.txt.bak", "notes.md"))


def test_scan_is_sorted_recursive_and_skips_hidden_and_other_files(tmp_path: Path) -> None:
    for name in (
        "b.txt",
        "a/z.jsonl",
        "a/b/c.text",
        "a/y.jsonl.gz",
        ".hidden.txt",
        ".git/x.txt",
        "a/.d/e.txt",
    ):
        write(tmp_path, name, "x")
    write(tmp_path, "notes.md", "x")
    files, failures = scan_documents(tmp_path)
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "a/b/c.text",
        "a/y.jsonl.gz",
        "a/z.jsonl",
        "b.txt",
    ]
    assert failures == []


def test_scan_follows_symlinks_without_looping(tmp_path: Path) -> None:
    write(tmp_path, "docs/a/one.txt", "x")
    (tmp_path / "docs" / "a" / "loop").symlink_to(tmp_path / "docs")  # a -> docs -> a -> ...
    (tmp_path / "docs" / "self").symlink_to(".")
    write(tmp_path, "elsewhere/two.txt", "x")
    (tmp_path / "docs" / "linked").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "docs" / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    files, failures = scan_documents(tmp_path / "docs")
    assert [f.relative_to(tmp_path / "docs").as_posix() for f in files] == ["a/one.txt", "linked/two.txt"]
    assert [(f.path, f.reason) for f in failures] == [("gone.txt", "broken symbolic link")]


def test_unreadable_folder_is_a_failure_and_the_scan_goes_on(tmp_path: Path) -> None:
    write(tmp_path, "ok/one.txt", "x")
    locked = tmp_path / "locked"
    write(tmp_path, "locked/two.txt", "x")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who can list a mode-000 folder (root): cannot test it")
        files, failures = scan_documents(tmp_path)
        assert [f.name for f in files] == ["one.txt"]
        assert [(f.path, f.reason) for f in failures] == [("locked", "permission denied")]
    finally:
        locked.chmod(0o755)


def test_unlistable_folder_is_a_failure_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "ok/one.txt", "x")
    write(tmp_path, "locked/two.txt", "x")
    real_scandir = os.scandir

    def scandir(path: Path) -> Any:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    files, failures = scan_documents(tmp_path)
    assert [f.name for f in files] == ["one.txt"]
    assert [(f.path, f.reason) for f in failures] == [("locked", "permission denied")]


def test_read_paths_takes_files_folders_and_missing_paths(seed_path: Path, tmp_path: Path) -> None:
    write(tmp_path, "docs/dod/2020-01.txt", release_text("T", "US DoD", "Jan. 3, 2020", "B"))
    write(tmp_path, "docs/empty.txt", "")
    reports = list(read_paths([seed_path, tmp_path / "docs", tmp_path / "nope.txt"]))
    assert [(r.path, r.error) for r in reports] == [
        (seed_path.as_posix(), None),
        ("dod/2020-01.txt", None),
        ("empty.txt", "empty file"),
        ((tmp_path / "nope.txt").as_posix(), "no such file or directory"),
    ]
    assert reports[1].releases[0].id == "dod/2020-01.txt#1"


# --- file names -------------------------------------------------------------------------------------------


def test_a_name_that_is_not_utf8_gets_a_printable_id_that_leads_back_to_the_file(tmp_path: Path) -> None:
    """A Latin-1 name from an old archive: its id is valid, printable text, and names the file again."""
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt"), "wb") as handle:
        handle.write(release_text("Cafe opens", "City Hall", "Jan. 3, 2020", "Coffee.").encode("utf-8"))
    files, failures = scan_documents(tmp_path)
    assert failures == [] and len(files) == 1
    report = read_file(files[0], tmp_path)
    assert report.path == "caf%E9.txt" and only_release(report).id == "caf%E9.txt#1"
    json.dumps(report.releases[0].to_dict(), ensure_ascii=False).encode("utf-8")  # no lone surrogate
    assert (tmp_path / unescape_name(report.path)).read_bytes() == files[0].read_bytes()


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (b"plain.txt", "plain.txt"),
        (b"caf\xc3\xa9.txt", "café.txt"),  # UTF-8 names are kept as they are
        (b"50%off.txt", "50%off.txt"),  # a % that cannot read as an escape too
        (b"caf%E9.txt", "caf%25E9.txt"),  # one that could is escaped itself
        (b"caf\xe9.txt", "caf%E9.txt"),
        (b"two\nlines\x1b[31m.txt", "two%0Alines%1B[31m.txt"),  # control characters
        (b"\xc2\x9b.txt", "%C2%9B.txt"),  # a C1 control character (a terminal's CSI)
    ],
)
def test_names_are_escaped_only_where_needed(raw: bytes, name: str) -> None:
    assert document_name(Path(os.fsdecode(raw))) == name
    assert os.fsencode(unescape_name(name)) == raw


@given(st.binary(min_size=1, max_size=40).filter(lambda raw: b"/" not in raw and b"\0" not in raw))
@example(b"%%E9\xe9%4")
@example(b"%A\xff")
def test_every_name_escapes_to_printable_utf8_and_back(raw: bytes) -> None:
    name = document_name(Path(os.fsdecode(raw)))
    name.encode("utf-8")  # valid Unicode: no lone surrogate
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in name)  # no control character
    assert os.fsencode(unescape_name(name)) == raw


def test_read_paths_names_files_inside_the_documents_folder_as_the_index_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "documents"
    write(docs, "dod/2020-01.txt", release_text("T", "US DoD", "Jan. 3, 2020", "B"))
    write(tmp_path, "elsewhere/x.txt", release_text("T", "US DoD", "Jan. 3, 2020", "B"))
    as_given = [docs / "dod" / "2020-01.txt", docs / "dod", docs, tmp_path / "documents" / ".." / "documents"]
    for path in as_given:
        assert [r.releases[0].id for r in read_paths([path], docs)] == ["dod/2020-01.txt#1"], path
    monkeypatch.chdir(tmp_path)  # relative names, and "./documents" as the CLI's default is written
    assert [r.path for r in read_paths([Path("documents/dod")], Path("./documents"))] == ["dod/2020-01.txt"]
    outside = tmp_path / "elsewhere"
    assert not is_inside(outside, docs) and is_inside(docs / "dod", docs)
    assert [r.path for r in read_paths([outside], docs)] == ["x.txt"]
    assert [r.path for r in read_paths([outside / "x.txt"], docs)] == [(outside / "x.txt").as_posix()]


def test_a_folder_reached_through_a_link_counts_as_inside(tmp_path: Path) -> None:
    write(tmp_path, "real/dod/a.txt", release_text("T", "US DoD", "Jan. 3, 2020", "B"))
    (tmp_path / "documents").symlink_to(tmp_path / "real")
    reports = list(read_paths([tmp_path / "real" / "dod"], tmp_path / "documents"))
    assert [r.releases[0].id for r in reports] == ["dod/a.txt#1"]
