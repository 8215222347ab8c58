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
from sandbox.bench.digest import DigestResult, run_digest
from sandbox.bench.interactive import InteractiveResult, run_interactive
from sandbox.bench.qa import QaResult, run_qa
from sandbox.bench.sweep import SweepResult, run_sweep
from scheduler.ratelimit import GLOBAL_RATE, PRIVATE_INTERVAL

SECTIONS = ("burst", "sweep", "digest", "interactive", "qa")


@dataclass(frozen=True)
class Sizes:
    burst_people: int = 200
    think: tuple[float, float] = (1.5, 3.0)
    sweep: tuple[int, ...] = (1_000, 10_000, 100_000)
    sweep_runs: int = 11
    supervisors: int = 200
    cases: int = 50_000
    queued_digests: int = 200
    queued_reminders: int = 1_000
    idle_people: int = 20
    busy_people: int = 5
    status_rounds: int = 3
    qa_rounds: int = 5


FULL = Sizes()
QUICK = Sizes(burst_people=10, think=(1.0, 1.2), sweep=(1_000, 10_000), sweep_runs=5, supervisors=20, cases=2_000,
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
        elif section == "sweep":
            _sweep(report, await run_sweep(directory, sizes.sweep, sizes.sweep_runs))
        elif section == "digest":
            _digest(report, await run_digest(directory, sizes.supervisors, sizes.cases))
        elif section == "interactive":
            _interactive(report, await run_interactive(directory, sizes.queued_digests, sizes.queued_reminders,
                                                       sizes.idle_people, sizes.busy_people, sizes.status_rounds))
        elif section == "qa":
            _qa(report, run_qa(sizes.qa_rounds))
        report.data.setdefault(section, {})["seconds"] = round(time.perf_counter() - t0, 1)
        report.peak_rss_mb[section] = peak_rss_mb()
    report.add("memory", "bench process", "peak RSS (bot + fake server + simulated people)",
               f"{peak_rss_mb():.0f} MB")
    if len(report.peak_rss_mb) > 1:
        report.add("memory", "", "high-water mark after " + " / ".join(report.peak_rss_mb),
                   " / ".join(f"{v:.0f}" for v in report.peak_rss_mb.values()) + " MB")
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
    report.add("burst", "", "Alur: latency p50 / p95", f"{dur(a.latency(0.5))} / {dur(a.latency(0.95))}")
    report.add("burst", f"{r.people} people, {e.interactions} messages", "PTB echo bot: throughput",
               f"{e.throughput:.1f} interactions/s")
    report.add("burst", "", "PTB echo bot: latency p50 / p95", f"{dur(e.latency(0.5))} / {dur(e.latency(0.95))}")
    report.add("burst", "", "Alur / echo: throughput, p95", f"{ratio(a.throughput, e.throughput)}, "
               f"{ratio(a.latency(0.95), e.latency(0.95))}")
    for kind in KINDS:
        if a.count(kind):
            report.add("burst", f"{a.count(kind)} × {kind}", "Alur: latency p50 / p95",
                       f"{dur(a.latency(0.5, kind))} / {dur(a.latency(0.95, kind))}")
    report.add("burst", "", "messages/s at the server: Alur (incl. notices), echo",
               f"{a.server.messages / a.elapsed:.1f}, {e.server.messages / e.elapsed:.1f}"
               if a.elapsed and e.elapsed else "-")
    report.add("burst", "", "429s / limit violations: Alur, echo",
               f"{a.server.rate_limited} / {a.server.violation_count}, "
               f"{e.server.rate_limited} / {e.server.violation_count}")
    report.notes.append(
        f"burst: people think {r.think[0]:g}-{r.think[1]:g} s between interactions; {r.filers} file a request "
        f"(/ajukan, {a.count('filing') // max(1, r.filers)} steps), {r.askers} ask /status and questions, "
        f"{r.deciders} Kabid tap a decision. Alur sent {a.server.messages} messages ({a.notifications} of them "
        f"outbox notices) within ChatRateLimiter's {GLOBAL_RATE}/s overall and 1 per {PRIVATE_INTERVAL:g} s per "
        f"chat, with the server refusing anything over Telegram's limits. The echo bot uses PTB's AIORateLimiter "
        f"(30/s overall, no per-chat pacing); the server only counts its violations "
        f"({_rules(e.server.violations)}). Updates handled at a time: Alur {a.concurrent_updates}, echo "
        f"{e.concurrent_updates}. "
        f"Ceiling from the rate limits alone: Alur ≤ {GLOBAL_RATE} × {a.interactions}/{a.server.messages} = "
        f"{_bound(GLOBAL_RATE, a.interactions, a.server.messages)} interactions/s (edits are free, notices are not), "
        f"echo ≤ 30 × {e.interactions}/{e.server.messages} = {_bound(30, e.interactions, e.server.messages)}.")
    report.data["burst"] = {
        "people": r.people, "filers": r.filers, "askers": r.askers, "deciders": r.deciders, "think": r.think,
        **{m.bot: _measured(m) for m in (a, e)},
    }
    report.errors += [f"burst/{m.bot}: {err}" for m in (a, e) for err in m.errors]


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


def _digest(report: Report, r: DigestResult) -> None:
    size = f"{r.supervisors} supervisors, {_k(r.cases)} cases"
    report.add("digest", size, "DigestBuilder.load (one read)", dur(r.load_seconds))
    report.add("digest", "", f"build {r.built} digests", f"{dur(r.build_seconds)} "
               f"({dur(r.build_seconds / max(1, r.built))} each)")
    report.add("digest", "", "DigestRound.run (load, build, queue)", dur(r.round_seconds))
    report.add("digest", "", "queued: digests + charts; largest payload",
               f"{r.queued_digests} + {r.queued_charts}; {r.largest_payload_kb:.0f} KB")
    report.add("digest", f"{r.sent} messages", "sending pace observed",
               f"{r.pace:.1f} msg/s ({dur(r.send_seconds)} in all)")
    report.add("digest", "", "429s / limit violations / dead letters",
               f"{r.server.rate_limited} / {r.server.violation_count} / {r.dead}")
    report.notes.append(
        f"digest: build = DigestBuilder.build for each supervisor after one load; the round (DigestRound.run) "
        f"builds again and queues each digest plus, where steps are overdue, a chart (PNG drawn by matplotlib when "
        f"the sender renders it). Pace = messages delivered from the first to the last at the server "
        f"(ChatRateLimiter allows {GLOBAL_RATE}/s); the server refuses anything over Telegram's limits.")
    report.data["digest"] = {k: v for k, v in vars(r).items() if k != "server"} | {
        "rate_limited": r.server.rate_limited, "violations": r.server.violations}


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
