"""Plain records read from the database (no behaviour, no SQL)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.clock import parse_iso


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    kind: str
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
        return self.kind == "staff"

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @classmethod
    def from_row(cls, row: sqlite3.Row, roles: tuple[str, ...] = ()) -> Person:
        return cls(
            id=row["id"],
            name=row["name"],
            kind=row["kind"],
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
    state: str
    unassigned: bool
    created_at: datetime
    closed_at: datetime | None = None
    closed_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state == "open"

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
            state=row["state"],
            unassigned=bool(row["unassigned"]),
            created_at=parse_iso(row["created_at"]),  # type: ignore[arg-type]
            closed_at=parse_iso(row["closed_at"]),
            closed_reason=row["closed_reason"],
        )


@dataclass(frozen=True)
class StepInstance:
    id: int
    case_id: int
    step_no: str
    role: str
    state: str
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
    outcome: str | None = None
    branch_label: str | None = None
    note: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StepInstance:
        return cls(
            id=row["id"],
            case_id=row["case_id"],
            step_no=row["step_no"],
            role=row["role"],
            state=row["state"],
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
            outcome=row["outcome"],
            branch_label=row["branch_label"],
            note=row["note"],
        )


@dataclass(frozen=True)
class Attachment:
    id: int
    case_id: int
    step_instance_id: int | None
    purpose: str
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
            purpose=row["purpose"],
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
    priority: int
    kind: str
    payload: dict[str, Any]
    state: str
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
            priority=row["priority"],
            kind=row["kind"],
            payload=json.loads(row["payload"] or "{}"),
            state=row["state"],
            attempts=row["attempts"],
            not_before=parse_iso(row["not_before"]),  # type: ignore[arg-type]
            created_at=parse_iso(row["created_at"]),  # type: ignore[arg-type]
            last_error=row["last_error"],
        )
