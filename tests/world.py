"""End-to-end world: the real Alur Application polling the local fake Bot API over HTTP,
a real database (an SQLite file, or the test's PostgreSQL database when the test runs on that
backend: tests/backends.py), a movable clock, and simulated people with Telegram accounts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.core.clock import ManualClock
from bot.runtime import Services, open_services
from bot.storage.records import Case
from bot.workflow.queries import REGISTER_NO
from bot.workflow.results import FileUpload
from sandbox.fake_bot_api import FakeBotApi, FakeUser, InboxMessage
from scheduler.application import build_application, shutdown, startup
from scheduler.ratelimit import ChatRateLimiter
from scheduler.sender import OutboxSender

import backends
from conftest import MONDAY_8
from roster import KETAPANG_STAFF, Roster, ketapang_roster


@dataclass
class World:
    api: FakeBotApi
    services: Services
    app: Any
    clock: ManualClock
    roster: Roster
    settings: Settings
    options: dict[str, Any]
    users: dict[str, FakeUser] = field(default_factory=dict)

    def __getitem__(self, key: str) -> FakeUser:
        return self.users[key]

    @property
    def sender(self) -> OutboxSender:
        return self.app.sender

    async def deliver(self) -> None:
        """Let the outbox sender finish what is queued (it also runs on its own)."""
        await self.sender.drain()

    async def file_information_request(self, data: str = "Data", file_name: str = "s.pdf") -> Case:
        """The officer's data request filed straight through the workflow (the Telegram way is tested elsewhere)."""
        out = await self.services.workflow.filing.file_request(
            "ketapang-permintaan-informasi", self.roster["officer"].id,
            {"data_diminta": data, "keperluan": "Laporan", "kontak": "081234567890"},
            {"surat_permintaan": FileUpload("f1", file_name=file_name)},
        )
        self.sender.kick()
        return out.case

    async def filed(self, confirmation: InboxMessage) -> Case:
        """The case a filing created, found by the register number its confirmation tells the requester."""
        numbers = REGISTER_NO.findall(confirmation.text)
        assert len(numbers) == 1, f"one register number expected in {confirmation.text!r}"
        case = await self.services.workflow.queries.case_by_ref(numbers[0])
        assert case is not None, f"{numbers[0]} names no case"
        return case

    async def start(self) -> None:
        self.services = await open_services(self.settings, clock=self.clock, sync_people=False)
        paced = self.options.get("paced", True)
        limiter = None if paced else ChatRateLimiter(private_interval=0.0, group_interval=0.0, global_rate=1000)
        self.app = build_application(
            self.services, token=self.api.token, base_url=self.api.base_url, base_file_url=self.api.base_file_url,
            start_sender=self.options.get("start_sender", True), limiter=limiter,
            read_timeout=self.options.get("read_timeout", 5.0),
        )
        await self.app.initialize()
        await startup(self.app)
        await self.app.start()
        await self.app.updater.start_polling(poll_interval=0, timeout=1)
        if not self.options.get("start_sender", True) and self.app.menus is not None:
            await self.app.menus  # a test that drives the sender by hand starts from a quiet rate limiter

    async def stop(self) -> None:
        await self.app.updater.stop()
        await self.app.stop()
        await shutdown(self.app)
        await self.app.shutdown()
        await self.services.close()

    async def restart(self) -> None:
        """Stop the bot and start a new one on the same database (a deploy, a crash-free restart)."""
        await self.stop()
        await self.start()


def card_for(user: FakeUser, register_no: str, step: str) -> InboxMessage:
    """The latest task card for a step of a case in a user's chat."""
    for message in reversed(user.inbox):
        text = message.text or ""
        if register_no in text and f"Langkah {step}" in text and message.buttons:
            return message
    raise AssertionError(f"no card for {register_no} langkah {step}\n{user.dump()}")


async def tap_old_copy(user: FakeUser, copy: InboxMessage, label: str) -> str:
    """Tap a button on a copy of a message as it was earlier (a phone that has not shown the bot's later edit
    yet); ``label`` is the button's text or a part of it naming one button. Returns the query id."""
    buttons = [b for row in copy.buttons for b in row if "callback_data" in b]
    chosen = [b for b in buttons if b.get("text") == label] or [b for b in buttons if label in b.get("text", "")]
    assert len(chosen) == 1, f"no single button {label!r} on {copy!r}"
    return await user.tap_data(copy, chosen[0]["callback_data"])


@contextlib.asynccontextmanager
async def alur_world(
    tmp_path: Path, *, start_sender: bool = True, paced: bool = True, clock: ManualClock | None = None,
    read_timeout: float = 5.0, **api_kwargs: Any,
) -> AsyncIterator[World]:
    """``paced=False`` lets messages to one chat follow each other quickly (for stories that do not
    measure Telegram's limits; the ones that do keep the real one-per-second pacing)."""
    clock = clock or ManualClock(MONDAY_8)
    async with FakeBotApi(**api_kwargs) as api:
        settings = Settings(db_path=backends.world_target or tmp_path / "alur.sqlite3")
        services = await open_services(settings, clock=clock, sync_people=False)
        roster = await ketapang_roster(services.people)
        await services.close()
        options = {"paced": paced, "start_sender": start_sender, "read_timeout": read_timeout}
        world = World(api, services, None, clock, roster, settings, options)
        for key, name, _roles, _unit, tg in KETAPANG_STAFF:
            world.users[key] = api.user(tg, first_name=name.split(" (")[0])
        world.users["officer"] = api.user(3001, first_name="Wati", username="opd_dinkes")
        await world.start()
        try:
            yield world
        finally:
            await world.stop()
