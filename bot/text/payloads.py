"""Payloads of outbox notifications: the facts a message needs, frozen when the event happens.

Each notice kind (``NoticeKind``) has one pydantic model here (``MODELS``). The outbox stores a payload
as JSON (``model_dump(mode="json")``) so the sender can render it later, and again after a restart,
without reading the database; ``parse`` turns a stored payload back into its model and the templates
in bot/text/templates read the model's attributes.

The stored JSON keeps the shape these payloads had as plain dicts, so rows queued by earlier
versions still render: moments are ISO-8601 text in UTC (``bot.core.clock.iso``), and keys a
reader does not know are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, SerializerFunctionWrapHandler, model_serializer

from bot.core.clock import iso
from bot.core.states import AlarmKind, AttachmentPurpose, CaseState, NoticeKind, PersonKind
from bot.sop.model import Sop, Step
from bot.sop.roles import RoleBook
from bot.storage.records import Attachment, Case, Person, StepInstance

Moment = Annotated[datetime, PlainSerializer(iso, return_type=str, when_used="json")]
"""A moment, stored as ``iso()`` writes it (UTC, ``+00:00``) rather than pydantic's ``Z`` form."""


class Payload(BaseModel):
    """A notice payload; extra keys in a stored row are ignored so older rows still read."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def documents(self) -> list[DocumentPayload]:
        """Documents sent right after this notice, each as its own outbox row."""
        return []


class _LaterFields(Payload):
    """A payload that gained optional fields: they are stored only when set, so a row written without
    them and one written now with them unset are the same JSON."""

    LATER: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit_unset_later_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in self.LATER:
            if data.get(key) is None:
                data.pop(key, None)
        return data


class FileRef(Payload):
    file_id: str
    file_name: str
    purpose: AttachmentPurpose


class CaseRef(Payload):
    case_id: int
    register_no: str
    title: str
    sop_id: str


class _WithFiles(CaseRef):
    files: list[FileRef] = Field(default_factory=list)
    for_requester: bool = False

    def documents(self) -> list[DocumentPayload]:
        return [DocumentPayload(file_id=f.file_id, file_name=f.file_name, register_no=self.register_no)
                for f in self.files]


class StepPosition(Payload):
    """Where a case stands: one open step, its role and target time."""

    step: str
    text: str
    role: str
    due_at: Moment | None
    holder_id: int | None


class FiledPayload(CaseRef):
    current: list[StepPosition]


class Branch(Payload):
    index: int
    label: str


class DecisionPrompt(Payload):
    question: str
    branches: list[Branch]


class AssignmentPayload(_WithFiles, _LaterFields):
    LATER = ("returned_by",)

    requester: str
    agency: str
    step_instance_id: int
    step: str
    text: str
    role: str
    requirements: list[str]
    outputs: list[str]
    duration_text: str | None
    due_at: Moment | None
    note: str
    decision: DecisionPrompt | None = None
    hands_off: bool
    acting_for: str | None
    reassigned_by: str | None
    reason: str | None
    """Why it was handed on: the disposisi's reason (``reassigned_by``) or the return's (``returned_by``)."""
    returned_by: str | None = None
    """The official who sent the request back to this step (a decision's 'return' branch)."""


class ProgressPayload(CaseRef, _LaterFields):
    LATER = ("returned_by", "reason")

    step: str
    text: str
    role: str
    due_at: Moment | None
    holder_id: int | None
    returned: bool
    returned_by: str | None = None
    reason: str | None = None
    """Why it was sent back, as the deciding official wrote it (rows queued before reasons existed have none)."""


class UnassignedPayload(CaseRef):
    step: str
    text: str
    role: str
    unit: str


class ClosedPayload(_WithFiles):
    state: CaseState
    by: str
    reason: str | None


class TakenOverPayload(Payload):
    case_id: int
    register_no: str
    title: str
    step: str
    text: str
    by: str
    to: str
    reason: str


class UnreachablePayload(Payload):
    name: str
    kind: PersonKind
    reason: str


class _AlarmPayload(Payload):
    case_id: int
    register_no: str
    title: str
    step: str
    text: str
    role: str
    due_at: Moment | None
    duration_text: str | None
    holder: str | None
    late_minutes: int
    kind: AlarmKind
    level: int
    step_instance_id: int


class ReminderPayload(_AlarmPayload):
    """To the holder: before the due moment, one working hour before it, and at it."""


class EscalationPayload(_AlarmPayload):
    """To a supervisor of a late step (``to`` names them)."""

    to: str


class NewCase(Payload):
    register_no: str
    title: str


class DigestStep(Payload):
    """An open step in a digest list; ``late_minutes`` only on overdue ones (and stored only then)."""

    register_no: str
    step: str
    role: str
    holder: str | None
    due_at: Moment | None
    unit: str
    late_minutes: int | None = None

    @model_serializer(mode="wrap")
    def _omit_unset_lateness(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.late_minutes is None:
            data.pop("late_minutes", None)
        return data


class SlowStep(Payload):
    title: str
    step: str
    role: str
    median_minutes: float
    standard: str
    ratio: float
    count: int


class DeadLetter(Payload):
    kind: str
    person_id: int | None
    error: str
    created_at: Moment


class DigestPayload(Payload):
    day: date
    scope_label: str
    new_cases: list[NewCase]
    new_count: int
    open_cases: int
    due_today: list[DigestStep]
    due_today_count: int
    overdue: list[DigestStep]
    overdue_count: int
    completed_yesterday: int
    on_time_yesterday: int
    on_time_share: float | None
    slowest: list[SlowStep]
    unassigned: list[DigestStep]
    unassigned_count: int
    dead_letters: list[DeadLetter]
    overdue_by_unit: dict[str, int]
    is_admin: bool


class DigestChartPayload(Payload):
    overdue_by_unit: dict[str, int] = Field(default_factory=dict)
    day: date


class DocumentPayload(Payload):
    file_id: str
    file_name: str | None = None
    register_no: str | None = None


class IntakePausedPayload(Payload):
    """The service whose half-filled request is kept."""

    title: str


MODELS: dict[NoticeKind, type[Payload]] = {
    NoticeKind.ASSIGNMENT: AssignmentPayload,
    NoticeKind.CASE_FILED: FiledPayload,
    NoticeKind.PROGRESS: ProgressPayload,
    NoticeKind.CASE_COMPLETED: ClosedPayload,
    NoticeKind.CASE_REJECTED: ClosedPayload,
    NoticeKind.CASE_CANCELLED: ClosedPayload,
    NoticeKind.UNASSIGNED: UnassignedPayload,
    NoticeKind.STEP_TAKEN_OVER: TakenOverPayload,
    NoticeKind.UNREACHABLE: UnreachablePayload,
    NoticeKind.REMINDER: ReminderPayload,
    NoticeKind.ESCALATION: EscalationPayload,
    NoticeKind.DIGEST: DigestPayload,
    NoticeKind.DIGEST_CHART: DigestChartPayload,
    NoticeKind.DOCUMENT: DocumentPayload,
    NoticeKind.INTAKE_PAUSED: IntakePausedPayload,
}


def parse(kind: str, data: Mapping[str, Any]) -> Payload:
    """A stored payload as the model of its kind (ValueError for an unknown kind, ValidationError for bad data)."""
    return MODELS[NoticeKind(kind)].model_validate(data)


def _case(case: Case, sop: Sop) -> dict[str, Any]:
    return {"case_id": case.id, "register_no": case.register_no, "title": sop.title, "sop_id": sop.id}


def _files(files: Sequence[Attachment]) -> list[FileRef]:
    return [FileRef(file_id=a.file_id, file_name=a.file_name or "dokumen", purpose=a.purpose) for a in files]


def position(sop: Sop, step: Step, roles: RoleBook, instance: StepInstance) -> StepPosition:
    return StepPosition(step=step.number, text=step.text, role=roles.name(step.actor), due_at=instance.due_at,
                        holder_id=instance.holder_id)


def filed(case: Case, sop: Sop, current: list[StepPosition]) -> FiledPayload:
    return FiledPayload(**_case(case, sop), current=current)


def assignment(
    case: Case, sop: Sop, step: Step, instance: StepInstance, roles: RoleBook, requester: str, agency: str, *,
    acting_for: Person | None, reassigned_by: Person | None, reason: str | None, files: Sequence[Attachment],
    for_requester: bool, returned_by: Person | None = None,
) -> AssignmentPayload:
    decision = None
    if step.decision:
        decision = DecisionPrompt(
            question=step.decision.question,
            branches=[Branch(index=i, label=b.label) for i, b in enumerate(step.decision.branches)],
        )
    return AssignmentPayload(
        **_case(case, sop),
        requester=requester,
        agency=agency,
        step_instance_id=instance.id,
        step=step.number,
        text=step.text,
        role=roles.name(step.actor),
        requirements=step.requirements,
        outputs=step.outputs,
        duration_text=step.duration_text,
        due_at=instance.due_at,
        note=step.note,
        decision=decision,
        hands_off=step.hands_off,
        acting_for=acting_for.name if acting_for else None,
        reassigned_by=reassigned_by.name if reassigned_by else None,
        reason=reason,
        returned_by=returned_by.name if returned_by else None,
        files=_files(files),
        for_requester=for_requester,
    )


def progress(
    case: Case, sop: Sop, step: Step, roles: RoleBook, instance: StepInstance, *, returned: bool,
    returned_by: Person | None = None, reason: str | None = None,
) -> ProgressPayload:
    return ProgressPayload(**_case(case, sop), step=step.number, text=step.text, role=roles.name(step.actor),
                           due_at=instance.due_at, holder_id=instance.holder_id, returned=returned,
                           returned_by=returned_by.name if returned_by else None, reason=reason)


def unassigned(case: Case, sop: Sop, step: Step, roles: RoleBook, unit_name: str) -> UnassignedPayload:
    return UnassignedPayload(**_case(case, sop), step=step.number, text=step.text, role=roles.name(step.actor),
                             unit=unit_name)


def closed(
    case: Case, sop: Sop, state: CaseState, by: Person, reason: str | None, files: Sequence[Attachment], *,
    for_requester: bool,
) -> ClosedPayload:
    return ClosedPayload(**_case(case, sop), state=state, by=by.name, reason=reason, files=_files(files),
                         for_requester=for_requester)


def taken_over(case: Case, step: Step, by: Person, to: Person, reason: str) -> TakenOverPayload:
    return TakenOverPayload(case_id=case.id, register_no=case.register_no, title=case.title, step=step.number,
                            text=step.text, by=by.name, to=to.name, reason=reason)
