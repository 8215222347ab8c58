"""Payloads of outbox notifications: the facts a message needs, frozen when the event happens.

A payload is plain JSON so the sender can render it later (and again after a restart)
without reading the database; templates in bot/templates turn it into Indonesian text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.clock import iso
from bot.sop.model import Sop, Step
from bot.sop.roles import RoleBook
from bot.storage.records import Attachment, Case, Person, StepInstance


def _case(case: Case, sop: Sop) -> dict[str, Any]:
    return {"case_id": case.id, "register_no": case.register_no, "title": sop.title, "sop_id": sop.id}


def _files(files: Sequence[Attachment]) -> list[dict[str, Any]]:
    return [{"file_id": a.file_id, "file_name": a.file_name or "dokumen", "purpose": a.purpose} for a in files]


def position(sop: Sop, step: Step, roles: RoleBook, instance: StepInstance) -> dict[str, Any]:
    return {
        "step": step.number,
        "text": step.text,
        "role": roles.name(step.actor),
        "due_at": iso(instance.due_at),
        "holder_id": instance.holder_id,
    }


def filed(case: Case, sop: Sop, current: list[dict[str, Any]]) -> dict[str, Any]:
    return {**_case(case, sop), "current": current}


def assignment(
    case: Case, sop: Sop, step: Step, instance: StepInstance, roles: RoleBook, requester: Person, agency: str, *,
    acting_for: Person | None, reassigned_by: Person | None, reason: str | None, files: Sequence[Attachment],
    for_requester: bool,
) -> dict[str, Any]:
    decision = None
    if step.decision:
        decision = {
            "question": step.decision.question,
            "branches": [{"index": i, "label": b.label} for i, b in enumerate(step.decision.branches)],
        }
    return {
        **_case(case, sop),
        "requester": requester.name,
        "agency": agency,
        "step_instance_id": instance.id,
        "step": step.number,
        "text": step.text,
        "role": roles.name(step.actor),
        "requirements": step.requirements,
        "outputs": step.outputs,
        "duration_text": step.duration_text,
        "due_at": iso(instance.due_at),
        "note": step.note,
        "decision": decision,
        "hands_off": step.hands_off,
        "acting_for": acting_for.name if acting_for else None,
        "reassigned_by": reassigned_by.name if reassigned_by else None,
        "reason": reason,
        "files": _files(files),
        "for_requester": for_requester,
    }


def progress(
    case: Case, sop: Sop, step: Step, roles: RoleBook, instance: StepInstance, *, returned: bool
) -> dict[str, Any]:
    return {**_case(case, sop), **position(sop, step, roles, instance), "returned": returned}


def unassigned(case: Case, sop: Sop, step: Step, roles: RoleBook, unit_name: str) -> dict[str, Any]:
    return {**_case(case, sop), "step": step.number, "text": step.text, "role": roles.name(step.actor),
            "unit": unit_name}


def closed(
    case: Case, sop: Sop, state: str, by: Person, reason: str | None, files: Sequence[Attachment], *,
    for_requester: bool,
) -> dict[str, Any]:
    return {**_case(case, sop), "state": state, "by": by.name, "reason": reason, "files": _files(files),
            "for_requester": for_requester}


def taken_over(case: Case, step: Step, by: Person, to: Person, reason: str) -> dict[str, Any]:
    return {"case_id": case.id, "register_no": case.register_no, "title": case.title, "step": step.number,
            "text": step.text, "by": by.name, "to": to.name, "reason": reason}
