"""Telegram's limits for the bot as a whole when several workers send (PostgreSQL only).

Each send takes its moment from the ``send_pacing`` rows in one call of ``alur_reserve_send``
(migration 0014): a chat still paced, or with a send in flight, gets nothing but the time to ask
again; a free chat gets the next bot-wide slot, which moves on by its interval, and stays in flight
until ``sent`` reports Telegram's answer, from which its own interval is counted. The rows are locked for the length
of that call only, so every worker's sends are spaced as one bot's would be, whichever worker
makes them, and a send waiting for its own chat never holds up another chat's.
"""

from __future__ import annotations

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


PACING_KEPT_SECONDS = 3600.0
"""A chat's pacing row is forgotten once it has been free this long (retention, hourly)."""


async def prune_pacing(tx: Tx, idle_seconds: float = PACING_KEPT_SECONDS) -> int:
    """Forget the pacing of chats free for ``idle_seconds`` by the server's clock; how many rows went.

    The rows' times come from the server's clock (``clock_timestamp()``), so the cut-off does too, not
    the bot's. A chat still paced or with a send in flight (``next_at`` ahead) keeps its row, and so
    does the bot-wide ``'*'`` row. A forgotten chat's next send starts a row again, free, as it
    would have been anyway; the margin keeps the delete away from chats that are sending now.
    """
    cur = await tx.execute(
        "DELETE FROM send_pacing WHERE key <> '*' AND next_at < now() - make_interval(secs => ?)",
        (float(idle_seconds),))
    return cur.rowcount
