"""The transactional outbox: notifications queued with the state change that caused them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from bot.core.clock import iso
from bot.core.states import NoticeKind
from bot.storage.db import Reader, Tx, to_json
from bot.storage.records import OutboxMessage


async def enqueue(
    tx: Tx, *, person_id: int | None, chat_id: int | None, kind: NoticeKind, payload: BaseModel, priority: int,
    now: datetime, not_before: datetime | None = None, dedupe_key: str | None = None,
) -> int | None:
    """Queue a notification (its payload model stored as JSON); a message without a chat yet is held until the
    person starts the bot."""
    state = "pending" if chat_id is not None else "held"
    return await tx.insert_or_skip(
        "INSERT INTO outbox (created_at, person_id, chat_id, priority, kind, payload, dedupe_key, state, "
        "not_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (iso(now), person_id, chat_id, priority, kind, to_json(payload.model_dump(mode="json")), dedupe_key, state,
         iso(not_before or now)),
    )


async def hold(tx: Tx, message_id: int, error: str) -> int:
    """Telegram refused the chat (never started, or blocked): keep the message, and the person's other queued ones
    for that chat, until they write to the bot (``release_held``)."""
    cur = await tx.execute(
        "UPDATE outbox SET state = 'held', last_error = ?, attempts = attempts + CASE WHEN id = ? THEN 1 ELSE 0 END "
        "WHERE id = ? OR (state = 'pending' AND person_id IS NOT NULL "
        "AND person_id = (SELECT person_id FROM outbox WHERE id = ?) "
        "AND chat_id = (SELECT chat_id FROM outbox WHERE id = ?))",
        (error[:500], message_id, message_id, message_id, message_id),
    )
    return cur.rowcount


async def release_held(tx: Tx, person_id: int, chat_id: int) -> int:
    cur = await tx.execute(
        "UPDATE outbox SET chat_id = ?, state = 'pending' WHERE person_id = ? AND state = 'held'",
        (chat_id, person_id),
    )
    return cur.rowcount


async def outbox(r: Reader, *, state: str | None = None, person_id: int | None = None) -> list[OutboxMessage]:
    sql, params = "SELECT * FROM outbox WHERE 1 = 1", []
    if state:
        sql += " AND state = ?"
        params.append(state)
    if person_id is not None:
        sql += " AND person_id = ?"
        params.append(person_id)
    rows = await r.fetchall(sql + " ORDER BY id", params)
    return [OutboxMessage.from_row(row) for row in rows]


async def due_outbox(r: Reader, now: datetime, limit: int = 500) -> list[OutboxMessage]:
    """The next message of each chat, where its time has come; most urgent first.

    A chat's next message is its most urgent pending one (priority, then queue order); while
    that one waits (e.g. for a 429's retry_after) nothing behind it overtakes it.
    """
    rows = await r.fetchall(
        "SELECT * FROM outbox o WHERE o.state = 'pending' AND o.not_before <= ? AND o.id = ("
        "  SELECT o2.id FROM outbox o2 WHERE o2.state = 'pending' AND o2.chat_id = o.chat_id"
        "  ORDER BY o2.priority, o2.id LIMIT 1) "
        "ORDER BY o.priority, o.id LIMIT ?",
        (iso(now), limit),
    )
    return [OutboxMessage.from_row(row) for row in rows]


async def mark_sending(tx: Tx, message_id: int) -> bool:
    cur = await tx.execute("UPDATE outbox SET state = 'sending' WHERE id = ? AND state = 'pending'", (message_id,))
    return cur.rowcount == 1


async def mark_sent(tx: Tx, message_id: int, now: datetime, telegram_message_id: int | None) -> None:
    await tx.execute(
        "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, telegram_message_id = ? WHERE id = ?",
        (iso(now), telegram_message_id, message_id),
    )


async def mark_retry(tx: Tx, message_id: int, not_before: datetime, error: str, *, count_attempt: bool) -> None:
    await tx.execute(
        "UPDATE outbox SET state = 'pending', not_before = ?, last_error = ?, attempts = attempts + ? WHERE id = ?",
        (iso(not_before), error[:500], 1 if count_attempt else 0, message_id),
    )


async def mark_dead(tx: Tx, message_id: int, error: str) -> None:
    await tx.execute(
        "UPDATE outbox SET state = 'dead', last_error = ?, attempts = attempts + 1 WHERE id = ?",
        (error[:500], message_id),
    )


async def reset_sending(tx: Tx) -> int:
    """After a crash: messages caught between sending and marking sent go out again, at most once more."""
    await tx.execute(
        "UPDATE outbox SET state = 'sent', last_error = 'uncertain: interrupted twice while sending' "
        "WHERE state = 'sending' AND uncertain >= 1"
    )
    cur = await tx.execute("UPDATE outbox SET state = 'pending', uncertain = 1 WHERE state = 'sending'")
    return cur.rowcount


async def outbox_counts(r: Reader) -> dict[str, int]:
    rows = await r.fetchall("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
    return {row["state"]: int(row["n"]) for row in rows}


async def dead_letters(r: Reader, limit: int = 10) -> list[OutboxMessage]:
    """The most recent messages given up on, oldest of them first."""
    rows = await r.fetchall("SELECT * FROM outbox WHERE state = 'dead' ORDER BY id DESC LIMIT ?", (limit,))
    return [OutboxMessage.from_row(row) for row in reversed(rows)]
