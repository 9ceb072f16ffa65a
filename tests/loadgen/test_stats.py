"""Percentiles and the per-action figures."""

from __future__ import annotations

import pytest

from movr.loadgen.outcomes import Kind
from movr.loadgen.stats import Recorder, percentile


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0.1) == 1


def test_percentiles_of_few_values_are_actual_values() -> None:
    assert percentile([10.0, 20.0, 30.0], 50) == 20
    assert percentile([10.0, 20.0, 30.0], 95) == 30
    assert percentile([7.0], 99) == 7
    assert percentile([], 50) is None


@pytest.mark.parametrize("p", [0, -1, 100.5])
def test_percentile_rank_must_be_in_range(p: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        percentile([1.0], p)


def test_recorder_summarises_each_action() -> None:
    recorder = Recorder()
    for latency in (10.0, 30.0, 20.0):
        recorder.record("browse", Kind.OK, latency)
    recorder.record("start_ride", Kind.OK, 5.0)
    recorder.record("start_ride", Kind.REFUSED, 4.0, "vehicle_unavailable")
    recorder.record("start_ride", Kind.RATE_LIMITED, 1.0)
    recorder.record("start_ride", Kind.ERROR, None, "timeout")

    browse, start = recorder.summaries(elapsed=2.0)

    assert (browse.action, browse.count, browse.ok, browse.throughput) == ("browse", 3, 3, 1.5)
    assert (browse.p50_ms, browse.max_ms) == (20.0, 30.0)
    assert (start.count, start.ok, start.refused, start.rate_limited, start.errors) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert start.max_ms == 5.0  # a request without a response has no latency
    assert recorder.refusals() == {("start_ride", "vehicle_unavailable"): 1}
    assert recorder.errors() == {("start_ride", "timeout"): 1}
    totals = recorder.totals()
    assert (totals.requests, totals.refused, totals.rate_limited, totals.errors) == (7, 1, 1, 1)
