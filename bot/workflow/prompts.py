"""What the bot waits for from a person's next message, kept in the database so a restart forgets nothing.

One prompt per person: asking something new replaces the earlier question. The edge routes a
person's next message by their prompt (an intake answer, an output document, a reason) and
clears it in the same transaction that applies the answer where the answer changes state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot import storage
from bot.core.states import PromptKind
from bot.storage.records import Person, StoredPrompt
from bot.workflow.access import Access
from bot.workflow.deps import WorkflowDeps

HOLDER_PROMPTS = frozenset({PromptKind.OUTPUT, PromptKind.ATTACH, PromptKind.DECISION_REASON})
"""Questions only the step's holder can answer: void once the step went to someone else."""


@dataclass(frozen=True)
class VoidPrompt:
    """A question that no longer waits for its answer: what it was about, and why."""

    prompt: StoredPrompt
    register_no: str
    step_no: str | None
    closed: bool
    """True: the step or the request is closed; False: the step went to someone else."""


class Prompts:
    def __init__(self, deps: WorkflowDeps, access: Access) -> None:
        self.d = deps
        self.access = access

    async def ask(self, person_id: int, kind: PromptKind, **data: Any) -> None:
        async with self.d.db.transaction() as tx:
            await storage.prompts.set_prompt(tx, person_id, kind, data, self.d.clock.now())

    async def pending(self, person_id: int) -> StoredPrompt | None:
        return await storage.prompts.prompt(self.d.db, person_id)

    async def clear(self, person_id: int, kind: PromptKind | None = None) -> bool:
        """Forget the question (only one of ``kind`` when given); False when nothing was pending."""
        async with self.d.db.transaction() as tx:
            return await storage.prompts.clear_prompt(tx, person_id, kind)

    async def void(self, person: Person, prompt: StoredPrompt) -> VoidPrompt | None:
        """Forget a question about a step or request that moved on since it was asked, and say what it was.

        The step was completed, decided or cancelled (its request withdrawn or cancelled by an admin), or
        handed to someone else while the bot waited for this person's output or reason. Kept, such a
        question would swallow every later message of theirs (a question answered with "send the
        document", the document refused with "not your step"); None while the question still stands.
        """
        step_id, case_id = prompt.data.get("step"), prompt.data.get("case")
        instance = await storage.steps.step(self.d.db, int(step_id)) if step_id is not None else None
        if instance is not None:
            case = await storage.cases.case(self.d.db, instance.case_id)
            closed = not instance.is_open
            moved = not closed and prompt.kind in HOLDER_PROMPTS and not self.access.may_act(person, instance)
        elif case_id is not None:
            case = await storage.cases.case(self.d.db, int(case_id))
            closed, moved = case is None or not case.is_open, False
        else:
            return None
        if not (closed or moved):
            return None
        await self.clear(person.id, prompt.kind)
        return VoidPrompt(prompt, case.register_no if case else "", instance.step_no if instance else None, closed)
