"""The block reader: SOP header blocks (Nomor SOP, Nama SOP, dates, signature) and their sections.

Reads 'Label : value' lines (also 'BIDANG … Nama SOP : …' on one line, markdown '#### SOP : …' and
'Judul SOP'), and section headings one per line, side by side in tab columns, joined by a space, or
stacked with their contents following in the same order. A new block starts at a letterhead or at a
second 'Nomor SOP'/'Nama SOP'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.sop.roles import normalise
from bot.sop_import.cell_text import clean, tab_cells
from bot.sop_import.sections import SECTION_NAMES, heading_keys, split_segments
from bot.sop_import.tables import Table

_LETTERHEAD = re.compile(r"^[#*\s]*(?:PEMERINTAH (?:KABUPATEN|KOTA|DAERAH)|BADAN PERENCANAAN)")
_UNIT_LINE = re.compile(r"^\**(?:BIDANG|BAGIAN)\s+[A-Z ,]+")
_SEPARATOR = re.compile(r"^[\s\-|]+$")
_FIELD = re.compile(
    r"^(?P<pre>(?:BIDANG|BAGIAN)\b.*?\s)?"
    r"(?P<label>nomor sop|(?:tanggal|tgl\.?) (?:pembuatan|revisi|efektif)|disahkan(?: oleh)?|nama sop|judul sop"
    r"|sop(?=\s*:))(?![a-z])\s*:?\s*(?P<value>.*)$",
    re.I,
)
_FIELD_KEYS = {
    "nomor sop": "number",
    "nama sop": "name",
    "judul sop": "name",
    "sop": "name",
    "pembuatan": "made",
    "revisi": "revised",
    "efektif": "effective",
    "disahkan": "approved_by",
}


@dataclass
class Block:
    """A metadata block: the SOP header fields and its sections."""

    line: int
    fields: dict[str, str] = field(default_factory=dict)
    field_lines: dict[str, int] = field(default_factory=dict)
    unit_label: str = ""
    title_as_extracted: str | None = None
    sections: dict[str, list[str]] = field(default_factory=dict)
    headings: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    loose: int = 0
    table: Table | None = None

    @property
    def name(self) -> str:
        return self.fields.get("name", "")


class BlockReader:
    """Feeds non-table lines into metadata blocks, one block per SOP header."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.blocks: list[Block] = []
        self.block = self._new(0)
        self.group: list[str] = []
        self.group_tabbed = False
        self.content: list[str] = []
        self.skip: set[int] = set()

    def _new(self, i: int) -> Block:
        block = Block(line=i + 1)
        self.blocks.append(block)
        return block

    def _has_content(self) -> bool:
        b = self.block
        return bool(b.fields or b.sections or b.table or self.group)

    def start(self, i: int) -> None:
        self.flush()
        if self._has_content():
            self.block = self._new(i)

    def feed(self, i: int, line: str) -> None:
        if i in self.skip or (_SEPARATOR.match(line) and line.strip()):
            return
        text = clean(line.replace("\t", " "))
        if _LETTERHEAD.match(line) and self._has_content():
            self.start(i)
            return
        m = _FIELD.match(re.sub(r"^[#\s]+", "", text))
        if m and not line.strip().startswith("-"):
            self._field(i, m)
            return
        heads = heading_keys(line)
        if heads:
            self._heading(heads[0], heads[1], line)
            return
        if _UNIT_LINE.match(text) and not self.group:
            self.block.unit_label = text
            return
        if self.group:
            self.content.append(line)
        elif text:
            self.block.loose += 1

    def _field(self, i: int, m: re.Match[str]) -> None:
        label = normalise(m.group("label"))
        key = next(v for k, v in _FIELD_KEYS.items() if label.startswith(k) or label.endswith(k))
        if key in self.block.fields and key in ("number", "name"):
            self.start(i)
        self.flush()
        self.group = []
        value = clean(m.group("value")).lstrip(":").strip()
        if m.group("pre"):
            self.block.unit_label = clean(m.group("pre"))
        if key == "approved_by" and not value:
            value = self._following_signature(i)
        if key == "name":
            value = self._name(i, value)
        self.block.fields[key] = value
        self.block.field_lines[key] = i + 1

    def _following_signature(self, i: int) -> str:
        """'Disahkan oleh :' with the name on the next lines: take them up to the NIP line."""
        taken: list[int] = []
        for k in range(i + 1, min(i + 10, len(self.lines))):
            if self.lines[k].strip():
                taken.append(k)
            if re.match(r"\W*NI[PR]\b", self.lines[k].strip()):
                self.skip.update(taken)
                return ", ".join(clean(self.lines[t]) for t in taken)
        return ""

    def _name(self, i: int, value: str) -> str:
        """The SOP title; OCR text may print it above an empty 'NAMA SOP' label or wrap it."""
        raw = value
        if not value:
            above: list[str] = []
            for k in range(i - 1, max(i - 4, -1), -1):
                t = self.lines[k].strip()
                if not t:
                    continue
                if t != t.upper() or _LETTERHEAD.match(t) or _UNIT_LINE.match(t):
                    break
                above.insert(0, t)
            raw = " ".join(above)
        elif value == value.upper():
            k = i + 1
            while k < len(self.lines) and not self.lines[k].strip():
                k += 1
            nxt = self.lines[k].strip() if k < len(self.lines) else ""
            if nxt and nxt == nxt.upper() and len(nxt.split()) <= 3 and not heading_keys(nxt) and "\t" not in nxt:
                raw = f"{value} {nxt}"
                self.skip.add(k)
        name = re.sub(r"^[^\w(]+", "", clean(raw))
        if name != raw.strip():
            self.block.title_as_extracted = raw.strip()
        return name

    def _heading(self, keys: list[str], tabbed: bool, line: str) -> None:
        if self.group and not tabbed and not self.group_tabbed and not any(c.strip() for c in self.content):
            self.group += keys
        else:
            self.flush()
            self.group = list(keys)
            self.group_tabbed = tabbed
            self.content = []
        for key in keys:
            self.block.sections.setdefault(key, [])
            self.block.headings.setdefault(key, clean(line))

    def flush(self) -> None:
        """Hand the content gathered under the open headings to their sections."""
        keys, content = self.group, self.content
        self.group, self.content = [], []
        if not keys:
            return
        sections = self.block.sections
        if len(keys) == 1:
            sections[keys[0]].extend(c for c in content if c.strip())
            return
        untabbed = [c for c in content if "\t" not in c]
        for line in content:
            if "\t" in line and self.group_tabbed:
                cells = tab_cells(line)
                for k, cell in enumerate(cells):
                    if cell:
                        sections[keys[min(k, len(keys) - 1)]].append(cell)
        if self.group_tabbed:
            sections[keys[-1]].extend(c for c in untabbed if c.strip())
            return
        segments = split_segments(content)
        for k, segment in enumerate(segments):
            sections[keys[min(k, len(keys) - 1)]].extend(segment)
        if any(c.strip() for c in content):
            names = " / ".join(SECTION_NAMES[k] for k in keys)
            self.block.notes.append(f"judul bagian {names} tanpa kolom; isi dibagi menurut urutan — periksa")
