"""A Bappeda Ketapang roster used by workflow and bot tests."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.records import Person
from bot.workflow.people import People
from bot.workflow.use_cases import Workflow

KETAPANG_STAFF = [
    ("tu", "Tari (TU)", ["petugas_tu"], None, 2001),
    ("kaban", "Pak Harto (Kepala Badan)", ["kepala_badan"], None, 2002),
    ("sekban", "Bu Sekar (Sekretaris)", ["sekretaris"], None, 2003),
    ("kabid", "Pak Kadir (Kabid)", ["kabid"], "perstradal", 2004),
    ("subkoor", "Bu Sari (Sub Koordinator)", ["sub_koordinator"], "perstradal", 2005),
    ("staf", "Dodi (Pengolah Data)", ["staf_pengolah_data"], "perstradal", 2006),
    ("admin_app", "Rina (Admin Aplikasi)", ["admin_aplikasi"], "perstradal", 2007),
    ("staf2", "Eko (Pengolah Data)", ["staf_pengolah_data"], "perstradal", 2008),
    ("admin", "Admin Sistem", ["admin"], None, 2009),
]


@dataclass
class Roster:
    by_key: dict[str, Person]

    def __getitem__(self, key: str) -> Person:
        return self.by_key[key]


async def ketapang_roster(people: People, *, skip: tuple[str, ...] = ()) -> Roster:
    out: dict[str, Person] = {}
    for key, name, roles, unit, tg in KETAPANG_STAFF:
        if key in skip:
            continue
        out[key] = await people.add_staff(name=name, roles=roles, institution="ketapang", unit=unit, telegram_id=tg)
    out["officer"] = await people.register_officer(
        telegram_id=3001, username="opd_dinkes", name="Ibu Wati (Dinkes)", agency_id="ktp-dinkes"
    )
    return Roster(out)


async def advance(workflow: Workflow, case_id: int, steps: int, branch: int = 0) -> None:
    """Let the holder of the current step finish it ``steps`` times (deciding with ``branch``)."""
    for _ in range(steps):
        cur = (await workflow.queries.what_next(case_id)).current[0]
        assert cur.holder is not None, f"step {cur.step.number} has no holder"
        if cur.step.decision:
            await workflow.steps.decide(cur.instance.id, cur.holder.id, branch)
        else:
            await workflow.steps.complete_step(cur.instance.id, cur.holder.id)
