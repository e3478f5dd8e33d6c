"""The timeline of a search as an SVG bar chart's geometry, computed on the server (the page runs no script).

The template draws one `<rect>` per period inside a link to the search narrowed to that period; this
module only decides where each bar goes. The SVG is stretched to its box (`preserveAspectRatio="none"`),
so it holds no text: labels are HTML beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..models import TimelineBucket

SLOT_WIDTH = 10
BAR_WIDTH = 8
HEIGHT = 60
# A bar of a period with few matches still shows, and is still a target a pointer can hit.
MIN_BAR_HEIGHT = 1.5
# Fewer periods than this are drawn at this many slots' width, so one month is not one huge bar.
MIN_SLOTS = 12


@dataclass(frozen=True)
class Bar:
    period: str
    count: int
    x: float
    y: float
    height: float
    href: str | None
    """The search narrowed to this period; None for a period without matches (nothing to find)."""

    @property
    def label(self) -> str:
        return f"{self.period}: {self.count:,} release{'' if self.count == 1 else 's'}"


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    peak: int
    total: int

    @property
    def first(self) -> str:
        return self.bars[0].period

    @property
    def last(self) -> str:
        return self.bars[-1].period

    @property
    def by_year(self) -> bool:
        return len(self.first) == 4


def chart(series: Iterable[TimelineBucket], link: Callable[[str], str]) -> Chart | None:
    """Bars for a timeline, each linking (through `link(period)`) to its period; None when empty."""
    buckets = list(series)
    peak = max((b.count for b in buckets), default=0)
    if not peak:
        return None
    bars = tuple(_bar(position, bucket, peak, link) for position, bucket in enumerate(buckets))
    return Chart(
        bars=bars,
        width=max(len(bars), MIN_SLOTS) * SLOT_WIDTH,
        height=HEIGHT,
        peak=peak,
        total=sum(b.count for b in buckets),
    )


def _bar(position: int, bucket: TimelineBucket, peak: int, link: Callable[[str], str]) -> Bar:
    height = max(bucket.count / peak * HEIGHT, MIN_BAR_HEIGHT) if bucket.count else 0.0
    return Bar(
        period=bucket.period,
        count=bucket.count,
        x=position * SLOT_WIDTH + (SLOT_WIDTH - BAR_WIDTH) / 2,
        y=HEIGHT - height,
        height=height,
        href=link(bucket.period) if bucket.count else None,
    )
