"""Institutions from institutions.yaml and their units (bidang / bagian)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import Field

from bot.sop.model import _Model


class Unit(_Model):
    id: str
    name: str


class Institution(_Model):
    id: str
    name: str
    full_name: str = ""
    prefix: str
    timezone: str = "Asia/Jakarta"
    units: list[Unit] = Field(default_factory=list)

    def unit(self, unit_id: str) -> Unit | None:
        return next((u for u in self.units if u.id == unit_id), None)


def load_institutions(directory: Path) -> dict[str, Institution]:
    data = yaml.safe_load((directory / "institutions.yaml").read_text(encoding="utf-8"))
    return {i["id"]: Institution.model_validate(i) for i in data["institutions"]}
