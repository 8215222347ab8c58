"""Who oversees whom: one policy read from roles.yaml, used by digests, delegation, escalation and alerts.

A role with ``oversight`` is a supervising role: ``unit`` oversees its own bidang/bagian (a Kabid),
``institution`` the whole institution (Kepala Badan, Sekretaris, the system role ``admin``). A late
step escalates along the role's ``supervisor`` chain, to the supervising roles someone holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot import storage
from bot.sop.roles import RoleBook
from bot.storage.db import Reader
from bot.storage.records import Case, Person

ADMIN = "admin"
"""The system role that manages people and sees undeliverable messages (defined in roles.yaml)."""


@dataclass(frozen=True)
class Scope:
    """Which cases a supervisor oversees: an institution (None: all of them), optionally one unit."""

    institution: str | None
    unit: str | None

    def covers(self, institution: str, unit: str) -> bool:
        return (self.institution is None or self.institution == institution) and (
            self.unit is None or self.unit == unit
        )


class Supervision:
    def __init__(self, roles: RoleBook) -> None:
        self.roles = roles
        self._oversight: dict[str, Literal["unit", "institution"]] = {
            r.id: r.oversight for r in [*roles.roles.values(), *roles.system.values()] if r.oversight
        }

    @property
    def supervising_roles(self) -> list[str]:
        return sorted(self._oversight)

    def is_supervisor(self, person: Person) -> bool:
        return any(r in self._oversight for r in person.roles)

    def scope_of(self, person: Person) -> Scope | None:
        """What a person oversees: their institution, their unit, or (an admin of no institution) everything."""
        kinds = {self._oversight[r] for r in person.roles if r in self._oversight}
        if "institution" in kinds:
            return Scope(None if person.is_admin and person.institution is None else person.institution, None)
        if "unit" in kinds:
            return Scope(person.institution, person.unit)
        return None

    def supervises(self, person: Person, case: Case, role_id: str) -> bool:
        """Whether ``person`` may act over a step of ``role_id`` in ``case`` as its supervisor (disposisi).

        An institution-wide supervisor oversees every step of their institution; a unit supervisor
        those of their own unit whose role reports to them along the supervisor chain.
        """
        if person.institution != case.institution:
            return False
        chain = set(self.roles.supervisors(role_id))
        for r in person.roles:
            kind = self._oversight.get(r)
            if kind == "institution":
                return True
            role = self.roles.any(r)
            same_unit = role is not None and (role.scope == "org" or person.unit == case.unit)
            if kind == "unit" and same_unit and r in chain:
                return True
        return False

    async def levels(
        self, r: Reader, role_id: str, institution: str | None, unit: str | None, exclude: set[int] | None = None
    ) -> list[list[Person]]:
        """Who stands above a role, nearest first: e.g. [[the unit's Kabid], [Sekretaris], [Kepala Badan]].

        Only supervising roles count and only levels someone actually holds; a unit-scoped
        supervisor must be of the same unit.
        """
        exclude = exclude or set()
        levels: list[list[Person]] = []
        for sup in self.roles.supervisors(role_id):
            role = self.roles.roles.get(sup)
            if sup not in self._oversight or role is None or institution is None:
                continue
            holders = await storage.people.holders_of(r, sup, institution, unit if role.scope == "unit" else None)
            people = [p for p, _ in holders if p.id not in exclude]
            if people:
                levels.append(people)
        return levels

    async def admins(self, r: Reader, institution: str | None) -> list[Person]:
        return await storage.people.people_with_roles(r, [ADMIN], institution)

    async def overseers(self, r: Reader, case: Case) -> list[Person]:
        """Everyone who oversees the case's unit: unit supervisors of that unit, institution-wide ones, admins."""
        people = await storage.people.people_with_roles(r, self.supervising_roles, case.institution)
        out = []
        for p in people:
            unit_only = all(self._oversight.get(x) == "unit" for x in p.roles if x in self._oversight)
            if not unit_only or p.unit == case.unit:
                out.append(p)
        return out

    async def nearest(self, r: Reader, person: Person) -> list[Person]:
        """The person's nearest supervisor (the Kabid for staff) and the admins: who hears that they are unreachable."""
        nearest: list[Person] = []
        for role in person.roles:
            levels = await self.levels(r, role, person.institution, person.unit, {person.id})
            if levels:
                nearest = levels[0]
                break
        admins = await self.admins(r, person.institution)
        out = {p.id: p for p in [*nearest, *admins] if p.id != person.id and p.reachable}
        return list(out.values())
