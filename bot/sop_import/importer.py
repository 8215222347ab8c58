"""Draft SOP definitions from the text extraction of an SOP document (`alur sop import`).

The importer reads each metadata block (Nomor SOP, Nama SOP, Dasar Hukum, Kualifikasi
Pelaksana, ...) and the tab-separated step tables that follow it, and writes one YAML draft
per SOP in the `bot.sop.Sop` schema. It is a drafting tool: whatever it cannot decide (an
actor the text does not name, an empty step text, a gap in the step numbers, an unreadable
'Waktu') goes into the report, each line naming the file, the SOP and the step, for the
curator to settle by hand before the draft joins the catalog.

Layouts read: 'Label : value' metadata lines (also 'BIDANG … Nama SOP : …' on one line,
markdown '#### SOP : …' / '##### DASAR HUKUM' and 'Judul SOP'); section headings one per
line, side by side in tab columns ('Dasar Hukum<TAB>Kualifikasi Pelaksana'), joined by a
space, or stacked with their contents following in the same order; step tables with a
header row ('No', 'Uraian', 'Pelaksana', 'Mutu Baku', 'Ket'), a row of Pelaksana lane
labels, then one row per step; tables split over pages; several tables under one header.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.sop.catalog import DEFAULT_SOP_DIR
from bot.sop.durations import DurationError, dominant_unit, parse_duration
from bot.sop.institutions import Institution, load_institutions
from bot.sop.roles import RoleBook, load_roles, normalise

# ---------------------------------------------------------------- parsed structures


@dataclass
class Row:
    """One step row of a table, cells as printed."""

    line: int
    number: str
    text: str
    requirements: str = ""
    duration: str = ""
    output: str = ""
    remark: str = ""
    marks: dict[str, str] = field(default_factory=dict)
    """Non-empty Pelaksana cells (lane label -> content): the actor marks themselves were lost."""
    shifted: bool = False


@dataclass
class Table:
    line: int
    caption: str
    caption_line: int | None
    lanes: list[str]
    rows: list[Row]
    pages: int = 1


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


@dataclass
class ParsedSop:
    name: str
    line: int
    block: Block | None
    table: Table | None
    shared_header: bool = False


@dataclass
class ImportResult:
    drafts: dict[str, str] = field(default_factory=dict)
    """Draft name (the proposed SOP id) -> YAML text."""
    report: list[str] = field(default_factory=list)
    """What the importer could not decide, one line each, naming the file, SOP and step."""
    sops: list[ParsedSop] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    """Every step table found (page continuations merged), duplicates included."""


# ---------------------------------------------------------------- text helpers

_KELENGKAPAN = re.compile(r"kelengkapan|persyaratan", re.I)
_SOP_HEADING = re.compile(r"^\**\s*standar operasional prosedur\s*\(sop\)\s*\**$", re.I)
_CAPTION = re.compile(r"^\**\s*(?:diagram alur\s+)?sop\s+(?!:)(?P<title>.+?)\**$", re.I)
_LETTERHEAD = re.compile(r"^[#*\s]*(?:PEMERINTAH (?:KABUPATEN|KOTA|DAERAH)|BADAN PERENCANAAN)")
_UNIT_LINE = re.compile(r"^\**(?:BIDANG|BAGIAN)\s+[A-Z ,]+")
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
_SEPARATOR = re.compile(r"^[\s\-|]+$")
_NUMBER_CELL = re.compile(r"^(\d+)\.?\s*(.*)$", re.S)
_BARE_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")

SECTION_HEADINGS: dict[str, str] = {
    "dasar hukum": "legal_basis",
    "kualifikasi pelaksana": "qualifications",
    "keterkaitan sop": "related",
    "keterkaitan": "related",
    "keterangan": "related",
    "peralatan perlengkapan": "equipment",
    "peringatan": "warning",
    "himbauan": "warning",
    "pencatatan dan pendataan": "records",
}
"""Section headings (normalised) -> Sop field. 'KETERANGAN' stands for Keterkaitan in one seed."""

SECTION_NAMES = {
    "legal_basis": "Dasar Hukum",
    "qualifications": "Kualifikasi Pelaksana",
    "related": "Keterkaitan SOP",
    "equipment": "Peralatan/Perlengkapan",
    "warning": "Peringatan",
    "records": "Pencatatan dan Pendataan",
}
_NUMBER_WORDS = {"nomor", "no", "nomer", "tahun", "th", "ayat", "pasal", "pp", "uu"}


def _clean(text: str) -> str:
    return " ".join(text.replace("*", " ").split()).strip()


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("\t")]


def _is_header(lines: list[str], i: int) -> bool:
    cells = _cells(lines[i])
    if len(cells) < 4 or cells[0].lower().rstrip(".") != "no" or i + 1 >= len(lines):
        return False
    return any(_KELENGKAPAN.search(c) for c in _cells(lines[i + 1]))


def _looks_like_duration(text: str) -> bool:
    if not text:
        return False
    if _BARE_NUMBER.fullmatch(text):
        return True
    try:
        parse_duration(text)
    except DurationError:
        return False
    return True


def split_numbered(text: str) -> list[str]:
    """Items of one printed list cell: '1. a 2. b', '1 a 2 b' (numbers in order), '- a - b' or one item."""
    text = " ".join(text.split())
    if not text:
        return []
    lead = re.match(r"^(\d{1,2})(\.?)(?:\s+|$)", text)
    if not lead:
        return [item for item in _split_bullets(text) if item]
    dotted = lead.group(2) == "."
    expected = int(lead.group(1)) + 1
    cuts = [0]
    mark = re.compile(r"(?<=\s)(\d{1,2})" + (r"\." if dotted else "") + r"(?=\s|$)")
    for m in mark.finditer(text, lead.end()):
        before = text[: m.start()].split()
        if before and before[-1].lower().rstrip(".") in _NUMBER_WORDS:
            continue
        if int(m.group(1)) == expected:
            cuts.append(m.start())
            expected += 1
    cuts.append(len(text))
    items = []
    for a, b in itertools.pairwise(cuts):
        chunk = re.sub(r"^\d{1,2}\.?\s*", "", text[a:b].strip())
        chunk = chunk.strip().rstrip(";").strip()
        if chunk:
            items.append(chunk)
    return items


def _split_bullets(text: str) -> list[str]:
    """'- a - b' and the "'-" extraction artefact into items; a plain text stays one item."""
    parts = re.split(r"(?:^|\s)'?-\s+", text)
    return [p.strip().rstrip(";").strip() for p in parts if p.strip()]


def split_items(cell: str) -> list[str]:
    """A Kelengkapan/Output cell as a list: bullets split; commas split only between short items."""
    items: list[str] = []
    for part in _split_bullets(" ".join(cell.split())):
        pieces = [p.strip() for p in re.split(r",(?![^(]*\))", part) if p.strip()]
        short = all(len(re.sub(r"\([^)]*\)", "", p).split()) <= 6 for p in pieces)
        joined = any(re.match(r"(?i)(dan|serta|atau)\b", p) for p in pieces)
        items.extend(pieces if len(pieces) > 1 and short and not joined else [part])
    return items


def _headings(line: str) -> tuple[list[str], bool] | None:
    """Section keys named by a heading line, and whether they sit in tab columns."""
    stripped = re.sub(r"^[#*\-\s]+|[*\s]+$", "", line)
    if not stripped:
        return None
    cells = [c for c in _cells(stripped) if c]
    if len(cells) > 1:
        keys = [SECTION_HEADINGS.get(normalise(c.strip("*#"))) for c in cells]
        return ([k for k in keys if k], True) if all(keys) else None
    rest = normalise(stripped)
    keys: list[str] = []
    aliases = sorted(SECTION_HEADINGS, key=len, reverse=True)
    while rest:
        alias = next((a for a in aliases if rest == a or rest.startswith(a + " ")), None)
        if alias is None:
            return None
        keys.append(SECTION_HEADINGS[alias])
        rest = rest[len(alias) :].strip()
    return keys, False


def _segments(lines: list[str]) -> list[list[str]]:
    """Content under side-by-side headings without columns: paragraphs, cut again where numbering restarts."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(" ".join(line.split()))
        elif paragraphs[-1]:
            paragraphs.append([])
    segments: list[list[str]] = []
    for para in (p for p in paragraphs if p):
        text = "\n".join(para)
        cuts = [0]
        for m in re.finditer(r"(?<=\s)1\.?(?=\s)", text):
            before = text[: m.start()].split()
            if before and before[-1].lower().rstrip(".") not in _NUMBER_WORDS:
                cuts.append(m.start())
        cuts.append(len(text))
        for a, b in itertools.pairwise(cuts):
            chunk = [ln.strip() for ln in text[a:b].split("\n") if ln.strip()]
            if chunk:
                segments.append(chunk)
    return segments


# ---------------------------------------------------------------- tables


def _caption(lines: list[str], i: int) -> tuple[str, int | None, list[int]]:
    """The title printed just above a table header: 'SOP <title>', 'DIAGRAM ALUR SOP <title>' or
    'Standar Operasional Prosedur (SOP)' followed by the title. Returns title, its line, used lines."""
    k = i - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    if k < 0 or "\t" in lines[k].strip():
        return "", None, []
    text = _clean(lines[k])
    j = k - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j >= 0 and _SOP_HEADING.match(lines[j].strip()):
        return text, k + 1, [j, k]
    m = _CAPTION.match(text)
    return (_clean(m.group("title")), k + 1, [k]) if m else ("", None, [])


def _row(cells: list[str], line_no: int, kel: int, lane_start: int, lanes: list[str]) -> Row | None:
    if not any(cells):
        return None
    if lane_start >= 2:
        number, text = cells[0], cells[1]
    else:  # no Uraian column: the text is merged into the No cell or missing
        m = _NUMBER_CELL.match(cells[0])
        number, text = (m.group(1), m.group(2)) if m else ("", cells[0])
    cell = lambda k: cells[k] if 0 <= k < len(cells) else ""  # noqa: E731
    shift = int(not _looks_like_duration(cell(kel + 1)) and _looks_like_duration(cell(kel + 2)))
    marks = {}
    for k in range(lane_start, min(kel + shift, len(cells))):
        if cells[k]:
            label = lanes[k - lane_start] if k - lane_start < len(lanes) else f"kolom {k + 1}"
            marks[label] = cells[k]
    remark = " ".join(c for c in cells[kel + shift + 3 :] if c)
    return Row(
        line=line_no,
        number=number.strip().rstrip(".").strip(),
        text=" ".join(text.split()),
        requirements=cell(kel + shift),
        duration=cell(kel + shift + 1),
        output=cell(kel + shift + 2),
        remark=remark,
        marks=marks,
        shifted=bool(shift),
    )


def find_tables(lines: list[str]) -> tuple[list[Table], dict[int, Table], set[int]]:
    """Step tables (continued pages merged), the 0-based start line of each, and every line they use."""
    tables: list[Table] = []
    starts: dict[int, Table] = {}
    taken: set[int] = set()
    prev_end = -1
    i = 0
    while i < len(lines):
        if not _is_header(lines, i):
            i += 1
            continue
        lane_cells = _cells(lines[i + 1])
        kel = next(k for k, c in enumerate(lane_cells) if _KELENGKAPAN.search(c))
        lane_start = next((k for k, c in enumerate(lane_cells) if c), kel)
        lanes = [c for c in lane_cells[lane_start:kel] if c]
        caption, caption_line, used = _caption(lines, i)
        j = i + 2
        rows: list[Row] = []
        while j < len(lines) and "\t" in lines[j] and not _is_header(lines, j):
            row = _row(_cells(lines[j]), j + 1, kel, lane_start, lanes)
            if row:
                rows.append(row)
            j += 1
        taken.update(range(i, j))
        taken.update(used)
        continued = tables and not caption and all(not lines[k].strip() for k in range(prev_end, i))
        if continued:
            tables[-1].rows.extend(rows)
            tables[-1].pages += 1
        else:
            table = Table(line=i + 1, caption=caption, caption_line=caption_line, lanes=lanes, rows=rows)
            tables.append(table)
            starts[min([i, *used])] = table
        prev_end = j
        i = j
    return tables, starts, taken


# ---------------------------------------------------------------- metadata


class _BlockReader:
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
        text = _clean(line.replace("\t", " "))
        if _LETTERHEAD.match(line) and self._has_content():
            self.start(i)
            return
        m = _FIELD.match(re.sub(r"^[#\s]+", "", text))
        if m and not line.strip().startswith("-"):
            self._field(i, m)
            return
        heads = _headings(line)
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
        value = _clean(m.group("value")).lstrip(":").strip()
        if m.group("pre"):
            self.block.unit_label = _clean(m.group("pre"))
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
                return ", ".join(_clean(self.lines[t]) for t in taken)
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
            if nxt and nxt == nxt.upper() and len(nxt.split()) <= 3 and not _headings(nxt) and "\t" not in nxt:
                raw = f"{value} {nxt}"
                self.skip.add(k)
        name = re.sub(r"^[^\w(]+", "", _clean(raw))
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
            self.block.headings.setdefault(key, _clean(line))

    def flush(self) -> None:
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
                cells = _cells(line)
                for k, cell in enumerate(cells):
                    if cell:
                        sections[keys[min(k, len(keys) - 1)]].append(cell)
        if self.group_tabbed:
            sections[keys[-1]].extend(c for c in untabbed if c.strip())
            return
        segments = _segments(content)
        for k, segment in enumerate(segments):
            sections[keys[min(k, len(keys) - 1)]].extend(segment)
        if any(c.strip() for c in content):
            names = " / ".join(SECTION_NAMES[k] for k in keys)
            self.block.notes.append(f"judul bagian {names} tanpa kolom; isi dibagi menurut urutan — periksa")


# ---------------------------------------------------------------- actors and units

_LEAD_WORDS = {"bapak", "ibu", "disposisi", "masing", "seluruh", "para"}
_SIGN = ("menandatangani", "mengesahkan", "menetapkan")
_CHECK = ("memeriksa", "mengoreksi", "mencermati", "memaraf", "membaca")
_ORDER = ("menugaskan", "mengugaskan", "memerintahkan")


def _role_at(words: list[str], roles: RoleBook) -> str | None:
    """The role named by the longest alias at the start of the words."""
    for k in range(min(7, len(words)), 0, -1):
        role = roles.resolve(" ".join(words[:k]))
        if role:
            return role
    return None


def subject_role(text: str, roles: RoleBook) -> str | None:
    """The role in subject position ('Kabid mengidentifikasi …', 'Disposisi Bapak Bupati …')."""
    words = normalise(text).split()
    while words and words[0] in _LEAD_WORDS:
        words = words[1:]
    return _role_at(words, roles)


def agent_role(text: str, roles: RoleBook) -> str | None:
    """The agent of a nominal activity: '... penilaian presentasi dan wawancara oleh tim penilai ...'.

    Not the agent of a passive verb ('untuk ditandatangani oleh Kepala Badan', 'dipimpin oleh ...'):
    that one acts in another step or inside a sub-clause.
    """
    words = normalise(text).split()
    for i, word in enumerate(words[1:], start=1):
        if word == "oleh" and not words[i - 1].startswith("di") and "untuk" not in words[max(0, i - 3) : i]:
            role = _role_at(words[i + 1 :], roles)
            if role:
                return role
    return None


def output_role(output: str, roles: RoleBook) -> str | None:
    """An output that names its maker: 'Disposisi Kabid P2MPSDA kepada …'."""
    words = normalise(output).split()
    return _role_at(words[1:], roles) if words[:1] == ["disposisi"] else None


def lane_guess(text: str, lane_roles: list[str], roles: RoleBook, position: str, previous: str | None) -> str:
    """A guess from the verb and the lanes: orders by the top, checks by the Kabid, the rest by the lowest.

    ``position`` is 'first', 'last' or ''; ``previous`` the actor of the step before.
    """
    staff = [r for r in lane_roles if r in roles and roles[r].kind == "staff"]
    words = normalise(text).split()
    verb = words[0] if words else ""
    if verb == "menerima" and position == "last" and "requester" in lane_roles:
        return "requester"
    if verb in _ORDER and position == "first":
        return next((r for r in ("kepala_badan", "kabid") if r in lane_roles), staff[0] if staff else "kabid")
    if any(w in words for w in _SIGN) and "kepala_badan" in lane_roles:
        return "kepala_badan"
    if verb in _CHECK and "kabid" in lane_roles:
        return "kepala_badan" if previous == "kabid" and "kepala_badan" in lane_roles else "kabid"
    if not staff:
        return "kabid"
    return max(staff, key=lambda r: len(roles.supervisors(r)))


def guess_institution(text: str, institutions: dict[str, Institution]) -> str | None:
    low = text.lower()
    scores = {}
    for inst in institutions.values():
        region = re.split(r"\b(?:Kabupaten|Kota)\b", inst.name)[-1].strip().lower()
        scores[inst.id] = low.count(region) if region else 0
    best = max(scores, key=lambda k: scores[k], default=None)
    return best if best and scores[best] else None


_UNIT_STOP = {"bidang", "bagian", "dan", "sub", "daerah"}


def guess_unit(inst: Institution, label: str, name: str, text: str) -> str | None:
    """The unit from the 'BIDANG …' line, an acronym of a unit, or the words after 'Bidang' in the title."""
    if len(inst.units) == 1:
        return inst.units[0].id

    def best(words: set[str]) -> str | None:
        scored = [(len(words & (set(normalise(u.name).split()) - _UNIT_STOP)), u.id) for u in inst.units]
        scored.sort(reverse=True)
        if scored and scored[0][0] and (len(scored) == 1 or scored[0][0] > scored[1][0]):
            return scored[0][1]
        return None

    if label and (unit := best(set(normalise(label).split()))):
        return unit
    for u in inst.units:
        acronym = re.search(r"\(([A-Z0-9]+)\)", u.name)
        if acronym and acronym.group(1).lower() in normalise(f"{name} {text}").split():
            return u.id
    m = re.search(r"\bbidang\s+(.*)$", normalise(name))
    return best(set(m.group(1).split())) if m else None


# ---------------------------------------------------------------- YAML drafts


class _Dumper(yaml.SafeDumper):
    pass


_FLOW_KEYS = {"label", "role", "target", "outcome", "source", "text", "sop"}


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(isinstance(x, str) for x in data) and sum(len(x) + 2 for x in data) <= 120
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = set(data) <= _FLOW_KEYS and all(isinstance(v, str) for v in data.values())
    flow = flow and sum(len(v) for v in data.values()) <= 90
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)


def slug(text: str, limit: int = 6) -> str:
    stop = {"dan", "di", "ke", "dari", "yang", "untuk", "sop", "the"}
    words = [w for w in normalise(text).replace("&", " ").split() if w not in stop]
    return "-".join(words[:limit]) or "sop"


# ---------------------------------------------------------------- assembly


class _Drafter:
    def __init__(self, file: str, roles: RoleBook, institutions: dict[str, Institution], inst: str | None):
        self.file = file
        self.roles = roles
        self.institutions = institutions
        self.inst = inst
        self.report: list[str] = []

    def say(self, sop: str, message: str, step: str | None = None) -> None:
        where = f"{self.file}: {sop}" + (f": langkah {step}" if step else "")
        self.report.append(f"{where}: {message}")

    def draft(self, sop: ParsedSop, sop_id: str) -> dict[str, Any]:
        block, table = sop.block, sop.table
        label = sop.name[:70] + ("…" if len(sop.name) > 70 else "")
        notes: list[str] = []
        data: dict[str, Any] = {"id": sop_id, "number": "", "name": sop.name}
        fields = block.fields if block else {}
        data["number"] = fields.get("number", "")
        if block and not fields.get("number"):
            self.say(label, "Nomor SOP kosong")
        data["institution"] = self.inst or "?"
        inst = self.institutions.get(self.inst or "")
        table_text = " ".join(r.text + " " + r.output for r in table.rows) if table else ""
        unit = guess_unit(inst, block.unit_label if block else "", sop.name, table_text) if inst else None
        if unit is None:
            self.say(label, "unit/bidang tidak dapat ditentukan")
        data["unit"] = unit or "?"
        dates = {k: fields[k] for k in ("made", "revised", "effective") if fields.get(k)}
        if dates:
            data["dates"] = dates
        data["approved_by"] = fields.get("approved_by", "")
        missing = [SECTION_NAMES[k] for k in SECTION_NAMES if block and k not in block.sections]
        if missing:
            self.say(label, f"bagian tidak ditemukan: {', '.join(missing)}")
        for key in SECTION_NAMES:
            items = self._section(block, key, label, notes) if block and key in block.sections else []
            if key == "warning":
                data[key] = " ".join(items)
            elif key == "related":
                data[key] = [{"text": t} for t in items]
            else:
                data[key] = items
        data["keywords"] = []
        lane_roles = self._lanes(table, label) if table else []
        data["lanes"] = [{"label": lbl, "role": role} for lbl, role in lane_roles if role]
        staff = [r for _, r in lane_roles if r in self.roles and self.roles[r].kind == "staff"]
        top = [r for r in ("kepala_badan", "kabid") if r in staff] or sorted(
            staff, key=lambda r: len(self.roles.supervisors(r))
        )[:1]
        data["starters"] = top or ["kepala_badan", "kabid"]
        data["source"] = {"file": self.file, "line": sop.line}
        if block and block.title_as_extracted and not sop.shared_header:
            data["source"]["title_as_extracted"] = block.title_as_extracted
        if sop.shared_header and block:
            notes.append(f"Tanpa kepala SOP sendiri: metadata disalin dari '{block.name}' (baris {block.line}).")
        if table and table.caption and sop.block and not sop.shared_header:
            if normalise(table.caption) != normalise(sop.name):
                notes.append(f"Judul tabel berbeda: '{table.caption}' (baris {table.caption_line}).")
        if block:
            notes.extend(block.notes)
        if table is None or not table.rows:
            self.say(label, "tabel langkah tidak ditemukan atau tidak terbaca (teks tanpa kolom tab)")
            data["notes"] = [*notes, "Tabel langkah tidak terbaca di sumber."]
            data["steps_missing"] = True
            data["steps"] = []
            return data
        steps = self._steps(table, [r for _, r in lane_roles if r], label)
        first = steps[0]["actor"]
        if first == "requester" or "requester" in [r for _, r in lane_roles]:
            data["starters"] = ["requester"]
            data["intake"] = [{"key": "permohonan", "label": "Isi permohonan", "kind": "long_text"}]
            self.say(label, "SOP dimulai pemohon: isian permohonan (intake) perlu ditulis")
        elif first not in data["starters"] and first in self.roles and self.roles[first].kind == "staff":
            data["starters"].append(first)
        data["notes"] = notes
        data["steps"] = steps
        return data

    def _section(self, block: Block, key: str, label: str, notes: list[str]) -> list[str]:
        items = [item for piece in block.sections[key] for item in split_numbered(piece)]
        if not items:
            self.say(label, f"bagian '{SECTION_NAMES[key]}' kosong di sumber")
            notes.append(f"{SECTION_NAMES[key]} kosong di sumber.")
        if normalise(block.headings.get(key, "")) == "keterangan":
            self.say(label, "judul 'KETERANGAN' dibaca sebagai Keterkaitan SOP")
        return items

    def _lanes(self, table: Table, label: str) -> list[tuple[str, str | None]]:
        out = []
        for lane in table.lanes:
            role = self.roles.resolve(lane)
            if role is None:
                self.say(label, f"label pelaksana tidak dikenal: '{lane}' (tambahkan alias di roles.yaml)")
            out.append((lane, role))
        return out

    def _steps(self, table: Table, lane_roles: list[str], label: str) -> list[dict[str, Any]]:
        unit = dominant_unit([r.duration for r in table.rows if r.duration])
        if not any(r.duration for r in table.rows):
            self.say(label, "tidak ada Waktu di seluruh tabel")
        self._check_numbers(table, label)
        steps: list[dict[str, Any]] = []
        used: set[str] = set()
        counter = 0
        previous: str | None = None
        for i, row in enumerate(table.rows):
            counter = int(row.number) if row.number.isdigit() else counter + 1
            number, assigned = row.number, False
            if not number or number in used:
                number, assigned = str(counter), True
                while number in used:
                    counter += 1
                    number = str(counter)
                self.say(label, f"baris {row.line} tanpa nomor (atau nomor ganda); diberi nomor {number}", number)
            used.add(number)
            step: dict[str, Any] = {"number": number}
            if assigned:
                step["number_source"] = "assigned"
            warnings: list[str] = []
            text = row.text
            if not text:
                text = f"(uraian kosong di sumber) Output: {', '.join(split_items(row.output)) or '-'}"
                warnings.append("Uraian langkah kosong di sumber; deskripsi diambil dari output.")
                self.say(label, "uraian langkah kosong", number)
            step["text"] = text
            position = "first" if i == 0 else "last" if i == len(table.rows) - 1 else ""
            actor, source = self._actor(row, lane_roles, label, number, position, previous)
            previous = actor
            step["actor"], step["actor_source"] = actor, source
            if row.requirements:
                step["requirements"] = split_items(row.requirements)
            if row.duration:
                step["duration_text"] = row.duration
                self._duration(row.duration, unit, label, number)
            elif any(r.duration for r in table.rows):
                self.say(label, "Waktu kosong", number)
            if row.output:
                step["outputs"] = split_items(row.output)
            if row.remark:
                step["note"] = f"Ket.: {row.remark}"
            if row.shifted:
                warnings.append("Kolom Mutu Baku bergeser satu ke kanan di sumber.")
                self.say(label, f"kolom bergeser satu ke kanan (baris {row.line})", number)
            for lane, mark in row.marks.items():
                shown = mark if len(mark) <= 40 else mark[:40] + "…"
                self.say(label, f"isi tak terduga di kolom pelaksana '{lane}': '{shown}'", number)
            if re.search(r"(?i)\b(jika|apabila)\b", text):
                self.say(label, "uraian memuat 'jika/apabila': mungkin langkah keputusan", number)
            if warnings:
                step["warnings"] = warnings
            steps.append(step)
        return steps

    def _actor(
        self, row: Row, lane_roles: list[str], label: str, number: str, position: str, previous: str | None
    ) -> tuple[str, str]:
        role = (subject_role(row.text, self.roles) or agent_role(row.text, self.roles)) if row.text else None
        if role is None and row.output:
            role = output_role(row.output, self.roles)
        if role:
            return role, "text"
        guess = lane_guess(row.text or row.output, lane_roles, self.roles, position, previous)
        hints = [r for r in self.roles.mentioned(row.text) if r != guess]
        hint = f"; disebut dalam teks (bukan subjek): {', '.join(hints)}" if hints else ""
        self.say(label, f"pelaksana tidak disebut; diduga '{guess}' dari kolom Pelaksana{hint}", number)
        return guess, "inferred"

    def _duration(self, text: str, unit: str | None, label: str, number: str) -> None:
        try:
            d = parse_duration(text, default_unit=unit)
        except DurationError as exc:
            self.say(label, f"Waktu tidak terbaca: {exc}", number)
            return
        for warning in d.warnings:
            self.say(label, f"Waktu '{text}': {warning}", number)

    def _check_numbers(self, table: Table, label: str) -> None:
        numbers = [int(r.number) for r in table.rows if r.number.isdigit()]
        for n in sorted({n for n in numbers if numbers.count(n) > 1}):
            self.say(label, "nomor langkah ganda", str(n))
        for a, b in itertools.pairwise(numbers):
            if b > a + 1:
                missing = ", ".join(str(n) for n in range(a + 1, b))
                self.say(label, f"nomor langkah melompat {a} → {b} (langkah {missing} tidak ada)", str(b))
            elif b <= a and numbers.count(b) == 1:
                self.say(label, f"nomor langkah mundur {a} → {b}", str(b))


def _assemble(lines: list[str], drafter: _Drafter) -> tuple[list[ParsedSop], list[Table]]:
    tables, starts, taken = find_tables(lines)
    reader = _BlockReader(lines)
    events: list[tuple[Block, Table]] = []
    for i, line in enumerate(lines):
        if i in starts:
            reader.flush()
            events.append((reader.block, starts[i]))
            reader.block.table = reader.block.table or starts[i]
        if i not in taken:
            reader.feed(i, line)
    reader.flush()
    sops: list[ParsedSop] = []
    attached: set[int] = set()
    for block, table in events:
        caption = normalise(re.sub(r"(?i)^sop\s+", "", table.caption))
        earlier = [s for s in sops if caption and caption in (normalise(s.name), normalise(s.table.caption))]
        own = block.name and id(block) not in attached
        if earlier and normalise(block.name) != caption:
            drafter.say(
                earlier[0].name[:70],
                f"tabel baris {table.line} adalah salinan tabel SOP ini (judul '{table.caption}'); dilewati",
            )
            continue
        if own:
            attached.add(id(block))
            sops.append(ParsedSop(block.name, block.field_lines.get("name", block.line), block, table))
        elif block.name:
            name = table.caption or f"{block.name} (tabel baris {table.line})"
            sops.append(ParsedSop(name, table.caption_line or table.line, block, table, shared_header=True))
            drafter.say(name[:70], f"tabel tanpa kepala SOP sendiri; metadata disalin dari '{block.name[:50]}'")
        else:
            name = table.caption or f"SOP tanpa judul (baris {table.line})"
            sops.append(ParsedSop(name, table.caption_line or table.line, None, table))
            drafter.say(name[:70], "tabel tanpa kepala SOP (Nama SOP, Dasar Hukum, ...)")
    for block in reader.blocks:
        if block.name and id(block) not in attached and not any(b is block for b, _ in events):
            sops.append(ParsedSop(block.name, block.field_lines.get("name", block.line), block, None))
    sops.sort(key=lambda s: s.line)
    for block in reader.blocks:
        if block.loose and block.name and not block.sections:
            drafter.say(block.name[:70], "metadata tanpa judul bagian (OCR?) tidak dibaca")
    return sops, tables


def import_text(
    text: str,
    file: str,
    institution: str | None = None,
    sop_dir: Path | None = None,
) -> ImportResult:
    """Drafts for every SOP in one extracted text (see module docstring)."""
    base = sop_dir or DEFAULT_SOP_DIR
    roles = load_roles(base)
    institutions = load_institutions(base)
    inst = institution or guess_institution(text, institutions)
    drafter = _Drafter(file, roles, institutions, inst)
    if inst is None:
        drafter.report.append(f"{file}: institusi tidak dikenali (pakai --institution)")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    sops, tables = _assemble(lines, drafter)
    result = ImportResult(sops=sops, tables=tables)
    for sop in sops:
        base_id = f"{inst or 'draf'}-{slug(sop.name)}"
        sop_id, n = base_id, 2
        while sop_id in result.drafts:
            sop_id, n = f"{base_id}-{n}", n + 1
        data = drafter.draft(sop, sop_id)
        header = f"# Draf impor otomatis dari {file}, baris {sop.line}. Periksa sebelum masuk katalog.\n"
        result.drafts[sop_id] = header + to_yaml(data)
    result.report = drafter.report
    return result


def import_file(path: Path | str, institution: str | None = None) -> ImportResult:
    path = Path(path)
    return import_text(path.read_text(encoding="utf-8"), path.name, institution=institution)
