"""What the product queued for people and what a case's record says, read in one place for the tests.

Story tests assert on what a person sees (``user.inbox`` in the fake Bot API) and on the workflow's own
queries (``workflow.queries``). Domain tests run without Telegram, so what each person is going to be told
is read here, from the outbox: ``notices_to(db, person)``, ``told_since(db, mark)``. The outbox, event,
update-ledger and draft tables are touched only in this module (and in the storage tests), so a story
reads as the story and a change of storage changes one file.

The last section sets scenes the product has no command for (a notice that failed for good, a crash
halfway through a send, a draft saved by an older version); each helper says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import storage
from bot.core.states import NoticeKind, OutboxState
from bot.storage.db import Database
from bot.storage.records import Case, Event, OutboxMessage, Person
from bot.text import payloads
from bot.workflow.use_cases import Workflow

PersonRef = Person | int


def _id(person: PersonRef) -> int:
    return person if isinstance(person, int) else person.id


# ---- notices: what people are going to be (or were) told


@dataclass(frozen=True)
class Notice:
    """One message the product queued: to whom, what kind, its delivery state and its content."""

    id: int
    to: int | None
    kind: str
    state: OutboxState
    attempts: int
    not_before: datetime
    last_error: str | None
    data: Mapping[str, Any]

    @property
    def payload(self) -> payloads.Payload:
        """The content as its typed payload model (raises for a row no model reads)."""
        return payloads.parse(self.kind, self.data)

    @classmethod
    def of(cls, row: OutboxMessage) -> Notice:
        return cls(row.id, row.person_id, row.kind, row.state, row.attempts, row.not_before, row.last_error,
                   row.payload)


async def notices(
    db: Database, *, to: PersonRef | None = None, kind: str | None = None, state: str | None = None,
    after: int = 0,
) -> list[Notice]:
    """Every notice queued so far, oldest first; ``after`` is a ``bookmark``."""
    rows = await storage.outbox.outbox(db, state=state, person_id=None if to is None else _id(to))
    return [Notice.of(r) for r in rows if r.id > after and (kind is None or r.kind == kind)]


async def notices_to(db: Database, person: PersonRef, kind: str | None = None) -> list[Notice]:
    """What the person is told, oldest first (only of ``kind`` when given)."""
    return await notices(db, to=person, kind=kind)


async def bookmark(db: Database) -> int:
    """A mark in the stream of notices: ``told_since(db, mark)`` gives what came after it."""
    rows = await storage.outbox.outbox(db)
    return rows[-1].id if rows else 0


async def told_since(db: Database, mark: int = 0, *, documents: bool = False) -> list[tuple[int | None, str]]:
    """(person, kind) of every notice after ``mark``; documents sent along are left out unless asked."""
    return [(n.to, n.kind) for n in await notices(db, after=mark)
            if documents or n.kind != NoticeKind.DOCUMENT]


# ---- cases and their record


async def audit_trail(workflow: Workflow, case_id: int) -> list[Event]:
    """The case's events, oldest first, as the workflow's history query gives them."""
    return [event for event, _actor, _on_behalf in await workflow.queries.history(case_id)]


async def event_types(workflow: Workflow, case_id: int) -> list[str]:
    return [e.type for e in await audit_trail(workflow, case_id)]


async def all_cases(db: Database) -> list[Case]:
    """Every case in the database, of any requester (no one may see that in the product)."""
    return await storage.cases.cases(db)


async def unfinished_updates(db: Database) -> list[int]:
    """Ids of the Telegram updates recorded in the ledger but not yet handled."""
    return [u.update_id for u in await storage.updates.unfinished_updates(db)]


# ---- setting scenes the product has no command for


async def queue_notice(
    db: Database, person: PersonRef, chat_id: int | None, payload: payloads.Payload, *, kind: NoticeKind,
    priority: int, now: datetime,
) -> int:
    """Put a notice in the outbox as the workflow does, without a case to cause it."""
    async with db.transaction() as tx:
        notice_id = await storage.outbox.enqueue(tx, person_id=_id(person), chat_id=chat_id, kind=kind,
                                                 payload=payload, priority=priority, now=now)
    assert notice_id is not None
    return notice_id


async def give_up_on(db: Database, notice_id: int, error: str) -> None:
    """The notice failed for good: it becomes a dead letter with this error."""
    async with db.transaction() as tx:
        await storage.outbox.mark_dead(tx, notice_id, error)


async def interrupt_while_sending(db: Database, notice_id: int) -> None:
    """What a crash after the HTTP call and before 'sent' was written leaves behind."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE outbox SET state = 'sending' WHERE id = ?", (notice_id,))


async def set_active(db: Database, people: list[PersonRef], active: bool) -> None:
    """Switch people on or off the roster without handing their open steps on (``People.deactivate`` does)."""
    async with db.transaction() as tx:
        for person in people:
            await storage.people.update_person(tx, _id(person), active=int(active))


async def plant_old_draft(
    db: Database, person: PersonRef, sop_id: str, *, answers: dict[str, Any], uploads: dict[str, Any],
    position: int, now: datetime,
) -> None:
    """A request draft as a version before drafts remembered their form saved it (no form fingerprint)."""
    async with db.transaction() as tx:
        await storage.drafts.save_draft(tx, person_id=_id(person), sop_id=sop_id, answers=answers, uploads=uploads,
                                        position=position, now=now, intake_hash=None)
