"""Which metadata block goes with which step table: one ParsedSop per SOP found in a text.

A table takes the block open where it starts. Several tables under one header each become an SOP
sharing that header; a table whose caption repeats an earlier SOP's title is a copy and is skipped;
a header without a table is an SOP whose steps are missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.sop.roles import normalise
from bot.sop_import.blocks import Block, BlockReader
from bot.sop_import.report import Report
from bot.sop_import.tables import Table, find_tables


@dataclass
class ParsedSop:
    name: str
    line: int
    block: Block | None
    table: Table | None
    shared_header: bool = False


def assemble(lines: list[str], report: Report) -> tuple[list[ParsedSop], list[Table]]:
    """The SOPs of a text in line order, and every step table found (duplicates included)."""
    tables, starts, taken = find_tables(lines)
    blocks, events = _read_blocks(lines, starts, taken)
    sops = _pair(events, report)
    paired = {id(block) for block, _ in events}
    for block in blocks:
        if block.name and id(block) not in paired:
            sops.append(ParsedSop(block.name, block.field_lines.get("name", block.line), block, None))
    sops.sort(key=lambda s: s.line)
    for block in blocks:
        if block.loose and block.name and not block.sections:
            report.say(block.name[:70], "metadata tanpa judul bagian (OCR?) tidak dibaca")
    return sops, tables


def _read_blocks(
    lines: list[str], starts: dict[int, Table], taken: set[int]
) -> tuple[list[Block], list[tuple[Block, Table]]]:
    """Every metadata block, and each table with the block open where the table starts."""
    reader = BlockReader(lines)
    events: list[tuple[Block, Table]] = []
    for i, line in enumerate(lines):
        if i in starts:
            reader.flush()
            events.append((reader.block, starts[i]))
            reader.block.table = reader.block.table or starts[i]
        if i not in taken:
            reader.feed(i, line)
    reader.flush()
    return reader.blocks, events


def _pair(events: list[tuple[Block, Table]], report: Report) -> list[ParsedSop]:
    sops: list[ParsedSop] = []
    attached: set[int] = set()
    for block, table in events:
        caption = normalise(re.sub(r"(?i)^sop\s+", "", table.caption))
        earlier = [s for s in sops if caption and caption in (normalise(s.name), normalise(s.table.caption))]
        if earlier and normalise(block.name) != caption:
            report.say(
                earlier[0].name[:70],
                f"tabel baris {table.line} adalah salinan tabel SOP ini (judul '{table.caption}'); dilewati",
            )
            continue
        if block.name and id(block) not in attached:
            attached.add(id(block))
            sops.append(ParsedSop(block.name, block.field_lines.get("name", block.line), block, table))
        elif block.name:
            name = table.caption or f"{block.name} (tabel baris {table.line})"
            sops.append(ParsedSop(name, table.caption_line or table.line, block, table, shared_header=True))
            report.say(name[:70], f"tabel tanpa kepala SOP sendiri; metadata disalin dari '{block.name[:50]}'")
        else:
            name = table.caption or f"SOP tanpa judul (baris {table.line})"
            sops.append(ParsedSop(name, table.caption_line or table.line, None, table))
            report.say(name[:70], "tabel tanpa kepala SOP (Nama SOP, Dasar Hukum, ...)")
    return sops
