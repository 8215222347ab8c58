"""The `alur` command: the one place that wires everything together."""

from __future__ import annotations

import argparse
import sys

from bot import cli_admin, cli_qa, cli_sop
from handlers import cli_run


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
