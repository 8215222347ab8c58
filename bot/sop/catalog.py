"""The catalog: every SOP of a folder with its roles and institutions, loaded and validated once.

A catalog with any problem does not load (`CatalogError` lists every problem in one pass).
"""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.sop.institutions import Institution, load_institutions
from bot.sop.model import Sop
from bot.sop.roles import RoleBook, load_roles

DEFAULT_SOP_DIR = Path(__file__).resolve().parents[2] / "sop_data"


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


def sop_files(directory: Path) -> list[Path]:
    """SOP definition files: every YAML file in an institution sub-folder."""
    return sorted(p for p in directory.glob("*/*.yaml") if p.is_file())


def missing_folder(base: Path) -> str:
    """One line for an admin who named a SOP folder that is not a folder (ALUR_SOP_DIR is checked with the
    other settings)."""
    if base.exists():
        return f"Bukan folder: {base}. Tulis folder SOP (yang berisi roles.yaml dan institutions.yaml)."
    return f"Folder SOP tidak ditemukan: {base}. Periksa path-nya."


def _why(exc: Exception) -> str:
    """An unreadable file's reason in Indonesian (not Python's English errno text)."""
    if isinstance(exc, FileNotFoundError):
        return "berkas tidak ada"
    if isinstance(exc, PermissionError):
        return "izin baca ditolak"
    if isinstance(exc, IsADirectoryError):
        return "berupa folder, bukan berkas"
    if isinstance(exc, OSError):
        code = errno.errorcode.get(exc.errno or 0, "")
        return "berkas tidak dapat dibaca" + (f" ({code})" if code else "")
    return str(exc)


def load_catalog(directory: Path | str | None = None) -> Catalog:
    """Load and validate every SOP; raise CatalogError listing all problems if any."""
    catalog, problems = read_catalog(directory)
    if problems:
        raise CatalogError(problems)
    return catalog


def read_catalog(directory: Path | str | None = None) -> tuple[Catalog, list[Problem]]:
    """Load what can be loaded and return it with every problem found (for `alur sop validate`)."""
    base = Path(directory) if directory else DEFAULT_SOP_DIR
    if not base.is_dir():
        why = "bukan folder" if base.exists() else "folder tidak ditemukan"
        return Catalog({}, RoleBook([]), {}), [Problem(str(base), "-", f"{why}; periksa path-nya atau ALUR_SOP_DIR")]
    problems: list[Problem] = []
    try:
        roles = load_roles(base)
    except (OSError, ValidationError, KeyError, TypeError, yaml.YAMLError) as exc:
        return Catalog({}, RoleBook([]), {}), [Problem("roles.yaml", "-", f"tidak terbaca: {_why(exc)}")]
    try:
        institutions = load_institutions(base)
    except (OSError, ValidationError, KeyError, TypeError, yaml.YAMLError) as exc:
        return Catalog({}, roles, {}), [Problem("institutions.yaml", "-", f"tidak terbaca: {_why(exc)}")]
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
    from bot.sop.validation import validate  # validation reads the Catalog type

    catalog = Catalog(sops, roles, institutions, files)
    problems.extend(validate(catalog))
    return catalog, problems
