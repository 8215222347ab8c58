"""Outbox notifications rendered for a person: text, buttons and documents to send along."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.states import NoticeKind
from bot.text.buttons import Button, Keyboard
from bot.text.charts import overdue_chart
from bot.text.payloads import (
    MODELS,
    AssignmentPayload,
    DigestChartPayload,
    DigestPayload,
    DocumentPayload,
    EscalationPayload,
    FiledPayload,
    Payload,
    ReminderPayload,
)
from bot.text.render import Renderer

TEMPLATES = {
    NoticeKind.ASSIGNMENT: "notice_assignment",
    NoticeKind.CASE_FILED: "notice_case_filed",
    NoticeKind.PROGRESS: "notice_progress",
    NoticeKind.CASE_COMPLETED: "notice_case_closed",
    NoticeKind.CASE_REJECTED: "notice_case_closed",
    NoticeKind.CASE_CANCELLED: "notice_case_closed",
    NoticeKind.UNASSIGNED: "notice_unassigned",
    NoticeKind.STEP_TAKEN_OVER: "notice_step_taken_over",
    NoticeKind.UNREACHABLE: "notice_unreachable",
    NoticeKind.REMINDER: "notice_reminder",
    NoticeKind.ESCALATION: "notice_escalation",
    NoticeKind.DIGEST: "notice_digest",
    NoticeKind.INTAKE_PAUSED: "intake_timeout",
}


@dataclass(frozen=True)
class Notice:
    html: str
    keyboard: Keyboard = field(default_factory=list)
    documents: list[DocumentPayload] = field(default_factory=list)
    photo: bytes | None = None
    photo_caption: str = ""


def step_keyboard(p: AssignmentPayload) -> Keyboard:
    """The buttons of an assignment: done or one per decision branch, then delegate, attach, details."""
    sid = p.step_instance_id
    if p.for_requester:
        return [[Button("✅ Sudah diterima", "done", (sid,))]]
    rows: Keyboard = []
    if p.decision:
        rows.extend([Button(b.label, "branch", (sid, b.index))] for b in p.decision.branches)
    else:
        rows.append([Button("✅ Selesai", "done", (sid,))])
    rows.append([
        Button("↪ Alihkan", "reassign", (sid,)),
        Button("📎 Lampirkan", "attach", (sid,)),
        Button("ℹ️ Detail", "detail", (sid,)),
    ])
    return rows


def board_keyboard(board_url: str | None) -> Keyboard:
    """📊 Buka papan (the board as a Mini App) and a one-time login link for a computer; none without an address."""
    if not board_url:
        return []
    return [[Button("📊 Buka papan", "board", url=board_url, web_app=True)],
            [Button("🔗 Tautan masuk (komputer)", "board_link")]]


def render_notice(renderer: Renderer, kind: str, payload: Payload, *, board_url: str | None = None) -> Notice:
    """The message of one notice; ``payload`` is the model of ``kind`` (``payloads.parse`` reads a stored one).

    ``board_url`` is the supervisors' board's public address (ALUR_WEB_URL): a digest then opens it.
    """
    kind = NoticeKind(kind)
    if not isinstance(payload, MODELS[kind]):
        raise TypeError(f"a {kind} notice needs a {MODELS[kind].__name__}, not {type(payload).__name__}")
    if isinstance(payload, DocumentPayload):
        return Notice("", [], [payload])
    if isinstance(payload, DigestChartPayload):
        chart = overdue_chart(payload.overdue_by_unit, payload.day.isoformat())
        return Notice("", [], [], chart, "Langkah terlambat per unit")
    html = renderer.render(TEMPLATES[kind], p=payload)
    keyboard: Keyboard = []
    if isinstance(payload, AssignmentPayload):
        keyboard = step_keyboard(payload)
    elif isinstance(payload, FiledPayload):
        keyboard = [[Button("📍 Posisi permohonan", "case", (payload.case_id,))]]
    elif isinstance(payload, DigestPayload):
        keyboard = board_keyboard(board_url)
    elif isinstance(payload, ReminderPayload):
        keyboard = [[Button("🗂 Lihat tugas saya", "tasks")]]
    elif isinstance(payload, EscalationPayload):
        sid = payload.step_instance_id
        keyboard = [[Button("ℹ️ Detail", "detail", (sid,)), Button("↪ Alihkan", "reassign", (sid,))]]
    return Notice(html, keyboard)
