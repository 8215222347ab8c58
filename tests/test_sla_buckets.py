"""SLA histograms keep minutes exactly below 50 and within 1% above, so their size is bounded
whatever the number of completed steps (a report over all history stays flat as an agency grows)."""

from __future__ import annotations

from bot.storage.sla import DailyStats, bucket
from bot.workflow.analytics import _median


def test_small_durations_are_exact_and_large_ones_within_one_percent() -> None:
    assert [bucket(m) for m in (0, 1, 20, 49)] == [0, 1, 20, 49]
    for minutes in range(50, 200_000, 7):
        kept = bucket(minutes)
        assert abs(kept - minutes) <= 0.01 * minutes + 0.5, minutes
    kept_values = [bucket(m) for m in range(0, 50_000)]
    assert kept_values == sorted(kept_values)  # never reorders durations: medians keep their rank


def test_a_histogram_stops_growing_with_the_number_of_steps() -> None:
    stats = DailyStats("sop", "2", "", "tu")
    for i in range(200_000):
        minutes = (i * 7919) % 6_000  # every duration up to 100 working hours
        stats.add(minutes, 480, on_time=minutes <= 480)
    assert stats.count == 200_000
    assert len(stats.taken) < 50 + 250  # exact below 50, then one value per 2% step up to 6000
    assert len(stats.standard) == 1
    median = _median(stats.taken)
    assert abs(median - 3000) <= 0.011 * 3000
