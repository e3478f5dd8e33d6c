"""Every date a documents file or a user gives, read through python-dateutil.

Two callers, two policies. A file's issued date is data: when it is ambiguous or incomplete we keep the
release and store no date rather than a guessed one (`parse_release_date` returns None). A user's date is
a question: "2020" or "Jan 2020" names a whole period, and a value we cannot read is the user's error to
fix, so `parse_user_period` raises `DateError` with a message that names the value and shows what works.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from dateutil import parser as _dateparser
from dateutil.relativedelta import relativedelta

from statementsearch.errors import DateError

__all__ = ["parse_release_date", "parse_user_period", "since_date", "until_date"]

RELEASE_YEAR_MIN = 1800
RELEASE_YEAR_MAX = 2200
"""Issued dates outside these years are typos or placeholders, not press releases."""

MAX_DATE_TEXT = 200
"""Longer text is not a date; the bound keeps dateutil's tokenizer from chewing on a whole paragraph."""

# Two defaults that differ in every part: whatever parses to different values under them was not in the
# text. Both years are leap years and both months have 31 days, so a given day never fails to fit one of them.
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2004, 3, 28)

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_RELATIVE = re.compile(
    r"(?P<n>\d{1,9})\s*(?P<unit>d|days?|w|weeks?|m|months?|y|years?)(?:\s+ago)?",
    re.IGNORECASE,
)
_OUT_OF_RANGE = re.compile(r"\d{5,}")
"""Five or more digits in a row: a year past 9999, which dateutil refuses."""
_HINT = 'use forms like 2020-01-31, "Jan 2020", 2020, "30 days ago" or 30d'


def _parse_parts(text: str) -> tuple[datetime, datetime] | None:
    """Parse under both defaults; None when dateutil cannot read the text at all."""
    cleaned = text.replace("(", " ").replace(")", " ").strip()
    if not cleaned or len(cleaned) > MAX_DATE_TEXT:
        return None
    try:
        first = _dateparser.parse(cleaned, default=_DEFAULT_A, ignoretz=True)
        second = _dateparser.parse(cleaned, default=_DEFAULT_B, ignoretz=True)
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    return first, second


def parse_release_date(text: str) -> date | None:
    """The issued date of a release, or None when the text does not name one whole day.

    Never raises and never guesses: a missing year, month or day, or a year outside
    RELEASE_YEAR_MIN..RELEASE_YEAR_MAX, gives None so the caller can warn and keep the release.
    """
    return _release_date(text.strip()) if isinstance(text, str) else None


@lru_cache(maxsize=65536)
def _release_date(stripped: str) -> date | None:
    """parse_release_date's work, cached: an archive repeats the same few dates thousands of times,
    and dateutil (two parses a date) would otherwise be most of the reader's time."""
    if _ISO_DAY.fullmatch(stripped):  # the common case, ~50x faster than dateutil
        try:
            found: date | None = date.fromisoformat(stripped)
        except ValueError:
            found = None
    else:
        parts = _parse_parts(stripped)
        found = parts[0].date() if parts and parts[0].date() == parts[1].date() else None
    if found is None or not RELEASE_YEAR_MIN <= found.year <= RELEASE_YEAR_MAX:
        return None
    return found


def _relative_day(text: str, today: date) -> date | None:
    """The day a relative expression ("yesterday", "30d", "6 months ago") names, or None if it is not one."""
    word = text.lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    match = _RELATIVE.fullmatch(text)
    if match is None:
        return None
    result: date = today - _step(int(match["n"]), match["unit"][0].lower())
    return result


def _step(count: int, unit: str) -> relativedelta:
    """`count` units back; months and years through relativedelta, so Mar 31 - 1 month is Feb 29."""
    if unit == "d":
        return relativedelta(days=count)
    if unit == "w":
        return relativedelta(weeks=count)
    return relativedelta(months=count) if unit == "m" else relativedelta(years=count)


def _absolute_period(text: str) -> tuple[date, date]:
    """The period an absolute date names: a whole year, a whole month or one day.

    Raises DateError when it does not parse or has no year: "Jan 3" is a day of every year, not a period.
    """
    parts = _parse_parts(text)
    if parts is None:
        raise _invalid(text, "out of range" if _OUT_OF_RANGE.search(text) else "")
    first, second = parts
    if first.year != second.year:
        raise _invalid(text, "no year")
    if first.month != second.month:
        if first.day == second.day:  # a day without its month ("2020 15")
            raise _invalid(text, "no month")
        return date(first.year, 1, 1), date(first.year, 12, 31)
    if first.day != second.day:
        start = date(first.year, first.month, 1)
        return start, start + relativedelta(months=1, days=-1)
    return first.date(), first.date()


def _invalid(value: object, reason: str = "") -> DateError:
    """The one message shape for a bad user date: the value as given, why (when known), what works."""
    why = f" ({reason})" if reason else ""
    return DateError(f"invalid date {str(value)!r}{why}: {_HINT}")


def parse_user_period(value: str | date | datetime, *, today: date | None = None) -> tuple[date, date]:
    """The whole period a user's date names, both ends inclusive.

    A year or a month widens to all its days so `--since 2020 --until 2020` means the year 2020.
    Raises DateError naming the value when it does not parse, lacks a year, or is out of range.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(timezone.utc)
        return value.date(), value.date()
    if isinstance(value, date):
        return value, value
    text = " ".join(str(value).split())
    try:
        day = _relative_day(text, today or date.today())
    except (ValueError, OverflowError) as exc:  # e.g. "99999y": before year 1
        raise _invalid(value, "out of range") from exc
    if day is not None:
        return day, day
    return _absolute_period(text)


def since_date(value: str | date | datetime, *, today: date | None = None) -> date:
    """First day of the period, so `since 2020` includes January 1st."""
    return parse_user_period(value, today=today)[0]


def until_date(value: str | date | datetime, *, today: date | None = None) -> date:
    """Last day of the period, so `until 2020` includes December 31st."""
    return parse_user_period(value, today=today)[1]
