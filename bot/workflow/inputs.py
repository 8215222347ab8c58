"""What people type and send, checked before it is kept: visible text, and documents of known kinds and size.

A required answer must contain something a reader can see: spaces, zero-width characters, direction
marks and other format or control characters alone are no answer. A document must be a PDF, an image
or an office document (by its file name, and by its MIME type when Telegram gives one) and at most
``MAX_FILE_BYTES``: the Bot API lets a bot download files up to 20 MB, so a larger one could never be
read by anyone downstream.
"""

from __future__ import annotations

import unicodedata

from bot.workflow.errors import WorkflowError
from bot.workflow.results import FileUpload

INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Letters and symbols that print as nothing (Hangul fillers, the blank Braille pattern)."""

MAX_FILE_BYTES = 20 * 1024 * 1024

ALLOWED_EXTENSIONS = {
    "pdf": "PDF",
    "jpg": "gambar", "jpeg": "gambar", "png": "gambar", "webp": "gambar", "heic": "gambar",
    "doc": "Word", "docx": "Word", "odt": "Word",
    "xls": "Excel", "xlsx": "Excel", "ods": "Excel", "csv": "Excel",
    "ppt": "PowerPoint", "pptx": "PowerPoint", "odp": "PowerPoint",
}
ALLOWED_MIME_PREFIXES = (
    "application/pdf",
    "image/jpeg", "image/png", "image/webp", "image/heic", "image/heif",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.oasis.opendocument.",
    "text/csv",
    "application/octet-stream",  # what some clients send for any file; the file name decides then
)
ALLOWED_LABEL = "PDF, gambar (JPG/PNG), Word, Excel atau PowerPoint"


def has_visible_text(text: str) -> bool:
    """Whether the text has at least one character that shows (not a space, mark, format or control code)."""
    for ch in text:
        if ch in INVISIBLE:
            continue
        if unicodedata.category(ch)[0] not in "CZM":
            return True
    return False


def clean_answer(text: str, *, multiline: bool = False) -> str:
    """The answer with surrounding (and, for one-line answers, repeated) whitespace removed; '' when nothing in
    it is visible."""
    value = text.strip() if multiline else " ".join(text.split())
    return value if has_visible_text(value) else ""


def check_upload(upload: FileUpload) -> None:
    """Refuse a document of a kind or size the bot does not accept (WorkflowError with an Indonesian message)."""
    name = (upload.file_name or "").strip()
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    mime = (upload.mime_type or "").lower()
    mime_ok = mime.startswith(ALLOWED_MIME_PREFIXES)
    if extension:  # the name decides ('surat.pdf.exe' is an .exe); a MIME type given must agree
        accepted = extension in ALLOWED_EXTENSIONS and (not mime or mime_ok)
    else:  # no extension: only a known, specific MIME type
        accepted = mime_ok and mime != "application/octet-stream"
    if not accepted:
        raise WorkflowError("file_type_refused", name=name or "berkas", allowed=ALLOWED_LABEL)
    if upload.file_size is not None and upload.file_size > MAX_FILE_BYTES:
        raise WorkflowError("file_too_large", name=name, limit=f"{MAX_FILE_BYTES // (1024 * 1024)} MB")
