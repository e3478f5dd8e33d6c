"""Documents files -> `Release` records: the text format of the seed file, and JSON Lines (plain or gzip).

Reading never raises on a bad file. An archive of thousands of files always holds a few broken ones, and
one of them must not stop a build: a file that cannot be read at all comes back as a `FileReport` with
`error` set (the reason, fit to print after the path), and a file read with problems keeps its releases
and lists the problems in `warnings`.

The text format, as the seed file shows it (one file may hold many releases):

    TITLE LINE
    (Source: ISSUER; issued DATE)
    BODY, paragraphs separated by blank lines
    (ends)                                  <- optional end mark

A release is found by its Source line; its title is the non-blank line just before it. Without an end
mark the body runs to the next release's title line.

File names become part of release ids (`dod/2020-01.txt#2`), which users type, print and send as JSON, so
a name is written as valid, printable Unicode that maps back to the bytes on disk (`document_name`): a
byte that is not UTF-8 text (a Latin-1 `caf\xe9.txt` from an old archive) and a control character are
written `%XX` (the byte in hex: `caf%E9.txt`), and a `%` that would read as such an escape is written
`%25`. Every other name is kept as it is.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import os
import re
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from statementsearch.dates import parse_release_date
from statementsearch.models import FileFailure, FileReport, Release

__all__ = [
    "MAX_FILE_BYTES",
    "SUPPORTED_SUFFIXES",
    "document_name",
    "file_hash",
    "is_document_file",
    "is_inside",
    "read_file",
    "read_paths",
    "scan_documents",
    "unescape_name",
    "unpacked_size",
]

SUPPORTED_SUFFIXES = (".txt", ".text", ".jsonl", ".jsonl.gz")
MAX_FILE_BYTES = 256 * 1024 * 1024
"""Larger files are refused: a release archive that big is a mistake, and we hold a file in memory whole."""
MAX_UNPACKED_BYTES = 4 * MAX_FILE_BYTES
"""A gzip file may not unpack to more than this (the corpora unpack ~3.3x; a zip bomb unpacks ~1000x)."""

NO_RELEASE = "no release found (expected a '(Source: ISSUER; issued DATE)' line after a title)"

_SOURCE_LINE = re.compile(
    r"\s*\(\s*source\s*:\s*(?P<issuer>.*);\s*issued\s*:?\s*(?P<date>.*?)\s*\)\s*",
    re.IGNORECASE,
)
# (ends) -ends- (end) -end- ### # # # ##### -###- -30- - 30 -: alone on a line, any case, any inner spaces.
_END_MARK = re.compile(
    r"\s*(?:\(\s*ends?\s*\)|-\s*ends?\s*-|-?\s*#(?:\s*#){2,}\s*-?|-\s*30\s*-)\s*", re.IGNORECASE
)
_GLUED_HEADER = re.compile(r"\s*date\s+\d{4}-\d{2}-\d{2}(?:\s+|$)", re.IGNORECASE)
"""A ` date 2000-01-01 ` placeholder some exports glue before a title: never the issued date."""
_BLANK_RUNS = re.compile(r"\n{3,}")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# What `document_name` escapes: undecodable bytes (as surrogateescape gives them), other lone surrogates,
# C0 and C1 control characters and DEL, and a % followed by two hex digits (it would read as an escape).
_NAME_ESCAPES = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]|%(?=[0-9A-Fa-f]{2})")
_NAME_UNESCAPES = re.compile(rb"%([0-9A-Fa-f]{2})")


class _Unreadable(Exception):
    """Internal: the file cannot be read at all; the message becomes FileReport.error."""


@dataclass(frozen=True)
class _Fields:
    """One release as the file states it, before it gets its id and hashes."""

    title: str
    issuer: str
    date: date | None
    body: str
    url: str | None = None
    own_id: str | None = None
    line: int = 0


# --- finding files -------------------------------------------------------------------------------------


def is_document_file(path: Path | str) -> bool:
    """True for the file names the reader understands (case-insensitive suffix)."""
    return str(path).lower().endswith(SUPPORTED_SUFFIXES)


def unpacked_size(path: Path, size: int) -> int:
    """About how many bytes of text a file of `size` bytes holds, without reading it: a gzip file's
    trailer gives its (last member's) unpacked size modulo 4 GiB; other files are their size.

    The work of indexing a file follows its text, not its bytes on disk (the corpora unpack ~3.3x)."""
    if size < 18 or not path.name.lower().endswith(".gz"):
        return size
    try:
        with path.open("rb") as packed:
            packed.seek(-4, os.SEEK_END)
            trailer = packed.read(4)
    except OSError:
        return size
    return max(size, int.from_bytes(trailer, "little"))


def _os_reason(exc: OSError) -> str:
    """An OSError as a short, path-free reason ("permission denied")."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


def document_name(path: Path, root: Path | None = None) -> str:
    """`path` as ids and reports name it: relative to `root` (POSIX) when root contains it, else the path
    as given; escaped (see the module docstring), so that it is printable, valid Unicode and reversible."""
    inside = _relative_to(path, root) if root is not None else None
    return _escape_name(inside if inside not in (None, ".") else path.as_posix())


def is_inside(path: Path, root: Path) -> bool:
    """Does `root` contain `path` (or is it `root`)? By the names as given, else by absolute and by
    resolved paths, so that `documents/x.txt`, `./documents/x.txt` and a path through a link all count."""
    return _relative_to(path, root) is not None


def _relative_to(path: Path, root: Path) -> str | None:
    """`path` relative to `root` as POSIX ("." for root itself), or None when root does not contain it.

    The names as given first: a link inside the folder to a file outside it still belongs to the folder.
    """
    for resolve in (None, os.path.abspath, os.path.realpath):
        candidate, base = (path, root) if resolve is None else (Path(resolve(path)), Path(resolve(root)))
        try:
            relative = candidate.relative_to(base)
        except ValueError:
            continue
        if ".." not in relative.parts:  # `documents/../x.txt` is not inside documents
            return relative.as_posix()
    return None


def _escape_name(name: str) -> str:
    """Undecodable bytes, control characters and an escape-like `%` written as `%XX` (see module doc)."""
    if name.isprintable() and "%" not in name:  # nearly every name: nothing to escape
        return name
    return _NAME_ESCAPES.sub(lambda match: _percent_bytes(match[0]), name)


def _percent_bytes(char: str) -> str:
    # U+DC80-U+DCFF are surrogateescape's stand-ins for the undecodable bytes 0x80-0xFF.
    undecodable = 0xDC80 <= ord(char) <= 0xDCFF
    raw = char.encode("utf-8", "surrogateescape" if undecodable else "surrogatepass")
    return "".join(f"%{byte:02X}" for byte in raw)


def unescape_name(name: str) -> str:
    """The file name on disk (as Python's os functions take it) of a name `document_name` gave."""
    raw = _NAME_UNESCAPES.sub(lambda match: bytes([int(match[1], 16)]), name.encode("utf-8"))
    return os.fsdecode(raw)


def scan_documents(root: Path, names: Path | None = None) -> tuple[list[Path], list[FileFailure]]:
    """Every supported file under `root` (recursively, sorted), and the directories that could not be read.

    Hidden names are skipped (editor backups, `.git`). Symbolic links are followed, since archives are
    often assembled from links, but a directory already visited (by its resolved path) is not entered
    again, so a link loop ends the walk instead of recursing forever. Failure paths are named by
    `document_name` relative to `names` (default: `root`), like FileReport.path; an unreadable root
    itself is reported under its own name.
    """
    walk = _Walk(root, names or root)
    while walk.pending:
        walk.visit(walk.pending.pop())
    return sorted(walk.files), sorted(walk.failures, key=lambda failure: failure.path)


@dataclass
class _Walk:
    """The state of one scan: an explicit stack instead of recursion, so deep trees cannot overflow."""

    root: Path
    names: Path
    """The folder failures are named relative to (the documents folder, for `parse` of a subfolder)."""
    files: list[Path] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    pending: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pending.append(self.root)

    def visit(self, directory: Path) -> None:
        """List one directory (once per resolved path) and sort its entries."""
        real = os.path.realpath(directory)
        if real in self.seen:
            return
        self.seen.add(real)
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as exc:
            name = document_name(directory, None if directory == self.root else self.names)
            self.failures.append(FileFailure(name, _os_reason(exc)))
            return
        for entry in entries:
            if not entry.name.startswith("."):
                self.take(entry, Path(entry.path))

    def take(self, entry: os.DirEntry[str], path: Path) -> None:
        """A directory to walk, a document, a broken link to report, or nothing."""
        try:
            if entry.is_dir():
                self.pending.append(path)
            elif is_document_file(entry.name) and entry.is_file():
                self.files.append(path)
            elif is_document_file(entry.name) and entry.is_symlink():
                self.failures.append(FileFailure(document_name(path, self.names), "broken symbolic link"))
        except OSError as exc:
            self.failures.append(FileFailure(document_name(path, self.names), _os_reason(exc)))


def read_paths(paths: Iterable[Path], documents: Path | None = None) -> Iterator[FileReport]:
    """Reports for files and folders as a user names them (the `parse` command): folders are scanned.

    Inside the `documents` folder, paths and ids are relative to it, as the index gives them. Elsewhere
    they are relative to the folder named, and a file named alone keeps its path as given.
    """
    for path in paths:
        base = documents if documents is not None and is_inside(path, documents) else None
        try:
            is_folder = path.is_dir()
        except OSError as exc:  # e.g. a parent folder without search permission
            yield FileReport(path=document_name(path, base), error=_os_reason(exc))
            continue
        if not is_folder:
            yield read_file(path, base)  # a missing file reports "no such file or directory"
            continue
        files, failures = scan_documents(path, base)
        for failure in failures:
            yield FileReport(path=failure.path, error=failure.reason)
        for file in files:
            yield read_file(file, root=base or path)


# --- reading one file ----------------------------------------------------------------------------------


def read_file(
    path: Path, root: Path | None = None, wanted: Callable[[str], bool] | None = None
) -> FileReport:
    """Read one documents file; never raises for a bad file (the report's `error` says what is wrong).

    The bytes are read once and everything (hash, releases) comes from that one copy, so a file
    rewritten while we read it still gives a report that agrees with its own `file_hash`.

    With `wanted` (a shard's test of release ids), the report holds only the releases it takes. Their ids
    and positions are those of the whole file, and the warnings are the whole file's. A JSON Lines
    record not wanted is only checked, not made: each shard of a sharded index reads every file.
    """
    rel = document_name(path, root)
    try:
        data = _read_bytes(path)
    except _Unreadable as exc:
        return FileReport(path=rel, error=str(exc))
    except OSError as exc:
        return FileReport(path=rel, error=_os_reason(exc))
    digest = _hash(data)
    try:
        if path.name.lower().endswith(".gz"):
            data = _gunzip(data)
        parse = _parse_jsonl if path.name.lower().endswith((".jsonl", ".jsonl.gz")) else _parse_text
        found, warnings = parse(_decode(data), _by_number(rel, wanted))
    except _Unreadable as exc:
        return FileReport(path=rel, error=str(exc), file_hash=digest)
    releases = tuple(
        _release(fields, rel, position)
        for position, fields in enumerate(found, start=1)
        if fields is not None
    )
    return FileReport(path=rel, releases=releases, warnings=tuple(warnings), file_hash=digest)


_Wanted = Callable[[str | None, int], bool] | None
"""`wanted` as a parser asks it, before a release is made: by its own id (if any) and its line (JSON
Lines) or position (text)."""


def _by_number(rel: str, wanted: Callable[[str], bool] | None) -> _Wanted:
    """`wanted` for a parser, which knows a release's id rule only by number."""
    if wanted is None:
        return None
    return lambda own_id, number: wanted(_release_id(rel, own_id, number))


def _release_id(rel: str, own_id: str | None, number: int) -> str:
    """A release's id: its own, else its file's name and its line (JSON Lines) or position (text)."""
    return own_id if own_id is not None else f"{rel}#{number}"


def file_hash(path: Path) -> str | None:
    """The hash `read_file` gives the file's bytes (to confirm a change cheaply), or None when the file
    cannot be read (`read_file` then says why)."""
    try:
        return _hash(_read_bytes(path))
    except (_Unreadable, OSError):
        return None


def _hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _read_bytes(path: Path) -> bytes:
    """The whole file, refused past MAX_FILE_BYTES (checked before and while reading: it may grow).

    Only regular files: opening a named pipe that happens to end in .txt would wait for a writer forever.
    """
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        raise _Unreadable("is a directory")
    if not stat.S_ISREG(mode):
        raise _Unreadable("not a regular file")
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise _Unreadable(_too_big(size))
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _Unreadable(_too_big(len(data)))
    return data


def _too_big(size: int) -> str:
    return f"file too large ({size / 2**20:.0f} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB)"


def _gunzip(data: bytes) -> bytes:
    """Unpack gzip data (all members), bounded by MAX_UNPACKED_BYTES; a damaged archive is unreadable."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as archive:
            unpacked = archive.read(MAX_UNPACKED_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise _Unreadable(f"corrupt gzip file ({exc})") from None
    if len(unpacked) > MAX_UNPACKED_BYTES:
        raise _Unreadable(f"gzip file unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MiB")
    return unpacked


def _decode(data: bytes) -> str:
    """Bytes -> text with line feeds only. The encoding is detected per file, since archives mix them.

    A BOM decides when present; otherwise UTF-8 when the bytes are valid UTF-8 (a cp1252 file almost
    never is), else cp1252, the usual encoding of old Windows-made releases (curly quotes at 0x91-0x94).
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode_as(data, "utf-16")
    elif b"\x00" in data:
        raise _Unreadable("binary or undecodable file (NUL bytes)")
    elif data.startswith(codecs.BOM_UTF8):
        text = _decode_as(data, "utf-8-sig")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode_as(data, "cp1252", "neither UTF-8 nor cp1252")
    if "\x00" in text:
        raise _Unreadable("binary or undecodable file (NUL characters)")
    if not text.strip():
        raise _Unreadable("empty file")
    return _lf_only(text)


def _lf_only(text: str) -> str:
    """CRLF and lone CR line ends -> LF (copying only text that has a CR)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _decode_as(data: bytes, encoding: str, what: str = "") -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        detail = f"{what or 'invalid ' + encoding}: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        raise _Unreadable(f"binary or undecodable file ({detail})") from None


def _release(fields: _Fields, rel: str, position: int) -> Release:
    """Give parsed fields their id (`_release_id`) and content hash."""
    day = fields.date.isoformat() if fields.date else ""
    content = "\x1f".join((fields.title, fields.issuer, day, fields.body))
    return Release(
        id=_release_id(rel, fields.own_id, fields.line or position),
        title=fields.title,
        issuer=fields.issuer,
        date=fields.date,
        body=fields.body,
        path=rel,
        position=position,
        content_hash=hashlib.blake2b(content.encode("utf-8"), digest_size=16).hexdigest(),
        url=fields.url,
    )


def _one_line(text: str) -> str:
    """Titles and issuers: whitespace runs (tabs, stray line breaks) become one space."""
    return " ".join(text.split())


def _clean_body(lines: Iterable[str]) -> str:
    """Body text as stored: lines right-stripped, blank-line runs collapsed to one, ends stripped."""
    text = "\n".join(line.rstrip() for line in lines)
    if "\n\n\n" in text:  # skip the regex when it has nothing to do: most bodies
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


# --- the text format ------------------------------------------------------------------------------------


def _parse_text(text: str, wanted: _Wanted = None) -> tuple[list[_Fields | None], list[str]]:
    """Releases of a text file, found by their Source lines (see the module docstring); one `wanted`
    does not take is None."""
    lines = text.split("\n")  # not splitlines(): it would also split at U+2028, form feeds and the like
    sources = [index for index, line in enumerate(lines) if _SOURCE_LINE.fullmatch(line)]
    if not sources:
        raise _Unreadable(NO_RELEASE)
    titles = [
        _title_index(lines, source, previous)
        for source, previous in zip(sources, [-1, *sources[:-1]], strict=True)
    ]
    # A body ends where the next release begins: at its title line, or its Source line when it has none.
    stops = [title if title >= 0 else source for title, source in zip(titles[1:], sources[1:], strict=True)]
    found: list[_Fields | None] = []
    warnings: list[str] = []
    for number, (title, source, stop) in enumerate(
        zip(titles, sources, [*stops, len(lines)], strict=True), start=1
    ):
        fields, problem = _text_release(lines, title, source, stop)
        found.append(fields if wanted is None or wanted(None, number) else None)
        if problem:
            warnings.append(f"release {number}: {problem}")
    return found, warnings


def _title_index(lines: list[str], source: int, previous: int) -> int:
    """Index of the title line of the release whose Source line is at `source`, or -1 if it has none.

    The title is the nearest non-blank line above, provided it lies after the previous Source line
    and is not an end mark (then the release simply has no title).
    """
    for index in range(source - 1, previous, -1):
        if lines[index].strip():
            return -1 if _END_MARK.fullmatch(lines[index]) else index
    return -1


def _text_release(lines: list[str], title_at: int, source: int, stop: int) -> tuple[_Fields, str]:
    """One release from its title line, Source line and the line its body cannot reach; plus a warning."""
    match = _SOURCE_LINE.fullmatch(lines[source])
    assert match is not None  # the caller found `source` with this pattern
    body_lines = lines[source + 1 : stop]
    for offset, line in enumerate(body_lines):
        if _END_MARK.fullmatch(line):
            body_lines = body_lines[:offset]
            break
    title = _GLUED_HEADER.sub("", lines[title_at], count=1) if title_at >= 0 else ""
    day_text = match["date"].strip()
    day = parse_release_date(day_text)
    problem = "" if day else f"unparseable date {day_text!r}"
    if title_at < 0:
        problem = "; ".join(filter(None, ["no title line", problem]))
    fields = _Fields(_one_line(title), _one_line(match["issuer"]), day, _clean_body(body_lines))
    return fields, problem


# --- JSON Lines -----------------------------------------------------------------------------------------


def _parse_jsonl(text: str, wanted: _Wanted = None) -> tuple[list[_Fields | None], list[str]]:
    """Releases of a JSON Lines file: one object a line; a bad line is a warning, the rest still count.
    A release `wanted` does not take (by own id and line) is None: it counts for the positions after it."""
    found: list[_Fields | None] = []
    warnings: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):  # JSON strings may hold a raw U+2028
        if _blank(line):
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            record = None
        if not isinstance(record, dict):
            warnings.append(f"line {number}: not a JSON object")
            continue
        is_release, day, problem = _json_checked(record)
        if problem:
            warnings.append(f"line {number}: {problem}")
        if not is_release:
            continue
        own_id = _text_value(record, "id") or None
        found.append(
            _json_release(record, own_id, day, number) if wanted is None or wanted(own_id, number) else None
        )
    if not found:
        raise _Unreadable("no release found")
    return found, warnings


def _text_value(record: dict[str, Any], key: str) -> str:
    """A record's field as text: missing or null is empty, a number becomes its digits."""
    value = record.get(key)
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # json.loads lets "\ud800" through as a lone surrogate, which no encoder (nor the index) accepts.
    return text if text.isascii() else _SURROGATES.sub("\ufffd", text)


def _json_checked(record: dict[str, Any]) -> tuple[bool, date | None, str]:
    """Whether a record is a release (it has a title or a body), its date, and its warning or ''.
    Cheap, for every record, where `_json_release` makes only the wanted ones."""
    if _blank(_text_value(record, "title")) and _blank(_text_value(record, "body")):
        return False, None, "record has neither title nor body, skipped"
    day_text = _text_value(record, "date").strip()
    day = parse_release_date(day_text) if day_text else None
    return True, day, f"unparseable date {day_text!r}" if day_text and day is None else ""


def _blank(text: str) -> bool:
    """Whether text is empty once whitespace goes (as `_one_line` and `_clean_body` make it, and as a
    blank line reads). `isspace()` stops at the first letter, where `strip()` would copy the text."""
    return not text or text.isspace()


def _json_release(record: dict[str, Any], own_id: str | None, day: date | None, line: int) -> _Fields:
    """One record `_json_checked` found a release -> its fields."""
    title = _one_line(_text_value(record, "title"))
    body = _clean_body(_lf_only(_text_value(record, "body")).split("\n"))
    url = _text_value(record, "url") or None
    issuer = _one_line(_text_value(record, "issuer"))
    return _Fields(title, issuer, day, body, url, own_id, line)
