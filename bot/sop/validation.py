"""Whole-catalog validation: cross-references and flow (reachability, a path to an end), every problem in one pass."""

from __future__ import annotations

from bot.sop.catalog import Catalog, Problem
from bot.sop.durations import DurationError, parse_duration
from bot.sop.model import END, Sop
from bot.sop.roles import RoleBook


def validate(catalog: Catalog) -> list[Problem]:
    """Every cross-reference and flow problem of the catalog, in one pass."""
    problems: list[Problem] = []
    roles = catalog.roles
    for role in roles.roles.values():
        for ref in [role.supervisor, *role.proxy]:
            if ref and ref not in roles:
                problems.append(Problem("roles.yaml", f"roles[{role.id}]", f"peran tidak dikenal: '{ref}'"))
        if role.kind == "system":
            problems.append(Problem("roles.yaml", f"roles[{role.id}]", "peran sistem ditulis di system_roles"))
    for role in roles.system.values():
        if role.kind != "system" or role.id in roles:
            problems.append(Problem("roles.yaml", f"system_roles[{role.id}]",
                                    "peran sistem harus ber-kind 'system' dan tidak sama dengan peran SOP"))
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
