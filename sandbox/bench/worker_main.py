"""`alur run` as the worker benchmark starts it: the real serve(), with Telegram's limits off.

The settings come from the environment like `alur run`'s; only the rate limiter differs (no pacing,
the fake server only counts), so the benchmark measures processing, not Telegram's pacing.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.config import Settings
from scheduler.ratelimit import ChatRateLimiter
from scheduler.serve import configure_logging, serve


def main() -> int:
    settings = Settings.from_env()
    configure_logging(settings.token_value, logging.INFO)
    unlimited = ChatRateLimiter(private_interval=0.0, group_interval=0.0, global_rate=1_000_000)
    return asyncio.run(serve(settings, limiter=unlimited))


if __name__ == "__main__":
    sys.exit(main())
