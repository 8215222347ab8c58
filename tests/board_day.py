"""A scripted working day of cases through the real workflow, and the board's web server over it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.config import Settings
from bot.core.clock import ManualClock
from bot.runtime import Services, open_services
from bot.storage.records import Person
from bot.workflow.results import FileUpload
from web.server import WebServer

from conftest import MONDAY_8
from roster import Roster, advance, ketapang_roster

TOKEN = "123456:BOARD-TEST-TOKEN"
KOTIM_KABID_TG = 4101


@dataclass
class BoardDay:
    services: Services
    clock: ManualClock
    roster: Roster
    kotim_kabid: Person
    server: WebServer
    cases: dict[str, str]
    """What each case shows by the end of the day → its register number."""

    @property
    def url(self) -> str:
        return self.server.url


async def _file(s: Services, roster: Roster, what: str) -> int:
    out = await s.workflow.filing.file_request(
        "ketapang-permintaan-informasi", roster["officer"].id,
        {"data_diminta": what, "keperluan": "Laporan", "kontak": "081234567890"},
        {"surat_permintaan": FileUpload("f1", file_name="surat.pdf")},
    )
    return out.case.id


async def scripted_day(s: Services, clock: ManualClock, roster: Roster, kotim_kabid: Person) -> dict[str, str]:
    """Monday in Bappeda Ketapang: one request answered, one refused, one late at the Sub Koordinator,
    one waiting for a data processor nobody is (unassigned), one reaching the Kabid in the afternoon;
    and in Kotim one Rakordal started by their Kabid (another institution)."""
    cases: dict[str, int] = {}
    cases["answered"] = await _file(s, roster, "Data realisasi APBD 2025")
    cases["refused"] = await _file(s, roster, "Data pribadi pegawai")
    cases["late"] = await _file(s, roster, "Capaian kinerja OPD 2025")
    cases["unassigned"] = await _file(s, roster, "Data kemiskinan per desa")
    for _ in range(11):
        clock.advance(minutes=10)
        await advance(s.workflow, cases["answered"], 1)
    clock.set(MONDAY_8.replace(hour=10))
    await advance(s.workflow, cases["refused"], 1)
    clock.advance(minutes=10)
    await advance(s.workflow, cases["refused"], 1, branch=1)
    await advance(s.workflow, cases["late"], 3)          # now at step 5 (Sub Koordinator, 1 jam)
    await s.people.deactivate(roster["staf"].id)       # the only data processor leaves at 10.00
    await advance(s.workflow, cases["unassigned"], 4)    # now at step 6: no Staf/Pengolah Data
    clock.set(MONDAY_8.replace(hour=13, minute=30))
    cases["due_today"] = await _file(s, roster, "Data infrastruktur jalan")
    await advance(s.workflow, cases["due_today"], 3)     # now at step 5 (Sub Koordinator, 1 jam → due 14.30)
    out = await s.workflow.filing.file_request("kotim-rakordal", kotim_kabid.id, {}, {})
    cases["kotim"] = out.case.id
    clock.set(MONDAY_8.replace(hour=14, minute=0))
    registers = {}
    for key, case_id in cases.items():
        case = await s.workflow.queries.case_by_ref(case_id)
        assert case is not None
        registers[key] = case.register_no
    return registers


@contextlib.asynccontextmanager
async def board_day(tmp_path: Path) -> AsyncIterator[BoardDay]:
    clock = ManualClock(MONDAY_8)
    services = await open_services(Settings(db_path=tmp_path / "board.sqlite3"), clock=clock, sync_people=False)
    server: WebServer | None = None
    try:
        roster = await ketapang_roster(services.people, skip=("staf2",))
        kotim_kabid = await services.people.add_staff(name="Pak Budi (Kabid P2EPD Kotim)", roles=["kabid"],
                                                      institution="kotim", unit="p2epd", telegram_id=KOTIM_KABID_TG)
        await services.people.add_staff(name="Fina (Perencana Kotim)", roles=["fungsional_perencana"],
                                        institution="kotim", unit="p2epd", telegram_id=4102)
        cases = await scripted_day(services, clock, roster, kotim_kabid)
        server = await WebServer(services, token=TOKEN, listen="127.0.0.1", port=0, secure_cookie=False).start()
        yield BoardDay(services, clock, roster, kotim_kabid, server, cases)
    finally:
        if server is not None:
            await server.stop()
        await services.close()


def after(clock: ManualClock, **kw: float) -> None:
    clock.advance(timedelta(**kw))
