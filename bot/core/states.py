"""The vocabulary stored in the database: states, event types, notice kinds and priorities.

Each is a ``StrEnum`` (or ``IntEnum``) whose value is exactly the text (or number) stored, so
rows written before these enums existed read back unchanged and SQL parameters need no conversion.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class CaseState(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class StepState(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class StepOutcome(StrEnum):
    """How a finished step ended: done, or the outcome of the decision branch taken."""

    DONE = "done"
    CONTINUE = "continue"
    RETURN = "return"
    REJECT = "reject"
    COMPLETE = "complete"


class PersonKind(StrEnum):
    STAFF = "staff"
    OFFICER = "officer"


class PersonSource(StrEnum):
    """Where a person's record came from: the people file is re-applied at every start, the others are kept."""

    FILE = "file"
    MANUAL = "manual"
    INVITE = "invite"
    SELF = "self"


class AttachmentPurpose(StrEnum):
    INTAKE = "intake"
    OUTPUT = "output"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    HELD = "held"
    """No chat yet (the person has not opened the bot): delivered once they do."""


class Priority(IntEnum):
    """Outbox order across chats: answers to what someone just did, then notices, then bulk."""

    REPLY = 0
    NORMAL = 1
    BULK = 2


class PromptKind(StrEnum):
    """What the bot is waiting for from a person's next message."""

    INTAKE = "intake"
    """The answer to the current field of their intake draft."""
    OUTPUT = "output_then_done"
    """The output document of a step they just marked done."""
    ATTACH = "attach"
    """An output document to attach to a step."""
    REASSIGN_REASON = "reason"
    """Why they hand a step to a colleague."""
    CANCEL_REASON = "cancel_reason"
    """Why they withdraw their request."""
    DECISION_REASON = "decision_reason"
    """Why they reject a request or send it back (the decision is taken with the answer, or without on 'skip')."""


class UpdateState(StrEnum):
    RECEIVED = "received"
    HANDLED = "handled"
    FAILED = "failed"
    DROPPED = "dropped"


class Role(StrEnum):
    """Work that exactly one of several workers sharing PostgreSQL does at a time (elected)."""

    RECEIVER = "receiver"  # long polling: Telegram allows one getUpdates consumer per bot
    TICK = "tick"  # reminder sweep, digest round, SLA fold, retention
    SENDER = "sender"  # the outbox


class NoticeKind(StrEnum):
    """The kinds of outbox notification; each has its payload model and template."""

    ASSIGNMENT = "assignment"
    CASE_FILED = "case_filed"
    PROGRESS = "progress"
    CASE_COMPLETED = "case_completed"
    CASE_REJECTED = "case_rejected"
    CASE_CANCELLED = "case_cancelled"
    UNASSIGNED = "unassigned"
    STEP_TAKEN_OVER = "step_taken_over"
    UNREACHABLE = "unreachable"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    DIGEST = "digest"
    DIGEST_CHART = "digest_chart"
    DOCUMENT = "document"
    INTAKE_PAUSED = "intake_paused"
    """Nobody answered an intake question for a while: the draft is kept, /ajukan resumes it."""

    @classmethod
    def closing(cls, state: CaseState) -> NoticeKind:
        return cls(f"case_{state.value}")


class AlarmKind(StrEnum):
    REMIND = "remind"
    PREWARN = "prewarn"
    DUE = "due"
    ESCALATE = "escalate"


class EventType(StrEnum):
    """Types of the append-only event log (the audit trail)."""

    CASE_FILED = "case_filed"
    CASE_COMPLETED = "case_completed"
    CASE_REJECTED = "case_rejected"
    CASE_CANCELLED = "case_cancelled"
    STEP_OPENED = "step_opened"
    STEP_COMPLETED = "step_completed"
    STEP_DECIDED = "step_decided"
    STEP_UNASSIGNED = "step_unassigned"
    STEP_ASSIGNED = "step_assigned"
    STEP_REASSIGNED = "step_reassigned"
    STEP_RELEASED = "step_released"
    STEP_REROUTED = "step_rerouted"
    OUTPUT_ATTACHED = "output_attached"
    ACTING_SET = "acting_set"
    ACTING_ASSIGNED = "acting_assigned"
    REMINDER_SENT = "reminder_sent"
    ESCALATED = "escalated"
    PERSON_SYNCED = "person_synced"
    PERSON_ADDED = "person_added"
    PERSON_REMOVED = "person_removed"
    PERSON_UNREACHABLE = "person_unreachable"
    INVITE_ACCEPTED = "invite_accepted"
    TELEGRAM_BOUND = "telegram_bound"
    OFFICER_REGISTERED = "officer_registered"

    @classmethod
    def closing(cls, state: CaseState) -> EventType:
        return cls(f"case_{state.value}")
