"""First start: no surprise digest, missed digests caught up only in working hours; the demo honours settings."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.clock import ManualClock
from bot.runtime import open_services
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog
from bot.storage.db import Database
from bot.storage.dialect import PostgresUrl
from bot.text.notices import render_notice
from bot.text.render import Renderer
from bot.workflow.deps import WorkflowDeps
from bot.workflow.digest import DigestBuilder, DigestRound, digests_ever_sent
from bot.workflow.people import People
from bot.workflow.use_cases import Workflow
from sandbox.demo import run_demo
from scheduler.tick import tick

from conftest import WIB
from observe import notices
from roster import ketapang_roster

AT = time(7, 30)
TUESDAY = (2026, 11, 24)
SUPERVISORS = 4  # kepala badan, sekretaris, kabid, admin


def at(hour: int, minute: int = 0, day: tuple[int, int, int] = TUESDAY) -> datetime:
    return datetime(*day, hour, minute, tzinfo=WIB)


def deps(db: Database, catalog: Catalog, calendar: WorkCalendar, clock: ManualClock) -> WorkflowDeps:
    return Workflow.build(db, catalog, calendar, clock).deps


async def staffed(db: Database, catalog: Catalog, clock: ManualClock) -> None:
    await ketapang_roster(People(db, catalog, clock))


async def test_first_start_after_office_hours_sends_nothing_until_the_next_digest_time(
    db: Database, catalog: Catalog, calendar: WorkCalendar
) -> None:
    clock = ManualClock(at(17, 0))
    await staffed(db, catalog, clock)
    assert not await digests_ever_sent(db)
    first = DigestRound(deps(db, catalog, calendar, clock), AT, started_at=clock.now(), catch_up=False)
    assert await first.run() == 0
    clock.set(at(20, 0))
    assert await first.run() == 0
    clock.set(at(7, 29, (2026, 11, 25)))
    assert await first.run() == 0
    clock.set(at(7, 30, (2026, 11, 25)))
    assert await first.run() == SUPERVISORS
    assert await digests_ever_sent(db)


async def test_first_start_in_office_hours_waits_for_tomorrow_too(
    db: Database, catalog: Catalog, calendar: WorkCalendar
) -> None:
    clock = ManualClock(at(9, 0))
    await staffed(db, catalog, clock)
    assert await DigestRound(deps(db, catalog, calendar, clock), AT, started_at=clock.now(), catch_up=False).run() == 0


@pytest.mark.parametrize("restart,sent", [
    ((9, 0), SUPERVISORS),  # missed at 07.30 while down; caught up in working hours
    ((12, 30), 0),  # lunch break: not yet
    ((17, 0), 0),  # after office hours: that day's digest is skipped
    ((6, 0), 0),  # before the digest time
])
async def test_a_restart_catches_up_a_missed_digest_only_in_working_hours(
    db: Database, catalog: Catalog, calendar: WorkCalendar, restart: tuple[int, int], sent: int
) -> None:
    clock = ManualClock(at(*restart))
    await staffed(db, catalog, clock)
    digest = DigestRound(deps(db, catalog, calendar, clock), AT, started_at=clock.now(), catch_up=True)
    assert await digest.run() == sent
    if restart == (12, 30):
        clock.set(at(13, 0))
        assert await digest.run() == SUPERVISORS


async def test_a_digest_due_while_running_goes_out_whenever_the_tick_comes(
    db: Database, catalog: Catalog, calendar: WorkCalendar
) -> None:
    clock = ManualClock(at(6, 0))
    await staffed(db, catalog, clock)
    digest = DigestRound(deps(db, catalog, calendar, clock), AT, started_at=clock.now(), catch_up=False)
    clock.set(at(7, 31))
    assert await digest.run() == SUPERVISORS


async def test_tick_uses_the_start_moment_and_first_start(db_path: Path | PostgresUrl) -> None:
    clock = ManualClock(at(17, 0))
    services = await open_services(Settings(db_path=db_path), clock=clock, sync_people=False)
    try:
        await ketapang_roster(services.people)
        assert services.started_at == at(17, 0)
        services.first_start = True
        clock.set(at(17, 5))
        assert (await tick(services)).digests == 0
        services.first_start = False
        services.started_at = at(9, 0)
        clock.set(at(9, 5))
        assert (await tick(services)).digests == SUPERVISORS
    finally:
        await services.close()


async def test_a_digest_with_nothing_open_is_one_line(db: Database, catalog: Catalog, calendar: WorkCalendar) -> None:
    clock = ManualClock(at(7, 30))
    roster = await ketapang_roster(People(db, catalog, clock))
    builder = DigestBuilder(deps(db, catalog, calendar, clock))
    await builder.load(clock.now())
    digest = builder.build(roster["kabid"])
    assert digest is not None
    text = render_notice(Renderer(), "digest", digest.as_payload()).html
    assert len(text.splitlines()) == 1, text
    assert "tidak ada permohonan terbuka" in text and "Terlambat" not in text and ": <b>0</b>" not in text
    queued = await DigestRound(deps(db, catalog, calendar, clock), AT).run()
    assert queued == SUPERVISORS
    stored = [n.payload for n in await notices(db, kind="digest")]
    assert all(len(render_notice(Renderer(), "digest", p).html.splitlines()) == 1 for p in stored)


async def test_the_demo_honours_time_zone_and_working_hours(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(timezone="Asia/Jayapura", work_hours="mon-sun 00:00-24:00")
    assert await run_demo(settings, verbose=True) == 0
    out = capsys.readouterr().out
    assert "Zona waktu Asia/Jayapura (WIT) · jam kerja Sen–Min 00:00–24:00" in out
    assert " WIT" in out.split("Zona waktu", 1)[1].split("\n", 1)[1]  # the cards show due times in WIT
    assert " WIB" not in out
    assert "status: selesai" in out


async def test_the_demo_says_what_it_needs_from_a_custom_sop_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "sop"
    folder.mkdir()
    for name in ("roles.yaml", "institutions.yaml", "opd.yaml"):
        (folder / name).write_text((Path(__file__).parents[1] / "sop_data" / name).read_text(encoding="utf-8"),
                                   encoding="utf-8")
    assert await run_demo(Settings(sop_dir=folder), verbose=False) == 1
    assert "ketapang-permintaan-informasi" in capsys.readouterr().err
