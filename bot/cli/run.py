"""`alur run` and `alur demo`: the parts of the command that start Telegram-facing code."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="jalankan bot (long polling; --webhook URL untuk produksi)")
    p.add_argument("--webhook", default=None, metavar="URL", help="URL publik webhook, misalnya https://alur.example.go.id/tg")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="demo offline: satu permintaan data lengkap lewat server Bot API lokal")
    p.add_argument("--quiet", action="store_true", help="hanya ringkasan akhir")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("bench", help="ukur kinerja terhadap server Bot API lokal (satu tabel; bukan tes)")
    p.add_argument("--quick", action="store_true", help="ukuran kecil: selesai dalam kurang dari satu menit")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="hanya bagian ini: burst, sweep, digest, interactive, qa (boleh diulang/dipisah koma)")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="simpan hasil lengkap sebagai JSON")
    p.add_argument("--workers", default=None, metavar="N,N",
                   help="hanya batas pemrosesan proses `alur run` sungguhan: SQLite 1 pekerja, PostgreSQL N pekerja "
                        "(mis. 1,2; perlu --pg)")
    p.add_argument("--pg", default=None, metavar="URL",
                   help="server PostgreSQL tempat bench boleh membuat basis data, mis. postgresql://postgres@/postgres")
    p.add_argument("--people", type=int, default=None,
                   help="--workers: jumlah orang simulasi (bawaan 200 untuk beban campuran, 40 untuk /status)")
    p.set_defaults(func=cmd_bench)


def cmd_run(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    if not settings.token:
        print("TELEGRAM_BOT_TOKEN belum diatur — menjalankan demo offline (alur demo).\n"
              "Untuk bot sungguhan: export TELEGRAM_BOT_TOKEN=... lalu jalankan lagi `alur run`.\n", flush=True)
        return cmd_demo(argparse.Namespace(quiet=False, settings=settings))
    from scheduler.serve import configure_logging, serve

    configure_logging(settings.token_value, logging.DEBUG if args.debug else settings.log_level)
    return asyncio.run(serve(settings, webhook_url=args.webhook))


def cmd_demo(args: argparse.Namespace) -> int:
    from sandbox.demo import run_demo

    return asyncio.run(run_demo(args.settings, verbose=not args.quiet))


def cmd_bench(args: argparse.Namespace) -> int:
    if args.workers:
        return cmd_bench_workers(args)
    from sandbox.bench import main

    return main(quick=args.quick, only=args.only, json_path=args.json)


def cmd_bench_workers(args: argparse.Namespace) -> int:
    import tempfile

    from bot.storage.dialect import PostgresUrl
    from sandbox.bench.workers import Workload, print_workers, run_load, run_workers

    try:
        counts = [int(n) for n in str(args.workers).split(",") if n.strip()]
    except ValueError:
        print("--workers: daftar bilangan, mis. 1,2", file=sys.stderr)
        return 2
    if not counts or min(counts) < 1:
        print("--workers: daftar bilangan ≥ 1, mis. 1,2", file=sys.stderr)
        return 2
    pg = PostgresUrl(args.pg) if args.pg else None
    if pg is None:
        print("--pg tidak diberikan: hanya SQLite yang diukur", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="alur-bench-workers-") as tmp:
        sizes = {w: args.people for w in Workload} if args.people else None
        results = run_load(run_workers(Path(tmp), counts, pg, people=sizes))
    print_workers(results)
    return 0
