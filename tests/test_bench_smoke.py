"""`alur bench` still runs: its smallest pieces produce a well-formed table (no timing is asserted)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sandbox.bench.run import Sizes, render, run_bench

pytestmark = pytest.mark.timeout(120)

SMOKE = Sizes(burst_people=10, think=(0.0, 0.1), sweep=(1_000,), sweep_runs=3)


async def test_quick_burst_and_sweep_give_a_well_formed_table(tmp_path: Path) -> None:
    report = await run_bench(tmp_path, SMOKE, only=("sweep", "burst"), mode="smoke")

    assert report.errors == []
    burst = report.data["burst"]
    for bot in ("alur", "echo"):
        measured = burst[bot]
        assert measured["interactions"] == burst["alur"]["interactions"] > 0
        assert all(math.isfinite(measured[k]) and measured[k] > 0 for k in ("throughput", "p50_s", "p95_s"))
    for bot in ("alur", "echo"):  # the same rules for both: paced by the same limiter, nothing refused
        assert burst[bot]["rate_limited"] == 0 and burst[bot]["violations"] == {}
    sweep = report.data["sweep"]["1000"]
    assert sweep["alarms_sent"] == 3 * 5 and sweep["median_s"] > 0 and sweep["idle_median_s"] > 0

    table = render(report)
    assert "Machine:" in table and "Alur / echo" in table and "overtaken" in table
    assert {r.section for r in report.rows} == {"burst", "sweep"}
    assert all(r.value and r.value != "-" for r in report.rows)
