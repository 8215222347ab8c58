"""Question answering speed: ``bot.qa.evaluation.bench`` over the public dev questions (what `alur qa bench`
measures first); with ``junk`` also latency and memory under that many distinct junk questions."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bot.qa.evaluation import JunkRun, Timing, bench, bench_junk, junk_questions, load_items


@dataclass
class QaResult:
    questions: int
    rounds: int
    index_ms: float
    cold: Timing
    warm: Timing
    junk: JunkRun | None = None


def run_qa(rounds: int = 5, questions_file: Path | None = None, junk: int = 0) -> QaResult:
    from bot.qa.answers import Answerer
    from bot.qa.evaluation import DEFAULT_SET
    from bot.sop.catalog import load_catalog

    t0 = time.perf_counter()
    answerer = Answerer(load_catalog())
    index_ms = (time.perf_counter() - t0) * 1000
    questions = [item.question for item in load_items(questions_file or DEFAULT_SET)]
    cold = bench(answerer.answer, questions, rounds=1)
    warm = bench(answerer.answer, questions, rounds=rounds)
    flood = None
    if junk:
        flood = bench_junk(answerer.answer, list(junk_questions(junk, sorted(answerer.analyzer.vocabulary))))
    return QaResult(len(questions), rounds, index_ms, cold, warm, flood)
