"""SOP definitions (Permenpan-RB format): model, loader, whole-catalog validation and look-ups.

The catalog is loaded and validated once; a catalog with any problem does not load
(`CatalogError` lists every problem in one pass). Each SOP carries a content hash so a
running case can pin the exact version it started with.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.sop.durations import Duration, DurationError, dominant_unit, parse_duration

DEFAULT_SOP_DIR = Path(__file__).resolve().parents[2] / "sop_data"
END = "end"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- roles and institutions


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces: the form aliases are compared in."""
    return " ".join(re.sub(r"[^0-9a-z&]+", " ", text.lower()).split())


class Role(_Model):
    id: str
    name: str
    kind: Literal["staff", "requester", "external"]
    scope: Literal["unit", "org"] = "unit"
    supervisor: str | None = None
    proxy: list[str] = Field(default_factory=list)
    """Roles that record this (external) role's steps, tried in order (institutions differ)."""
    aliases: list[str] = Field(default_factory=list)

    @field_validator("proxy", mode="before")
    @classmethod
    def _proxy_list(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v


class Unit(_Model):
    id: str
    name: str


class Institution(_Model):
    id: str
    name: str
    full_name: str = ""
    prefix: str
    timezone: str = "Asia/Jakarta"
    units: list[Unit] = Field(default_factory=list)

    def unit(self, unit_id: str) -> Unit | None:
        return next((u for u in self.units if u.id == unit_id), None)


class RoleBook:
    """Role ids with their names and aliases; resolves a Pelaksana label or phrase to a role id."""

    def __init__(self, roles: Iterable[Role]) -> None:
        self.roles: dict[str, Role] = {r.id: r for r in roles}
        self._aliases: list[tuple[str, str]] = sorted(
            {(normalise(a), r.id) for r in self.roles.values() for a in [r.name, r.id.replace("_", " "), *r.aliases]},
            key=lambda pair: -len(pair[0]),
        )

    def __contains__(self, role_id: object) -> bool:
        return role_id in self.roles

    def __getitem__(self, role_id: str) -> Role:
        return self.roles[role_id]

    def name(self, role_id: str) -> str:
        role = self.roles.get(role_id)
        return role.name if role else role_id

    def resolve(self, label: str) -> str | None:
        """The role whose name or alias equals the label (longest alias first)."""
        key = normalise(label)
        for alias, role_id in self._aliases:
            if alias == key:
                return role_id
        return None

    def mentioned(self, text: str) -> list[str]:
        """Roles named in a free text, longest alias first, each once, in order of first mention."""
        hay = f" {normalise(text)} "
        found: list[tuple[int, str]] = []
        taken: list[tuple[int, int]] = []
        for alias, role_id in self._aliases:
            start = hay.find(f" {alias} ")
            while start >= 0:
                span = (start, start + len(alias) + 1)
                if not any(a < span[1] and span[0] < b for a, b in taken):
                    taken.append(span)
                    found.append((start, role_id))
                start = hay.find(f" {alias} ", start + 1)
        seen: list[str] = []
        for _, role_id in sorted(found):
            if role_id not in seen:
                seen.append(role_id)
        return seen

    def supervisors(self, role_id: str) -> list[str]:
        """The escalation chain above a role (nearest first)."""
        chain: list[str] = []
        current = self.roles.get(role_id)
        while current and current.supervisor and current.supervisor not in chain:
            chain.append(current.supervisor)
            current = self.roles.get(current.supervisor)
        return chain


# ---------------------------------------------------------------- SOP model


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
    warnings: list[str] = Field(default_factory=list)
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

    @property
    def is_decision(self) -> bool:
        return self.decision is not None


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
    notes: list[str] = Field(default_factory=list)
    steps_missing: bool = False
    steps: list[Step] = Field(default_factory=list)

    # -- derived (not part of the YAML)

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


# ---------------------------------------------------------------- catalog


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


class CatalogError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Catalog:
    """The loaded, validated SOPs with their roles and institutions (read-only)."""

    def __init__(
        self,
        sops: dict[str, Sop],
        roles: RoleBook,
        institutions: dict[str, Institution],
        files: dict[str, str] | None = None,
    ) -> None:
        self.sops = sops
        self.roles = roles
        self.institutions = institutions
        self.files = files or {}

    def __iter__(self) -> Iterator[Sop]:
        return iter(self.sops.values())

    def __len__(self) -> int:
        return len(self.sops)

    def get(self, sop_id: str) -> Sop | None:
        return self.sops.get(sop_id)

    def __getitem__(self, sop_id: str) -> Sop:
        return self.sops[sop_id]

    def startable_by(self, role_ids: Iterable[str]) -> list[Sop]:
        wanted = set(role_ids)
        return [s for s in self.sops.values() if s.steps and not s.steps_missing and wanted & set(s.starters)]

    def institution(self, inst_id: str) -> Institution:
        return self.institutions[inst_id]

    @cached_property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for sop_id in sorted(self.sops):
            h.update(f"{sop_id}:{self.sops[sop_id].content_hash};".encode())
        return h.hexdigest()[:16]


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _pydantic_problems(file: str, err: ValidationError) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "-"
        out.append(Problem(file, loc, e["msg"]))
    return out


def load_roles(directory: Path) -> RoleBook:
    data = _read_yaml(directory / "roles.yaml")
    return RoleBook(Role.model_validate(r) for r in data["roles"])


def load_institutions(directory: Path) -> dict[str, Institution]:
    data = _read_yaml(directory / "institutions.yaml")
    return {i["id"]: Institution.model_validate(i) for i in data["institutions"]}


def sop_files(directory: Path) -> list[Path]:
    """SOP definition files: every YAML file in an institution sub-folder."""
    return sorted(p for p in directory.glob("*/*.yaml") if p.is_file())


def load_catalog(directory: Path | str | None = None) -> Catalog:
    """Load and validate every SOP; raise CatalogError listing all problems if any."""
    catalog, problems = read_catalog(directory)
    if problems:
        raise CatalogError(problems)
    return catalog


def read_catalog(directory: Path | str | None = None) -> tuple[Catalog, list[Problem]]:
    """Load what can be loaded and return it with every problem found (for `alur sop validate`)."""
    base = Path(directory) if directory else DEFAULT_SOP_DIR
    problems: list[Problem] = []
    try:
        roles = load_roles(base)
    except (OSError, ValidationError, KeyError, TypeError, yaml.YAMLError) as exc:
        return Catalog({}, RoleBook([]), {}), [Problem("roles.yaml", "-", f"tidak terbaca: {exc}")]
    try:
        institutions = load_institutions(base)
    except (OSError, ValidationError, KeyError, TypeError, yaml.YAMLError) as exc:
        return Catalog({}, roles, {}), [Problem("institutions.yaml", "-", f"tidak terbaca: {exc}")]
    sops: dict[str, Sop] = {}
    files: dict[str, str] = {}
    for path in sop_files(base):
        rel = str(path.relative_to(base))
        try:
            raw = _read_yaml(path)
        except yaml.YAMLError as exc:
            problems.append(Problem(rel, "-", f"YAML tidak valid: {exc}"))
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(rel, "-", "isi berkas harus berupa pemetaan (mapping) SOP"))
            continue
        try:
            sop = Sop.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(rel, exc))
            continue
        if sop.id in sops:
            problems.append(Problem(rel, "id", f"id SOP '{sop.id}' sudah dipakai oleh {files[sop.id]}"))
            continue
        sops[sop.id] = sop
        files[sop.id] = rel
    catalog = Catalog(sops, roles, institutions, files)
    problems.extend(validate(catalog))
    return catalog, problems


def validate(catalog: Catalog) -> list[Problem]:
    """Every cross-reference and flow problem of the catalog, in one pass."""
    problems: list[Problem] = []
    roles = catalog.roles
    for role in roles.roles.values():
        for ref in [role.supervisor, *role.proxy]:
            if ref and ref not in roles:
                problems.append(Problem("roles.yaml", f"roles[{role.id}]", f"peran tidak dikenal: '{ref}'"))
    for sop in catalog:
        f = catalog.files.get(sop.id, sop.id)
        problems.extend(_validate_refs(sop, f, catalog, roles))
        problems.extend(_validate_flow(sop, f))
    return problems


def _validate_refs(sop: Sop, f: str, catalog: Catalog, roles: RoleBook) -> list[Problem]:
    problems: list[Problem] = []
    inst = catalog.institutions.get(sop.institution)
    if inst is None:
        problems.append(Problem(f, "institution", f"institusi tidak dikenal: '{sop.institution}'"))
    elif inst.unit(sop.unit) is None:
        problems.append(Problem(f, "unit", f"unit '{sop.unit}' tidak ada di {sop.institution}"))
    for i, lane in enumerate(sop.lanes):
        if lane.role not in roles:
            problems.append(Problem(f, f"lanes.{i}.role", f"peran tidak dikenal: '{lane.role}'"))
    for i, starter in enumerate(sop.starters):
        if starter not in roles:
            problems.append(Problem(f, f"starters.{i}", f"peran tidak dikenal: '{starter}'"))
    if sop.requester_started and not sop.intake:
        problems.append(Problem(f, "intake", "SOP yang dimulai pemohon harus punya isian permohonan (intake)"))
    keys = [fld.key for fld in sop.intake]
    for key in {k for k in keys if keys.count(k) > 1}:
        problems.append(Problem(f, "intake", f"kunci isian ganda: '{key}'"))
    for i, rel in enumerate(sop.related):
        if rel.sop and rel.sop not in catalog.sops:
            problems.append(Problem(f, f"related.{i}.sop", f"SOP terkait tidak ada di katalog: '{rel.sop}'"))
    for step in sop.steps:
        where = f"steps[{step.number}]"
        if step.actor not in roles:
            problems.append(Problem(f, f"{where}.actor", f"peran tidak dikenal: '{step.actor}'"))
        if step.duration_text:
            try:
                parse_duration(step.duration_text, default_unit=sop.default_unit, where=f"langkah {step.number}")
            except DurationError as exc:
                problems.append(Problem(f, f"{where}.duration_text", str(exc)))
    return problems


def _validate_flow(sop: Sop, f: str) -> list[Problem]:
    problems: list[Problem] = []
    if not sop.steps:
        if not sop.steps_missing:
            problems.append(Problem(f, "steps", "SOP tanpa langkah (tandai steps_missing bila tabel hilang di sumber)"))
        return problems
    numbers = [s.number for s in sop.steps]
    for dup in sorted({n for n in numbers if numbers.count(n) > 1}):
        problems.append(Problem(f, f"steps[{dup}]", "nomor langkah ganda"))
    if problems:
        return problems
    for step in sop.steps:
        where = f"steps[{step.number}]"
        targets = sop.successors(step)
        for t in targets:
            if t != END and not sop.has_step(t):
                problems.append(Problem(f, f"{where}.next", f"langkah tujuan tidak ada: '{t}'"))
        if step.decision and step.next:
            problems.append(Problem(f, f"{where}", "langkah keputusan tidak boleh punya 'next'"))
        if step.end and step.next:
            problems.append(Problem(f, f"{where}", "langkah akhir tidak boleh punya 'next'"))
    if problems:
        return problems
    reachable: set[str] = set()
    frontier = [sop.steps[0].number]
    while frontier:
        n = frontier.pop()
        if n in reachable or n == END:
            continue
        reachable.add(n)
        frontier.extend(sop.successors(sop.step(n)))
    for step in sop.steps:
        if step.number not in reachable:
            problems.append(Problem(f, f"steps[{step.number}]", "langkah tidak terjangkau dari langkah pertama"))
    if not any(END in sop.successors(s) for s in sop.steps):
        problems.append(Problem(f, "steps", "tidak ada langkah akhir"))
    can_end = _can_reach_end(sop)
    for step in sop.steps:
        if step.number in reachable and step.number not in can_end:
            problems.append(Problem(f, f"steps[{step.number}]", "dari langkah ini SOP tidak pernah selesai"))
    return problems


def _can_reach_end(sop: Sop) -> set[str]:
    done: set[str] = set()
    changed = True
    while changed:
        changed = False
        for step in sop.steps:
            if step.number in done:
                continue
            if any(t == END or t in done for t in sop.successors(step)):
                done.add(step.number)
                changed = True
    return done


def sop_from_snapshot(snapshot: str) -> Sop:
    """Rebuild a pinned SOP from the JSON stored with a case."""
    return Sop.model_validate_json(snapshot)


def snapshot(sop: Sop) -> str:
    return json.dumps(sop.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
