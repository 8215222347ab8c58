"""End-to-end world: the real Alur Application polling the local fake Bot API over HTTP,
a real SQLite file, a movable clock, and simulated people with Telegram accounts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from conftest import MONDAY_8
from roster import KETAPANG_STAFF, Roster, ketapang_roster

from bot.clock import ManualClock
from bot.config import Settings
from bot.runtime import Services, open_services
from handlers.app import SENDER, build_application, shutdown, startup
from handlers.fake_bot_api import FakeBotApi, FakeUser, InboxMessage
from scheduler.sender import OutboxSender


@dataclass
class World:
    api: FakeBotApi
    services: Services
    app: object
    clock: ManualClock
    roster: Roster
    users: dict[str, FakeUser] = field(default_factory=dict)

    def __getitem__(self, key: str) -> FakeUser:
        return self.users[key]

    @property
    def sender(self) -> OutboxSender:
        return self.app.bot_data[SENDER]  # type: ignore[attr-defined]

    async def deliver(self) -> None:
        """Let the outbox sender finish what is queued (it also runs on its own)."""
        await self.sender.drain()


def card_for(user: FakeUser, register_no: str, step: str) -> InboxMessage:
    """The latest task card for a step of a case in a user's chat."""
    for message in reversed(user.inbox):
        text = message.text or ""
        if register_no in text and f"Langkah {step}" in text and message.buttons:
            return message
    raise AssertionError(f"no card for {register_no} langkah {step}\n{user.dump()}")


@contextlib.asynccontextmanager
async def alur_world(tmp_path: Path, *, start_sender: bool = True, **api_kwargs: object) -> AsyncIterator[World]:
    clock = ManualClock(MONDAY_8)
    async with FakeBotApi(**api_kwargs) as api:  # type: ignore[arg-type]
        settings = Settings(db_path=tmp_path / "alur.sqlite3")
        services = await open_services(settings, clock=clock, sync_people=False)
        roster = await ketapang_roster(services.people)
        app = build_application(services, token=api.token, base_url=api.base_url, base_file_url=api.base_file_url,
                                start_sender=start_sender)
        users: dict[str, FakeUser] = {}
        for key, name, _roles, _unit, tg in KETAPANG_STAFF:
            users[key] = api.user(tg, first_name=name.split(" (")[0])
        users["officer"] = api.user(3001, first_name="Wati", username="opd_dinkes")
        async with app:
            await startup(app)
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                yield World(api, services, app, clock, roster, users)
            finally:
                await app.updater.stop()
                await app.stop()
                await shutdown(app)
        await services.close()
