"""`alur run` and `alur demo`: the parts of the command that start Telegram-facing code."""

from __future__ import annotations

import argparse
import asyncio
import logging
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
    from sandbox.bench import main

    return main(quick=args.quick, only=args.only, json_path=args.json)
