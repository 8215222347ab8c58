"""Roles (Pelaksana) from roles.yaml: names, aliases, scope, the supervisor chain."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, field_validator

from bot.sop.model import _Model


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces: the form aliases are compared in."""
    return " ".join(re.sub(r"[^0-9a-z&]+", " ", text.lower()).split())


class Role(_Model):
    id: str
    name: str
    kind: Literal["staff", "requester", "external", "system"]
    scope: Literal["unit", "org"] = "unit"
    supervisor: str | None = None
    oversight: Literal["unit", "institution", "all"] | None = None
    """A supervising role and what it oversees (see roles.yaml)."""
    import_head: Literal["institution", "unit"] | None = None
    """The head the SOP importer assumes for a step that names no actor (see roles.yaml)."""
    proxy: list[str] = Field(default_factory=list)
    """Roles that record this (external) role's steps, tried in order (institutions differ)."""
    aliases: list[str] = Field(default_factory=list)

    @field_validator("proxy", mode="before")
    @classmethod
    def _proxy_list(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v


class RoleBook:
    """Role ids with their names and aliases; resolves a Pelaksana label or phrase to a role id."""

    def __init__(self, roles: Iterable[Role], system: Iterable[Role] = ()) -> None:
        self.roles: dict[str, Role] = {r.id: r for r in roles}
        self.system: dict[str, Role] = {r.id: r for r in system}
        """Roles people hold that are no SOP step's actor (admin); kept apart so no SOP text resolves to them."""
        self._aliases: list[tuple[str, str]] = sorted(
            {(normalise(a), r.id) for r in self.roles.values() for a in [r.name, r.id.replace("_", " "), *r.aliases]},
            key=lambda pair: -len(pair[0]),
        )

    def __contains__(self, role_id: object) -> bool:
        return role_id in self.roles

    def __getitem__(self, role_id: str) -> Role:
        return self.roles[role_id]

    def name(self, role_id: str) -> str:
        role = self.any(role_id)
        return role.name if role else role_id

    def any(self, role_id: str) -> Role | None:
        """An SOP role or a system role."""
        return self.roles.get(role_id) or self.system.get(role_id)

    def holdable(self, role_id: str) -> bool:
        """Whether a person may be given this role (every staff role and the system roles)."""
        role = self.any(role_id)
        return role is not None and role.kind in ("staff", "system")

    def resolve(self, label: str) -> str | None:
        """The role whose name or alias equals the label (longest alias first)."""
        key = normalise(label)
        for alias, role_id in self._aliases:
            if alias == key:
                return role_id
        return None

    def mentioned(self, text: str) -> list[str]:
        """Roles named in a free text, longest alias first, each once, in order of first mention."""
        hay = f" {normalise(text)} "
        found: list[tuple[int, str]] = []
        taken: list[tuple[int, int]] = []
        for alias, role_id in self._aliases:
            start = hay.find(f" {alias} ")
            while start >= 0:
                span = (start, start + len(alias) + 1)
                if not any(a < span[1] and span[0] < b for a, b in taken):
                    taken.append(span)
                    found.append((start, role_id))
                start = hay.find(f" {alias} ", start + 1)
        seen: list[str] = []
        for _, role_id in sorted(found):
            if role_id not in seen:
                seen.append(role_id)
        return seen

    def import_heads(self, kind: Literal["institution", "unit"]) -> list[str]:
        """The roles marked ``import_head: <kind>``, in the order of roles.yaml."""
        return [r.id for r in self.roles.values() if r.import_head == kind]

    def supervisors(self, role_id: str) -> list[str]:
        """The escalation chain above a role (nearest first)."""
        chain: list[str] = []
        current = self.roles.get(role_id)
        while current and current.supervisor and current.supervisor not in chain:
            chain.append(current.supervisor)
            current = self.roles.get(current.supervisor)
        return chain


def load_roles(directory: Path) -> RoleBook:
    data = yaml.safe_load((directory / "roles.yaml").read_text(encoding="utf-8"))
    return RoleBook((Role.model_validate(r) for r in data["roles"]),
                    (Role.model_validate(r) for r in data.get("system_roles") or []))
