"""Documents and photos people send, as the workflow's FileUpload (ids and metadata; the bytes stay with Telegram).

Every upload is checked against the accepted kinds and size (bot.workflow.inputs) before anything
keeps it: a refused one raises WorkflowError, which the caller says in Indonesian.
"""

from __future__ import annotations

from telegram import Message

from bot.workflow.inputs import check_upload
from bot.workflow.results import FileUpload


def upload_of(message: Message) -> FileUpload | None:
    """The document or photo in the message (None when there is none); WorkflowError if it is not accepted."""
    upload: FileUpload | None = None
    if message.document is not None:
        d = message.document
        upload = FileUpload(d.file_id, d.file_unique_id, d.file_name or "dokumen", d.mime_type, d.file_size)
    elif message.photo:
        p = message.photo[-1]
        upload = FileUpload(p.file_id, p.file_unique_id, "foto.jpg", "image/jpeg", p.file_size)
    if upload is not None:
        check_upload(upload)
    return upload
