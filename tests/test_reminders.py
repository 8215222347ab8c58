"""Reminders, escalations and digests with a movable clock (no sleeping on real time)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.states import NoticeKind
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog
from bot.storage.db import Database
from bot.text import payloads
from bot.workflow.digest import DigestRound
from bot.workflow.people import People
from bot.workflow.policy import ReminderPolicy
from bot.workflow.reminders import ReminderSweep
from bot.workflow.results import FileUpload
from bot.workflow.use_cases import Workflow

from conftest import WIB
from observe import bookmark, event_types, give_up_on, notices, queue_notice
from roster import Roster, advance, ketapang_roster

INFO = "ketapang-permintaan-informasi"
INTAKE = {"data_diminta": "Data", "keperluan": "Laporan", "kontak": "081234567890"}
SURAT = {"surat_permintaan": FileUpload("f1", file_name="s.pdf")}


@pytest.fixture
async def roster(people: People) -> Roster:
    return await ketapang_roster(people)


def sweep_of(workflow: Workflow) -> ReminderSweep:
    return ReminderSweep(workflow.deps)


async def alarms(db: Database, since: int = 0) -> list[tuple[int | None, str, str]]:
    """(person, notice kind, alarm kind) of the reminders and escalations queued after ``since``."""
    return [(n.to, n.kind, n.payload.kind) for n in await notices(db, after=since)
            if n.kind in ("reminder", "escalation")]


async def to_step_6(workflow: Workflow, roster: Roster) -> int:
    """File a data request and move it to step 6 ('1 hari', Pengolah Data)."""
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INTAKE, SURAT)
    await advance(workflow, out.case.id, 4)
    wn = await workflow.queries.what_next(out.case.id)
    assert wn.current[0].step.number == "6"
    return wn.current[0].instance.id


async def test_reminder_at_75_percent_prewarn_due_and_escalation_chain(
    workflow: Workflow, db: Database, roster: Roster, clock: ManualClock
):
    sid = await to_step_6(workflow, roster)
    inst = await workflow.queries.step(sid)
    assert inst is not None
    sweep = sweep_of(workflow)
    staf, kabid, sekban = roster["staf"].id, roster["kabid"].id, roster["sekban"].id

    clock.set(inst.remind_at - timedelta(minutes=1))
    assert (await sweep.run()).sent["remind"] == 0
    clock.set(inst.remind_at)
    mark = await bookmark(db)
    result = await sweep.run()
    assert result.sent["remind"] == 1
    assert await alarms(db, mark) == [(staf, "reminder", "remind")]
    assert (await sweep.run()).checked == 0  # nothing twice

    clock.set(inst.prewarn_at)
    mark = await bookmark(db)
    await sweep.run()
    assert await alarms(db, mark) == [(staf, "reminder", "prewarn")]

    clock.set(inst.due_at)
    mark = await bookmark(db)
    await sweep.run()
    assert await alarms(db, mark) == [(staf, "reminder", "due")]

    clock.set(inst.escalate_at)
    mark = await bookmark(db)
    await sweep.run()
    assert await alarms(db, mark) == [(kabid, "escalation", "escalate")]
    level2 = workflow.calendar.add(inst.due_at, workflow.policy.escalation_grace + workflow.policy.escalation_grace)
    clock.set(level2)
    mark = await bookmark(db)
    await sweep.run()
    assert await alarms(db, mark) == [(sekban, "escalation", "escalate")]
    clock.advance(days=10)
    mark = await bookmark(db)
    await sweep.run()
    assert await alarms(db, mark) == []  # each level once
    events = await event_types(workflow, inst.case_id)
    assert events.count("reminder_sent") == 3 and events.count("escalated") == 2


async def test_no_reminders_outside_working_hours_then_at_next_opening(
    workflow: Workflow, db: Database, roster: Roster, clock: ManualClock
):
    clock.set(datetime(2026, 11, 23, 15, 30, tzinfo=WIB))  # Monday, half an hour before closing
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INTAKE, SURAT)
    inst = out.opened[0]
    assert inst.due_at == datetime(2026, 11, 23, 16, 0, tzinfo=WIB)
    sweep = sweep_of(workflow)
    clock.set(datetime(2026, 11, 23, 20, 0, tzinfo=WIB))  # evening: remind, due and escalation all passed
    result = await sweep.run()
    assert result.outside_hours and await alarms(db) == []
    clock.set(datetime(2026, 11, 24, 7, 30, tzinfo=WIB))  # next opening
    result = await sweep.run()
    assert result.checked == 1
    rows = await alarms(db)
    # only the most advanced missed alarm goes out: the due notice (escalation is one working hour after due)
    assert rows == [(roster["tu"].id, "reminder", "due")]


async def test_deadline_crossing_a_national_holiday(
    workflow: Workflow, db: Database, roster: Roster, clock: ManualClock
):
    clock.set(datetime(2026, 12, 23, 10, 0, tzinfo=WIB))  # Wednesday before cuti bersama + Natal
    sid = await to_step_6(workflow, roster)
    inst = await workflow.queries.step(sid)
    assert inst is not None
    assert inst.due_at.astimezone(WIB).date().isoformat() == "2026-12-28"
    sweep = sweep_of(workflow)
    for day in (24, 25):  # cuti bersama, Natal: no alarms even if the time has come
        clock.set(datetime(2026, 12, day, 10, 0, tzinfo=WIB))
        assert (await sweep.run()).outside_hours
    clock.set(inst.due_at)
    await sweep.run()
    assert (roster["staf"].id, "reminder", "due") in await alarms(db)


async def test_catch_up_after_three_hours_down_sends_once(
    workflow: Workflow, db: Database, roster: Roster, clock: ManualClock
):
    ids = []
    for _ in range(3):
        out = await workflow.filing.file_request(INFO, roster["officer"].id, INTAKE, SURAT)
        ids.append(out.opened[0].id)  # TU step, 0,5 jam
    clock.advance(hours=3)  # the bot was down: reminder, due and first escalation all passed
    sweep = sweep_of(workflow)
    first = await sweep.run()
    assert first.checked == 3 and first.skipped == 6
    rows = await alarms(db)
    assert len(rows) == 3 and {k for _, k, _ in rows} == {"escalation"}
    again = await sweep.run()
    assert again.checked == 0 and await alarms(db) == rows


async def test_two_sweepers_at_once_send_nothing_twice(
    workflow: Workflow, db: Database, roster: Roster, clock: ManualClock
):
    import asyncio

    for _ in range(5):
        await workflow.filing.file_request(INFO, roster["officer"].id, INTAKE, SURAT)
    clock.advance(minutes=25)
    await asyncio.gather(sweep_of(workflow).run(), sweep_of(workflow).run())
    assert len(await alarms(db)) == 5


async def test_requester_steps_are_reminded_but_never_escalated(
    workflow: Workflow, db: Database, roster: Roster, clock: ManualClock
):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INTAKE, SURAT)
    await advance(workflow, out.case.id, 10)
    cur = (await workflow.queries.what_next(out.case.id)).current[0]
    assert cur.holder.id == roster["officer"].id and cur.instance.escalate_at is None
    clock.advance(days=7, hours=1)  # the next Monday, 09.00
    mark = await bookmark(db)
    await sweep_of(workflow).run()
    assert await alarms(db, mark) == [(roster["officer"].id, "reminder", "due")]


async def test_daily_digest_once_per_supervisor_per_day_across_restart(
    db_path, catalog: Catalog, calendar: WorkCalendar, agencies: dict
):
    clock = ManualClock(datetime(2026, 11, 24, 7, 0, tzinfo=WIB))
    db = await Database.open(db_path)
    people = People(db, catalog, clock, agencies)
    roster = await ketapang_roster(people)
    workflow = Workflow.build(db, catalog, calendar, clock, ReminderPolicy(), agencies)
    await workflow.filing.file_request(INFO, roster["officer"].id, INTAKE, SURAT)
    digests = DigestRound(workflow.deps, time(7, 30))
    assert await digests.run() == 0  # before 07.30
    clock.set(datetime(2026, 11, 24, 7, 31, tzinfo=WIB))
    assert await digests.run() == 4  # kepala badan, sekretaris, kabid, admin
    assert await digests.run() == 0
    await db.close()
    db = await Database.open(db_path)  # restart
    workflow = Workflow.build(db, catalog, calendar, clock, ReminderPolicy(), agencies)
    assert await DigestRound(workflow.deps, time(7, 30)).run() == 0
    rows = await notices(db, kind="digest")
    assert sorted(n.to for n in rows) == sorted(
        roster[k].id for k in ("kaban", "sekban", "kabid", "admin")
    )
    kabid_digest = next(n.payload for n in rows if n.to == roster["kabid"].id)
    assert kabid_digest.open_cases == 1 and len(kabid_digest.new_cases) == 1
    assert "Perencanaan Strategis" in kabid_digest.scope_label
    clock.set(datetime(2026, 11, 28, 8, 0, tzinfo=WIB))  # Saturday: no digest
    assert await DigestRound(workflow.deps, time(7, 30)).run() == 0
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=WIB))  # Monday, after a late start: today's is still sent
    assert await DigestRound(workflow.deps, time(7, 30)).run() == 4
    await db.close()


async def test_digest_content_overdue_slowest_and_dead_letters(
    workflow: Workflow, db: Database, roster: Roster, clock: ManualClock
):
    from bot.workflow.digest import DigestBuilder

    out = await workflow.filing.file_request(INFO, roster["officer"].id, INTAKE, SURAT)
    clock.advance(hours=2)
    await workflow.steps.complete_step(out.opened[0].id, roster["tu"].id)  # 2 working hours vs 0,5 jam standard
    letter = await queue_notice(db, roster["kabid"], 1, payloads.DocumentPayload(file_id="surat"),
                                kind=NoticeKind.DOCUMENT, priority=1, now=clock.now())
    await give_up_on(db, letter, "403 Forbidden: bot was blocked by the user")
    clock.advance(days=1)
    builder = DigestBuilder(workflow.deps)
    await builder.load(clock.now())
    d = builder.build(roster["admin"])
    assert d is not None
    assert [o.step for o in d.overdue] == ["3"] and (d.overdue[0].holder or "").startswith("Pak Harto")
    assert d.slowest and d.slowest[0].step == "2" and d.slowest[0].ratio == pytest.approx(4.0)
    assert d.dead_letters and "blocked" in d.dead_letters[0].error
    kabid_view = builder.build(roster["kabid"])
    assert kabid_view is not None and kabid_view.dead_letters == []
    assert builder.build(roster["tu"]) is None
