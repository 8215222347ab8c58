"""`alur qa …`: ask questions about the SOPs, evaluate question sets, benchmark answering."""

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
    from bot.qa.evaluation import Report


def register(sub: argparse._SubParsersAction) -> None:
    qa = sub.add_parser("qa", help="tanya-jawab SOP: ask, eval, bench")
    qa_sub = qa.add_subparsers(dest="qa_command", required=True)

    p = qa_sub.add_parser("ask", help="jawab satu pertanyaan (tanpa argumen: satu per baris dari stdin, JSON)")
    p.add_argument("question", nargs="?", default=None)
    p.add_argument("--dir", type=Path, default=None)
    p.add_argument("--institution", default=None, help="jawab sebagai orang dari instansi ini (mis. ketapang)")
    p.set_defaults(func=cmd_ask)

    p = qa_sub.add_parser("eval", help="ukur ketepatan jawaban pada satu atau beberapa himpunan pertanyaan YAML")
    p.add_argument("files", type=Path, nargs="+", metavar="FILE")
    p.add_argument("--dir", type=Path, default=None)
    p.add_argument("--quiet", action="store_true", help="hanya ringkasan dan jawaban yang salah")
    p.add_argument("--summary", action="store_true", help="hanya ringkasan per berkas dan per jenis (tanpa jawaban)")
    p.set_defaults(func=cmd_eval)

    p = qa_sub.add_parser("bench", help="ukur kecepatan dan memori: pertanyaan dev dan pertanyaan sampah")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--file", type=Path, default=DEFAULT_SET)
    p.add_argument("--junk", type=int, default=10_000, help="banyaknya pertanyaan sampah berbeda (0: tidak)")
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
        print(answerer.answer(args.question, args.institution).plain)
        return 0
    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        answer = answerer.answer(question, args.institution)
        print(json.dumps({"question": question, "answer": answer.plain}, ensure_ascii=False), flush=True)
    return 0


def _print_report(report: Report, quiet: bool) -> None:
    for r in report.results:
        if quiet and r.ok:
            continue
        print(f"{'OK  ' if r.ok else 'MISS'} {r.item.id:<10} {r.item.kind:<15} -> {r.answered_kind}")
        if not r.ok:
            print(f"     Q: {r.item.question}")
            if not r.names_sop:
                print(f"     SOP tidak disebut: {r.item.title}")
            if r.missing:
                print(f"     tidak ada: {r.missing}")
            print("     " + r.answer.replace("\n", "\n     "))


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.qa.evaluation import evaluate, load_items

    answerer = _answerer(args.dir)
    reports = [evaluate(answerer.answer, load_items(path), path.name) for path in args.files]
    if not args.summary:
        for report in reports:
            print(f"== {report.name}")
            _print_report(report, args.quiet)
            print()
    for report in reports:
        right = sum(r.ok for r in report.results)
        print(f"{report.name}: {right}/{len(report.results)} = {report.accuracy:.1%}")
        for kind, (ok, n) in sorted(report.by_kind().items()):
            print(f"  {kind:<15} {ok}/{n}")
    if len(reports) > 1:
        right = sum(r.ok for report in reports for r in report.results)
        total = sum(len(report.results) for report in reports)
        print(f"Semua berkas: {right}/{total} = {right / total:.1%}" if total else "Semua berkas: 0")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.qa.evaluation import bench, bench_junk, junk_questions, load_items, rss_mib

    rss_start = rss_mib()
    t0 = time.perf_counter()
    answerer = _answerer(args.dir)
    built = (time.perf_counter() - t0) * 1000
    questions = [i.question for i in load_items(args.file)]
    first = bench(answerer.answer, questions, rounds=1)
    timing = bench(answerer.answer, questions, rounds=max(1, args.rounds))
    print(f"Indeks dibangun sekali: {built:.0f} ms ({len(answerer.catalog)} SOP, {len(answerer.index.steps)} langkah); "
          f"RSS {rss_start:.0f} -> {rss_mib():.0f} MiB")
    print(f"Putaran pertama (cache dingin): p50 {first.p50:.2f} ms · p95 {first.p95:.2f} ms · max {first.max:.2f} ms")
    print(f"{timing.count} jawaban ({args.rounds} putaran × {len(questions)} pertanyaan): "
          f"p50 {timing.p50:.2f} ms · p95 {timing.p95:.2f} ms · max {timing.max:.2f} ms · "
          f"{timing.per_second:.0f} pertanyaan/detik")
    if args.junk > 0:
        vocabulary = sorted(answerer.analyzer.vocabulary)
        junk = list(junk_questions(args.junk, vocabulary))
        run = bench_junk(answerer.answer, junk)
        steps = " · ".join(f"{n}: {mib:.1f}" for n, mib in run.rss_steps)
        stems, resolved = answerer.analyzer.cache_sizes()
        print(f"{run.timing.count} pertanyaan sampah berbeda (sampai 4.096 karakter): p50 {run.timing.p50:.2f} ms · "
              f"p95 {run.timing.p95:.2f} ms · max {run.timing.max:.2f} ms")
        print(f"Memori (RSS, MiB): sebelum {run.rss_before:.1f} · {steps} · "
              f"bertambah {run.rss_after - run.rss_before:+.1f} MiB")
        print(f"Cache kata: {stems} stem, {resolved} kata (batas {answerer.analyzer.cache_limit} masing-masing)")
    return 0
