"""Running the real `alur` command in a child process, with a clean environment, from async tests.

The child's environment has none of the developer's ALUR_* / TELEGRAM_* variables and its working
directory is the test's tmp_path (so no stray .env is read). Every child is waited for or killed
before the helper returns.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.sop.catalog import DEFAULT_SOP_DIR

DEMO_PEOPLE = DEFAULT_SOP_DIR / "demo_people.yaml"
STARTUP_LIMIT = 10.0
"""Seconds within which a refused start must have ended (the issue's bound)."""


@dataclass
class Finished:
    args: tuple[str, ...]
    code: int | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def __str__(self) -> str:
        return (f"alur {' '.join(self.args)} -> {self.code} in {self.seconds:.1f}s\n--- stdout\n{self.stdout}"
                f"\n--- stderr\n{self.stderr}")


def clean_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALUR_", "TELEGRAM_"))}
    env.update({"ALUR_DB": str(tmp_path / "alur.sqlite3"), "PYTHONUNBUFFERED": "1"})
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def without_write_override() -> list[str]:
    """A command prefix that makes file permissions bind even for root (drops CAP_DAC_OVERRIDE)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only for the bot")
    return [setpriv, "--inh-caps=-dac_override", "--bounding-set=-dac_override"]


async def run_alur(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60.0, prefix: list[str] | None = None,  # noqa: ASYNC109
    stdin: bytes | None = None,
) -> Finished:
    """Run `alur ARGS` to its end (killed after ``timeout``; the result then has ``code`` None)."""
    start = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *(prefix or []), sys.executable, "-m", "bot.cli.main", *args, env=env, cwd=cwd,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
        code: int | None = proc.returncode
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        code = None
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return Finished(args, code, out.decode(errors="replace"), err.decode(errors="replace"), time.monotonic() - start)
