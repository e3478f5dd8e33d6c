"""Dates as files and users write them: release dates never guessed, user dates widened to their period."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statementsearch.dates import parse_release_date, parse_user_period, since_date, until_date
from statementsearch.errors import DateError, StatementSearchError

TODAY = date(2024, 3, 31)


@pytest.mark.parametrize(
    "text",
    [
        "Jan. 3, 2020",
        "Sept. 3, 2020",
        "Sep. 3, 2020",
        "3 January 2020",
        "January 3, 2020",
        "2020-01-03",
        "01/03/2020",
        "Friday, January 3, 2020",
        "Jan. 3, 2020 10:30 AM EST",
        "Jan. 3, 2020, 10:30 a.m. EDT",
        "  January 3rd, 2020  ",
    ],
)
def test_release_date_forms_real_archives_write(text: str) -> None:
    expected = date(2020, 9, 3) if text.startswith("Sep") else date(2020, 1, 3)
    assert parse_release_date(text) == expected


def test_numeric_release_dates_are_month_first() -> None:
    assert parse_release_date("03/01/2020") == date(2020, 3, 1)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Jnuary 45",
        "Jan 2020",  # no day
        "2020",  # no month, no day
        "Jan 3",  # no year
        "10:30 AM",  # a time, no date
        "2020-02-30",
        "June 31, 2020",
        "Jan. 3, 1799",
        "Jan. 3, 2201",
        "TBD",
        "x" * 5000,
    ],
)
def test_release_date_is_none_rather_than_a_guess(text: str) -> None:
    assert parse_release_date(text) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_release_date_never_raises(text: str) -> None:
    result = parse_release_date(text)
    assert result is None or 1800 <= result.year <= 2200


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("2020", date(2020, 1, 1), date(2020, 12, 31)),
        ("Jan 2020", date(2020, 1, 1), date(2020, 1, 31)),
        ("2020-01", date(2020, 1, 1), date(2020, 1, 31)),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29)),
        ("February 2021", date(2021, 2, 1), date(2021, 2, 28)),
        ("2020-01-03", date(2020, 1, 3), date(2020, 1, 3)),
        ("Jan 3, 2020", date(2020, 1, 3), date(2020, 1, 3)),
        ("01/03/2020", date(2020, 1, 3), date(2020, 1, 3)),
        (" 2020 ", date(2020, 1, 1), date(2020, 12, 31)),
    ],
)
def test_user_period_covers_the_whole_named_period(value: str, first: date, last: date) -> None:
    assert parse_user_period(value, today=TODAY) == (first, last)
    assert since_date(value, today=TODAY) == first
    assert until_date(value, today=TODAY) == last


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("today", TODAY),
        ("Yesterday", date(2024, 3, 30)),
        ("30d", date(2024, 3, 1)),
        ("2w", date(2024, 3, 17)),
        ("6m", date(2023, 9, 30)),
        ("1y", date(2023, 3, 31)),
        ("30 days ago", date(2024, 3, 1)),
        ("2 weeks ago", date(2024, 3, 17)),
        ("6 months ago", date(2023, 9, 30)),
        ("1 month ago", date(2024, 2, 29)),  # relativedelta: Mar 31 - 1 month is the end of February
        ("1 year ago", date(2023, 3, 31)),
    ],
)
def test_relative_user_dates_name_one_day(value: str, day: date) -> None:
    assert parse_user_period(value, today=TODAY) == (day, day)


def test_relative_dates_default_to_the_real_today() -> None:
    assert since_date("today") == date.today()


def test_dates_and_datetimes_pass_through_aware_ones_in_utc() -> None:
    late_evening_new_york = datetime(2020, 1, 3, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_user_period(late_evening_new_york) == (date(2020, 1, 4), date(2020, 1, 4))
    assert parse_user_period(datetime(2020, 1, 3, 23, 30)) == (date(2020, 1, 3), date(2020, 1, 3))
    assert parse_user_period(date(2020, 1, 3)) == (date(2020, 1, 3), date(2020, 1, 3))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("foo", ""),
        ("", ""),
        ("Jan 3", "no year"),
        ("15", "no year"),
        ("2020-13-01", ""),
        ("10000", "out of range"),
        ("99999999y", "out of range"),
        ("999999999d", "out of range"),
        ("last tuesday-ish", ""),
    ],
)
def test_bad_user_dates_raise_date_error_naming_the_value(value: str, reason: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_user_period(value, today=TODAY)
    message = str(caught.value)
    assert message.startswith(f"invalid date {value!r}")
    assert reason in message
    assert "use forms like 2020-01-31" in message
    assert isinstance(caught.value, StatementSearchError) and isinstance(caught.value, ValueError)


def test_a_date_of_200_characters_is_read_and_a_longer_text_is_not_a_date() -> None:
    """The bound on what dateutil is given, as a number: 200 characters."""
    text = "January" + " " * 185 + "31, 2020"
    assert len(text) == 200 and parse_release_date(text) == date(2020, 1, 31)
    assert parse_release_date("January " + text[7:]) is None


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("1800-01-01", date(1800, 1, 1)),
        ("1799-12-31", None),
        ("2200-12-31", date(2200, 12, 31)),
        ("2201-01-01", None),
    ],
)
def test_issued_dates_from_1800_through_2200_are_dates(text: str, day: date | None) -> None:
    assert parse_release_date(text) == day
