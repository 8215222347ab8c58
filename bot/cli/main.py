"""The `alur` command: the one place that wires everything together."""

from __future__ import annotations

import argparse
import sys

from bot.cli import admin as cli_admin
from bot.cli import qa as cli_qa
from bot.cli import run as cli_run
from bot.cli import sop as cli_sop


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alur", description="Alur: SOP pemerintahan sebagai alur kerja di Telegram")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_sop.register(sub)
    cli_admin.register(sub)
    cli_qa.register(sub)
    cli_run.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
