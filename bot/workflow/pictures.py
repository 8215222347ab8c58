"""Flowchart pictures of SOPs and of live cases: the case's marks read from the database, charts cached.

Rendering a PNG takes a few hundred milliseconds, so it runs in a worker thread and its result is
kept by content (SOP hash, lane names, the case's marks), not by case number: a case's picture is
drawn again only after it moved.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.core.states import CaseState, StepState
from bot.sop.model import Sop
from bot.storage.records import Case
from bot.text.flowchart import FlowchartCache, Marks
from bot.text.flowchart.draw import Format
from bot.workflow.use_cases import Workflow

STATE_WORDS = {CaseState.COMPLETED: "selesai", CaseState.REJECTED: "tidak disetujui",
               CaseState.CANCELLED: "dibatalkan"}


class Pictures:
    def __init__(self, workflow: Workflow, cache_size: int = 128) -> None:
        self.workflow = workflow
        self.catalog = workflow.catalog
        self.calendar = workflow.calendar
        self.cache = FlowchartCache(self.catalog.roles, size=cache_size)

    def institution_name(self, sop: Sop) -> str:
        inst = self.catalog.institutions.get(sop.institution)
        return inst.name if inst else sop.institution

    async def sop_chart(self, sop: Sop, fmt: Format = "png") -> bytes:
        return await asyncio.to_thread(self.cache.get, sop, fmt, None, self.institution_name(sop))

    async def case_chart(self, case: Case, fmt: Format = "png") -> bytes:
        sop, marks = await self.case_marks(case)
        return await asyncio.to_thread(self.cache.get, sop, fmt, marks, self.institution_name(sop))

    async def case_marks(self, case: Case) -> tuple[Sop, Marks]:
        """The pinned SOP with the case's finished and open steps and a short note on each."""
        sop = await self.workflow.deps.sop_of(case)
        done: set[str] = set()
        current: set[str] = set()
        notes: dict[str, str] = {}
        names: dict[int, str] = {}

        async def name(pid: int | None) -> str:
            if pid is None:
                return "belum ada pemegang"
            if pid not in names:
                person = await self.workflow.queries.person(pid)
                names[pid] = person.name if person else "?"
            return names[pid]

        for inst in await self.workflow.queries.steps(case.id):
            if inst.state == StepState.DONE:
                done.add(inst.step_no)
                if inst.step_no not in current:
                    when = self._local(inst.completed_at)
                    notes[inst.step_no] = f"Selesai {when}" + (f" ({inst.branch_label})" if inst.branch_label else "")
            elif inst.state == StepState.OPEN:
                current.add(inst.step_no)
                text = f"Sedang: {await name(inst.holder_id)}"
                if inst.due_at:
                    text += f", batas {self._local(inst.due_at)}"
                notes[inst.step_no] = text
        position = ", ".join(sorted(current, key=lambda n: [s.number for s in sop.steps].index(n)
                                    if sop.has_step(n) else 0))
        if case.is_open:
            state = f"posisi: langkah {position}" if position else "berjalan"
        else:
            state = STATE_WORDS.get(case.state, case.state)
        caption = f"Permohonan {case.register_no} · {state}"
        return sop, Marks(frozenset(done), frozenset(current), notes, caption)

    def _local(self, moment: datetime | None) -> str:
        if moment is None:
            return "-"
        return moment.astimezone(self.calendar.tz).strftime("%d/%m %H.%M")
