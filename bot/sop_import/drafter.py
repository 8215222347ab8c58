"""The drafter: one parsed SOP (header block + step table) as a dict in the `bot.sop.Sop` schema, ready for YAML.

Fills what the source prints, guesses unit, lanes and starters, and reports what it could not decide;
notes for the curator go into the draft's ``notes``.
"""

from __future__ import annotations

from typing import Any

from bot.sop.institutions import Institution
from bot.sop.roles import RoleBook, normalise
from bot.sop_import.actors import guess_unit
from bot.sop_import.assembly import ParsedSop
from bot.sop_import.blocks import Block
from bot.sop_import.cell_text import split_numbered
from bot.sop_import.report import Report
from bot.sop_import.sections import SECTION_NAMES
from bot.sop_import.steps import StepDrafter
from bot.sop_import.tables import Table

LaneRoles = list[tuple[str, str | None]]
"""Each Pelaksana lane label with the role it resolves to (None if roles.yaml does not know it)."""


class Drafter:
    def __init__(self, report: Report, roles: RoleBook, institutions: dict[str, Institution], inst: str | None) -> None:
        self.report = report
        self.roles = roles
        self.institutions = institutions
        self.inst = inst

    def say(self, sop: str, message: str) -> None:
        self.report.say(sop, message)

    def draft(self, sop: ParsedSop, sop_id: str) -> dict[str, Any]:
        label = sop.name[:70] + ("…" if len(sop.name) > 70 else "")
        table = sop.table
        notes: list[str] = []
        data = self._header(sop, sop_id, label)
        data.update(self._sections(sop.block, label, notes))
        data["keywords"] = []
        lane_roles = self._lanes(table, label) if table else []
        data["lanes"] = [{"label": lbl, "role": role} for lbl, role in lane_roles if role]
        data["starters"] = self._starters(lane_roles)
        data["source"] = self._source(sop)
        notes.extend(self._notes(sop))
        if table is None or not table.rows:
            self.say(label, "tabel langkah tidak ditemukan atau tidak terbaca (teks tanpa kolom tab)")
            data["notes"] = [*notes, "Tabel langkah tidak terbaca di sumber."]
            data["steps_missing"] = True
            data["steps"] = []
            return data
        steps = StepDrafter(table, [r for _, r in lane_roles if r], self.roles, self.report, label).draft()
        self._starters_from_first_step(data, steps[0]["actor"], lane_roles, label)
        data["notes"] = notes
        data["steps"] = steps
        return data

    def _header(self, sop: ParsedSop, sop_id: str, label: str) -> dict[str, Any]:
        """Id, number, name, institution, unit, dates and signature."""
        block = sop.block
        fields = block.fields if block else {}
        data: dict[str, Any] = {"id": sop_id, "number": fields.get("number", ""), "name": sop.name}
        if block and not fields.get("number"):
            self.say(label, "Nomor SOP kosong")
        data["institution"] = self.inst or "?"
        data["unit"] = self._unit(sop, label) or "?"
        dates = {k: fields[k] for k in ("made", "revised", "effective") if fields.get(k)}
        if dates:
            data["dates"] = dates
        data["approved_by"] = fields.get("approved_by", "")
        return data

    def _unit(self, sop: ParsedSop, label: str) -> str | None:
        inst = self.institutions.get(self.inst or "")
        table_text = " ".join(r.text + " " + r.output for r in sop.table.rows) if sop.table else ""
        unit_label = sop.block.unit_label if sop.block else ""
        unit = guess_unit(inst, unit_label, sop.name, table_text) if inst else None
        if unit is None:
            self.say(label, "unit/bidang tidak dapat ditentukan")
        return unit

    def _sections(self, block: Block | None, label: str, notes: list[str]) -> dict[str, Any]:
        missing = [SECTION_NAMES[k] for k in SECTION_NAMES if block and k not in block.sections]
        if missing:
            self.say(label, f"bagian tidak ditemukan: {', '.join(missing)}")
        data: dict[str, Any] = {}
        for key in SECTION_NAMES:
            items = self._section(block, key, label, notes) if block and key in block.sections else []
            if key == "warning":
                data[key] = " ".join(items)
            elif key == "related":
                data[key] = [{"text": t} for t in items]
            else:
                data[key] = items
        return data

    def _section(self, block: Block, key: str, label: str, notes: list[str]) -> list[str]:
        items = [item for piece in block.sections[key] for item in split_numbered(piece)]
        if not items:
            self.say(label, f"bagian '{SECTION_NAMES[key]}' kosong di sumber")
            notes.append(f"{SECTION_NAMES[key]} kosong di sumber.")
        if normalise(block.headings.get(key, "")) == "keterangan":
            self.say(label, "judul 'KETERANGAN' dibaca sebagai Keterkaitan SOP")
        return items

    def _lanes(self, table: Table, label: str) -> LaneRoles:
        out = []
        for lane in table.lanes:
            role = self.roles.resolve(lane)
            if role is None:
                self.say(label, f"label pelaksana tidak dikenal: '{lane}' (tambahkan alias di roles.yaml)")
            out.append((lane, role))
        return out

    def _starters(self, lane_roles: LaneRoles) -> list[str]:
        """The heads among the staff lanes (``import_head`` in roles.yaml, institution first), else the top
        staff lane; without a staff lane, every head."""
        staff = [r for _, r in lane_roles if r in self.roles and self.roles[r].kind == "staff"]
        heads = self.roles.import_heads("institution") + self.roles.import_heads("unit")
        top = [r for r in heads if r in staff] or sorted(staff, key=lambda r: len(self.roles.supervisors(r)))[:1]
        return top or heads

    def _starters_from_first_step(self, data: dict[str, Any], first: str, lane_roles: LaneRoles, label: str) -> None:
        """A requester lane or first step makes the SOP start from a request; a staff first actor may start it too."""
        if first == "requester" or "requester" in [r for _, r in lane_roles]:
            data["starters"] = ["requester"]
            data["intake"] = [{"key": "permohonan", "label": "Isi permohonan", "kind": "long_text"}]
            self.say(label, "SOP dimulai pemohon: isian permohonan (intake) perlu ditulis")
        elif first not in data["starters"] and first in self.roles and self.roles[first].kind == "staff":
            data["starters"].append(first)

    def _source(self, sop: ParsedSop) -> dict[str, Any]:
        source: dict[str, Any] = {"file": self.report.file, "line": sop.line}
        if sop.block and sop.block.title_as_extracted and not sop.shared_header:
            source["title_as_extracted"] = sop.block.title_as_extracted
        return source

    def _notes(self, sop: ParsedSop) -> list[str]:
        """Curator notes on where the header came from and what the source printed differently."""
        block, table = sop.block, sop.table
        notes: list[str] = []
        if sop.shared_header and block:
            notes.append(f"Tanpa kepala SOP sendiri: metadata disalin dari '{block.name}' (baris {block.line}).")
        if table and table.caption and block and not sop.shared_header:
            if normalise(table.caption) != normalise(sop.name):
                notes.append(f"Judul tabel berbeda: '{table.caption}' (baris {table.caption_line}).")
        if block:
            notes.extend(block.notes)
        return notes
