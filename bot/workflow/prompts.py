"""What the bot waits for from a person's next message, kept in the database so a restart forgets nothing.

One prompt per person: asking something new replaces the earlier question. The edge routes a
person's next message by their prompt (an intake answer, an output document, a reason) and
clears it in the same transaction that applies the answer where the answer changes state.
"""

from __future__ import annotations

from typing import Any

from bot import storage
from bot.core.states import PromptKind
from bot.storage.records import StoredPrompt
from bot.workflow.deps import WorkflowDeps


class Prompts:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    async def ask(self, person_id: int, kind: PromptKind, **data: Any) -> None:
        async with self.d.db.transaction() as tx:
            await storage.prompts.set_prompt(tx, person_id, kind, data, self.d.clock.now())

    async def pending(self, person_id: int) -> StoredPrompt | None:
        return await storage.prompts.prompt(self.d.db, person_id)

    async def clear(self, person_id: int, kind: PromptKind | None = None) -> bool:
        """Forget the question (only one of ``kind`` when given); False when nothing was pending."""
        async with self.d.db.transaction() as tx:
            return await storage.prompts.clear_prompt(tx, person_id, kind)
