"""The people file: staff, their roles, institution and unit, read and checked before anything is applied.

Every problem names the file, the line and entry, what is wrong and how to fix it; a file with any
problem is refused as a whole (nothing from it is applied). Whether a role is held per unit comes
from ``scope`` in roles.yaml, never from a list in code. The same checks serve `alur people add`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.sop.catalog import Catalog
from bot.workflow.errors import PeopleError

ADMIN = "admin"
"""The institution admin role: manages people and sees undeliverable messages; not an SOP actor. The system
roles of roles.yaml (``admin``, ``system_admin``) are accepted beside the staff roles."""

KEYS = ("telegram", "name", "roles", "institution", "unit")
USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
"""Telegram usernames: 5-32 characters in Telegram itself; 4 accepted for older accounts."""


@dataclass(frozen=True)
class PersonSpec:
    """One entry of the people file."""

    name: str
    roles: tuple[str, ...]
    institution: str
    unit: str | None = None
    telegram_id: int | None = None
    username: str | None = None


@dataclass(frozen=True)
class Fault:
    """What is wrong with one value and how to put it right."""

    message: str
    fix: str


@dataclass(frozen=True)
class PeopleFileProblem:
    file: str
    line: int | None
    entry: str
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        entry = f" {self.entry}:" if self.entry else ""
        return f"{where}:{entry} {self.message} — perbaiki: {self.fix}"


class PeopleFileError(PeopleError):
    """A people file that cannot be applied; ``problems`` lists every one found."""

    def __init__(self, problems: list[PeopleFileProblem]) -> None:
        super().__init__("people_file", problems=[str(p) for p in problems])
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def suggestion(word: str, choices: Iterable[str]) -> str:
    """' (maksud Anda: x?)' for a near miss, else ''."""
    close = difflib.get_close_matches(word.lower(), [c.lower() for c in choices], n=1, cutoff=0.6)
    if not close:
        return ""
    original = next(c for c in choices if c.lower() == close[0])
    return f" (maksud Anda: {original}?)"


def parse_telegram(value: object) -> tuple[int | None, str | None]:
    """A numeric Telegram user id or an ``@username``; anything else raises ``ValueError`` with a ``Fault``."""
    fix = "tulis id angka (mis. 2004) atau @username (mis. @sari_bappeda)"
    if isinstance(value, bool) or value is None:
        raise ValueError(Fault("telegram wajib diisi" if value is None else f"telegram {value!r} tidak terbaca", fix))
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip())):
        number = int(value)
        if number <= 0:
            raise ValueError(Fault(f"id Telegram {number} bukan id orang (id orang selalu angka positif; "
                                   "id negatif adalah grup atau kanal)", fix))
        return number, None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("@") and USERNAME.fullmatch(text[1:]):
            return None, text[1:].lower()
        if text.startswith("@"):
            raise ValueError(Fault(f"username {text!r} tidak valid (huruf, angka dan garis bawah, 5–32 karakter)",
                                   fix))
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", text):
            raise ValueError(Fault(f"telegram {text!r} bukan angka dan tidak diawali @",
                                   f"tulis '@{text}' bila itu username, atau id angkanya"))
    raise ValueError(Fault(f"telegram {value!r} bukan id angka maupun @username", fix))


def check_person(
    catalog: Catalog, roles: Iterable[str], institution: str | None, unit: str | None, *,
    missing_ok: Iterable[str] = (),
) -> list[Fault]:
    """Roles, institution and unit of one person, checked against roles.yaml and institutions.yaml.

    ``missing_ok`` names fields whose absence was already reported another way (a misspelt key).
    """
    faults: list[Fault] = []
    roles = list(roles)
    missing_ok = set(missing_ok)
    system = list(catalog.roles.system) or [ADMIN]
    known_roles = [*system, *(r.id for r in catalog.roles.roles.values() if r.kind == "staff")]
    if not roles and "roles" not in missing_ok:
        faults.append(Fault("belum ada peran", "isi roles dengan id dari roles.yaml, mis. [kabid]"))
    for role in roles:
        if role not in system and role not in catalog.roles:
            faults.append(Fault(f"peran '{role}' tidak dikenal{suggestion(role, known_roles)}",
                                f"pakai id peran dari sop_data/roles.yaml (atau {' / '.join(system)})"))
    inst = catalog.institutions.get(institution or "")
    if not institution:
        if "institution" not in missing_ok:
            faults.append(Fault("institution wajib diisi",
                                f"tulis salah satu: {', '.join(sorted(catalog.institutions))}"))
        return faults
    if inst is None:
        faults.append(Fault(f"institusi '{institution}' tidak dikenal{suggestion(institution, catalog.institutions)}",
                            f"tulis salah satu: {', '.join(sorted(catalog.institutions))}"))
        return faults
    unit_ids = [u.id for u in inst.units]
    unit_list = ", ".join(unit_ids) or "(institusi ini belum punya unit di institutions.yaml)"
    if unit is not None and inst.unit(unit) is None:
        faults.append(Fault(f"unit '{unit}' tidak ada di {institution}{suggestion(unit, unit_ids)}",
                            f"tulis salah satu unit {institution}: {unit_list}"))
    if unit is None:
        scoped = [r for r in roles if r in catalog.roles and catalog.roles[r].scope == "unit"
                  and catalog.roles[r].kind == "staff"]
        if scoped:
            faults.append(Fault(f"peran {', '.join(scoped)} dipegang per unit/bidang, tetapi unit tidak diisi",
                                f"tambahkan unit: salah satu dari {unit_list}"))
    return faults


def parse_people_file(path: Path, catalog: Catalog) -> list[PersonSpec]:
    """Read and check the people file; raise ``PeopleFileError`` listing every problem (nothing is applied)."""
    name = str(path)

    def refuse(message: str, fix: str, line: int | None = None) -> PeopleFileError:
        return PeopleFileError([PeopleFileProblem(name, line, "", message, fix)])

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise refuse("berkas tidak ada", "periksa ALUR_PEOPLE (path lengkap ke berkas YAML)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise refuse(f"berkas tidak terbaca ({getattr(exc, 'strerror', None) or exc})",
                     "periksa izin berkas dan simpan sebagai teks UTF-8") from None
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "sintaks YAML salah"
        raise refuse(f"YAML tidak valid: {problem}",
                     "periksa tanda kurung, titik dua dan indentasi di baris itu (contoh: sop_data/demo_people.yaml)",
                     mark.line + 1 if mark else None) from None
    except ValueError as exc:  # PyYAML reads 2026-13-45 as a date and fails
        raise refuse(f"nilai tidak terbaca ({exc})", "beri tanda kutip pada nilai yang mirip tanggal") from None
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise refuse("tidak ada daftar 'people:'",
                     "mulai berkas dengan 'people:' lalu satu baris '- {telegram: …, name: …, roles: […], "
                     "institution: …}' per orang (contoh: sop_data/demo_people.yaml)")
    lines = _entry_lines(root)
    specs: list[PersonSpec] = []
    problems: list[PeopleFileProblem] = []
    seen_ids: dict[int, str] = {}
    seen_names: dict[str, str] = {}
    for i, entry in enumerate(data["people"]):
        line = lines[i] if i < len(lines) else None
        label = f"entri {i + 1}"
        if isinstance(entry, dict) and entry.get("name"):
            label += f" ({entry['name']})"

        def add(fault: Fault, line: int | None = line, label: str = label) -> None:
            problems.append(PeopleFileProblem(name, line, label, fault.message, fault.fix))

        if not isinstance(entry, dict):
            add(Fault("entri bukan pemetaan",
                      "tulis '- {telegram: 2004, name: \"…\", roles: [kabid], institution: …, unit: …}'"))
            continue
        misspelt: set[str] = set()  # keys meant by an unknown key: their absence is not told twice
        for key in entry:
            if key not in KEYS:
                hint = suggestion(str(key), KEYS)
                misspelt.update(k for k in KEYS if hint == f" (maksud Anda: {k}?)")
                add(Fault(f"kunci '{key}' tidak dikenal{hint}", f"kunci yang dikenal: {', '.join(KEYS)}"))
        person_name = entry.get("name")
        if (not isinstance(person_name, str) or not person_name.strip()) and "name" not in misspelt:
            add(Fault("name wajib diisi", "tulis nama dan jabatannya, mis. name: \"Pak Kadir (Kabid)\""))
        telegram_id = username = None
        try:
            telegram_id, username = parse_telegram(entry.get("telegram"))
        except ValueError as exc:
            if "telegram" in entry or "telegram" not in misspelt:
                add(exc.args[0])
        if telegram_id is not None:
            if telegram_id in seen_ids:
                add(Fault(f"id Telegram {telegram_id} sudah dipakai {seen_ids[telegram_id]}",
                          "satu orang satu entri: gabungkan perannya dalam satu roles, atau perbaiki id-nya"))
            else:
                seen_ids[telegram_id] = label
        if username is not None:
            if username in seen_names:
                add(Fault(f"@{username} sudah dipakai {seen_names[username]}",
                          "satu orang satu entri: gabungkan perannya dalam satu roles, atau perbaiki username-nya"))
            else:
                seen_names[username] = label
        raw_roles = entry.get("roles")
        if isinstance(raw_roles, str):
            raw_roles = [r.strip() for r in raw_roles.split(",") if r.strip()]
        if raw_roles is not None and not (isinstance(raw_roles, list) and all(isinstance(r, str) for r in raw_roles)):
            add(Fault("roles harus berupa daftar id peran", "tulis mis. roles: [kabid] atau roles: [kabid, admin]"))
            raw_roles = []
        roles = tuple(raw_roles or [])
        institution = entry.get("institution")
        unit = entry.get("unit")
        for fault in check_person(catalog, roles, str(institution) if institution else None,
                                  str(unit) if unit is not None else None, missing_ok=misspelt):
            add(fault)
        specs.append(PersonSpec(str(person_name or ""), roles, str(institution or ""),
                                str(unit) if unit is not None else None, telegram_id, username))
    if problems:
        raise PeopleFileError(problems)
    return specs


def _entry_lines(root: Any) -> list[int]:
    """The 1-based line of each entry under ``people:`` (for messages that point at the line)."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "people" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []
