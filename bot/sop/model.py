"""The SOP model (Permenpan-RB format): steps with actor, requirements, standard time and output; decisions.

Each SOP carries a content hash so a running case can pin the exact version it started with.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.sop.durations import Duration, dominant_unit, parse_duration

END = "end"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Branch(_Model):
    label: str
    target: str
    outcome: Literal["continue", "return", "reject", "complete"] = "continue"
    source: Literal["text", "inferred"] = "text"


class Decision(_Model):
    question: str
    branches: list[Branch] = Field(min_length=2)


class IntakeField(_Model):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    kind: Literal["text", "long_text", "phone", "document", "choice"] = "text"
    required: bool = True
    help: str = ""
    choices: list[str] = Field(default_factory=list)
    max_length: int = 1000


class Lane(_Model):
    label: str
    role: str


class RelatedSop(_Model):
    text: str
    sop: str | None = None


class SopDates(_Model):
    made: str | None = None
    revised: str | None = None
    effective: str | None = None


class Source(_Model):
    file: str
    line: int
    title_as_extracted: str | None = None
    also_in: list[str] = Field(default_factory=list)


class PrintedStep(_Model):
    """A step's fields exactly as the source document prints them, where the text users read is corrected.

    Only the corrected fields are given; ``alur sop show`` prints them next to the corrections.
    """

    text: str | None = None
    requirements: list[str] | None = None
    outputs: list[str] | None = None
    duration_text: str | None = None
    note: str | None = None


class PrintedSop(_Model):
    """SOP-level fields exactly as printed, where the text users read is corrected (OCR damage, typos,
    English date formats)."""

    name: str | None = None
    approved_by: str | None = None
    dates: SopDates | None = None
    legal_basis: list[str] | None = None
    qualifications: list[str] | None = None
    related: list[str] | None = None
    records: list[str] | None = None
    warning: str | None = None


def _check_printed(model: BaseModel, printed: BaseModel | None) -> None:
    """A printed original must belong to a field that was actually corrected."""
    if printed is None:
        return
    for name, original in printed.model_dump(exclude_none=True).items():
        current = getattr(model, name)
        if name == "related":
            current = [r.text for r in current]
        elif name == "dates":
            current = current.model_dump()
        if original == current:
            raise ValueError(f"printed.{name} sama dengan teks yang dibaca pengguna (hapus, atau isi koreksinya)")


class Step(_Model):
    number: str
    number_source: Literal["printed", "assigned", "corrected"] = "printed"
    text: str
    actor: str
    actor_source: Literal["lane", "text", "inferred"]
    requirements: list[str] = Field(default_factory=list)
    duration_text: str | None = None
    outputs: list[str] = Field(default_factory=list)
    note: str = ""
    """The Keterangan column as printed (corrected where damaged); users read it."""
    printed: PrintedStep | None = None
    curator_notes: list[str] = Field(default_factory=list)
    """What the curators worked out (who acts where the source is silent, line references): admins only."""
    warnings: list[str] = Field(default_factory=list)
    """Defects of the source the curators found: admins only."""
    next: str | None = None
    end: bool = False
    decision: Decision | None = None
    hands_off: bool = False

    @field_validator("number")
    @classmethod
    def _number_clean(cls, v: str) -> str:
        v = v.strip().rstrip(".")
        if not v:
            raise ValueError("nomor langkah kosong")
        return v

    @field_validator("text")
    @classmethod
    def _text_clean(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("uraian langkah kosong (isi dengan output dan beri peringatan)")
        return v

    @model_validator(mode="after")
    def _printed_differs(self) -> Step:
        _check_printed(self, self.printed)
        return self

    @property
    def is_decision(self) -> bool:
        return self.decision is not None

    @property
    def original(self) -> Step:
        """The step as the source document prints it (the printed originals in place of the corrections)."""
        if self.printed is None:
            return self
        return self.model_copy(update=self.printed.model_dump(exclude_none=True))


class Sop(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    number: str = ""
    name: str
    short_name: str = ""
    code: str = Field(default="", pattern=r"^[A-Z0-9]{0,8}$")
    institution: str
    unit: str
    dates: SopDates = Field(default_factory=SopDates)
    approved_by: str = ""
    legal_basis: list[str] = Field(default_factory=list)
    qualifications: list[str] = Field(default_factory=list)
    related: list[RelatedSop] = Field(default_factory=list)
    equipment: list[str] = Field(default_factory=list)
    warning: str = ""
    records: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    lanes: list[Lane] = Field(default_factory=list)
    starters: list[str] = Field(min_length=1)
    intake: list[IntakeField] = Field(default_factory=list)
    source: Source
    printed: PrintedSop | None = None
    notes: list[str] = Field(default_factory=list)
    """Curator notes on the SOP as a whole (source defects, line references): admins only."""
    steps_missing: bool = False
    steps: list[Step] = Field(default_factory=list)

    @model_validator(mode="after")
    def _printed_differs(self) -> Sop:
        _check_printed(self, self.printed)
        return self

    # -- derived (not part of the YAML)

    @property
    def original(self) -> Sop:
        """The SOP-level fields as printed (steps keep their corrections: see ``Step.original``)."""
        if self.printed is None:
            return self
        update = self.printed.model_dump(exclude_none=True)
        if "related" in update:
            by_text = {r.text: r for r in self.related}
            update["related"] = [by_text.get(t, RelatedSop(text=t)) for t in update["related"]]
        if "dates" in update:
            update["dates"] = self.printed.dates
        return self.model_copy(update=update)

    @cached_property
    def content_hash(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @cached_property
    def _index(self) -> dict[str, int]:
        return {s.number: i for i, s in enumerate(self.steps)}

    @cached_property
    def default_unit(self) -> str | None:
        return dominant_unit([s.duration_text for s in self.steps if s.duration_text])

    @property
    def title(self) -> str:
        return self.short_name or self.name

    @property
    def register_code(self) -> str:
        """The SOP's part of a register number ('INFO' in KTP-INFO-2026-0007)."""
        return self.code or re.sub(r"[^A-Z0-9]", "", self.id.split("-")[-1].upper())[:4]

    @property
    def requester_started(self) -> bool:
        return "requester" in self.starters

    @property
    def first_step(self) -> Step | None:
        return self.steps[0] if self.steps else None

    def step(self, number: str) -> Step:
        return self.steps[self._index[number]]

    def has_step(self, number: str) -> bool:
        return number in self._index

    def duration(self, step: Step) -> Duration | None:
        """The parsed standard time of a step, None where the SOP prints none."""
        if not step.duration_text:
            return None
        return parse_duration(step.duration_text, default_unit=self.default_unit)

    def following(self, step: Step) -> Step | None:
        """The step after this one in table order."""
        i = self._index[step.number]
        return self.steps[i + 1] if i + 1 < len(self.steps) else None

    def successors(self, step: Step) -> list[str]:
        """Step numbers (or END) that may come after a step."""
        if step.decision:
            return [b.target for b in step.decision.branches]
        if step.end:
            return [END]
        if step.next:
            return [step.next]
        after = self.following(step)
        return [after.number] if after else [END]

    def next_step(self, step: Step) -> Step | None:
        """The step that follows when the step is completed without a decision."""
        target = self.successors(step)[0]
        return None if target == END else self.step(target)

    def total_duration(self, first: str | None = None, last: str | None = None) -> Duration:
        """Sum of the printed standard times over a range of steps (inclusive, table order)."""
        total = Duration()
        inside = first is None
        for s in self.steps:
            if s.number == first:
                inside = True
            if inside:
                d = self.duration(s)
                if d:
                    total = total + d
            if s.number == last:
                break
        return total


def sop_from_snapshot(snapshot: str) -> Sop:
    """Rebuild a pinned SOP from the JSON stored with a case."""
    return Sop.model_validate_json(snapshot)


def snapshot(sop: Sop) -> str:
    return json.dumps(sop.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
