"""`alur qa …`: ask questions about the SOPs, evaluate a question set, benchmark answering."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.qa.evaluation import DEFAULT_SET

if TYPE_CHECKING:
    from bot.qa.answers import Answerer



def register(sub: argparse._SubParsersAction) -> None:
    qa = sub.add_parser("qa", help="tanya-jawab SOP: ask, eval, bench")
    qa_sub = qa.add_subparsers(dest="qa_command", required=True)

    p = qa_sub.add_parser("ask", help="jawab satu pertanyaan (tanpa argumen: satu per baris dari stdin, JSON)")
    p.add_argument("question", nargs="?", default=None)
    p.add_argument("--dir", type=Path, default=None)
    p.set_defaults(func=cmd_ask)

    p = qa_sub.add_parser("eval", help="ukur ketepatan jawaban pada himpunan pertanyaan YAML")
    p.add_argument("file", type=Path)
    p.add_argument("--dir", type=Path, default=None)
    p.add_argument("--quiet", action="store_true", help="hanya ringkasan dan jawaban yang salah")
    p.set_defaults(func=cmd_eval)

    p = qa_sub.add_parser("bench", help="ukur kecepatan menjawab pertanyaan dev")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--file", type=Path, default=DEFAULT_SET)
    p.add_argument("--dir", type=Path, default=None)
    p.set_defaults(func=cmd_bench)


def _answerer(directory: Path | None) -> Answerer:
    """The answerer over the catalog (imported here so that `alur --help` stays fast)."""
    from bot.qa.answers import Answerer
    from bot.sop.catalog import load_catalog

    return Answerer(load_catalog(directory))


def cmd_ask(args: argparse.Namespace) -> int:
    answerer = _answerer(args.dir)
    if args.question is not None:
        print(answerer.answer(args.question).plain)
        return 0
    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        answer = answerer.answer(question)
        print(json.dumps({"question": question, "answer": answer.plain}, ensure_ascii=False), flush=True)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.qa.evaluation import evaluate, load_items

    answerer = _answerer(args.dir)
    report = evaluate(answerer.answer, load_items(args.file))
    for r in report.results:
        mark = "OK  " if r.ok else "MISS"
        if args.quiet and r.ok:
            continue
        print(f"{mark} {r.item.id:<10} {r.item.kind:<15} -> {r.answered_kind}")
        if not r.ok:
            print(f"     Q: {r.item.question}")
            if not r.names_sop:
                print(f"     SOP tidak disebut: {r.item.title}")
            if r.missing:
                print(f"     tidak ada: {r.missing}")
            print("     " + r.answer.replace("\n", "\n     "))
    print()
    for kind, (ok, n) in sorted(report.by_kind().items()):
        print(f"  {kind:<15} {ok}/{n}")
    right = sum(r.ok for r in report.results)
    print(f"Akurasi: {right}/{len(report.results)} = {report.accuracy:.1%}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.qa.evaluation import bench, load_items

    t0 = time.perf_counter()
    answerer = _answerer(args.dir)
    built = (time.perf_counter() - t0) * 1000
    questions = [i.question for i in load_items(args.file)]
    first = bench(answerer.answer, questions, rounds=1)
    timing = bench(answerer.answer, questions, rounds=max(1, args.rounds))
    print(f"Indeks dibangun sekali: {built:.0f} ms ({len(answerer.catalog)} SOP, {len(answerer.index.steps)} langkah)")
    print(f"Putaran pertama (cache dingin): p50 {first.p50:.2f} ms · p95 {first.p95:.2f} ms · max {first.max:.2f} ms")
    print(f"{timing.count} jawaban ({args.rounds} putaran × {len(questions)} pertanyaan): "
          f"p50 {timing.p50:.2f} ms · p95 {timing.p95:.2f} ms · max {timing.max:.2f} ms · "
          f"{timing.per_second:.0f} pertanyaan/detik")
    return 0
