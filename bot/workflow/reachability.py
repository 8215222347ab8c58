"""Whether the bot can reach a person: a chat that refuses messages marks them unreachable until they write again.

When Telegram refuses a message (the person blocked the bot, or never opened it — most staff open
the bot only after their first assignment) the message is held, not thrown away; the person is
marked unreachable, the event is logged, and their nearest supervisor and the admins are told
once, so someone can reach them another way. When the person writes to the bot (/start), they are
reachable again and everything held for them goes out, in the order it was queued.
"""

from __future__ import annotations

from bot import storage
from bot.core.states import EventType, NoticeKind, Priority
from bot.text.payloads import UnreachablePayload
from bot.workflow.deps import WorkflowDeps


class Reachability:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    async def refused(self, person_id: int | None, reason: str = "blocked") -> bool:
        """Telegram refused a message to this person; True when they were reachable until now."""
        if person_id is None:
            return False
        now = self.d.clock.now()
        async with self.d.db.transaction() as tx:
            person = await storage.people.person(tx, person_id)
            if person is None or not person.reachable:
                return False
            await storage.people.update_person(tx, person.id, reachable=0)
            await storage.events.insert_event(tx, type=EventType.PERSON_UNREACHABLE, now=now, actor_id=person.id)
            for boss in await self.d.supervision.nearest(tx, person):
                await storage.outbox.enqueue(
                    tx, person_id=boss.id, chat_id=boss.telegram_id, kind=NoticeKind.UNREACHABLE,
                    priority=Priority.NORMAL, now=now,
                    payload=UnreachablePayload(name=person.name, kind=person.kind, reason=reason),
                    dedupe_key=f"unreachable:{person.id}:{boss.id}:{now.date().isoformat()}",
                )
        return True

    async def wrote(self, person_id: int, chat_id: int) -> int:
        """They wrote to the bot: their chat works again, and what was held for them is queued; how many."""
        async with self.d.db.transaction() as tx:
            await storage.people.update_person(tx, person_id, reachable=1)
            return await storage.outbox.release_held(tx, person_id, chat_id)
