"""The live data a question about 'my request' or 'my tasks' is answered from.

The answerer never reads the database itself. It asks a :class:`LiveData` — :class:`WorkflowLive`
over the workflow's queries and access rule in the bot, a hand-written fake in tests — for the
asker's requests, the asker's open steps and a request named by its number. ``case`` returns None
alike for a number that does not exist and for one the asker may not see, so a reply never tells
the two apart; a deactivated asker sees nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.sop.model import Sop, Step
from bot.storage.records import Case, Person
from bot.workflow.use_cases import Workflow


class Asker(Protocol):
    """Who is asking: a registered, active person (``bot.storage.records.Person`` satisfies it)."""

    @property
    def id(self) -> int: ...

    @property
    def institution(self) -> str | None: ...

    @property
    def is_staff(self) -> bool: ...


@dataclass(frozen=True)
class OpenStep:
    """A step of a request that is open now, with who holds it."""

    step: Step
    holder: str | None
    acting_for: str | None
    since: datetime
    due: datetime | None


@dataclass(frozen=True)
class CaseState:
    """A request as it stands: its SOP version, the open step(s) and what follows the first one."""

    id: int
    register_no: str
    title: str
    state: str
    """'open', 'completed', 'rejected' or 'cancelled'."""
    sop: Sop
    created_at: datetime
    closed_at: datetime | None
    current: tuple[OpenStep, ...]
    following: tuple[tuple[str, Step | None], ...]
    """(branch label or '', next step) after the first open step; None means the request ends there."""

    @property
    def is_open(self) -> bool:
        return self.state == "open"


@dataclass(frozen=True)
class Task:
    """An open step held by the asker."""

    step_id: int
    case_id: int
    register_no: str
    title: str
    sop: Sop
    step: Step
    since: datetime
    due: datetime | None


class LiveData(Protocol):
    """What the answerer reads about running requests (implemented at the edge)."""

    async def cases_of(self, asker: Asker) -> Sequence[CaseState]:
        """Requests the asker filed, newest first (a short list)."""
        ...

    async def tasks_of(self, asker: Asker) -> Sequence[Task]:
        """Steps the asker holds now, soonest due first."""
        ...

    async def case(self, ref: str, asker: Asker) -> CaseState | None:
        """A request by register number or number, or None if unknown or not the asker's to see."""
        ...


MAX_CASES = 10


class WorkflowLive:
    """:class:`LiveData` over the workflow: its case queries, filtered by its access rule."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow

    async def cases_of(self, asker: Asker) -> list[CaseState]:
        person = await self._person(asker)
        if person is None:
            return []
        cases = await self.workflow.queries.cases_filed_by(person.id, limit=MAX_CASES)
        return [await self._state(case) for case in cases]

    async def tasks_of(self, asker: Asker) -> list[Task]:
        person = await self._person(asker)
        if person is None:
            return []
        out: list[Task] = []
        for instance, case, step in await self.workflow.queries.open_tasks(person.id):
            sop = await self.workflow.deps.sop_of(case)
            out.append(Task(instance.id, case.id, case.register_no, case.title, sop, step, instance.opened_at,
                            instance.due_at))
        return out

    async def case(self, ref: str, asker: Asker) -> CaseState | None:
        person = await self._person(asker)
        if person is None:
            return None
        case = await self.workflow.queries.case_by_ref(ref)
        if case is None or not self.workflow.access.may_view(person, case):
            return None
        return await self._state(case)

    async def _person(self, asker: Asker) -> Person | None:
        """The asker as stored now: someone deactivated since the update arrived sees nothing."""
        person = await self.workflow.queries.person(asker.id)
        return person if person is not None and person.active else None

    async def _state(self, case: Case) -> CaseState:
        wn = await self.workflow.queries.what_next(case.id)
        current = tuple(
            OpenStep(c.step, c.holder.name if c.holder else None, c.acting_for.name if c.acting_for else None,
                     c.instance.opened_at, c.instance.due_at)
            for c in wn.current
        )
        return CaseState(case.id, case.register_no, case.title, case.state, wn.sop, case.created_at, case.closed_at,
                         current, wn.following)
