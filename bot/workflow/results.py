"""What workflow operations take and give back: uploads in, outcomes and case positions out."""

from __future__ import annotations

from dataclasses import dataclass

from bot.sop.model import Sop, Step
from bot.storage.records import Case, Person, StepInstance


@dataclass(frozen=True)
class FileUpload:
    """A document received from Telegram (only ids and metadata; the bytes stay with Telegram)."""

    file_id: str
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What an operation did: ``changed`` is False when nothing had to change (already done)."""

    changed: bool
    case: Case
    step: StepInstance | None = None
    opened: tuple[StepInstance, ...] = ()
    closed: str | None = None
    done_by: Person | None = None


@dataclass(frozen=True)
class CurrentStep:
    instance: StepInstance
    step: Step
    holder: Person | None
    acting_for: Person | None


@dataclass(frozen=True)
class WhatNext:
    case: Case
    sop: Sop
    current: tuple[CurrentStep, ...]
    following: tuple[tuple[str, Step | None], ...]
    """(branch label or '', next step) for the first current step; None means the SOP ends."""
