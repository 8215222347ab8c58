"""`alur bench`: one table of measured numbers, all against the local fake Bot API over real HTTP.

Sections (``--only``): ``burst`` (200 people's mixed interactions next to a bare PTB echo bot),
``sweep`` (the reminder sweep over 1k/10k/100k open steps), ``digest`` (200 supervisors over 50k
cases: build, queue, send), ``interactive`` (replies while digests and reminders are queued) and
``qa`` (question answering). A benchmark, not a test: nothing here asserts a timing.
"""

from __future__ import annotations

from pathlib import Path


def main(quick: bool = False, only: list[str] | None = None, json_path: Path | None = None) -> int:
    """Run the benchmark and print the table (imports the bot only when called: `alur --help` stays fast)."""
    from sandbox.bench.run import main as run_main

    return run_main(quick=quick, only=only, json_path=json_path)
