"""Counting matching releases per month (or per year over long spans), and drawing it in a terminal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from .models import TimelineBucket

# Over a span longer than this, months are too many to read: count per year.
MAX_YEARS_BY_MONTH = 10
BAR_WIDTH = 50


def buckets(
    dates: Iterable[date], first: date | None = None, last: date | None = None
) -> tuple[TimelineBucket, ...]:
    """Counts per period from `first` to `last` (default: the dates' own range), empty periods included."""
    days = list(dates)
    if not days:
        return ()
    low = first or min(days)
    high = last or max(days)
    by_year = (high.year - low.year) > MAX_YEARS_BY_MONTH or (
        high.year - low.year == MAX_YEARS_BY_MONTH and high.month > low.month
    )
    counts = Counter(_period(day, by_year) for day in days if low <= day <= high)
    return tuple(TimelineBucket(period, counts.get(period, 0)) for period in _periods(low, high, by_year))


def _period(day: date, by_year: bool) -> str:
    return f"{day.year:04d}" if by_year else f"{day.year:04d}-{day.month:02d}"


def _periods(low: date, high: date, by_year: bool) -> list[str]:
    if by_year:
        return [f"{year:04d}" for year in range(low.year, high.year + 1)]
    out = []
    year, month = low.year, low.month
    while (year, month) <= (high.year, high.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def draw(series: Iterable[TimelineBucket], width: int = BAR_WIDTH) -> list[str]:
    """One line per period: the period, a bar scaled to the largest count, the count."""
    rows = list(series)
    peak = max((b.count for b in rows), default=0)
    lines = []
    for bucket in rows:
        length = round(bucket.count / peak * width) if peak else 0
        bar = "█" * length if length or not bucket.count else "▏"
        lines.append(f"{bucket.period:>7}  {bar:<{width}}  {bucket.count:,}")
    return lines
