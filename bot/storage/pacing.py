"""Telegram's limits for the bot as a whole when several workers send (PostgreSQL only).

Each send takes its moment from the ``send_pacing`` rows in one call of ``alur_reserve_send``
(migration 0014): a chat still paced, or with a send in flight, gets nothing but the time to ask
again; a free chat gets the next bot-wide slot, which moves on by its interval, and stays in flight
until ``sent`` reports Telegram's answer, from which its own interval is counted. The rows are locked for the length
of that call only, so every worker's sends are spaced as one bot's would be, whichever worker
makes them, and a send waiting for its own chat never holds up another chat's.
"""

from __future__ import annotations

from datetime import datetime

from bot.storage.db import Database, Tx


async def reserve_send(db: Database, chat_key: str, chat_interval: float, overall_interval: float) -> float:
    """Seconds until this send's reserved slot (>= 0), or minus the seconds until its chat is free
    (negative: nothing reserved, ask again then)."""
    row = await db.fetchone("SELECT alur_reserve_send(?, ?, ?) AS wait",
                            (chat_key, float(chat_interval), float(overall_interval)))
    return float(row["wait"]) if row is not None and row["wait"] is not None else 0.0


async def sent(db: Database, chat_key: str, pause: float) -> None:
    """Telegram answered this chat's send: its next send may go ``pause`` seconds from now."""
    await db.fetchone("SELECT alur_sent(?, ?) AS done", (chat_key, float(pause)))


async def prune_pacing(tx: Tx, before: datetime) -> int:
    """Forget the pacing of chats last sent to before ``before`` (their next send is free anyway)."""
    cur = await tx.execute("DELETE FROM send_pacing WHERE key <> '*' AND next_at < ?", (before,))
    return cur.rowcount
