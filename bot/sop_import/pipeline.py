"""The import run: text -> tables and blocks -> parsed SOPs -> draft dicts -> YAML, with the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.sop.catalog import DEFAULT_SOP_DIR
from bot.sop.institutions import load_institutions
from bot.sop.roles import load_roles
from bot.sop_import.actors import guess_institution
from bot.sop_import.assembly import ParsedSop, assemble
from bot.sop_import.drafter import Drafter
from bot.sop_import.report import Report
from bot.sop_import.tables import Table
from bot.sop_import.yaml_writer import slug, to_yaml


@dataclass
class ImportResult:
    drafts: dict[str, str] = field(default_factory=dict)
    """Draft name (the proposed SOP id) -> YAML text."""
    report: list[str] = field(default_factory=list)
    """What the importer could not decide, one line each, naming the file, SOP and step."""
    sops: list[ParsedSop] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    """Every step table found (page continuations merged), duplicates included."""


def import_text(
    text: str,
    file: str,
    institution: str | None = None,
    sop_dir: Path | None = None,
) -> ImportResult:
    """Drafts for every SOP in one extracted text (see the package docstring)."""
    base = sop_dir or DEFAULT_SOP_DIR
    roles = load_roles(base)
    institutions = load_institutions(base)
    inst = institution or guess_institution(text, institutions)
    report = Report(file)
    if inst is None:
        report.about_file("institusi tidak dikenali (pakai --institution)")
    drafter = Drafter(report, roles, institutions, inst)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    sops, tables = assemble(lines, report)
    result = ImportResult(sops=sops, tables=tables)
    for sop in sops:
        base_id = f"{inst or 'draf'}-{slug(sop.name)}"
        sop_id, n = base_id, 2
        while sop_id in result.drafts:
            sop_id, n = f"{base_id}-{n}", n + 1
        data = drafter.draft(sop, sop_id)
        header = f"# Draf impor otomatis dari {file}, baris {sop.line}. Periksa sebelum masuk katalog.\n"
        result.drafts[sop_id] = header + to_yaml(data)
    result.report = report.lines
    return result


def import_file(path: Path | str, institution: str | None = None) -> ImportResult:
    """Drafts for every SOP in a UTF-8 text file; OSError and UnicodeDecodeError reach the caller."""
    path = Path(path)
    return import_text(path.read_text(encoding="utf-8"), path.name, institution=institution)
