"""Documents attached to a case (intake letters, step outputs); only Telegram file ids are kept."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import iso
from bot.storage.db import Reader, Tx
from bot.storage.records import Attachment


async def insert_attachment(
    tx: Tx, *, case_id: int, step_instance_id: int | None, purpose: str, field: str | None, file_id: str,
    file_unique_id: str | None, file_name: str | None, mime_type: str | None, file_size: int | None,
    uploaded_by: int | None, now: datetime,
) -> int:
    return await tx.insert(
        "INSERT INTO attachments (case_id, step_instance_id, purpose, field, file_id, file_unique_id, file_name, "
        "mime_type, file_size, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (case_id, step_instance_id, purpose, field, file_id, file_unique_id, file_name, mime_type, file_size,
         uploaded_by, iso(now)),
    )


async def attachments(r: Reader, case_id: int, step_instance_id: int | None = None) -> list[Attachment]:
    sql, params = "SELECT * FROM attachments WHERE case_id = ?", [case_id]
    if step_instance_id is not None:
        sql += " AND step_instance_id = ?"
        params.append(step_instance_id)
    rows = await r.fetchall(sql + " ORDER BY id", params)
    return [Attachment.from_row(row) for row in rows]
