"""Matches per period (timeline.py, `StatementIndex.timeline`): months or years, empty periods included,
counts equal to the matching releases, on the seed's neighbours and on an index of several segments."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from statementsearch import StatementIndex
from statementsearch.analysis import term_for
from statementsearch.models import TimelineBucket
from statementsearch.timeline import BAR_WIDTH, buckets, draw
from synthetic import SyntheticIndex


def test_timeline_counts_equal_hit_counts_per_month(mixed: tuple[StatementIndex, Path]) -> None:
    ix, _ = mixed
    series = ix.timeline("farm")
    assert [(b.period, b.count) for b in series] == [
        ("2019-01", 1),
        ("2019-02", 0),
        ("2019-03", 2),
        ("2019-04", 0),
        ("2019-05", 0),
        ("2019-06", 0),
        ("2019-07", 0),
        ("2019-08", 0),
        ("2019-09", 0),
        ("2019-10", 0),
        ("2019-11", 0),
        ("2019-12", 0),
        ("2020-01", 0),
        ("2020-02", 1),
    ]
    hits = ix.search("farm", limit=100, collapse=False).hits
    per_month = Counter(h.date[:7] for h in hits if h.date)
    assert {b.period: b.count for b in series if b.count} == dict(per_month)
    assert sum(b.count for b in series) == len(hits)


def test_timeline_window_and_filters(mixed: tuple[StatementIndex, Path]) -> None:
    ix, _ = mixed
    assert [b.period for b in ix.timeline("farm", since="2019-03", until="2019-04")] == ["2019-03", "2019-04"]
    assert sum(b.count for b in ix.timeline("farm", issuer="Navy")) == 0


def test_timeline_is_yearly_beyond_ten_years() -> None:
    series = buckets([date(2001, 5, 1), date(2012, 1, 1), date(2012, 6, 1)])
    assert [b.period for b in series][:2] == ["2001", "2002"] and series[-1].count == 2
    assert len(series) == 12
    assert draw(series)[0].startswith("   2001  ")


def test_timeline_is_monthly_up_to_ten_years() -> None:
    series = buckets([date(2001, 5, 1), date(2011, 5, 31)])
    assert len(series) == 121 and series[0].period == "2001-05" and series[-1].period == "2011-05"
    assert buckets([date(2001, 5, 1), date(2011, 6, 1)])[0].period == "2001"


def test_draw_scales_bars_to_the_busiest_period() -> None:
    series = (
        TimelineBucket("2020-01", 200),
        TimelineBucket("2020-02", 100),
        TimelineBucket("2020-03", 0),
        TimelineBucket("2020-04", 1),
        TimelineBucket("2020-05", 1_500),
    )
    lines = draw(series)
    assert lines[4] == f"2020-05  {'█' * BAR_WIDTH}  1,500"
    assert lines[0] == f"2020-01  {'█' * 7:<{BAR_WIDTH}}  200"  # 200/1500 of the width, rounded
    assert lines[1] == f"2020-02  {'█' * 3:<{BAR_WIDTH}}  100"
    assert lines[2] == f"2020-03  {'':<{BAR_WIDTH}}  0"
    assert lines[3] == f"2020-04  {'▏':<{BAR_WIDTH}}  1"  # too small for a block, but not nothing
    assert draw(()) == []


def test_timeline_on_several_segments(segmented: SyntheticIndex, segmented_ix: StatementIndex) -> None:
    """Counts per month are the live releases' (none deleted, none from another segment's numbering)."""
    word = segmented.vocabulary.words[3]
    matching = segmented.ids(term_for(word), date=lambda d: d is not None)
    months = Counter(f"{d:%Y-%m}" for d in (segmented.releases[i].date for i in matching) if d)
    series = segmented_ix.timeline(word)
    assert {b.period: b.count for b in series if b.count} == dict(months)
    assert series[0].period == min(months) and series[-1].period == max(months)
    window = segmented_ix.timeline(word, since="2007-01", until="2007-12")
    assert [(b.period, b.count) for b in window] == [
        (f"2007-{m:02d}", months[f"2007-{m:02d}"]) for m in range(1, 13)
    ]
