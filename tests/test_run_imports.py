"""`alur run` with a token loads none of the test doubles (the `sandbox` package).

The real command runs in a child process against the fake Bot API in this process, answers one
/start and is stopped with SIGTERM, as a service manager would. The child reports the modules it
had loaded when it exited: the report is written by an ``atexit`` hook set up on the command line,
so the product carries no debugging hook of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from sandbox.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.timeout(120)

# `alur run`, exactly as the console script runs it, plus an exit hook listing every loaded module.
LAUNCH = """
import atexit, json, runpy, sys

def report(path=sys.argv[1]):
    with open(path, "w", encoding="utf-8") as out:
        json.dump(sorted(sys.modules), out)

atexit.register(report)
sys.argv = ["alur", "run"]
runpy.run_module("bot.cli.main", run_name="__main__")
"""


async def stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if it does not end within 20 s; never returns with the child alive."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout=20)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


async def test_alur_run_with_a_token_imports_no_test_double(tmp_path: Path) -> None:
    report = tmp_path / "modules.json"
    log = tmp_path / "bot.log"
    async with FakeBotApi(bot_username="alur_run_bot") as api:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url,
               "ALUR_DB": str(tmp_path / "alur.sqlite3"), "PYTHONUNBUFFERED": "1"}
        user = api.user(3101, first_name="Rina")
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", LAUNCH, str(report), env=env, cwd=tmp_path, stdout=out, stderr=out,
            )
            try:
                await user.send("/start")
                welcome = await user.wait_for(lambda m: "Selamat datang" in m.text, timeout=60)
                assert "Alur" in welcome.text
            finally:
                await stop(proc)
    assert proc.returncode == 0, log.read_text(encoding="utf-8", errors="replace")
    assert report.is_file(), "the bot process ended without reporting its modules"
    loaded: list[str] = json.loads(report.read_text(encoding="utf-8"))
    assert {"telegram", "scheduler.serve", "handlers", "bot.runtime"} <= set(loaded)  # it was the real bot
    assert [m for m in loaded if m.split(".")[0] == "sandbox"] == []
