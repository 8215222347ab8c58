"""Run the sections, collect one table of measured numbers (and the machine), print it, write JSON."""

from __future__ import annotations

import json
import os
import platform
import resource
import sqlite3
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.bench.burst import KINDS, BurstResult, run_burst
from sandbox.bench.interactive import InteractiveResult, run_interactive
from sandbox.bench.qa import QaResult, run_qa
from sandbox.bench.scale import ScaleResult, median, p95, run_scale_size
from sandbox.bench.strain import FloodResult, LockResult, run_flood, run_lock
from sandbox.bench.sweep import SweepResult, run_sweep
from scheduler.ratelimit import GLOBAL_RATE, PRIVATE_INTERVAL
from scheduler.updates import MAX_QUEUE

SECTIONS = ("burst", "ceiling", "flood", "lock", "scale", "sweep", "interactive", "qa")


@dataclass(frozen=True)
class Sizes:
    burst_people: int = 200
    think: tuple[float, float] = (1.5, 3.0)
    ceiling_people: int = 200
    flood_messages: int = 500
    flood_seconds: float = 60.0
    lock_seconds: float = 30.0
    lock_people: int = 20
    scale: tuple[int, ...] = (10_000, 100_000)
    rss: bool = True
    sweep: tuple[int, ...] = (1_000, 10_000, 100_000)
    sweep_runs: int = 11
    queued_digests: int = 200
    queued_reminders: int = 1_000
    idle_people: int = 20
    busy_people: int = 5
    status_rounds: int = 3
    qa_rounds: int = 5


FULL = Sizes()
QUICK = Sizes(burst_people=10, think=(1.0, 1.2), ceiling_people=10, flood_messages=60, flood_seconds=8.0,
              lock_seconds=12.0, lock_people=4, scale=(1_000, 4_000), rss=False, sweep=(1_000, 10_000), sweep_runs=5,
              queued_digests=20, queued_reminders=100, idle_people=5, busy_people=2, status_rounds=2, qa_rounds=1)


@dataclass
class Row:
    section: str
    size: str
    metric: str
    value: str


@dataclass
class Report:
    mode: str
    machine: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)  # high-water mark after each section
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add(self, section: str, size: str, metric: str, value: str) -> None:
        self.rows.append(Row(section, size, metric, value))

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "machine": self.machine, "elapsed_s": round(self.elapsed, 1),
                "peak_rss_mb": self.peak_rss_mb, "rows": [vars(r) for r in self.rows], "notes": self.notes,
                "data": self.data, "errors": self.errors}


async def run_bench(directory: Path, sizes: Sizes = FULL, only: Iterable[str] = SECTIONS,
                    mode: str = "full") -> Report:
    """Run the chosen sections in ``directory`` (temporary databases) and collect the report."""
    chosen = [s for s in SECTIONS if s in set(only)]
    report = Report(mode, machine())
    started = time.perf_counter()
    for section in chosen:
        t0 = time.perf_counter()
        if section == "burst":
            _burst(report, await run_burst(directory, sizes.burst_people, sizes.think))
        elif section == "ceiling":
            _ceiling(report, await run_burst(directory / "ceiling", sizes.ceiling_people, (0.0, 0.0), limits=False))
        elif section == "flood":
            _flood(report, await run_flood(directory, sizes.flood_messages, sizes.flood_seconds))
        elif section == "lock":
            _lock(report, await run_lock(directory, sizes.lock_seconds, sizes.lock_people))
        elif section == "scale":
            _scale(report, [await run_scale_size(directory, n, measure_rss=sizes.rss) for n in sizes.scale])
        elif section == "sweep":
            _sweep(report, await run_sweep(directory, sizes.sweep, sizes.sweep_runs))
        elif section == "interactive":
            _interactive(report, await run_interactive(directory, sizes.queued_digests, sizes.queued_reminders,
                                                       sizes.idle_people, sizes.busy_people, sizes.status_rounds))
        elif section == "qa":
            _qa(report, run_qa(sizes.qa_rounds))
        report.data.setdefault(section, {})["seconds"] = round(time.perf_counter() - t0, 1)
        report.peak_rss_mb[section] = peak_rss_mb()
    report.elapsed = time.perf_counter() - started
    return report


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


# ----------------------------------------------------------------------------- formatting


def dur(seconds: float) -> str:
    """A duration for people: ms under a second, else seconds."""
    if seconds != seconds:  # NaN: nothing measured
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms" if seconds < 0.01 else f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "-"


def _k(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _burst(report: Report, r: BurstResult) -> None:
    a, e = r.alur, r.echo
    size = f"{r.people} people, {a.interactions} interactions"
    report.add("burst", size, "Alur: throughput", f"{a.throughput:.1f} interactions/s")
    report.add("burst", "", "Alur: latency p50 / p95 / max",
               f"{dur(a.latency(0.5))} / {dur(a.latency(0.95))} / {dur(a.max_latency)}")
    report.add("burst", f"{r.people} people, {e.interactions} messages", "PTB echo bot: throughput",
               f"{e.throughput:.1f} interactions/s")
    report.add("burst", "", "PTB echo bot: latency p50 / p95 / max",
               f"{dur(e.latency(0.5))} / {dur(e.latency(0.95))} / {dur(e.max_latency)}")
    report.add("burst", "", "Alur / echo: p95, max (goal ≤ 1.2×, ≤ 2×)",
               f"{ratio(a.latency(0.95), e.latency(0.95))}, {ratio(a.max_latency, e.max_latency)}")
    for kind in KINDS:
        if a.count(kind):
            report.add("burst", f"{a.count(kind)} × {kind}", "Alur: latency p50 / p95",
                       f"{dur(a.latency(0.5, kind))} / {dur(a.latency(0.95, kind))}")
    for m in (a, e):
        worst, beyond, share = m.overtaking()
        report.add("burst", "", f"{'Alur' if m is a else 'echo'}: overtaken at all / by more than the queue "
                   "ahead / most later arrivals first", f"{share:.0%} / {beyond} / {worst}")
    report.add("burst", "", "messages/s at the server: Alur (incl. notices), echo",
               f"{a.server.messages / a.elapsed:.1f}, {e.server.messages / e.elapsed:.1f}"
               if a.elapsed and e.elapsed else "-")
    report.add("burst", "", "429s / limit violations: Alur, echo",
               f"{a.server.rate_limited} / {a.server.violation_count}, "
               f"{e.server.rate_limited} / {e.server.violation_count}")
    report.notes.append(
        f"burst: people think {r.think[0]:g}-{r.think[1]:g} s between interactions; {r.filers} file a request "
        f"(/ajukan, {a.count('filing') // max(1, r.filers)} steps), {r.askers} ask /status and questions, "
        f"{r.deciders} Kabid tap a decision. Both bots under the same rules: the same ChatRateLimiter "
        f"({GLOBAL_RATE}/s overall, 1 per {PRIVATE_INTERVAL:g} s per chat), the server refusing anything over "
        f"Telegram's limits, {a.concurrent_updates} updates at a time. Alur sent {a.server.messages} messages "
        f"({a.notifications} of them outbox notices), the echo bot one per interaction. 'Overtaken': a later "
        f"interaction answered before this one; 'queue ahead': interactions still unanswered when this one arrived.")
    report.data["burst"] = {
        "people": r.people, "filers": r.filers, "askers": r.askers, "deciders": r.deciders, "think": r.think,
        **{m.bot: _measured(m) for m in (a, e)},
    }
    report.errors += [f"burst/{m.bot}: {err}" for m in (a, e) for err in m.errors]


def _ceiling(report: Report, r: BurstResult) -> None:
    a, e = r.alur, r.echo
    report.add("ceiling", f"{r.people} people, no thinking", "Alur: throughput, p95",
               f"{a.throughput:.1f} interactions/s, {dur(a.latency(0.95))}")
    report.add("ceiling", f"{e.interactions} messages", "PTB echo bot: throughput, p95",
               f"{e.throughput:.1f} interactions/s, {dur(e.latency(0.95))}")
    report.add("ceiling", "", "Alur / echo throughput (goal ≥ 0.8×)", ratio(a.throughput, e.throughput))
    report.notes.append(
        "ceiling: the burst's people and interactions with no thinking time, limits off for both bots (no pacing, "
        "the server only counts), 64 updates at a time for both: what each bot can process, in one process with "
        "the fake server and the simulated people.")
    report.data["ceiling"] = {m.bot: _measured(m) for m in (a, e)}
    report.errors += [f"ceiling/{m.bot}: {err}" for m in (a, e) for err in m.errors]


def _flood(report: Report, r: FloodResult) -> None:
    size = f"{r.messages} messages in {r.seconds:.0f} s"
    report.add("flood", size, "another person's /bantuan p50 / p95, idle",
               f"{dur(median(r.idle))} / {dur(p95(r.idle))}")
    report.add("flood", "", "… during the flood", f"{dur(median(r.during))} / {dur(p95(r.during))}")
    report.add("flood", "", "during / idle p95 (goal ≤ 2×)", ratio(p95(r.during), p95(r.idle)))
    report.add("flood", "", "flooder: replies / notices / dropped", f"{r.flood_replies} / {r.notices} / {r.dropped}")
    report.notes.append(
        f"flood: one registered person sends {r.messages} messages evenly over {r.seconds:.0f} s; each chat queues at "
        f"most {MAX_QUEUE} updates, the excess is dropped with one notice; another person sends /bantuan every 1.1 s "
        "(the same probes before the flood: 'idle').")
    report.data["flood"] = vars(r)
    report.errors += [f"flood: {err}" for err in r.errors]


def _lock(report: Report, r: LockResult) -> None:
    report.add("lock", f"write lock held {r.hold:.0f} s, {r.people} people", "answered / exactly once / extra replies",
               f"{r.answered}/{r.people} / {r.exactly_once}/{r.people} / {r.duplicates}")
    report.add("lock", "", "last answer after the release; polling alive", f"{dur(r.last_after_release)}; "
               f"{'yes' if r.alive else 'NO'}")
    report.notes.append(
        f"lock: another process holds SQLite's write lock for {r.hold:.0f} s (the busy timeout is 10 s); each person "
        "sends /bantuan once while it is held.")
    report.data["lock"] = vars(r)


def _scale(report: Report, sizes: list[ScaleResult]) -> None:
    for r in sizes:
        size = f"{_k(r.cases)} cases, {r.holders} holders"
        report.add("scale", size, "digest round (200 supervisors)",
                   f"{dur(r.round_seconds)} ({r.round_digests} queued)")
        report.add("scale", "", "/status p95: idle / during the round / ratio (goal ≤ 1.5×)",
                   f"{dur(p95(r.status_idle))} / {dur(p95(r.status_round))} / "
                   f"{ratio(p95(r.status_round), p95(r.status_idle))} ({len(r.status_round)} during)")
        report.add("scale", "", "event loop: longest stall during the round", dur(r.loop_lag_max))
        report.add("scale", "", "staff /status p95, /tugas p95", f"{dur(p95(r.staff_status))}, {dur(p95(r.tugas))}")
        report.add("scale", "", "tap on the first /tugas task answered: p95 (goal ≤ 1 s)", dur(p95(r.tap_first)))
        report.add("scale", "", "SLA report over all history (median of 5); first fold",
                   f"{dur(median(r.sla_seconds))}; {dur(r.fold_seconds)}")
        report.add("scale", "", "alur run RSS: no digest / digest day (goal < 150 MB)",
                   f"{r.rss_idle_mb:.0f} MB / {r.rss_digest_mb:.0f} MB" if r.rss_idle_mb and r.rss_digest_mb
                   else (r.rss_note or "-"))
        report.errors += [f"scale {r.cases}: {err}" for err in r.errors]
    if len(sizes) > 1:
        big, small = sizes[-1], sizes[0]
        label = f"{_k(big.cases)} / {_k(small.cases)}"
        report.add("scale", label, "digest round (goal ≤ 2×)", ratio(big.round_seconds, small.round_seconds))
        report.add("scale", "", "staff /status p95, /tugas p95, SLA report (goal ≤ 2×)",
                   f"{ratio(p95(big.staff_status), p95(small.staff_status))}, {ratio(p95(big.tugas), p95(small.tugas))}"
                   f", {ratio(median(big.sla_seconds), median(small.sla_seconds))}")
    report.notes.append(
        "scale: each case has one finished step (with its audit event) and one open step; one holder per 200 cases "
        "per unit and one requester per 100 cases, so a person's own load is the same at both sizes; /status probes "
        "are requesters with real cases; the round is DigestRound.run with people asking /status meanwhile; RSS is "
        "VmHWM from /proc of a real `alur run` on that database (the digest day: until 400 messages went out or 90 s).")
    report.data["scale"] = {"sizes": [vars(r) for r in sizes]}


def _measured(m: Any) -> dict[str, Any]:
    return {
        "interactions": m.interactions, "elapsed_s": m.elapsed, "throughput": m.throughput,
        "p50_s": m.latency(0.5), "p95_s": m.latency(0.95), "messages": m.server.messages,
        "rate_limited": m.server.rate_limited, "violations": m.server.violations, "notifications": m.notifications,
        "by_kind": {k: {"count": m.count(k), "p50_s": m.latency(0.5, k), "p95_s": m.latency(0.95, k)}
                    for k in {s.kind for s in m.samples}},
        "errors": m.errors,
    }


def _bound(rate: int, interactions: int, messages: int) -> str:
    return f"{rate * interactions / messages:.1f}" if messages else "-"


def _rules(violations: dict[str, int]) -> str:
    return ", ".join(f"{n} {rule}" for rule, n in sorted(violations.items())) or "none"


def _sweep(report: Report, r: SweepResult) -> None:
    for s in r.sizes:
        report.add("sweep", f"{_k(s.open_steps)} open steps, {s.due_per_run} due",
                   f"time per sweep (median of {s.runs})", dur(s.median))
        report.add("sweep", f"{_k(s.open_steps)} open steps, 0 due", "time per sweep, nothing due", dur(s.idle_median))
    if len(r.sizes) > 1:
        big, small = r.sizes[-1], r.sizes[0]
        report.add("sweep", f"{_k(big.open_steps)} / {_k(small.open_steps)}", "ratio, 5 due / nothing due",
                   f"{ratio(big.median, small.median)} / {ratio(big.idle_median, small.idle_median)}")
    report.notes.append(
        f"sweep: ReminderSweep.run() on a file database; each timed sweep finds {r.sizes[0].due_per_run} reminders "
        "due (one transaction and one outbox row each); 'nothing due' repeats the sweep in the same minute, so it "
        "times the due-alarm query alone.")
    report.data["sweep"] = {str(s.open_steps): {"median_s": s.median, "idle_median_s": s.idle_median,
                                                "times_s": s.times, "idle_times_s": s.idle_times,
                                                "alarms_sent": s.sent, "fixture_s": s.load_seconds}
                            for s in r.sizes}


def _interactive(report: Report, r: InteractiveResult) -> None:
    size = f"{r.digests} digests + {r.reminders:,} reminders queued"
    report.add("interactive", size, f"/status p50 / p95, {r.idle_people} people, own chat idle",
               f"{dur(r.latency(0.5))} / {dur(r.latency(0.95))}")
    report.add("interactive", "", f"/status p50 / p95, {r.busy_people} with reminders queued",
               f"{dur(r.latency(0.5, busy=True))} / {dur(r.latency(0.95, busy=True))}")
    report.add("interactive", "", "bulk sent meanwhile",
               f"{r.bulk_sent_during} in {dur(r.window_seconds)} ({r.bulk_sent_during / r.window_seconds:.1f}/s)"
               if r.window_seconds else "-")
    report.add("interactive", "", "429s / limit violations",
               f"{r.server.rate_limited} / {r.server.violation_count}")
    report.notes.append(
        "interactive: the bulk is queued by the real sweep and digest round before the bot starts; once the "
        "sender is under way, each person sends /status a few times (thinking 1.5-3 s between); latency runs from "
        "the update reaching the server to the reply reaching it. Replies do not go through the outbox but share "
        "the rate limiter's global window with the sender's messages.")
    report.data["interactive"] = {
        "digests": r.digests, "reminders": r.reminders, "idle_p50_s": r.latency(0.5),
        "idle_p95_s": r.latency(0.95), "busy_p50_s": r.latency(0.5, True), "busy_p95_s": r.latency(0.95, True),
        "idle_latencies_s": sorted(s.latency for s in r.idle), "busy_latencies_s": sorted(s.latency for s in r.busy),
        "bulk_sent_during": r.bulk_sent_during, "window_s": r.window_seconds, "bulk_left": r.bulk_left,
        "rate_limited": r.server.rate_limited, "violations": r.server.violations, "errors": r.errors,
    }
    report.errors += [f"interactive: {err}" for err in r.errors]


def _qa(report: Report, r: QaResult) -> None:
    size = f"{r.questions} dev questions × {r.rounds}"
    report.add("qa", size, "answer p50 / p95", f"{r.warm.p50:.2f} ms / {r.warm.p95:.2f} ms")
    report.add("qa", "", "first round (cold) p50 / p95", f"{r.cold.p50:.2f} ms / {r.cold.p95:.2f} ms")
    report.add("qa", "", "index built once", f"{r.index_ms:.0f} ms")
    report.data["qa"] = {"questions": r.questions, "rounds": r.rounds, "index_ms": r.index_ms,
                         "cold": vars(r.cold), "warm": vars(r.warm)}


# ----------------------------------------------------------------------------- machine and table


def machine() -> dict[str, Any]:
    import telegram

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = int(line.split()[1]) / 1024 / 1024
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count() or 0, "ram_gib": round(ram_gib, 1),
            "os": f"{platform.system()} {platform.release()} {platform.machine()}",
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "python_telegram_bot": telegram.__version__}


def machine_line(m: dict[str, Any]) -> str:
    return (f"{m['cpu']}, {m['cores']} cores, {m['ram_gib']:.1f} GiB RAM, {m['os']}, Python {m['python']}, "
            f"SQLite {m['sqlite']}, python-telegram-bot {m['python_telegram_bot']}")


def render(report: Report) -> str:
    headers = ("section", "size", "metric", "value")
    cells = [headers, *[(r.section, r.size, r.metric, r.value) for r in report.rows]]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    sep = "+".join("-" * (w + 2) for w in widths)

    def line(c: tuple[str, ...]) -> str:
        return "|".join(f" {v:<{w}} " for v, w in zip(c, widths, strict=True)).rstrip()

    out = [f"alur bench ({report.mode}) — {report.elapsed:.0f} s", f"Machine: {machine_line(report.machine)}", "",
           line(headers), sep]
    previous = None
    for r in report.rows:
        if previous is not None and r.section != previous:
            out.append(sep)
        out.append(line((r.section if r.section != previous else "", r.size, r.metric, r.value)))
        previous = r.section
    out.append("")
    out += [f"* {note}" for note in report.notes]
    if report.errors:
        out.append(f"! {len(report.errors)} interaction(s) failed: " + "; ".join(report.errors[:5]))
    return "\n".join(out)


# ----------------------------------------------------------------------------- command line


def main(quick: bool = False, only: list[str] | None = None, json_path: Path | None = None) -> int:
    import asyncio

    chosen = [name for item in only or [] for name in item.split(",") if name] or list(SECTIONS)
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        print(f"Bagian tidak dikenal: {', '.join(unknown)} (pilihan: {', '.join(SECTIONS)})")
        return 2
    with tempfile.TemporaryDirectory(prefix="alur-bench-") as tmp:
        report = asyncio.run(run_bench(Path(tmp), QUICK if quick else FULL, chosen, "quick" if quick else "full"))
    print(render(report))
    if json_path is not None:
        json_path.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False, default=str) + "\n",
                             encoding="utf-8")
        print(f"\nJSON: {json_path}")
    return 1 if report.errors else 0
