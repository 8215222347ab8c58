"""Documents and photos people send, as the workflow's FileUpload (ids and metadata; the bytes stay with Telegram)."""

from __future__ import annotations

from telegram import Message

from bot.workflow.results import FileUpload


def upload_of(message: Message) -> FileUpload | None:
    if message.document is not None:
        d = message.document
        return FileUpload(d.file_id, d.file_unique_id, d.file_name or "dokumen", d.mime_type, d.file_size)
    if message.photo:
        p = message.photo[-1]
        return FileUpload(p.file_id, p.file_unique_id, "foto.jpg", "image/jpeg", p.file_size)
    return None
