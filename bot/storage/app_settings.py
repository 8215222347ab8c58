"""Values the bot generates for itself once and keeps (the webhook secret)."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import iso
from bot.storage.db import Reader, Tx


async def setting(r: Reader, key: str) -> str | None:
    row = await r.fetchone("SELECT value FROM app_settings WHERE key = ?", (key,))
    return str(row["value"]) if row else None


async def keep_setting(tx: Tx, key: str, value: str, now: datetime) -> str:
    """Store ``value`` under ``key`` unless one is stored already; the stored value."""
    await tx.execute("INSERT INTO app_settings (key, value, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                     (key, value, iso(now)))
    row = await tx.fetchone("SELECT value FROM app_settings WHERE key = ?", (key,))
    assert row is not None
    return str(row["value"])
