"""Outbox notifications rendered for a person: text, buttons and documents to send along."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.text.buttons import Button, Keyboard
from bot.text.charts import overdue_chart
from bot.text.render import Renderer

TEMPLATES = {
    "assignment": "notice_assignment",
    "case_filed": "notice_case_filed",
    "progress": "notice_progress",
    "case_completed": "notice_case_closed",
    "case_rejected": "notice_case_closed",
    "case_cancelled": "notice_case_closed",
    "unassigned": "notice_unassigned",
    "step_taken_over": "notice_step_taken_over",
    "unreachable": "notice_unreachable",
    "reminder": "notice_reminder",
    "escalation": "notice_escalation",
    "digest": "notice_digest",
}


@dataclass(frozen=True)
class Notice:
    html: str
    keyboard: Keyboard = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    photo: bytes | None = None
    photo_caption: str = ""


def step_keyboard(p: dict[str, Any]) -> Keyboard:
    """The buttons of an assignment: done or one per decision branch, then delegate, attach, details."""
    sid = int(p["step_instance_id"])
    if p.get("for_requester"):
        return [[Button("✅ Sudah diterima", "done", (sid,))]]
    rows: Keyboard = []
    if p.get("decision"):
        rows.extend([Button(b["label"], "branch", (sid, b["index"]))] for b in p["decision"]["branches"])
    else:
        rows.append([Button("✅ Selesai", "done", (sid,))])
    rows.append([
        Button("↪ Alihkan", "reassign", (sid,)),
        Button("📎 Lampirkan", "attach", (sid,)),
        Button("ℹ️ Detail", "detail", (sid,)),
    ])
    return rows


def render_notice(renderer: Renderer, kind: str, payload: dict[str, Any]) -> Notice:
    if kind == "document":
        return Notice("", [], [payload])
    if kind == "digest_chart":
        chart = overdue_chart(payload.get("overdue_by_unit") or {}, str(payload.get("day", "")))
        return Notice("", [], [], chart, "Langkah terlambat per unit")
    template = TEMPLATES.get(kind)
    if template is None:
        raise KeyError(f"no template for notice kind {kind!r}")
    html = renderer.render(template, p=payload)
    keyboard = step_keyboard(payload) if kind == "assignment" else []
    if kind == "case_filed":
        keyboard = [[Button("📍 Posisi permohonan", "case", (int(payload["case_id"]),))]]
    elif kind == "digest" and renderer.env.globals.get("board_url"):
        keyboard = [[Button("📊 Buka papan", "board", url=str(renderer.env.globals["board_url"]), web_app=True)],
                    [Button("🔗 Tautan masuk (komputer)", "board_link")]]
    elif kind == "reminder":
        keyboard = [[Button("🗂 Lihat tugas saya", "tasks")]]
    elif kind == "escalation":
        sid = int(payload["step_instance_id"])
        keyboard = [[Button("ℹ️ Detail", "detail", (sid,)), Button("↪ Alihkan", "reassign", (sid,))]]
    return Notice(html, keyboard)
