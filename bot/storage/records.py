"""Typed records read from the database (no behaviour, no SQL); storage modules never return raw rows."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.clock import parse_iso
from bot.core.states import (
    AttachmentPurpose,
    CaseState,
    OutboxState,
    PersonKind,
    Priority,
    PromptKind,
    StepOutcome,
    StepState,
    UpdateState,
)


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    kind: PersonKind
    telegram_id: int | None = None
    username: str | None = None
    institution: str | None = None
    unit: str | None = None
    opd: str | None = None
    active: bool = True
    reachable: bool = True
    roles: tuple[str, ...] = ()

    @property
    def is_staff(self) -> bool:
        return self.kind == PersonKind.STAFF

    @property
    def is_admin(self) -> bool:
        """Holds the institution admin role. Not an authority check: whether someone may act over an
        institution's cases is ``Supervision.administers`` (institution admin or system admin)."""
        return "admin" in self.roles

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @classmethod
    def from_row(cls, row: sqlite3.Row, roles: tuple[str, ...] = ()) -> Person:
        return cls(
            id=row["id"],
            name=row["name"],
            kind=PersonKind(row["kind"]),
            telegram_id=row["telegram_id"],
            username=row["username"],
            institution=row["institution"],
            unit=row["unit"],
            opd=row["opd"],
            active=bool(row["active"]),
            reachable=bool(row["reachable"]),
            roles=roles,
        )


@dataclass(frozen=True)
class Case:
    id: int
    register_no: str
    sop_id: str
    sop_hash: str
    institution: str
    unit: str
    requester_id: int
    title: str
    intake: dict[str, Any]
    state: CaseState
    unassigned: bool
    created_at: datetime
    closed_at: datetime | None = None
    closed_reason: str | None = None
    requester_name: str = ""
    """The requester's name as it was when the request was filed (a later re-registration does not change it)."""
    requester_opd: str | None = None
    """The requester's agency id at filing."""
    requester_agency: str = ""
    """The requester's agency name at filing ('' when they filed for no agency, or before snapshots were kept)."""

    @property
    def is_open(self) -> bool:
        return self.state == CaseState.OPEN

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Case:
        return cls(
            id=row["id"],
            register_no=row["register_no"],
            sop_id=row["sop_id"],
            sop_hash=row["sop_hash"],
            institution=row["institution"],
            unit=row["unit"],
            requester_id=row["requester_id"],
            title=row["title"],
            intake=json.loads(row["intake"] or "{}"),
            state=CaseState(row["state"]),
            unassigned=bool(row["unassigned"]),
            created_at=parse_iso(row["created_at"]),  # type: ignore[arg-type]
            closed_at=parse_iso(row["closed_at"]),
            closed_reason=row["closed_reason"],
            requester_name=row["requester_name"] or "",
            requester_opd=row["requester_opd"],
            requester_agency=row["requester_agency"] or "",
        )


@dataclass(frozen=True)
class StepInstance:
    id: int
    case_id: int
    step_no: str
    role: str
    state: StepState
    holder_id: int | None
    acting_for_id: int | None
    opened_at: datetime
    due_at: datetime | None
    remind_at: datetime | None = None
    prewarn_at: datetime | None = None
    escalate_at: datetime | None = None
    escalation_level: int = 0
    completed_at: datetime | None = None
    completed_by: int | None = None
    outcome: StepOutcome | None = None
    branch_label: str | None = None
    note: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state == StepState.OPEN

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StepInstance:
        return cls(
            id=row["id"],
            case_id=row["case_id"],
            step_no=row["step_no"],
            role=row["role"],
            state=StepState(row["state"]),
            holder_id=row["holder_id"],
            acting_for_id=row["acting_for_id"],
            opened_at=parse_iso(row["opened_at"]),  # type: ignore[arg-type]
            due_at=parse_iso(row["due_at"]),
            remind_at=parse_iso(row["remind_at"]),
            prewarn_at=parse_iso(row["prewarn_at"]),
            escalate_at=parse_iso(row["escalate_at"]),
            escalation_level=row["escalation_level"],
            completed_at=parse_iso(row["completed_at"]),
            completed_by=row["completed_by"],
            outcome=StepOutcome(row["outcome"]) if row["outcome"] else None,
            branch_label=row["branch_label"],
            note=row["note"],
        )


@dataclass(frozen=True)
class Attachment:
    id: int
    case_id: int
    step_instance_id: int | None
    purpose: AttachmentPurpose
    field: str | None
    file_id: str
    file_name: str | None
    mime_type: str | None
    file_size: int | None
    uploaded_by: int | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Attachment:
        return cls(
            id=row["id"],
            case_id=row["case_id"],
            step_instance_id=row["step_instance_id"],
            purpose=AttachmentPurpose(row["purpose"]),
            field=row["field"],
            file_id=row["file_id"],
            file_name=row["file_name"],
            mime_type=row["mime_type"],
            file_size=row["file_size"],
            uploaded_by=row["uploaded_by"],
            created_at=parse_iso(row["created_at"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    case_id: int | None
    step_instance_id: int | None
    actor_id: int | None
    on_behalf_of: int | None
    type: str
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Event:
        return cls(
            id=row["id"],
            at=parse_iso(row["at"]),  # type: ignore[arg-type]
            case_id=row["case_id"],
            step_instance_id=row["step_instance_id"],
            actor_id=row["actor_id"],
            on_behalf_of=row["on_behalf_of"],
            type=row["type"],
            data=json.loads(row["data"] or "{}"),
        )


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    person_id: int | None
    chat_id: int | None
    priority: Priority
    kind: str
    payload: dict[str, Any]
    state: OutboxState
    attempts: int
    not_before: datetime
    created_at: datetime
    last_error: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OutboxMessage:
        return cls(
            id=row["id"],
            person_id=row["person_id"],
            chat_id=row["chat_id"],
            priority=Priority(row["priority"]),
            kind=row["kind"],
            payload=json.loads(row["payload"] or "{}"),
            state=OutboxState(row["state"]),
            attempts=row["attempts"],
            not_before=parse_iso(row["not_before"]),  # type: ignore[arg-type]
            created_at=parse_iso(row["created_at"]),  # type: ignore[arg-type]
            last_error=row["last_error"],
        )


@dataclass(frozen=True)
class Invite:
    code: str
    name: str
    roles: tuple[str, ...]
    institution: str
    unit: str | None
    created_at: datetime
    created_by: int | None = None
    used_by: int | None = None
    used_at: datetime | None = None
    person_id: int | None = None
    """The listed person this invite proves (someone in the people file by @username); None: a new person."""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Invite:
        return cls(
            code=row["code"],
            name=row["name"],
            roles=tuple(json.loads(row["roles"] or "[]")),
            institution=row["institution"],
            unit=row["unit"],
            created_at=parse_iso(row["created_at"]),  # type: ignore[arg-type]
            created_by=row["created_by"],
            used_by=row["used_by"],
            used_at=parse_iso(row["used_at"]),
            person_id=row["person_id"],
        )


@dataclass(frozen=True)
class ActingArrangement:
    """Plt/Plh: ``acting_id`` does the work of ``absent_id`` from ``start`` to ``end`` (ISO dates, inclusive)."""

    id: int
    absent_id: int
    acting_id: int
    kind: str
    start: str
    end: str
    reason: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ActingArrangement:
        return cls(
            id=row["id"],
            absent_id=row["absent_id"],
            acting_id=row["acting_id"],
            kind=row["kind"],
            start=row["start_date"],
            end=row["end_date"],
            reason=row["reason"],
        )


@dataclass(frozen=True)
class StoredDraft:
    """A half-filled request as stored: the SOP it is for, the answers so far and where it stands."""

    person_id: int
    sop_id: str
    answers: dict[str, str]
    uploads: dict[str, dict[str, Any]]
    position: int
    last_message_id: int
    updated_at: datetime
    intake_hash: str | None = None
    """The intake form the answers were given to; None for drafts saved before forms were fingerprinted."""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredDraft:
        return cls(
            person_id=row["person_id"],
            sop_id=row["sop_id"],
            answers=json.loads(row["answers"] or "{}"),
            uploads=json.loads(row["uploads"] or "{}"),
            position=int(row["position"]),
            last_message_id=int(row["last_message_id"]),
            updated_at=parse_iso(row["updated_at"]),  # type: ignore[arg-type]
            intake_hash=row["intake_hash"],
        )


@dataclass(frozen=True)
class RecordedUpdate:
    """A Telegram update as the ledger recorded it (its JSON payload) and how far handling got."""

    update_id: int
    payload: str | None
    state: UpdateState
    attempts: int
    received_at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RecordedUpdate:
        return cls(
            update_id=int(row["update_id"]),
            payload=row["payload"],
            state=UpdateState(row["state"]),
            attempts=int(row["attempts"]),
            received_at=parse_iso(row["received_at"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class AlarmStamps:
    """The alarm columns of one step: when each alarm is due and whether it fired."""

    state: StepState
    next_alarm_at: datetime | None
    remind_at: datetime | None
    reminded_at: datetime | None
    prewarn_at: datetime | None
    prewarned_at: datetime | None
    due_at: datetime | None
    due_notified_at: datetime | None
    escalate_at: datetime | None
    escalation_level: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> AlarmStamps:
        return cls(
            state=StepState(row["state"]),
            next_alarm_at=parse_iso(row["next_alarm_at"]),
            remind_at=parse_iso(row["remind_at"]),
            reminded_at=parse_iso(row["reminded_at"]),
            prewarn_at=parse_iso(row["prewarn_at"]),
            prewarned_at=parse_iso(row["prewarned_at"]),
            due_at=parse_iso(row["due_at"]),
            due_notified_at=parse_iso(row["due_notified_at"]),
            escalate_at=parse_iso(row["escalate_at"]),
            escalation_level=int(row["escalation_level"]),
        )


@dataclass(frozen=True)
class FinishedStep:
    """A completed step with its case's SOP and place (for standard-time analytics and digests)."""

    step: StepInstance
    sop_id: str
    sop_hash: str
    institution: str
    unit: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> FinishedStep:
        return cls(StepInstance.from_row(row), row["sop_id"], row["sop_hash"], row["institution"], row["unit"])


@dataclass(frozen=True)
class OpenStepView:
    """An open step with its case's register number and place (one scan serves every digest)."""

    step_id: int
    step_no: str
    role: str
    holder_id: int | None
    opened_at: datetime
    due_at: datetime | None
    register_no: str
    institution: str
    unit: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OpenStepView:
        return cls(
            step_id=row["id"],
            step_no=row["step_no"],
            role=row["role"],
            holder_id=row["holder_id"],
            opened_at=parse_iso(row["opened_at"]),  # type: ignore[arg-type]
            due_at=parse_iso(row["due_at"]),
            register_no=row["register_no"],
            institution=row["institution"],
            unit=row["unit"],
        )


@dataclass(frozen=True)
class NewCase:
    register_no: str
    title: str
    institution: str
    unit: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> NewCase:
        return cls(row["register_no"], row["title"], row["institution"], row["unit"],
                   parse_iso(row["created_at"]))  # type: ignore[arg-type]


@dataclass(frozen=True)
class StepTiming:
    """When a finished step was completed against when it was due, and where."""

    completed_at: datetime
    due_at: datetime | None
    institution: str
    unit: str

    @property
    def on_time(self) -> bool:
        return self.due_at is None or self.completed_at <= self.due_at

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StepTiming:
        return cls(parse_iso(row["completed_at"]), parse_iso(row["due_at"]),  # type: ignore[arg-type]
                   row["institution"], row["unit"])


@dataclass(frozen=True)
class StoredPrompt:
    """What the bot asked a person and waits for, with the ids the answer needs."""

    person_id: int
    kind: PromptKind
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredPrompt:
        return cls(
            person_id=row["person_id"],
            kind=PromptKind(row["kind"]),
            data=json.loads(row["data"] or "{}"),
            created_at=parse_iso(row["created_at"]),  # type: ignore[arg-type]
            updated_at=parse_iso(row["updated_at"]),  # type: ignore[arg-type]
        )
