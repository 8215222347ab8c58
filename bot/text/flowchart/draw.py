"""Flowchart geometry → SVG (Jinja2 template) → PNG (resvg, with the bundled font only), and a cache.

resvg is given the chart's own font files and told to skip the system's, so a PNG looks the same on
every machine and the measured text widths of the layout hold.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Literal

import resvg_py
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.sop.model import Sop
from bot.sop.roles import RoleBook
from bot.text.flowchart import fonts
from bot.text.flowchart.layout import Flowchart, Marks, layout

Format = Literal["png", "svg"]
VERSION = "1"
"""Part of every cache key: bump it when the drawing changes."""

MAX_SIDE = 2560
"""Telegram keeps a photo's longer side up to 2560 px; larger pictures are scaled down by it."""


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("bot.text", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def svg(chart: Flowchart, title: str = "") -> str:
    texts = [*chart.title, *(cell.text for cell in chart.cells if cell.text), *chart.legend]
    return _env().get_template("flowchart.svg.j2").render(c=chart, texts=texts, title=title, family=fonts.FAMILY)


def png(svg_text: str, width: float, height: float, scale: float = 2.0) -> bytes:
    """Rasterise at ``scale`` (2× for sharp zooming on a phone), keeping the longer side ≤ 2560 px."""
    zoom = min(scale, MAX_SIDE / max(width, height, 1.0))
    return bytes(resvg_py.svg_to_bytes(
        svg_string=svg_text, zoom=zoom, background="#ffffff", skip_system_fonts=True,
        font_files=fonts.font_files(), font_family=fonts.FAMILY, sans_serif_family=fonts.FAMILY,
    ))


def draw(sop: Sop, roles: RoleBook, fmt: Format = "png", marks: Marks | None = None, institution: str = "") -> bytes:
    chart = layout(sop, roles, marks, institution)
    text = svg(chart, title=sop.name)
    if fmt == "svg":
        return text.encode()
    return png(text, chart.width, chart.height)


class FlowchartCache:
    """Rendered charts by SOP content hash, the lane names, the case's marks and the format (LRU)."""

    def __init__(self, roles: RoleBook, size: int = 128) -> None:
        self.roles = roles
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def key(self, sop: Sop, fmt: Format, marks: Marks | None, institution: str) -> str:
        names = ",".join(self.roles.name(s.actor) for s in sop.steps)
        raw = "\n".join([VERSION, sop.content_hash, fmt, names, institution, marks.key() if marks else ""])
        return hashlib.sha256(raw.encode()).hexdigest()

    def get(self, sop: Sop, fmt: Format = "png", marks: Marks | None = None, institution: str = "") -> bytes:
        key = self.key(sop, fmt, marks, institution)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
        data = draw(sop, self.roles, fmt, marks, institution)
        with self._lock:
            self.misses += 1
            self._items[key] = data
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return data
