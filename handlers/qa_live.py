"""The live data question answering reads, on top of today's workflow API.

``bot.qa`` defines what it needs (:class:`bot.qa.live.LiveData`); this adapter provides it from
the engine and the store. It is the one place that decides who may see a request: the
requester, staff of the request's institution, admins (``Engine.may_view``). A deactivated
person sees nothing.
"""

from __future__ import annotations

from bot.qa.live import Asker, CaseState, OpenStep, Task
from bot.storage import store
from bot.storage.db import Database
from bot.storage.records import Case, Person
from bot.workflow.engine import Engine

MAX_CASES = 10


class EngineLive:
    """:class:`bot.qa.live.LiveData` over the workflow engine and ``bot.storage.store``."""

    def __init__(self, engine: Engine, db: Database) -> None:
        self.engine = engine
        self.db = db

    async def cases_of(self, asker: Asker) -> list[CaseState]:
        person = await self._person(asker)
        if person is None:
            return []
        cases = await store.cases_of_requester(self.db, person.id, limit=MAX_CASES)
        return [await self._state(case) for case in cases]

    async def tasks_of(self, asker: Asker) -> list[Task]:
        person = await self._person(asker)
        if person is None:
            return []
        engine = self.engine
        out: list[Task] = []
        for instance, case, step in await engine.open_tasks(person.id):
            sop = await engine.sop_of(case)
            out.append(Task(instance.id, case.id, case.register_no, case.title, sop, step, instance.opened_at,
                            instance.due_at))
        return out

    async def case(self, ref: str, asker: Asker) -> CaseState | None:
        person = await self._person(asker)
        if person is None:
            return None
        case = await self.engine.case_by_ref(ref)
        if case is None or not await self.engine.may_view(person, case):
            return None
        return await self._state(case)

    async def _person(self, asker: Asker) -> Person | None:
        """The asker as stored now: someone deactivated since the update arrived sees nothing."""
        person = await store.person(self.db, asker.id)
        return person if person is not None and person.active else None

    async def _state(self, case: Case) -> CaseState:
        wn = await self.engine.what_next(case.id)
        current = tuple(
            OpenStep(c.step, c.holder.name if c.holder else None, c.acting_for.name if c.acting_for else None,
                     c.instance.opened_at, c.instance.due_at)
            for c in wn.current
        )
        return CaseState(case.id, case.register_no, case.title, case.state, wn.sop, case.created_at, case.closed_at,
                         current, wn.following)
