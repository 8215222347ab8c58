"""Section headings of an SOP header (Dasar Hukum, Kualifikasi Pelaksana, ...) and how their contents divide."""

from __future__ import annotations

import itertools
import re

from bot.sop.roles import normalise
from bot.sop_import.cell_text import NUMBER_WORDS, tab_cells

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


def heading_keys(line: str) -> tuple[list[str], bool] | None:
    """Section keys named by a heading line, and whether they sit in tab columns; None for other lines.

    Reads one heading, several in tab columns ('Dasar Hukum<TAB>Kualifikasi Pelaksana') or several
    joined by a space ('DASAR HUKUM KUALIFIKASI PELAKSANA').
    """
    stripped = re.sub(r"^[#*\-\s]+|[*\s]+$", "", line)
    if not stripped:
        return None
    cells = [c for c in tab_cells(stripped) if c]
    if len(cells) > 1:
        keys = [SECTION_HEADINGS.get(normalise(c.strip("*#"))) for c in cells]
        return ([k for k in keys if k], True) if all(keys) else None
    rest = normalise(stripped)
    found: list[str] = []
    aliases = sorted(SECTION_HEADINGS, key=len, reverse=True)
    while rest:
        alias = next((a for a in aliases if rest == a or rest.startswith(a + " ")), None)
        if alias is None:
            return None
        found.append(SECTION_HEADINGS[alias])
        rest = rest[len(alias) :].strip()
    return found, False


def split_segments(lines: list[str]) -> list[list[str]]:
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
            if before and before[-1].lower().rstrip(".") not in NUMBER_WORDS:
                cuts.append(m.start())
        cuts.append(len(text))
        for a, b in itertools.pairwise(cuts):
            chunk = [ln.strip() for ln in text[a:b].split("\n") if ln.strip()]
            if chunk:
                segments.append(chunk)
    return segments
