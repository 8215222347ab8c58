"""The one font of the flowchart (DejaVu Sans, shipped inside matplotlib) and text measurement.

Layout measures text with the same font file the rasteriser draws it with, so wrapped text fits
its cell on every machine: no system fonts are consulted.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

FAMILY = "DejaVu Sans"


def _font_dir() -> Path:
    """matplotlib's bundled fonts, found without importing matplotlib (slow to import, not needed here)."""
    spec = importlib.util.find_spec("matplotlib")
    assert spec is not None and spec.submodule_search_locations, "matplotlib is a dependency"
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


_DIR = _font_dir()
REGULAR = _DIR / "DejaVuSans.ttf"
BOLD = _DIR / "DejaVuSans-Bold.ttf"


def font_files() -> list[str]:
    return [str(REGULAR), str(BOLD)]


@lru_cache(maxsize=32)
def _font(size: float, bold: bool) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(BOLD if bold else REGULAR), size=size)


@lru_cache(maxsize=8192)
def text_width(text: str, size: float, bold: bool = False) -> float:
    return float(_font(size, bold).getlength(text))


def wrap(text: str, width: float, size: float, bold: bool = False, max_lines: int | None = None) -> list[str]:
    """Greedy word wrap to ``width`` pixels; a word longer than a line is cut at a '/' or between letters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        for piece in _pieces(word, width, size, bold):
            candidate = f"{current} {piece}" if current else piece
            if current and text_width(candidate, size, bold) > width:
                lines.append(current)
                current = piece
            else:
                current = candidate
    if current:
        lines.append(current)
    if max_lines is not None and len(lines) > max_lines:
        kept = lines[:max_lines]
        last = kept[-1]
        while last and text_width(last + "…", size, bold) > width:
            last = last[:-1]
        kept[-1] = last.rstrip() + "…"
        return kept
    return lines or [""]


def _pieces(word: str, width: float, size: float, bold: bool) -> list[str]:
    if text_width(word, size, bold) <= width:
        return [word]
    if "/" in word.strip("/"):
        head, _, tail = word.partition("/")
        return [*_pieces(head + "/", width, size, bold), *_pieces(tail, width, size, bold)] if tail else [word]
    out: list[str] = []
    current = ""
    for ch in word:
        if current and text_width(current + ch + "-", size, bold) > width:
            out.append(current + "-")
            current = ch
        else:
            current += ch
    if current:
        out.append(current)
    return out
