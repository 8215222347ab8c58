"""Half-filled requests (intake drafts), kept so they survive a restart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.clock import iso
from bot.storage.db import Reader, Tx, to_json
from bot.storage.records import StoredDraft


async def save_draft(
    tx: Tx, *, person_id: int, sop_id: str, answers: dict[str, Any], uploads: dict[str, Any], position: int,
    now: datetime, last_message_id: int = 0, intake_hash: str | None = None,
) -> None:
    """Insert or replace the person's draft; ``intake_hash`` names the intake form its answers belong to."""
    await tx.execute(
        "INSERT INTO drafts (person_id, sop_id, answers, uploads, position, last_message_id, updated_at, "
        "intake_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (person_id) DO UPDATE SET sop_id = excluded.sop_id, answers = excluded.answers, "
        "uploads = excluded.uploads, position = excluded.position, last_message_id = excluded.last_message_id, "
        "updated_at = excluded.updated_at, intake_hash = excluded.intake_hash",
        (person_id, sop_id, to_json(answers), to_json(uploads), position, last_message_id, iso(now), intake_hash),
    )


async def draft(r: Reader, person_id: int) -> StoredDraft | None:
    row = await r.fetchone("SELECT * FROM drafts WHERE person_id = ?", (person_id,))
    return StoredDraft.from_row(row) if row else None


async def delete_draft(tx: Tx, person_id: int) -> None:
    await tx.execute("DELETE FROM drafts WHERE person_id = ?", (person_id,))
