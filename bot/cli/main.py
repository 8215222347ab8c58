"""The `alur` command: the one place that wires everything together.

Every command reads the same settings first (`Settings.from_env`): a bad value stops it with one
line per variable and exit code 2, before anything else happens. Known failures (people file,
SOP catalog, database, token) are told in words with exit code 2; anything unforeseen in one line
with exit code 1, the traceback only with ``--debug``. A closed pipe (``alur sop list | head``)
ends the command quietly.
"""

from __future__ import annotations

import argparse
import os
import sys

from bot.cli import admin as cli_admin
from bot.cli import database as cli_database
from bot.cli import doctor as cli_doctor
from bot.cli import qa as cli_qa
from bot.cli import run as cli_run
from bot.cli import sop as cli_sop
from bot.cli.words import describe, unexpected
from bot.config import Settings

DEBUG_FLAG = "--debug"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alur", description="Alur: SOP pemerintahan sebagai alur kerja di Telegram",
        epilog="--debug (di mana saja pada baris perintah): tampilkan jejak lengkap bila terjadi kesalahan.",
    )
    parser.add_argument(DEBUG_FLAG, action="store_true", help="tampilkan jejak lengkap (traceback) bila gagal")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_sop.register(sub)
    cli_admin.register(sub)
    cli_database.register(sub)
    cli_doctor.register(sub)
    cli_qa.register(sub)
    cli_run.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _take_flag(argv, DEBUG_FLAG)
    args = build_parser().parse_args(argv)
    args.debug = debug or args.debug
    settings: Settings | None = None
    try:
        if getattr(args, "reads_settings", True):
            settings = Settings.from_env()
            args.settings = settings
            _default_sop_dir(args, settings)
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        known = describe(exc)
        if known is None or args.debug:
            secret = settings.token_value if settings else os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
            _error("\n".join(unexpected(exc, debug=args.debug, secret=secret or None).lines))
        if known is None:
            return 1
        _error("\n".join(known.lines))
        return known.exit_code


def _take_flag(argv: list[str], flag: str) -> bool:
    """Remove ``flag`` from anywhere before ``--`` (so `alur run --debug` works like `alur --debug run`)."""
    end = argv.index("--") if "--" in argv else len(argv)
    found = flag in argv[:end]
    if found:
        argv[:end] = [a for a in argv[:end] if a != flag]
    return found


def _default_sop_dir(args: argparse.Namespace, settings: Settings) -> None:
    """`sop …` and `qa …` read ALUR_SOP_DIR when no folder is given on the command line."""
    if hasattr(args, "dir") and args.dir is None and settings.sop_dir is not None:
        args.dir = settings.sop_dir


def _quiet_stdout() -> None:
    """After the reader went away: send what is left to /dev/null so the interpreter's exit stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _error(text: str) -> None:
    try:
        print(text, file=sys.stderr, flush=True)
    except (BrokenPipeError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
