"""The step drafter: the rows of one step table as draft steps (number, text, actor, Mutu Baku, notes).

Every row becomes a step. What the row leaves open (no number, no text, no actor named, an unreadable
'Waktu', a shifted column, a mark left in a Pelaksana cell) goes into the report for the curator.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from bot.sop.durations import DurationError, dominant_unit, parse_duration
from bot.sop.roles import RoleBook
from bot.sop_import.actors import agent_role, lane_guess, output_role, subject_role
from bot.sop_import.cell_text import split_items
from bot.sop_import.report import Report
from bot.sop_import.tables import Row, Table


class _Numbering:
    """Step numbers as printed; a missing or repeated number gets the next free one."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.counter = 0

    def take(self, printed: str) -> tuple[str, bool]:
        """The step number and whether it was assigned here rather than printed."""
        self.counter = int(printed) if printed.isdigit() else self.counter + 1
        number, assigned = printed, False
        if not number or number in self.used:
            number, assigned = str(self.counter), True
            while number in self.used:
                self.counter += 1
                number = str(self.counter)
        self.used.add(number)
        return number, assigned


class StepDrafter:
    """Drafts the steps of one table; ``lane_roles`` are the roles of its Pelaksana lanes, ``label`` the SOP title."""

    def __init__(self, table: Table, lane_roles: list[str], roles: RoleBook, report: Report, label: str) -> None:
        self.table = table
        self.lane_roles = lane_roles
        self.roles = roles
        self.report = report
        self.label = label
        self.unit = dominant_unit([r.duration for r in table.rows if r.duration])
        self.timed = any(r.duration for r in table.rows)

    def say(self, message: str, step: str | None = None) -> None:
        self.report.say(self.label, message, step)

    def draft(self) -> list[dict[str, Any]]:
        if not self.timed:
            self.say("tidak ada Waktu di seluruh tabel")
        self._check_numbers()
        rows = self.table.rows
        numbering = _Numbering()
        steps: list[dict[str, Any]] = []
        previous: str | None = None
        for i, row in enumerate(rows):
            number, assigned = numbering.take(row.number)
            if assigned:
                self.say(f"baris {row.line} tanpa nomor (atau nomor ganda); diberi nomor {number}", number)
            position = "first" if i == 0 else "last" if i == len(rows) - 1 else ""
            step = self._step(row, number, assigned, position, previous)
            previous = step["actor"]
            steps.append(step)
        return steps

    def _step(self, row: Row, number: str, assigned: bool, position: str, previous: str | None) -> dict[str, Any]:
        step: dict[str, Any] = {"number": number}
        if assigned:
            step["number_source"] = "assigned"
        warnings: list[str] = []
        text = row.text
        if not text:
            text = f"(uraian kosong di sumber) Output: {', '.join(split_items(row.output)) or '-'}"
            warnings.append("Uraian langkah kosong di sumber; deskripsi diambil dari output.")
            self.say("uraian langkah kosong", number)
        step["text"] = text
        step["actor"], step["actor_source"] = self._actor(row, number, position, previous)
        if row.requirements:
            step["requirements"] = split_items(row.requirements)
        if row.duration:
            step["duration_text"] = row.duration
            self._duration(row.duration, number)
        elif self.timed:
            self.say("Waktu kosong", number)
        if row.output:
            step["outputs"] = split_items(row.output)
        if row.remark:
            step["note"] = f"Ket.: {row.remark}"
        if row.shifted:
            warnings.append("Kolom Mutu Baku bergeser satu ke kanan di sumber.")
            self.say(f"kolom bergeser satu ke kanan (baris {row.line})", number)
        self._flag_oddities(row, text, number)
        if warnings:
            step["warnings"] = warnings
        return step

    def _actor(self, row: Row, number: str, position: str, previous: str | None) -> tuple[str, str]:
        """The actor and where it came from: 'text' when the row names it, 'inferred' from the lanes."""
        roles = self.roles
        role = (subject_role(row.text, roles) or agent_role(row.text, roles)) if row.text else None
        if role is None and row.output:
            role = output_role(row.output, roles)
        if role:
            return role, "text"
        guess = lane_guess(row.text or row.output, self.lane_roles, roles, position, previous)
        hints = [r for r in roles.mentioned(row.text) if r != guess]
        hint = f"; disebut dalam teks (bukan subjek): {', '.join(hints)}" if hints else ""
        self.say(f"pelaksana tidak disebut; diduga '{guess}' dari kolom Pelaksana{hint}", number)
        return guess, "inferred"

    def _duration(self, text: str, number: str) -> None:
        try:
            d = parse_duration(text, default_unit=self.unit)
        except DurationError as exc:
            self.say(f"Waktu tidak terbaca: {exc}", number)
            return
        for warning in d.warnings:
            self.say(f"Waktu '{text}': {warning}", number)

    def _flag_oddities(self, row: Row, text: str, number: str) -> None:
        """Marks left in Pelaksana cells, and texts that read like a decision."""
        for lane, mark in row.marks.items():
            shown = mark if len(mark) <= 40 else mark[:40] + "…"
            self.say(f"isi tak terduga di kolom pelaksana '{lane}': '{shown}'", number)
        if re.search(r"(?i)\b(jika|apabila)\b", text):
            self.say("uraian memuat 'jika/apabila': mungkin langkah keputusan", number)

    def _check_numbers(self) -> None:
        numbers = [int(r.number) for r in self.table.rows if r.number.isdigit()]
        for n in sorted({n for n in numbers if numbers.count(n) > 1}):
            self.say("nomor langkah ganda", str(n))
        for a, b in itertools.pairwise(numbers):
            if b > a + 1:
                missing = ", ".join(str(n) for n in range(a + 1, b))
                self.say(f"nomor langkah melompat {a} → {b} (langkah {missing} tidak ada)", str(b))
            elif b <= a and numbers.count(b) == 1:
                self.say(f"nomor langkah mundur {a} → {b}", str(b))
