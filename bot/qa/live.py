"""The live data a question about 'my request' or 'my tasks' is answered from.

The answerer never reads the database itself. It asks a :class:`LiveData` — implemented at the
edge (``handlers/qa_live.py`` today, on top of the workflow engine) — for the asker's requests,
the asker's open steps and a request named by its number. Whoever implements it decides who may
see what: ``case`` returns None alike for a number that does not exist and for one the asker
may not see, so a reply never tells the two apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.sop.model import Sop, Step


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
