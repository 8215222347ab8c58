"""What the bot waits for from each person (one prompt at a time), so a restart never forgets the question."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.clock import iso
from bot.core.states import PromptKind
from bot.storage.db import Reader, Tx, to_json
from bot.storage.records import StoredPrompt


async def set_prompt(tx: Tx, person_id: int, kind: PromptKind, data: dict[str, Any], now: datetime) -> None:
    """Ask the person something; replaces whatever was asked before."""
    await tx.execute(
        "INSERT INTO prompts (person_id, kind, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (person_id) DO UPDATE SET kind = excluded.kind, data = excluded.data, "
        "created_at = excluded.created_at, updated_at = excluded.updated_at",
        (person_id, kind, to_json(data), iso(now), iso(now)),
    )


async def touch_prompt(tx: Tx, person_id: int, now: datetime) -> None:
    await tx.execute("UPDATE prompts SET updated_at = ? WHERE person_id = ?", (iso(now), person_id))


async def prompt(r: Reader, person_id: int) -> StoredPrompt | None:
    row = await r.fetchone("SELECT * FROM prompts WHERE person_id = ?", (person_id,))
    return StoredPrompt.from_row(row) if row else None


async def clear_prompt(tx: Tx, person_id: int, kind: PromptKind | None = None) -> bool:
    """Forget what was asked (only a prompt of ``kind`` when given); False when there was none."""
    if kind is None:
        cur = await tx.execute("DELETE FROM prompts WHERE person_id = ?", (person_id,))
    else:
        cur = await tx.execute("DELETE FROM prompts WHERE person_id = ? AND kind = ?", (person_id, kind))
    return cur.rowcount == 1


async def idle_prompts(r: Reader, kind: PromptKind, before: datetime) -> list[StoredPrompt]:
    """Prompts of a kind nobody answered since ``before``."""
    rows = await r.fetchall("SELECT * FROM prompts WHERE kind = ? AND updated_at < ? ORDER BY person_id",
                            (kind, iso(before)))
    return [StoredPrompt.from_row(row) for row in rows]
