"""The timeline's bar geometry (statementsearch.web.chart)."""

from __future__ import annotations

from statementsearch.models import TimelineBucket
from statementsearch.web.chart import HEIGHT, MIN_BAR_HEIGHT, MIN_SLOTS, SLOT_WIDTH, chart


def link(period: str) -> str:
    return f"/search?since={period}&until={period}"


def test_bars_scale_to_the_peak_and_link_their_period() -> None:
    drawn = chart(
        [TimelineBucket("2020-01", 4), TimelineBucket("2020-02", 0), TimelineBucket("2020-03", 1)], link
    )
    assert drawn is not None
    first, empty, small = drawn.bars
    assert (first.height, first.y) == (HEIGHT, 0)
    assert small.height == HEIGHT / 4 and small.y == HEIGHT - HEIGHT / 4
    assert empty.height == 0 and empty.href is None
    assert (
        first.href == link("2020-01")
        and first.label == "2020-01: 4 releases"
        and small.label.endswith("1 release")
    )
    assert [bar.x for bar in drawn.bars] == [1, 1 + SLOT_WIDTH, 1 + 2 * SLOT_WIDTH]
    assert (drawn.peak, drawn.total, drawn.first, drawn.last, drawn.by_year) == (
        4,
        5,
        "2020-01",
        "2020-03",
        False,
    )


def test_a_few_periods_keep_a_minimum_width_and_tiny_counts_still_show() -> None:
    drawn = chart([TimelineBucket("2019", 1000), TimelineBucket("2020", 1)], link)
    assert drawn is not None and drawn.width == MIN_SLOTS * SLOT_WIDTH and drawn.by_year
    assert drawn.bars[1].height == MIN_BAR_HEIGHT


def test_nothing_to_draw() -> None:
    assert chart([], link) is None
    assert chart([TimelineBucket("2020-01", 0)], link) is None
