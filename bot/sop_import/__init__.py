"""Draft SOP definitions from the text extraction of an SOP document (`alur sop import`).

The importer reads each metadata block (Nomor SOP, Nama SOP, Dasar Hukum, Kualifikasi
Pelaksana, ...) and the tab-separated step tables that follow it, and writes one YAML draft
per SOP in the `bot.sop.Sop` schema. It is a drafting tool: whatever it cannot decide (an
actor the text does not name, an empty step text, a gap in the step numbers, an unreadable
'Waktu') goes into the report, each line naming the file, the SOP and the step, for the
curator to settle by hand before the draft joins the catalog.

The stages, one module each, in the order they run (`pipeline`):
- `tables`: the table finder (header and lane rows, step rows, captions, tables split over pages);
- `blocks` with `sections`: the block reader (header fields, section headings and their contents);
- `assembly`: pairs blocks with tables into `ParsedSop`s (shared headers, duplicate tables);
- `drafter` with `steps` and `actors`: the YAML-ready dict, guessing actors, unit and starters;
- `yaml_writer`: the YAML text and the proposed id.
`cell_text` holds the text helpers they share; `report` the lines for the curator.
"""

from bot.sop_import.assembly import ParsedSop
from bot.sop_import.blocks import Block
from bot.sop_import.cell_text import split_items, split_numbered
from bot.sop_import.pipeline import ImportResult, import_file, import_text
from bot.sop_import.tables import Row, Table

__all__ = [
    "Block",
    "ImportResult",
    "ParsedSop",
    "Row",
    "Table",
    "import_file",
    "import_text",
    "split_items",
    "split_numbered",
]
