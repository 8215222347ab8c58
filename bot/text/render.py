"""Every sentence a user reads: Jinja2 templates in bot/templates, Telegram HTML, Bahasa Indonesia.

Templates are autoescaped and strict (an undefined name is an error, not an empty string).
``Renderer.render`` gives Telegram HTML; ``Renderer.plain`` gives the same text for a terminal.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.core.clock import parse_iso
from bot.sop.calendar import ZONE_NAMES

TELEGRAM_LIMIT = 4096
STATE_NAMES = {"open": "berjalan", "completed": "selesai", "rejected": "tidak disetujui", "cancelled": "dibatalkan"}
NOTICE_NAMES = {
    "assignment": "kartu tugas", "case_filed": "tanda terima permohonan", "progress": "kabar posisi permohonan",
    "case_completed": "kabar permohonan selesai", "case_rejected": "kabar permohonan tidak disetujui",
    "case_cancelled": "kabar pembatalan", "unassigned": "kabar langkah tanpa pemegang",
    "step_taken_over": "kabar pengalihan", "unreachable": "kabar pegawai tak terjangkau", "reminder": "pengingat",
    "escalation": "laporan keterlambatan", "digest": "ringkasan harian", "digest_chart": "grafik ringkasan",
    "document": "dokumen", "intake_paused": "kabar isian tersimpan",
}
"""Notice kinds (bot.core.states.NoticeKind) as an admin reads them in the list of undelivered messages."""
_TAG = re.compile(r"<[^>]+>")


class Renderer:
    def __init__(self, tz: str = "Asia/Jakarta") -> None:
        self.tz = ZoneInfo(tz)
        self.zone = ZONE_NAMES.get(tz, tz)
        self.env = Environment(
            loader=PackageLoader("bot.text", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["when"] = self.when
        self.env.filters["day"] = self.day
        self.env.filters["hm"] = self.hm
        self.env.filters["day_iso"] = lambda text: format_date(date.fromisoformat(str(text)), "EEEE, d MMMM y",
                                                               locale="id")
        self.env.filters["minutes"] = format_minutes
        self.env.filters["joinlist"] = lambda items, sep=", ": sep.join(str(i) for i in items if i)
        self.env.filters["sapaan"] = address
        self.env.filters["dead_reason"] = dead_reason
        self.env.globals["state_names"] = STATE_NAMES
        self.env.globals["notice_names"] = NOTICE_NAMES

    def render(self, name: str, /, **context: Any) -> str:
        """Telegram HTML from ``templates/<name>.j2``, cut to Telegram's message limit."""
        text = self.env.get_template(f"{name}.j2").render(**context).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
        return fit(text)

    def plain(self, name: str, /, **context: Any) -> str:
        return to_plain(self.render(name, **context))

    def when(self, moment: datetime | str | None) -> str:
        """'Senin, 23 November 2026 10.30 WIB'."""
        if moment is None or moment == "":
            return "-"
        value = parse_iso(moment) if isinstance(moment, str) else moment
        assert value is not None
        local = value.astimezone(self.tz)
        return f"{format_datetime(local, 'EEEE, d MMMM y HH.mm', locale='id')} {self.zone}"

    def day(self, moment: datetime | str | None) -> str:
        if moment is None or moment == "":
            return "-"
        value = parse_iso(moment) if isinstance(moment, str) else moment
        assert value is not None
        return format_date(value.astimezone(self.tz).date(), "EEEE, d MMMM y", locale="id")

    def hm(self, moment: datetime | str | None) -> str:
        if moment is None or moment == "":
            return "-"
        value = parse_iso(moment) if isinstance(moment, str) else moment
        assert value is not None
        return value.astimezone(self.tz).strftime("%H.%M")


HONORIFICS = ("bapak", "ibu", "pak", "bu", "saudara", "saudari", "sdr", "sdri", "dr", "drs", "dra", "ir", "prof")
"""How a name may already begin; officials are addressed by them, so nothing is added."""


def address(name: str) -> str:
    """How a greeting addresses a person: 'Bapak/Ibu Wati', or the name as written when it already carries
    a form of address ('Pak Harto', 'Ibu Wati (Dinkes)')."""
    name = " ".join(str(name).split())
    first = name.split(" ", 1)[0].rstrip(".").lower()
    if not name or first in HONORIFICS:
        return name or "Bapak/Ibu"
    return f"Bapak/Ibu {name}"


DEAD_REASONS = (
    ("403", "ditolak Telegram: penerima memblokir bot atau belum pernah membukanya"),
    ("400", "ditolak Telegram: pesan tidak dapat dikirim ke percakapan itu"),
    ("render", "pesan tidak dapat disusun"),
    ("network", "gangguan jaringan berulang"),
    ("telegram", "gangguan di Telegram berulang"),
    ("uncertain", "terputus saat dikirim"),
)


def dead_reason(error: str) -> str:
    """Why a message went to the dead letters, in words (the stored error is the Bot API's English)."""
    text = str(error).strip().lower()
    fallback = "tidak terkirim setelah dicoba berulang"
    return next((words for prefix, words in DEAD_REASONS if text.startswith(prefix)), fallback)


def format_minutes(minutes: float | int | None) -> str:
    """Working minutes as '2 jam 15 menit'."""
    if minutes is None:
        return "-"
    total = round(minutes)
    hours, mins = divmod(total, 60)
    parts = []
    if hours:
        parts.append(f"{hours} jam")
    if mins or not parts:
        parts.append(f"{mins} menit")
    return " ".join(parts)


def to_plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def fit(text: str, limit: int = TELEGRAM_LIMIT) -> str:
    """Cut an HTML message to Telegram's limit (counted on the visible text) without breaking tags."""
    if len(to_plain(text)) <= limit:
        return text
    plain = to_plain(text)
    cut = plain[: limit - 2].rsplit("\n", 1)[0]
    return html.escape(cut) + "\n…"
