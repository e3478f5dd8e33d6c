"""Render real corpus records as documents files in the seed's text format, the way archives vary it.

Used by the tests and by bench/parse_accuracy.py: each rendered file comes with what a correct reader must
return (`expected_fields`), so parse accuracy is measured on thousands of realistic files instead of a
handful of hand-written ones. The expectations follow the format, written here from its description and
independently of the reader: a body line that is only an end mark ends the body (the format cannot tell it
from a real end mark), and text that the chosen encoding cannot hold is replaced as the encoder replaces it.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from statementsearch import dedup
from statementsearch.models import Release

CorpusLoader = Callable[..., list[dict[str, Any]]]
"""The `corpus_records` fixture: `(count, seed=0) -> records`."""
OfficeLoader = Callable[[str], list[dict[str, Any]]]
"""The `office_records` fixture: `(issuer) -> records`."""

DATE_FORMS = ("ap", "ap_sep", "day_month", "iso", "long", "us_numeric", "weekday", "with_time")
END_MARKS: tuple[str | None, ...] = (
    "(ends)",
    "-ends-",
    "(end)",
    "-end-",
    "###",
    "# # #",
    "-30-",
    "- 30 -",
    "(ENDS)",
    None,
)
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "utf-16")
NEWLINES = ("\n", "\r\n")
HEADERS = ("none", "first", "all")
SOURCE_STYLES = (
    "(Source: {issuer}; issued {date})",
    "(SOURCE: {issuer}; Issued: {date})",
    "( Source:  {issuer} ;  issued  {date} )",
)
GLUED_HEADER = " date 2000-01-01 "

_AP_MONTHS = (
    "Jan.",
    "Feb.",
    "March",
    "April",
    "May",
    "June",
    "July",
    "Aug.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
)
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_END_LINE = re.compile(r"\s*(\(ends?\)|-ends?-|-?\s*#(\s*#){2,}\s*-?|-30-|- 30 -)\s*", re.IGNORECASE)
"""The spec's end marks alone on a line, plus the half-spaced "# ##" typo that press offices also write.

Written here independently of the reader's own pattern. Longer runs ("# # # # #", "-###-", "#####", all in
the corpora) are not end marks by the spec, so they stay in bodies."""


@dataclass(frozen=True)
class Variant:
    """How one rendered file is written: every choice an archive makes differently."""

    date_form: str = "ap"
    end_mark: str | None = "(ends)"
    encoding: str = "utf-8"
    newline: str = "\n"
    header: str = "first"
    paragraph_gap: int = 3
    """Blank lines written between the body's lines (0 keeps the body's own line breaks)."""
    source_style: int = 0
    title_gap: int = 1
    trailer_gap: int = 4
    trailer_text: bool = False
    """Write a contact line after the end mark: the reader must drop it."""


def random_variant(rng: random.Random) -> Variant:
    """A variant drawn from every axis at once, so combinations get exercised too."""
    end_mark = rng.choice(END_MARKS)
    return Variant(
        date_form=rng.choice(DATE_FORMS),
        end_mark=end_mark,
        encoding=rng.choice(ENCODINGS),
        newline=rng.choice(NEWLINES),
        header=rng.choice(HEADERS),
        paragraph_gap=rng.choice((0, 1, 3)),
        source_style=rng.randrange(len(SOURCE_STYLES)),
        title_gap=rng.choice((0, 1, 2)),
        trailer_gap=rng.randint(1, 5),
        trailer_text=end_mark is not None and rng.random() < 0.3,
    )


def format_date(day: date, form: str) -> str:
    """`day` as archives write it; Sept. and Sep. both occur, so "ap_sep" uses the short one."""
    if form in ("ap", "ap_sep"):
        month = _AP_MONTHS[day.month - 1]
        if form == "ap_sep" and day.month == 9:
            month = "Sep."
        return f"{month} {day.day}, {day.year}"
    formats = {
        "day_month": f"{day.day} {_MONTHS[day.month - 1]} {day.year}",
        "iso": day.isoformat(),
        "long": f"{_MONTHS[day.month - 1]} {day.day}, {day.year}",
        "us_numeric": f"{day.month:02d}/{day.day:02d}/{day.year}",
        "weekday": f"{_WEEKDAYS[day.weekday()]}, {_MONTHS[day.month - 1]} {day.day}, {day.year}",
        "with_time": f"{_AP_MONTHS[day.month - 1]} {day.day}, {day.year} 10:30 AM EST",
    }
    return formats[form]


def release_text(title: str, issuer: str, issued: str, body: str, end: str | None = "(ends)") -> str:
    """One release in the seed's text format (an end mark unless `end` is None), for hand-written files."""
    return f"{title}\n\n(Source: {issuer}; issued {issued})\n\n{body}\n\n{end or ''}\n\n"


def _record_date(record: dict[str, Any]) -> date | None:
    value = record.get("date")
    return date.fromisoformat(value) if value else None


def _release_lines(record: dict[str, Any], variant: Variant, first: bool) -> list[str]:
    """The lines of one release, without line ends."""
    header = GLUED_HEADER if variant.header == "all" or (variant.header == "first" and first) else ""
    day = _record_date(record)
    source = SOURCE_STYLES[variant.source_style].format(
        issuer=record.get("issuer", ""), date=format_date(day, variant.date_form) if day else "n.d."
    )
    lines = [header + record["title"], *[""] * variant.title_gap, source, ""]
    body_lines = record["body"].split("\n")
    for number, line in enumerate(body_lines):
        lines.append(line)
        if number < len(body_lines) - 1:
            lines.extend([""] * variant.paragraph_gap)
    if variant.end_mark is not None:
        lines.extend(["", variant.end_mark])
        if variant.trailer_text:
            lines.extend(["", "Contact: Press Office, 202-555-0100"])
    lines.extend([""] * variant.trailer_gap)
    return lines


def render_text_file(records: list[dict[str, Any]], variant: Variant) -> bytes:
    """The bytes of one documents file holding `records` as releases, written as `variant` says."""
    lines: list[str] = []
    for number, record in enumerate(records):
        lines.extend(_release_lines(record, variant, first=number == 0))
    return variant.newline.join(lines).encode(variant.encoding, errors="replace")


def normalise(text: str) -> str:
    """Whitespace-collapsed text: what the comparison cares about (paragraph layout is tested elsewhere)."""
    return " ".join(text.split())


def _through(text: str, encoding: str) -> str:
    """`text` as it comes back from a file written in `encoding` with replacement."""
    codec = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le"}.get(encoding, encoding)
    return text.encode(codec, errors="replace").decode(codec)


def _body_until_end_mark(body: str) -> str:
    """The body up to its first line that is only an end mark: where any reader of this format stops."""
    kept: list[str] = []
    for line in body.split("\n"):
        if _END_LINE.fullmatch(line):
            break
        kept.append(line)
    return "\n".join(kept)


def expected_fields(record: dict[str, Any], variant: Variant) -> dict[str, Any]:
    """What a correct reader returns for `record` rendered as `variant` (normalised for comparison)."""
    title = normalise(_through(record["title"], variant.encoding))
    return {
        "title": "" if _END_LINE.fullmatch(title) else title,
        "issuer": normalise(_through(record.get("issuer", ""), variant.encoding)),
        "date": _record_date(record),
        "body": normalise(_through(_body_until_end_mark(record["body"]), variant.encoding)),
    }


def actual_fields(release: Release) -> dict[str, Any]:
    """A release's fields normalised the way `expected_fields` is, for a field-by-field comparison."""
    return {
        "title": normalise(release.title),
        "issuer": normalise(release.issuer),
        "date": release.date,
        "body": normalise(release.body),
    }


def body_has_end_mark(record: dict[str, Any]) -> bool:
    """True when the record's own body holds an end-mark line (the format then cuts the body there)."""
    return any(_END_LINE.fullmatch(line) for line in record["body"].split("\n"))


def corpus_files(shared: Path) -> list[Path]:
    """The corpora's JSON Lines files, in a fixed order."""
    return sorted((shared / "corpora").glob("*/releases.jsonl.gz"))


def corpus_lines(shared: Path) -> list[bytes]:
    """Every record line of the corpora, undecoded (decoding all 85,000 would take seconds)."""
    lines: list[bytes] = []
    for path in corpus_files(shared):
        data = gzip.decompress(path.read_bytes())  # one call: faster than streaming through GzipFile
        lines.extend(line for line in data.split(b"\n") if line.strip())
    return lines


def sample_records(lines: list[bytes], count: int, seed: int = 0) -> list[dict[str, Any]]:
    """`count` records, the same ones for the same seed: every k-th line from a seeded offset.

    Taking a stride through all corpora keeps each one's share (and its kind of mess) in the sample;
    only the chosen lines are decoded. The result is shuffled (seeded) so that files mix corpora.
    """
    if not lines or count <= 0:
        return []
    rng = random.Random(seed)
    stride = max(1, len(lines) // count)
    chosen = [json.loads(lines[index]) for index in range(rng.randrange(stride), len(lines), stride)]
    chosen = chosen[:count]
    rng.shuffle(chosen)
    return chosen


def records_of_office(lines: list[bytes], issuer: str) -> list[dict[str, Any]]:
    """Every record of one issuer, in corpus order (only lines that name it are decoded)."""
    name = issuer.encode()
    found = (json.loads(line) for line in lines if name in line)
    return [record for record in found if record.get("issuer") == issuer]


def reposted(record: dict[str, Any], suffix: str = "-repost") -> dict[str, Any]:
    """The release posted again by its office, as sites do: the same text under a "FOR IMMEDIATE
    RELEASE" header, with its own id."""
    return {**record, "id": record["id"] + suffix, "body": "FOR IMMEDIATE RELEASE\n\n" + record["body"]}


def load_corpus_records(shared: Path, count: int, seed: int = 0) -> list[dict[str, Any]]:
    """`count` corpus records chosen as `sample_records` does (for scripts; tests share the lines)."""
    return sample_records(corpus_lines(shared), count, seed)


def group_records(records: list[dict[str, Any]], rng: random.Random) -> list[list[dict[str, Any]]]:
    """Split records into files of 1 to 6 releases each."""
    groups: list[list[dict[str, Any]]] = []
    start = 0
    while start < len(records):
        size = rng.randint(1, 6)
        groups.append(records[start : start + size])
        start += size
    return groups


OFFICE = "Rep. Ada Whitmore (D-OR)"
FURNITURE = (
    "About Ada. Congresswoman Ada Whitmore represents the Fourth District of Oregon, which stretches from "
    "the "
    "southern coast to the Cascade foothills. She serves on the Committee on Transportation and "
    "Infrastructure and on the Committee on Veterans' Affairs, where she works for better roads, safer "
    "bridges, rural broadband and the care that veterans have earned. Before her election she was a "
    "teacher, a county commissioner and the mother of three. Her offices in Eugene, Roseburg and Coos Bay "
    "are open every weekday; constituents who need help with a federal agency, a passport or a benefit "
    "claim are welcome to call or write, and the staff will answer within three business days."
)
"""What an office's site puts on every page: scraped alone, it is the whole body of some releases."""
OWN_TEXT = (
    "Congresswoman Ada Whitmore today announced that the Department of Transportation has approved the "
    "rebuilding of the Coquille River bridge, closed since the winter storms. The work will begin in "
    "the spring and reopen the crossing for the school buses, the fishing fleet and the freight that "
    "the southern coast depends on. Whitmore thanked the county engineers and the tribal council, who "
    "documented the damage within a week of the flood, and said the federal share will cover most of "
    "the cost. Local contractors will be preferred, and the detour through Myrtle Point ends in autumn."
)


def furniture_office() -> tuple[list[dict[str, Any]], list[dict[str, Any]], tuple[str, str], str]:
    """A made-up office as congress-press scraped some (Rep. Speier's 48 pages of her "About" box):
    (first, rest, furniture pair, full). `first` holds two releases whose bodies are the site's
    furniture alone (two statements under one text) and a release with text of its own; `rest` six
    more furniture-only releases under other headlines and a re-post of the full one."""

    def release(rid: str, title: str, body: str, day: str) -> dict[str, Any]:
        return {"id": rid, "title": title, "issuer": OFFICE, "date": day, "body": body}

    pair = ("wh-fiscal-cliff", "wh-veterans-advisory")
    full = release(
        "wh-coquille-bridge",
        "Whitmore Announces Coquille River Bridge Rebuilding",
        OWN_TEXT + " " + FURNITURE,
        "2013-02-04",
    )
    first = [
        release(
            pair[0], "Statement: Whitmore on the Vote to Avert the Fiscal Cliff", FURNITURE, "2013-01-01"
        ),
        release(pair[1], "Advisory: Whitmore to Hold a Veterans Fix-It Event", FURNITURE, "2013-01-09"),
        full,
    ]
    topics = [
        "Farm Bill",
        "Wildfire Season",
        "Rural Broadband",
        "Coast Guard Station",
        "Student Loans",
        "Flood Maps",
    ]
    rest = [
        release(f"wh-{n}", f"Whitmore on the {topic}", FURNITURE, f"2013-03-{n + 10}")
        for n, topic in enumerate(topics)
    ]
    return first, [*rest, reposted(full)], pair, full["id"]


def record_day(record: dict[str, Any]) -> date | None:
    return date.fromisoformat(record["date"]) if record.get("date") else None


def grouped(records: list[dict[str, Any]]) -> tuple[dict[str, dedup.Fingerprint | None], dict[str, str]]:
    """The fingerprints (each office's boilerplate counted over `records`) and near-duplicate groups
    `dedup` gives a set of records: what any build of them must store."""
    found = {r["id"]: (r["issuer"], dedup.shingling(r["title"], r["body"], record_day(r))) for r in records}
    prints = dedup.fingerprints(found)
    entries = (dedup.GroupEntry(r["id"], record_day(r), prints[r["id"]], r["issuer"]) for r in records)
    return prints, dedup.assign_groups(entries)
