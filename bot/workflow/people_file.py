"""The people file: staff, their roles, institution and unit, read and checked before anything is applied."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.sop.catalog import Catalog
from bot.workflow.errors import PeopleError

ADMIN = "admin"
"""System role: manages people and sees undeliverable messages; not an SOP actor."""


@dataclass(frozen=True)
class PersonSpec:
    """One entry of the people file."""

    name: str
    roles: tuple[str, ...]
    institution: str
    unit: str | None = None
    telegram_id: int | None = None
    username: str | None = None


def parse_people_file(path: Path, catalog: Catalog) -> list[PersonSpec]:
    """Read and check the people file (YAML: telegram id or @username, name, roles, institution, unit)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    specs: list[PersonSpec] = []
    problems: list[str] = []
    for i, entry in enumerate(data.get("people") or []):
        where = f"{path.name}: people[{i}]"
        ident = entry.get("telegram")
        telegram_id = username = None
        if isinstance(ident, int) or (isinstance(ident, str) and ident.lstrip("-").isdigit()):
            telegram_id = int(ident)
        elif isinstance(ident, str) and ident.startswith("@") and len(ident) > 1:
            username = ident[1:].lower()
        else:
            problems.append(f"{where}: telegram harus berupa id angka atau @username")
            continue
        roles = tuple(entry.get("roles") or [])
        bad = [r for r in roles if r != ADMIN and r not in catalog.roles]
        if bad:
            problems.append(f"{where}: peran tidak dikenal: {', '.join(bad)}")
        institution = entry.get("institution")
        if institution not in catalog.institutions:
            problems.append(f"{where}: institusi tidak dikenal: {institution!r}")
            continue
        unit = entry.get("unit")
        if unit is not None and catalog.institutions[institution].unit(unit) is None:
            problems.append(f"{where}: unit '{unit}' tidak ada di {institution}")
        if not entry.get("name"):
            problems.append(f"{where}: nama wajib diisi")
        specs.append(PersonSpec(str(entry.get("name", "")), roles, institution, unit, telegram_id, username))
    if problems:
        raise PeopleError("people_file", problems=problems)
    return specs
