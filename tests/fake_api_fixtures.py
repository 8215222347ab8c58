"""Reusable pytest fixtures and helpers for running a real PTB bot against the fake Bot API.

Import what you need in a test module or in ``conftest.py``::

    from fake_api_fixtures import build_application, fake_api_fixture, running_bot  # noqa: F401

``fake_api`` (defined as ``fake_api_fixture``, so importing it does not shadow the test argument)
yields a started :class:`FakeBotApi`; ``running_bot(api, setup)`` is an async context
manager that builds a real ``telegram.ext.Application`` pointed at the fake server, lets ``setup``
add handlers, starts polling and stops everything cleanly on exit.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from telegram.ext import Application, ApplicationBuilder

from sandbox.fake_bot_api import FakeBotApi

__all__ = ["build_application", "fake_api_fixture", "running_bot"]


@pytest.fixture(name="fake_api")
async def fake_api_fixture() -> AsyncIterator[FakeBotApi]:
    """A started fake Bot API server (fresh per test); fails the test if the fake itself broke."""
    async with FakeBotApi() as api:
        yield api
    assert not api.server_errors, f"the fake Bot API hit internal errors: {api.server_errors}"


def build_application(
    api: FakeBotApi,
    *,
    read_timeout: float | None = None,
    builder_hook: Callable[[ApplicationBuilder], Any] | None = None,
) -> Application:
    """An Application that talks to ``api`` (not started)."""
    builder = ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url)
    if read_timeout is not None:
        builder = builder.read_timeout(read_timeout)
    if builder_hook is not None:
        builder_hook(builder)
    return builder.build()


@contextlib.asynccontextmanager
async def running_bot(
    api: FakeBotApi,
    setup: Callable[[Application], Any] | None = None,
    *,
    read_timeout: float | None = None,
    poll_timeout: int = 1,
    builder_hook: Callable[[ApplicationBuilder], Any] | None = None,
) -> AsyncIterator[Application]:
    """Run a real PTB Application against ``api`` while the block runs.

    ``poll_timeout`` is the getUpdates long-poll timeout; the fake answers a long poll as soon
    as an update arrives, so a short value only matters for how fast polling stops.
    """
    app = build_application(api, read_timeout=read_timeout, builder_hook=builder_hook)
    if setup is not None:
        setup(app)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=poll_timeout)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
