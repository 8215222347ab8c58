"""Who oversees whom: one policy read from roles.yaml, used by digests, delegation, escalation and alerts.

A role with ``oversight`` is a supervising role: ``unit`` oversees its own bidang/bagian (a Kabid),
``institution`` the whole institution (Kepala Badan, Sekretaris, the system role ``admin``), ``all``
every institution (the system role ``system_admin``). A late step escalates along the role's
``supervisor`` chain, to the supervising roles someone holds.

Admins are the holders of a system role (``system_roles`` in roles.yaml). An institution admin
(``admin``, oversight ``institution``) reads, cancels, reassigns and gets the digest and the
undeliverable messages of their own institution only; a system admin (``system_admin``, oversight
``all``) does so across every institution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot import storage
from bot.sop.roles import RoleBook
from bot.storage.db import Reader
from bot.storage.records import Case, Person

ADMIN = "admin"
"""The institution admin role (defined in roles.yaml): people, dead letters and cases of one institution."""
SYSTEM_ADMIN = "system_admin"
"""The system admin role (defined in roles.yaml): the same across every institution."""

Oversight = Literal["unit", "institution", "all"]


@dataclass(frozen=True)
class Scope:
    """Which cases a supervisor oversees: an institution (None: all of them), optionally one unit."""

    institution: str | None
    unit: str | None

    def covers(self, institution: str | None, unit: str | None) -> bool:
        return (self.institution is None or self.institution == institution) and (
            self.unit is None or self.unit == unit
        )


class Supervision:
    def __init__(self, roles: RoleBook) -> None:
        self.roles = roles
        self._oversight: dict[str, Oversight] = {
            r.id: r.oversight for r in [*roles.roles.values(), *roles.system.values()] if r.oversight
        }
        self._admin_roles: dict[str, Oversight] = {
            r.id: r.oversight for r in roles.system.values() if r.oversight in ("institution", "all")
        }

    @property
    def supervising_roles(self) -> list[str]:
        return sorted(self._oversight)

    def is_supervisor(self, person: Person) -> bool:
        return person.active and any(r in self._oversight for r in person.roles)

    def is_admin(self, person: Person) -> bool:
        """Holds an admin role (of an institution or of the system)."""
        return person.active and any(r in self._admin_roles for r in person.roles)

    def is_system_admin(self, person: Person) -> bool:
        return person.active and any(self._admin_roles.get(r) == "all" for r in person.roles)

    def administers(self, person: Person, institution: str | None) -> bool:
        """Whether ``person`` is an admin over ``institution``: its institution admin, or a system admin."""
        if not person.active:
            return False
        for role in person.roles:
            reach = self._admin_roles.get(role)
            if reach == "all" or (reach == "institution" and institution is not None
                                  and person.institution == institution):
                return True
        return False

    def scope_of(self, person: Person) -> Scope | None:
        """What a person oversees: everything (system admin), their institution, or their unit."""
        if not person.active:
            return None
        kinds = {self._oversight[r] for r in person.roles if r in self._oversight}
        if "all" in kinds:
            return Scope(None, None)
        if "institution" in kinds and person.institution:
            return Scope(person.institution, None)
        if "unit" in kinds and person.institution:
            return Scope(person.institution, person.unit)
        return None

    def supervises(self, person: Person, case: Case, role_id: str) -> bool:
        """Whether ``person`` may act over a step of ``role_id`` in ``case`` as its supervisor (disposisi).

        A system admin oversees every step; an institution-wide supervisor (or admin) every step
        of their institution; a unit supervisor those of their own unit whose role reports to them
        along the supervisor chain.
        """
        if not person.active:
            return False
        if any(self._oversight.get(r) == "all" for r in person.roles):
            return True
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
        """The admins of an institution; the system admins when it has none (someone is always told)."""
        inst_roles = sorted(k for k, v in self._admin_roles.items() if v == "institution")
        system_roles = sorted(k for k, v in self._admin_roles.items() if v == "all")
        own = [p for p in await storage.people.people_with_roles(r, inst_roles)
               if institution is not None and p.institution == institution]
        return own or await storage.people.people_with_roles(r, system_roles)

    async def overseers(self, r: Reader, case: Case) -> list[Person]:
        """Everyone who oversees the case's unit: unit supervisors of that unit, institution-wide ones and the
        institution's admins (the system admins when nobody of the institution oversees it)."""
        people = await storage.people.people_with_roles(r, self.supervising_roles, case.institution)
        out = []
        for p in people:
            kinds = {self._oversight[x] for x in p.roles if x in self._oversight}
            if p.institution != case.institution and "all" not in kinds:
                continue
            if "unit" not in kinds or kinds - {"unit"} or p.unit == case.unit:
                out.append(p)
        if not out:
            out = await self.admins(r, None)
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
