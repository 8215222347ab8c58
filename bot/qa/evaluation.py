"""Measuring answer quality on a question set in the format of tests/fixtures/qa/dev.yaml.

An answer is right when it names the expected SOP (its title) and contains every
``must_mention`` phrase — case-insensitive substring after collapsing whitespace.
"""

from __future__ import annotations

import random
import statistics
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SET = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "qa" / "dev.yaml"
"""The public development set (tests/fixtures/qa/dev.yaml), the default of `alur qa eval` and the benchmarks."""


def _flat(text: str) -> str:
    return " ".join(text.lower().split())


def check(answer: str, title: str, must_mention: list[str]) -> tuple[bool, list[str]]:
    """(names the SOP title, phrases missing) for one answer."""
    hay = _flat(answer)
    missing = [p for p in must_mention if _flat(str(p)) not in hay]
    return _flat(title) in hay, missing


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    kind: str
    title: str
    must_mention: list[str]


@dataclass(frozen=True)
class Result:
    item: Item
    answer: str
    answered_kind: str
    names_sop: bool
    missing: list[str]

    @property
    def ok(self) -> bool:
        return self.names_sop and not self.missing


@dataclass(frozen=True)
class Report:
    results: list[Result]
    name: str = ""

    @property
    def accuracy(self) -> float:
        return sum(r.ok for r in self.results) / len(self.results) if self.results else 0.0

    def by_kind(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for r in self.results:
            ok, n = out.get(r.item.kind, (0, 0))
            out[r.item.kind] = (ok + r.ok, n + 1)
        return out


def load_items(path: Path | str) -> list[Item]:
    data: list[dict[str, Any]] = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    items = []
    for raw in data:
        expect = raw.get("expect") or {}
        sop = expect.get("sop") or {}
        title = sop.get("title", "") if isinstance(sop, dict) else str(sop)
        items.append(Item(str(raw["id"]), str(raw["question"]), str(raw.get("kind", "")), title,
                          [str(p) for p in expect.get("must_mention") or []]))
    return items


def evaluate(ask: Callable[[str], Any], items: list[Item], name: str = "") -> Report:
    """Ask every question (``ask`` returns an Answer) and check each plain-text answer."""
    results = []
    for item in items:
        answer = ask(item.question)
        names, missing = check(answer.plain, item.title, item.must_mention)
        results.append(Result(item, answer.plain, answer.kind, names, missing))
    return Report(results, name)


@dataclass(frozen=True)
class Timing:
    p50: float
    p95: float
    max: float
    per_second: float
    count: int


def bench(ask: Callable[[str], Any], questions: list[str], rounds: int = 5) -> Timing:
    """Latency of answering each question ``rounds`` times (milliseconds)."""
    times: list[float] = []
    started = time.perf_counter()
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            ask(q)
            times.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    return _timing(times, elapsed)


def _timing(times: list[float], elapsed: float) -> Timing:
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return Timing(statistics.median(times), p95, times[-1], len(times) / elapsed if elapsed else 0.0, len(times))


def junk_questions(count: int, vocabulary: list[str], seed: int = 14) -> Iterator[str]:
    """``count`` distinct junk questions, as a flood of nonsense would bring them.

    Made-up words, shuffled SOP words with typos, pasted text up to Telegram's 4,096 characters,
    digits and symbols, other alphabets: every one new, so no cache can answer it from memory.
    """
    rng = random.Random(seed)
    letters = string.ascii_lowercase
    others = "абвгдежзиклмнопрстуфхцчшщыэюяαβγδεζηθικλμνξοπρστυφχψω漢字かなカナ한국어😀🙏✅"

    def made_up() -> str:
        return "".join(rng.choice(letters) for _ in range(rng.randint(2, 14)))

    def typo(word: str) -> str:
        if len(word) < 4:
            return word
        i = rng.randrange(len(word))
        return word[:i] + rng.choice(letters) + word[i + 1:]

    for n in range(count):
        shape = n % 5
        if shape == 0:
            words = [made_up() for _ in range(rng.randint(1, 12))]
        elif shape == 1:
            words = [typo(rng.choice(vocabulary)) for _ in range(rng.randint(2, 10))] + [made_up()]
        elif shape == 2:
            text = " ".join(made_up() for _ in range(700))
            words = [text[: rng.randint(1000, 4096)]]
        elif shape == 3:
            words = [str(rng.randint(0, 10**9)), made_up(), "".join(rng.choice(others) for _ in range(30)),
                     rng.choice(["?", "!!", "<b>", "&amp;", "#", "@"])]
        else:
            words = ["berapa lama", made_up(), rng.choice(vocabulary), made_up(), "siapa yang", made_up()]
        yield f"{' '.join(words)} {n}"


def rss_mib() -> float:
    """Resident memory of this process now (MiB), from /proc (0.0 where there is none)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass(frozen=True)
class JunkRun:
    timing: Timing
    rss_before: float
    rss_after: float
    rss_steps: list[tuple[int, float]]
    """(questions answered so far, RSS MiB) at each quarter."""


def bench_junk(ask: Callable[[str], Any], questions: list[str]) -> JunkRun:
    """Latency and memory while answering distinct junk questions (each once)."""
    before = rss_mib()
    times: list[float] = []
    steps: list[tuple[int, float]] = []
    quarter = max(1, len(questions) // 4)
    started = time.perf_counter()
    for i, q in enumerate(questions, 1):
        t0 = time.perf_counter()
        ask(q)
        times.append((time.perf_counter() - t0) * 1000)
        if i % quarter == 0:
            steps.append((i, rss_mib()))
    elapsed = time.perf_counter() - started
    return JunkRun(_timing(times, elapsed), before, rss_mib(), steps)
