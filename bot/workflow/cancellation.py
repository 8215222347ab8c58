"""Withdrawing a request: the requester (or an admin) cancels it with a reason; everyone involved is told."""

from __future__ import annotations

from bot import storage
from bot.core.states import CaseState, EventType
from bot.workflow.access import Access
from bot.workflow.deps import WorkflowDeps
from bot.workflow.errors import WorkflowError
from bot.workflow.inputs import clean_answer
from bot.workflow.notify import Notifier
from bot.workflow.results import Outcome


class Cancellation:
    def __init__(self, deps: WorkflowDeps, notify: Notifier, access: Access) -> None:
        self.d = deps
        self.notify = notify
        self.access = access

    async def cancel(self, case_id: int, by_id: int, reason: str) -> Outcome:
        reason = clean_answer(reason)
        if not reason:
            raise WorkflowError("reason_required")
        now = self.d.clock.now()
        async with self.d.db.transaction() as tx:
            case = await storage.cases.case(tx, case_id)
            by = await storage.people.person(tx, by_id)
            if case is None:
                raise WorkflowError("case_not_found")
            if by is None or not self.access.may_cancel(by, case):
                raise WorkflowError("not_allowed_cancel")
            if not case.is_open:
                return Outcome(False, case)
            sop = await self.d.sop_of(case, tx)
            holders = [s.holder_id for s in await storage.steps.open_steps_of_case(tx, case_id) if s.holder_id]
            await storage.steps.cancel_open_steps(tx, case_id, now)
            await storage.cases.close_case(tx, case_id, CaseState.CANCELLED, now, reason)
            await storage.events.insert_event(tx, type=EventType.CASE_CANCELLED, now=now, case_id=case_id,
                                              actor_id=by.id, data={"reason": reason})
            await self.notify.closed(tx, case, sop, CaseState.CANCELLED, by, reason, now, extra=holders)
            case = await storage.cases.case(tx, case_id)
            assert case is not None
        return Outcome(True, case, closed=CaseState.CANCELLED)
