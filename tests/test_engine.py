"""The workflow workflow against a real SQLite file: flows, decisions, delegation, restarts, races."""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import timedelta
from pathlib import Path

import pytest

from bot import storage
from bot.core.clock import ManualClock
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog
from bot.sop.model import Sop
from bot.storage.db import Database
from bot.storage.records import Person
from bot.text import payloads
from bot.workflow.errors import WorkflowError
from bot.workflow.people import People
from bot.workflow.results import FileUpload
from bot.workflow.use_cases import Workflow

from conftest import MONDAY_8, WIB
from roster import Roster, advance, ketapang_roster

INFO = "ketapang-permintaan-informasi"
KONSUL = "ketapang-permintaan-konsultasi"
FASIL = "ketapang-fasilitasi-aplikasi"

INFO_INTAKE = {"data_diminta": "Data IPM per kecamatan 2025", "keperluan": "Laporan Renja", "kontak": "0812-3456-7890"}
SURAT = {"surat_permintaan": FileUpload("file-surat-1", "u1", "surat_permintaan.pdf", "application/pdf", 1234)}


async def kinds(db: Database, since_id: int = 0, *, documents: bool = False) -> list[tuple[int | None, str]]:
    """Outbox rows after ``since_id`` as (person, kind); documents sent along are left out unless asked."""
    return [(m.person_id, m.kind) for m in await storage.outbox.outbox(db)
            if m.id > since_id and (documents or m.kind != "document")]


async def last_outbox_id(db: Database) -> int:
    rows = await storage.outbox.outbox(db)
    return rows[-1].id if rows else 0


async def event_types(db: Database, case_id: int) -> list[str]:
    return [e.type for e in await storage.events.events_of_case(db, case_id)]


async def holder_of_current(workflow: Workflow, case_id: int) -> tuple[int, Person]:
    wn = await workflow.queries.what_next(case_id)
    assert len(wn.current) == 1, wn.current
    cur = wn.current[0]
    assert cur.holder is not None
    return cur.instance.id, cur.holder


@pytest.fixture
async def roster(people: People) -> Roster:
    return await ketapang_roster(people)


async def test_permintaan_informasi_end_to_end(workflow: Workflow, db: Database, roster: Roster, clock: ManualClock):
    officer = roster["officer"]
    out = await workflow.filing.file_request(INFO, officer.id, INFO_INTAKE, SURAT)
    case = out.case
    assert case.register_no == "KTP-INFO-2026-0001"
    assert [s.step_no for s in out.opened] == ["2"]
    assert out.opened[0].holder_id == roster["tu"].id
    # due: 0,5 jam of working time after Monday 08:00 WIB
    assert out.opened[0].due_at == (MONDAY_8 + timedelta(minutes=30))
    assert await event_types(db, case.id) == ["case_filed", "step_completed", "step_opened"]
    assert await kinds(db, documents=True) == [
        (roster["tu"].id, "document"), (roster["tu"].id, "assignment"), (officer.id, "case_filed"),
    ]
    files = await storage.attachments.attachments(db, case.id)
    assert [(a.purpose, a.field, a.file_name) for a in files] == [
        ("intake", "surat_permintaan", "surat_permintaan.pdf")
    ]

    expected_holders = [
        "tu", "kaban", "kabid", "subkoor", "staf", "subkoor", "kabid", "sekban", "kaban", "tu", "officer",
    ]
    seen_steps = []
    for key in expected_holders:
        mark = await last_outbox_id(db)
        events_before = len(await event_types(db, case.id))
        sid, holder = await holder_of_current(workflow, case.id)
        assert holder.id == roster[key].id, (key, holder.name)
        _, _, _, step = await workflow.queries.step_context(sid)
        seen_steps.append(step.number)
        clock.advance(minutes=15)
        if step.decision:
            res = await workflow.steps.decide(sid, holder.id, 0)
        else:
            upload = FileUpload(f"out-{step.number}", file_name=f"langkah{step.number}.pdf") if step.hands_off else None
            res = await workflow.steps.complete_step(sid, holder.id, output=upload)
        assert res.changed
        new_events = (await event_types(db, case.id))[events_before:]
        rows = await kinds(db, mark)
        if res.closed:
            assert new_events[0] == "step_completed" and new_events[-1] == "case_completed"
            concerned = {officer.id} | {roster[k].id for k in expected_holders if k != "officer"}
            assert {pid for pid, kind in rows if kind == "case_completed"} == concerned
        else:
            nxt = res.opened[0]
            assert new_events[-1] == "step_opened"
            assert rows[0] == (nxt.holder_id, "assignment")
            if nxt.holder_id != officer.id:
                assert rows[1] == (officer.id, "progress")
    assert seen_steps == ["2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
    final = await storage.cases.case(db, case.id)
    assert final is not None and final.state == "completed"
    # The answer letter reaches the requester with their own last step ('Pemohon menerima Surat Jawaban') …
    receipt = [m for m in await storage.outbox.outbox(db) if m.kind == "assignment" and m.person_id == officer.id][-1]
    assert [f.file_id for f in payloads.parse(receipt.kind, receipt.payload).files] == ["out-11"]
    # … so the closing message does not send it again.
    completed_msg = next(m for m in await storage.outbox.outbox(db)
                         if m.kind == "case_completed" and m.person_id == officer.id)
    assert payloads.parse(completed_msg.kind, completed_msg.payload).files == []


async def test_requester_step_goes_back_to_requester(workflow: Workflow, db: Database, roster: Roster):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    await advance(workflow, out.case.id, 10)
    _, holder = await holder_of_current(workflow, out.case.id)
    assert holder.id == roster["officer"].id
    msg = [m for m in await storage.outbox.outbox(db)
           if m.person_id == roster["officer"].id and m.kind == "assignment"][-1]
    card = payloads.parse(msg.kind, msg.payload)
    assert card.for_requester is True and card.step == "12"


async def test_konsultasi_with_kabid_decision(workflow: Workflow, db: Database, roster: Roster):
    intake = {"topik": "Penyusunan Renja", "uraian": "Bagaimana menyelaraskan Renja dengan RKPD?",
              "instansi": "Dinas Kesehatan", "kontak": "081234567890"}
    sop = workflow.catalog[KONSUL]
    intake = {k: v for k, v in intake.items() if k in {f.key for f in sop.intake}}
    out = await workflow.filing.file_request(KONSUL, roster["officer"].id, intake)
    assert out.case.register_no.startswith("KTP-") and out.case.register_no.endswith("-2026-0001")
    sid, holder = await holder_of_current(workflow, out.case.id)
    await workflow.steps.complete_step(sid, holder.id)  # TU step 2
    sid, holder = await holder_of_current(workflow, out.case.id)
    assert holder.id == roster["kabid"].id
    with pytest.raises(WorkflowError) as err:
        await workflow.steps.complete_step(sid, holder.id)
    assert err.value.code == "needs_decision"
    res = await workflow.steps.decide(sid, holder.id, 0)
    assert res.opened[0].step_no == "5" and res.opened[0].holder_id == roster["subkoor"].id
    events = await storage.events.events_of_case(db, out.case.id)
    decided = next(e for e in events if e.type == "step_decided")
    assert decided.data["target"] == "5" and "Sub Koordinator" in decided.data["branch"]
    for expected in ("subkoor", "tu", "officer"):
        sid, holder = await holder_of_current(workflow, out.case.id)
        assert holder.id == roster[expected].id
        res = await workflow.steps.complete_step(sid, holder.id)
    assert res.closed == "completed"


async def test_fasilitasi_direct_to_admin_aplikasi(workflow: Workflow, roster: Roster):
    sop = workflow.catalog[FASIL]
    intake = {f.key: ("SIPD" if f.kind == "choice" else "081234567890" if f.kind == "phone" else "Butuh bantuan")
              for f in sop.intake if f.kind != "document" and f.required}
    out = await workflow.filing.file_request(FASIL, roster["officer"].id, intake)
    sid, holder = await holder_of_current(workflow, out.case.id)
    await workflow.steps.complete_step(sid, holder.id)
    sid, holder = await holder_of_current(workflow, out.case.id)
    res = await workflow.steps.decide(sid, holder.id, 1)  # straight to Admin Aplikasi
    assert res.opened[0].step_no == "6" and res.opened[0].holder_id == roster["admin_app"].id


async def test_decision_that_loops_back_keeps_both_instances(workflow: Workflow, db: Database, roster: Roster):
    out = await workflow.filing.file_request(KONSUL, roster["officer"].id, _konsul_intake(workflow))
    sid, holder = await holder_of_current(workflow, out.case.id)
    await workflow.steps.complete_step(sid, holder.id)
    sid, holder = await holder_of_current(workflow, out.case.id)
    res = await workflow.steps.decide(sid, holder.id, 2)  # not for this bidang → back to step 2
    assert res.opened[0].step_no == "2"
    steps = [s.step_no for s in await storage.steps.steps_of_case(db, out.case.id)]
    assert steps == ["1", "2", "4", "2"]
    prog = [m for m in await storage.outbox.outbox(db) if m.kind == "progress"][-1]
    assert payloads.parse(prog.kind, prog.payload).returned is True


def _konsul_intake(workflow: Workflow) -> dict[str, str]:
    sop = workflow.catalog[KONSUL]
    return {f.key: ("081234567890" if f.kind == "phone" else "Pertanyaan tentang Renja")
            for f in sop.intake if f.kind != "document" and f.required}


async def test_double_completion_reports_who_did_it(workflow: Workflow, db: Database, roster: Roster):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    sid = out.opened[0].id
    first = await workflow.steps.complete_step(sid, roster["tu"].id)
    mark = await last_outbox_id(db)
    events = len(await event_types(db, out.case.id))
    again = await workflow.steps.complete_step(sid, roster["tu"].id)
    assert first.changed and not again.changed
    assert again.done_by is not None and again.done_by.id == roster["tu"].id
    assert await kinds(db, mark) == []
    assert len(await event_types(db, out.case.id)) == events


async def test_concurrent_completion_has_one_winner(workflow: Workflow, db: Database, roster: Roster):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    sid = out.opened[0].id
    results = await asyncio.gather(*[workflow.steps.complete_step(sid, roster["tu"].id) for _ in range(5)])
    assert sum(r.changed for r in results) == 1
    opened = [s for s in await storage.steps.steps_of_case(db, out.case.id) if s.step_no == "3"]
    assert len(opened) == 1


def _complete_in_process(db_path: str, step_id: int, actor_id: int, barrier, queue) -> None:  # type: ignore[no-untyped-def]
    async def run() -> bool:
        from bot.sop.calendar import WorkCalendar as Cal
        from bot.sop.catalog import load_catalog

        db = await Database.open(db_path)
        eng = Workflow.build(db, load_catalog(), Cal(), ManualClock(MONDAY_8 + timedelta(minutes=5)))
        barrier.wait()
        try:
            res = await eng.steps.complete_step(step_id, actor_id)
            return res.changed
        finally:
            await db.close()

    queue.put(asyncio.run(run()))


async def test_two_processes_on_one_database_file(workflow: Workflow, db: Database, db_path: Path, roster: Roster):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    sid = out.opened[0].id
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    queue = ctx.Queue()
    procs = [ctx.Process(target=_complete_in_process, args=(str(db_path), sid, roster["tu"].id, barrier, queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        await asyncio.to_thread(p.join, 60)
    results = sorted([queue.get(timeout=5) for _ in procs])
    assert results == [False, True]
    opened = [s for s in await storage.steps.steps_of_case(db, out.case.id) if s.step_no == "3"]
    assert len(opened) == 1
    completions = [e for e in await storage.events.events_of_case(db, out.case.id) if e.type == "step_completed"]
    assert len(completions) == 2  # step 1 (filing) and step 2 once


async def test_restart_mid_flow(db_path: Path, catalog: Catalog, calendar: WorkCalendar, clock: ManualClock,
                                agencies: dict):
    db = await Database.open(db_path)
    people = People(db, catalog, clock, agencies)
    roster = await ketapang_roster(people)
    workflow = Workflow.build(db, catalog, calendar, clock, agencies=agencies)
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    await workflow.steps.complete_step(out.opened[0].id, roster["tu"].id)
    await db.close()

    db2 = await Database.open(db_path)
    workflow2 = Workflow.build(db2, catalog, calendar, clock, agencies=agencies)
    wn = await workflow2.queries.what_next(out.case.id)
    assert [c.step.number for c in wn.current] == ["3"] and wn.current[0].holder.id == roster["kaban"].id
    res = await workflow2.steps.decide(wn.current[0].instance.id, roster["kaban"].id, 0)
    assert res.opened[0].step_no == "4"
    assert await event_types(db2, out.case.id) == [
        "case_filed", "step_completed", "step_opened", "step_completed", "step_opened", "step_decided", "step_opened",
    ]
    assert len(await kinds(db2)) == 6 and len(await kinds(db2, documents=True)) == 9
    await db2.close()


async def test_rejection_closes_the_case(workflow: Workflow, db: Database, roster: Roster):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    await workflow.steps.complete_step(out.opened[0].id, roster["tu"].id)
    sid, holder = await holder_of_current(workflow, out.case.id)
    res = await workflow.steps.decide(sid, holder.id, 1)
    assert res.closed == "rejected"
    msg = next(m for m in await storage.outbox.outbox(db)
               if m.kind == "case_rejected" and m.person_id == roster["officer"].id)
    assert payloads.parse(msg.kind, msg.payload).state == "rejected"


async def test_only_the_holder_may_complete(workflow: Workflow, roster: Roster):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    with pytest.raises(WorkflowError) as err:
        await workflow.steps.complete_step(out.opened[0].id, roster["kabid"].id)
    assert err.value.code == "not_holder"
    with pytest.raises(WorkflowError):
        await workflow.steps.decide(out.opened[0].id, roster["tu"].id, 0)
    with pytest.raises(WorkflowError) as err:
        await workflow.steps.complete_step(999_999, roster["tu"].id)
    assert err.value.code == "step_not_found"


async def test_delegation_by_holder_and_by_supervisor(workflow: Workflow, db: Database, roster: Roster):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    await advance(workflow, out.case.id, 4)
    sid, holder = await holder_of_current(workflow, out.case.id)
    assert holder.id == roster["staf"].id  # step 6, least loaded pengolah data (lowest id on a tie)
    instance = (await workflow.queries.step_context(sid))[0]
    candidates = await workflow.delegation.reassign_candidates(db, instance, out.case, holder)
    assert [p.id for p in candidates] == [roster["staf2"].id]
    with pytest.raises(WorkflowError) as err:
        await workflow.delegation.reassign(sid, holder.id, roster["kabid"].id, "sibuk")
    assert err.value.code == "bad_target"
    with pytest.raises(WorkflowError) as err:
        await workflow.delegation.reassign(sid, holder.id, roster["staf2"].id, "   ")
    assert err.value.code == "reason_required"
    mark = await last_outbox_id(db)
    res = await workflow.delegation.reassign(sid, holder.id, roster["staf2"].id, "Sedang dinas luar")
    assert res.changed and res.step.holder_id == roster["staf2"].id
    assert await kinds(db, mark) == [(roster["staf2"].id, "assignment")]
    ev = [e for e in await storage.events.events_of_case(db, out.case.id) if e.type == "step_reassigned"][-1]
    assert ev.actor_id == roster["staf"].id and ev.data["reason"] == "Sedang dinas luar"
    # the Kabid (supervisor of the unit) takes it back to the first staff member, who is told
    mark = await last_outbox_id(db)
    await workflow.delegation.reassign(sid, roster["kabid"].id, roster["staf"].id, "Eko cuti")
    assert await kinds(db, mark) == [(roster["staf"].id, "assignment"), (roster["staf2"].id, "step_taken_over")]
    # the TU officer is neither holder nor supervisor
    with pytest.raises(WorkflowError) as err:
        await workflow.delegation.reassign(sid, roster["tu"].id, roster["staf2"].id, "coba")
    assert err.value.code == "not_allowed_reassign"


async def test_role_with_no_holder_is_flagged_and_picked_up_later(
    db: Database, workflow: Workflow, people: People
):
    roster = await ketapang_roster(people, skip=("staf", "staf2"))
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    await advance(workflow, out.case.id, 3)
    mark = await last_outbox_id(db)
    await advance(workflow, out.case.id, 1)
    wn = await workflow.queries.what_next(out.case.id)
    assert wn.current[0].step.number == "6" and wn.current[0].holder is None
    case = await storage.cases.case(db, out.case.id)
    assert case is not None and case.unassigned
    told = {pid for pid, kind in await kinds(db, mark) if kind == "unassigned"}
    assert told == {roster["kabid"].id, roster["sekban"].id, roster["kaban"].id, roster["admin"].id}
    assert "step_unassigned" in await event_types(db, out.case.id)
    newcomer = await people.add_staff(name="Fajar", roles=["staf_pengolah_data"], institution="ketapang",
                                      unit="perstradal", telegram_id=2100)
    assigned = await workflow.handover.assign_waiting()
    assert [s.holder_id for s in assigned] == [newcomer.id]
    case = await storage.cases.case(db, out.case.id)
    assert case is not None and not case.unassigned


async def test_acting_official_takes_open_and_new_steps(workflow: Workflow, db: Database, roster: Roster,
                                                        clock: ManualClock):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    await workflow.steps.complete_step(out.opened[0].id, roster["tu"].id)
    sid, holder = await holder_of_current(workflow, out.case.id)
    assert holder.id == roster["kaban"].id
    moved = await workflow.acting.act_for(roster["kaban"].id, roster["sekban"].id, "2026-11-23", "2026-11-27",
                                          kind="plh", reason="Dinas luar")
    assert [m.id for m in moved] == [sid]
    wn = await workflow.queries.what_next(out.case.id)
    assert wn.current[0].holder.id == roster["sekban"].id and wn.current[0].acting_for.id == roster["kaban"].id
    res = await workflow.steps.decide(sid, roster["sekban"].id, 0)
    ev = [e for e in await storage.events.events_of_case(db, out.case.id) if e.type == "step_decided"][-1]
    assert ev.actor_id == roster["sekban"].id and ev.on_behalf_of == roster["kaban"].id
    # a new step for the Kepala Badan during the range also goes to the Plh
    out2 = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    await workflow.steps.complete_step(out2.opened[0].id, roster["tu"].id)
    wn2 = await workflow.queries.what_next(out2.case.id)
    assert wn2.current[0].holder.id == roster["sekban"].id
    assert "acting_assigned" in await event_types(db, out2.case.id)
    assert res.changed
    # after the range it is the Kepala Badan's again
    clock.set(MONDAY_8 + timedelta(days=7))
    out3 = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    await workflow.steps.complete_step(out3.opened[0].id, roster["tu"].id)
    wn3 = await workflow.queries.what_next(out3.case.id)
    assert wn3.current[0].holder.id == roster["kaban"].id


async def test_cancel_by_requester_only(workflow: Workflow, db: Database, roster: Roster):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    with pytest.raises(WorkflowError) as err:
        await workflow.cancellation.cancel(out.case.id, roster["kabid"].id, "salah")
    assert err.value.code == "not_allowed_cancel"
    mark = await last_outbox_id(db)
    res = await workflow.cancellation.cancel(out.case.id, roster["officer"].id, "Data sudah didapat dari sumber lain")
    assert res.changed and res.case.state == "cancelled"
    assert {pid for pid, k in await kinds(db, mark) if k == "case_cancelled"} == {roster["officer"].id,
                                                                                  roster["tu"].id}
    assert all(s.state != "open" for s in await storage.steps.steps_of_case(db, out.case.id))
    again = await workflow.cancellation.cancel(out.case.id, roster["officer"].id, "lagi")
    assert not again.changed


@pytest.mark.parametrize(
    ("intake", "uploads", "code"),
    [
        ({"keperluan": "x", "kontak": "0812345678"}, SURAT, "intake_missing"),
        ({**INFO_INTAKE, "kontak": "telepon saya"}, SURAT, "intake_bad_phone"),
        (INFO_INTAKE, {}, "intake_missing"),
        ({**INFO_INTAKE, "data_diminta": "x" * 5000}, SURAT, "intake_too_long"),
        ({**INFO_INTAKE, "hack": "1"}, SURAT, "intake_unknown"),
    ],
)
async def test_bad_intake_changes_nothing(workflow: Workflow, db: Database, roster: Roster, intake, uploads, code):
    with pytest.raises(WorkflowError) as err:
        await workflow.filing.file_request(INFO, roster["officer"].id, intake, uploads)
    assert err.value.code == code
    assert await storage.cases.cases(db) == []
    assert await storage.outbox.outbox(db) == []


async def test_staff_only_sop_cannot_be_started_by_an_officer(workflow: Workflow, roster: Roster):
    with pytest.raises(WorkflowError) as err:
        await workflow.filing.file_request("bogor-musrenbang-kota", roster["officer"].id, {})
    assert err.value.code == "not_allowed_to_start"
    with pytest.raises(WorkflowError) as err:
        await workflow.filing.file_request("karanganyar-laporan-kinerja", roster["officer"].id, {})
    assert err.value.code == "not_startable"


async def test_case_keeps_the_sop_version_it_started_with(workflow: Workflow, db: Database, roster: Roster,
                                                          catalog: Catalog, calendar: WorkCalendar,
                                                          clock: ManualClock):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    original = catalog[INFO]
    data = original.model_dump()
    for raw in data["steps"]:
        raw["text"] += " (revisi)"
    edited = Sop.model_validate(data)  # as if the YAML had been edited and reloaded
    changed_catalog = Catalog({**catalog.sops, INFO: edited}, catalog.roles, catalog.institutions)
    workflow2 = Workflow.build(db, changed_catalog, calendar, clock)
    _, _, sop, step = await workflow2.queries.step_context(out.opened[0].id)
    assert sop.content_hash == original.content_hash != edited.content_hash
    assert "(revisi)" not in step.text
    out2 = await workflow2.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    _, _, _, step2 = await workflow2.queries.step_context(out2.opened[0].id)
    assert "(revisi)" in step2.text


async def test_register_numbers_count_per_sop_and_year(workflow: Workflow, roster: Roster, clock: ManualClock):
    a = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    b = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    c = await workflow.filing.file_request(KONSUL, roster["officer"].id, _konsul_intake(workflow))
    clock.set(MONDAY_8.replace(year=2027, month=1, day=4))
    d = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    assert [x.case.register_no for x in (a, b, d)] == ["KTP-INFO-2026-0001", "KTP-INFO-2026-0002",
                                                      "KTP-INFO-2027-0001"]
    assert c.case.register_no.endswith("2026-0001")
    assert (await workflow.queries.case_by_ref("ktp-info-2026-0002")).id == b.case.id
    assert (await workflow.queries.case_by_ref(str(c.case.id))).id == c.case.id


async def test_events_are_append_only(workflow: Workflow, db: Database, roster: Roster):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    with pytest.raises(Exception, match="append-only"):
        async with db.transaction() as tx:
            await tx.execute("UPDATE events SET type = 'x' WHERE case_id = ?", (out.case.id,))
    with pytest.raises(Exception, match="append-only"):
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM events")


async def test_deadlines_and_alarms_are_stored(workflow: Workflow, db: Database, roster: Roster, clock: ManualClock):
    out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
    await advance(workflow, out.case.id, 4)
    sid, _ = await holder_of_current(workflow, out.case.id)
    inst = await storage.steps.step(db, sid)
    assert inst is not None and inst.step_no == "6"  # '1 hari'
    opened = inst.opened_at.astimezone(WIB)
    assert inst.due_at.astimezone(WIB) == opened + timedelta(days=1)
    assert inst.remind_at is not None and inst.prewarn_at is not None and inst.escalate_at is not None
    assert inst.opened_at < inst.remind_at < inst.prewarn_at < inst.due_at < inst.escalate_at
    assert workflow.calendar.working_minutes(inst.prewarn_at, inst.due_at) == 60


async def test_rakordal_goes_round_the_tidak_sesuai_loop(workflow: Workflow, db: Database, people: People):
    """Kotim's Rakordal SOP: step 7 (Kabid) sends the draft back to step 6 once, then approves it."""
    add = people.add_staff
    kaban = await add(name="Kepala Bappelitbangda", roles=["kepala_badan"], institution="kotim", unit=None,
                      telegram_id=6001)
    kabid = await add(name="Kabid P2EPD", roles=["kabid"], institution="kotim", unit="p2epd", telegram_id=6002)
    jfp = await add(name="Perencana P2EPD", roles=["fungsional_perencana"], institution="kotim", unit="p2epd",
                    telegram_id=6003)
    admin = await add(name="Pengadministrasi", roles=["pengadministrasi_umum"], institution="kotim",
                      unit="p2epd", telegram_id=6004)
    out = await workflow.filing.file_request("kotim-rakordal", kaban.id, {})
    case = out.case
    assert case.register_no.startswith("KTM-") and out.opened[0].holder_id == jfp.id
    holders = {jfp.id: "jfp", kabid.id: "kabid", admin.id: "admin"}
    path: list[tuple[str, str]] = []
    decisions = iter([1, 0])  # first 'Tidak sesuai', then 'Sesuai'
    while True:
        wn = await workflow.queries.what_next(case.id)
        if not wn.current:
            break
        cur = wn.current[0]
        path.append((cur.step.number, holders[cur.holder.id]))
        mark = await last_outbox_id(db)
        if cur.step.decision:
            res = await workflow.steps.decide(cur.instance.id, cur.holder.id, next(decisions))
        else:
            res = await workflow.steps.complete_step(cur.instance.id, cur.holder.id)
        rows = await kinds(db, mark)
        if res.opened:
            assert rows[0] == (res.opened[0].holder_id, "assignment")
            assert (kaban.id, "progress") in rows  # the Kepala Badan started it and follows it
    assert path == [("1", "jfp"), ("2", "admin"), ("3", "jfp"), ("4", "admin"), ("5", "jfp"), ("6", "jfp"),
                    ("7", "kabid"), ("6", "jfp"), ("7", "kabid"), ("8", "kabid"), ("9", "admin")]
    instances = await storage.steps.steps_of_case(db, case.id)
    assert [s.step_no for s in instances].count("6") == 2 and [s.step_no for s in instances].count("7") == 2
    decided = [e for e in await storage.events.events_of_case(db, case.id) if e.type == "step_decided"]
    assert [e.data["target"] for e in decided] == ["6", "8"]
    assert decided[0].data["outcome"] == "return"
    progress = [payloads.parse(m.kind, m.payload) for m in await storage.outbox.outbox(db) if m.kind == "progress"]
    returned = [p for p in progress if p.returned]
    assert len(returned) == 1 and returned[0].step == "6"
    final = await storage.cases.case(db, case.id)
    assert final is not None and final.state == "completed"


async def test_sla_report_and_cli(workflow: Workflow, db: Database, db_path: Path, roster: Roster, clock: ManualClock,
                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from bot.cli.main import main
    from bot.workflow.analytics import sla_report

    for minutes in (20, 40, 20):
        out = await workflow.filing.file_request(INFO, roster["officer"].id, INFO_INTAKE, SURAT)
        clock.advance(minutes=minutes)
        await workflow.steps.complete_step(out.opened[0].id, roster["tu"].id)
    rows = await sla_report(db, workflow.catalog, workflow.calendar)
    step2 = next(r for r in rows if r.sop_id == INFO and r.step_no == "2")
    assert (step2.count, step2.median_minutes, step2.standard_minutes, step2.standard_text) == (3, 20, 30, "0,5 jam")
    assert step2.within_standard == 2 and step2.within_share == pytest.approx(2 / 3)
    monkeypatch.setenv("ALUR_DB", str(db_path))
    csv_path = tmp_path / "sla.csv"
    assert await asyncio.to_thread(main, ["report", "sla", "--csv", str(csv_path)]) == 0
    text = await asyncio.to_thread(csv_path.read_text, encoding="utf-8")
    assert 'ketapang-permintaan-informasi,2,Petugas TU/UKP,3,20,"0,5 jam",30,67%' in text
    assert ",1,Pemohon," not in text  # the filing itself is not a timed step
