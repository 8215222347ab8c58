"""Printed text of lines and table cells: cleaning, tab-separated cells, numbered and bulleted lists."""

from __future__ import annotations

import itertools
import re

NUMBER_WORDS = {"nomor", "no", "nomer", "tahun", "th", "ayat", "pasal", "pp", "uu"}
"""Words after which a number cites a regulation ('Nomor 18 Tahun 2002') instead of starting a list item."""


def clean(text: str) -> str:
    """The text with markdown bold marks dropped and runs of whitespace made one space."""
    return " ".join(text.replace("*", " ").split()).strip()


def tab_cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("\t")]


def split_numbered(text: str) -> list[str]:
    """Items of one printed list cell: '1. a 2. b', '1 a 2 b' (numbers in order), '- a - b' or one item."""
    text = " ".join(text.split())
    if not text:
        return []
    lead = re.match(r"^(\d{1,2})(\.?)(?:\s+|$)", text)
    if not lead:
        return [item for item in split_bullets(text) if item]
    dotted = lead.group(2) == "."
    expected = int(lead.group(1)) + 1
    cuts = [0]
    mark = re.compile(r"(?<=\s)(\d{1,2})" + (r"\." if dotted else "") + r"(?=\s|$)")
    for m in mark.finditer(text, lead.end()):
        before = text[: m.start()].split()
        if before and before[-1].lower().rstrip(".") in NUMBER_WORDS:
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


def split_bullets(text: str) -> list[str]:
    """'- a - b' and the "'-" extraction artefact into items; a plain text stays one item."""
    parts = re.split(r"(?:^|\s)'?-\s+", text)
    return [p.strip().rstrip(";").strip() for p in parts if p.strip()]


def split_items(cell: str) -> list[str]:
    """A Kelengkapan/Output cell as a list: bullets split; commas split only between short items."""
    items: list[str] = []
    for part in split_bullets(" ".join(cell.split())):
        pieces = [p.strip() for p in re.split(r",(?![^(]*\))", part) if p.strip()]
        short = all(len(re.sub(r"\([^)]*\)", "", p).split()) <= 6 for p in pieces)
        joined = any(re.match(r"(?i)(dan|serta|atau)\b", p) for p in pieces)
        items.extend(pieces if len(pieces) > 1 and short and not joined else [part])
    return items
