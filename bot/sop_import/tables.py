"""The table finder: step tables (header row, Pelaksana lane row, one row per step), their captions and cells.

A table starts at a header row ('No', 'Uraian', 'Pelaksana', 'Mutu Baku', 'Ket') whose next row names the
Pelaksana lanes and then 'Kelengkapan', 'Waktu', 'Output'. A table with no caption right after another one
is that table continued on the next page and is merged into it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.sop.durations import DurationError, parse_duration
from bot.sop_import.cell_text import clean, tab_cells

_KELENGKAPAN = re.compile(r"kelengkapan|persyaratan", re.I)
_SOP_HEADING = re.compile(r"^\**\s*standar operasional prosedur\s*\(sop\)\s*\**$", re.I)
_CAPTION = re.compile(r"^\**\s*(?:diagram alur\s+)?sop\s+(?!:)(?P<title>.+?)\**$", re.I)
_NUMBER_CELL = re.compile(r"^(\d+)\.?\s*(.*)$", re.S)
_BARE_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


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


def _is_header(lines: list[str], i: int) -> bool:
    cells = tab_cells(lines[i])
    if len(cells) < 4 or cells[0].lower().rstrip(".") != "no" or i + 1 >= len(lines):
        return False
    return any(_KELENGKAPAN.search(c) for c in tab_cells(lines[i + 1]))


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


def _caption(lines: list[str], i: int) -> tuple[str, int | None, list[int]]:
    """The title printed just above a table header: 'SOP <title>', 'DIAGRAM ALUR SOP <title>' or
    'Standar Operasional Prosedur (SOP)' followed by the title. Returns title, its line, used lines."""
    k = i - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    if k < 0 or "\t" in lines[k].strip():
        return "", None, []
    text = clean(lines[k])
    j = k - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j >= 0 and _SOP_HEADING.match(lines[j].strip()):
        return text, k + 1, [j, k]
    m = _CAPTION.match(text)
    return (clean(m.group("title")), k + 1, [k]) if m else ("", None, [])


def _row(cells: list[str], line_no: int, kel: int, lane_start: int, lanes: list[str]) -> Row | None:
    """One step row; ``kel`` is the Kelengkapan column, ``lane_start`` the first Pelaksana column.

    A row whose Waktu sits one column right of where the header puts it is read shifted by one.
    """
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
        lane_cells = tab_cells(lines[i + 1])
        kel = next(k for k, c in enumerate(lane_cells) if _KELENGKAPAN.search(c))
        lane_start = next((k for k, c in enumerate(lane_cells) if c), kel)
        lanes = [c for c in lane_cells[lane_start:kel] if c]
        caption, caption_line, used = _caption(lines, i)
        j = i + 2
        rows: list[Row] = []
        while j < len(lines) and "\t" in lines[j] and not _is_header(lines, j):
            row = _row(tab_cells(lines[j]), j + 1, kel, lane_start, lanes)
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
