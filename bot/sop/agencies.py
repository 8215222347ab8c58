"""The agencies (OPD) whose officers may file requests, from ``opd.yaml`` in the SOP folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.sop.catalog import DEFAULT_SOP_DIR


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    institution: str


def load_agencies(directory: Path | None = None) -> dict[str, Agency]:
    data = yaml.safe_load(((directory or DEFAULT_SOP_DIR) / "opd.yaml").read_text(encoding="utf-8"))
    out: dict[str, Agency] = {}
    for institution, items in (data.get("agencies") or {}).items():
        for item in items:
            out[item["id"]] = Agency(item["id"], item["name"], institution)
    return out
