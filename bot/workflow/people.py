"""People and their roles: the people file, invites, OPD officer registration, agencies.

Staff roles come only from the people file, the `alur people` command or a one-use invite
made by an admin; self-registration in Telegram creates OPD officers (role ``requester``).

Identity: a Telegram account is bound to a staff record only by proof an admin gave — the
numeric Telegram id in the people file or `alur people add`, or a one-use invite link. A
person listed by ``@username`` alone is *not* bound when someone with that username writes
(anyone can take a free username); they open the invite link `alur people invite @username`
prints. A self-registered officer is never turned into staff because the people file later
lists their @username. A deactivated person stays deactivated until an admin acts: the people
file lists them again, or they open a new invite (`alur people invite --name … --roles …`) from
their account, which makes them active with the invite's roles.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from bot import storage
from bot.core.clock import Clock
from bot.core.states import EventType, PersonKind, PersonSource
from bot.sop.agencies import Agency, load_agencies
from bot.sop.catalog import Catalog
from bot.storage.db import Database, Tx
from bot.storage.records import Person
from bot.workflow.errors import PeopleError
from bot.workflow.people_file import parse_people_file

if TYPE_CHECKING:
    from bot.workflow.handover import Handover


class People:
    """Person operations that do not touch cases."""

    def __init__(self, db: Database, catalog: Catalog, clock: Clock, agencies: dict[str, Agency] | None = None,
                 handover: Handover | None = None):
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.agencies = agencies if agencies is not None else load_agencies()
        self.handover = handover
        """Hands a removed person's open steps on (as `alur people remove` does); set by the runtime."""

    # -- look-ups

    async def by_telegram(self, telegram_id: int) -> Person | None:
        return await storage.people.person_by_telegram(self.db, telegram_id)

    async def get(self, person_id: int) -> Person | None:
        return await storage.people.person(self.db, person_id)

    async def find(self, ident: str) -> Person | None:
        """A person by database id ('#12'), Telegram id or @username."""
        ident = ident.strip()
        if ident.startswith("#") and ident[1:].isdigit():
            return await storage.people.person(self.db, int(ident[1:]))
        if ident.lstrip("-").isdigit():
            return await storage.people.person_by_telegram(self.db, int(ident))
        return await storage.people.person_by_username(self.db, ident)

    async def all(self, active_only: bool = True) -> list[Person]:
        return await storage.people.people(self.db, active_only=active_only)

    # -- staff from the people file and the CLI

    async def sync_file(self, path: Path) -> dict[str, int]:
        """Apply the people file: add or update everyone in it, deactivate file entries no longer there.

        A person listed by @username is matched only to a staff record: an OPD officer who registered
        with that username stays an officer (the username moves to the new, still unbound staff record).
        Someone deactivated because the file no longer lists them has their open steps handed on exactly
        like `alur people remove` does.
        """
        specs = parse_people_file(path, self.catalog)
        counts = {"added": 0, "updated": 0, "deactivated": 0, "released": 0}
        now = self.clock.now()
        removed: list[int] = []
        async with self.db.transaction() as tx:
            seen: set[int] = set()
            for spec in specs:
                existing = None
                if spec.telegram_id is not None:
                    existing = await storage.people.person_by_telegram(tx, spec.telegram_id)
                if existing is None and spec.username:
                    existing = await storage.people.person_by_username(tx, spec.username)
                    if existing is not None and not existing.is_staff:
                        # an officer's own username is no proof that they are this member of staff
                        await storage.people.update_person(tx, existing.id, username=None)
                        existing = None
                if existing is None:
                    pid = await storage.people.insert_person(
                        tx, name=spec.name, kind=PersonKind.STAFF, now=now, telegram_id=spec.telegram_id,
                        username=spec.username, institution=spec.institution, unit=spec.unit,
                        source=PersonSource.FILE,
                    )
                    counts["added"] += 1
                else:
                    pid = existing.id
                    await storage.people.update_person(tx, pid, name=spec.name, kind=PersonKind.STAFF,
                                                       institution=spec.institution, unit=spec.unit, active=1)
                    counts["updated"] += 1
                await storage.people.set_roles(tx, pid, spec.roles)
                await storage.events.insert_event(tx, type=EventType.PERSON_SYNCED, now=now, actor_id=None,
                                                  data={"person_id": pid, "roles": list(spec.roles)})
                seen.add(pid)
            for person in await storage.people.people(tx):
                if person.id not in seen and await storage.people.person_source(tx, person.id) == PersonSource.FILE:
                    await storage.people.update_person(tx, person.id, active=0)
                    await storage.events.insert_event(tx, type=EventType.PERSON_REMOVED, now=now,
                                                      data={"person_id": person.id, "via": "people_file"})
                    removed.append(person.id)
                    counts["deactivated"] += 1
        for person_id in removed:
            counts["released"] += len(await self._release(person_id))
        return counts

    async def _release(self, person_id: int) -> list:
        if self.handover is None:
            raise PeopleError("no_handover")  # a People without the workflow cannot remove anyone safely
        return await self.handover.release_person(person_id)

    async def add_staff(
        self, *, name: str, roles: list[str], institution: str, unit: str | None,
        telegram_id: int | None = None, username: str | None = None,
    ) -> Person:
        self._check_staff(roles, institution, unit)
        if telegram_id is None and not username:
            raise PeopleError("identity_required")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            if telegram_id is not None and await storage.people.person_by_telegram(tx, telegram_id):
                raise PeopleError("already_registered", telegram_id=telegram_id)
            if username and await storage.people.person_by_username(tx, username):
                raise PeopleError("already_registered", username=username)
            pid = await storage.people.insert_person(
                tx, name=name, kind=PersonKind.STAFF, now=now, telegram_id=telegram_id, username=username,
                institution=institution, unit=unit,
            )
            await storage.people.set_roles(tx, pid, roles)
            await storage.events.insert_event(tx, type=EventType.PERSON_ADDED, now=now,
                                              data={"person_id": pid, "roles": roles})
            person = await storage.people.person(tx, pid)
        assert person is not None
        return person

    async def deactivate(self, person_id: int) -> Person:
        async with self.db.transaction() as tx:
            person = await storage.people.person(tx, person_id)
            if person is None:
                raise PeopleError("person_not_found", ident=person_id)
            await storage.people.update_person(tx, person_id, active=0)
            await storage.events.insert_event(tx, type=EventType.PERSON_REMOVED, now=self.clock.now(),
                                              data={"person_id": person_id})
        return person

    def _check_staff(self, roles: list[str], institution: str, unit: str | None) -> None:
        bad = [r for r in roles if not self.catalog.roles.holdable(r)]
        if bad or not roles:
            raise PeopleError("unknown_role", roles=bad)
        inst = self.catalog.institutions.get(institution)
        if inst is None:
            raise PeopleError("unknown_institution", institution=institution)
        if unit is not None and inst.unit(unit) is None:
            raise PeopleError("unknown_unit", unit=unit)

    # -- invites

    async def create_invite(
        self, *, name: str, roles: list[str], institution: str, unit: str | None, created_by: int | None = None
    ) -> str:
        self._check_staff(roles, institution, unit)
        code = _invite_code()
        async with self.db.transaction() as tx:
            await storage.invites.insert_invite(tx, code=code, name=name, roles=roles, institution=institution,
                                                unit=unit, now=self.clock.now(), created_by=created_by)
        return code

    async def invite_listed(self, person_id: int, created_by: int | None = None) -> str:
        """A one-use link that binds the Telegram account opening it to a listed, not yet bound member of staff
        (someone the people file or `alur people add` names by @username only)."""
        async with self.db.transaction() as tx:
            person = await storage.people.person(tx, person_id)
            if person is None:
                raise PeopleError("person_not_found", ident=person_id)
            if person.is_staff and not person.active:
                raise PeopleError("deactivated", name=person.name)  # a new invite (create_invite) reactivates
            if not person.is_staff:
                raise PeopleError("not_active_staff", name=person.name)
            if person.telegram_id is not None:
                raise PeopleError("already_bound", name=person.name)
            code = _invite_code()
            await storage.invites.insert_invite(tx, code=code, name=person.name, roles=person.roles,
                                                institution=person.institution or "", unit=person.unit,
                                                now=self.clock.now(), created_by=created_by, person_id=person.id)
        return code

    async def accept_invite(self, code: str, *, telegram_id: int, username: str | None, name: str) -> Person:
        """Bind the Telegram account that opened the invite link to the invited roles, once.

        An invite for a listed person binds that person's record (their roles, steps and held messages);
        an officer record this account had, or a deactivated staff record, is retired (its past requests
        keep their snapshot). Opening an admin's invite for a new person also reactivates a deactivated
        account, staff or officer: that is the admin acting. It becomes active with the invite's name,
        roles, institution and unit, and counts as invited from then on (the people file, which may no
        longer list it, does not deactivate it again at the next start).
        """
        now = self.clock.now()
        async with self.db.transaction() as tx:
            inv = await storage.invites.invite(tx, code)
            if inv is None:
                raise PeopleError("invite_unknown")
            if inv.used_by is not None:
                raise PeopleError("invite_used")
            existing = await storage.people.person_by_telegram(tx, telegram_id)
            if existing is not None and existing.is_staff and existing.active:
                raise PeopleError("already_staff")
            if inv.person_id is not None:
                pid = await self._bind_listed(tx, inv.person_id, existing, telegram_id)
            elif existing is None:
                pid = await storage.people.insert_person(
                    tx, name=inv.name or name, kind=PersonKind.STAFF, now=now, telegram_id=telegram_id,
                    username=None, institution=inv.institution, unit=inv.unit, source=PersonSource.INVITE,
                )
                await storage.people.set_roles(tx, pid, inv.roles)
            else:
                pid = existing.id
                await storage.people.update_person(tx, pid, kind=PersonKind.STAFF, institution=inv.institution,
                                                   unit=inv.unit, opd=None, name=inv.name or name, active=1,
                                                   source=PersonSource.INVITE)
                await storage.people.set_roles(tx, pid, inv.roles)
            if username and await storage.people.person_by_username(tx, username) is None:
                await storage.people.update_person(tx, pid, username=username.lower())
            if not await storage.invites.use_invite(tx, code, pid, now):
                raise PeopleError("invite_used")
            await storage.outbox.release_held(tx, pid, telegram_id)
            reactivated = existing is not None and not existing.active and pid == existing.id
            await storage.events.insert_event(tx, type=EventType.INVITE_ACCEPTED, now=now, actor_id=pid,
                                              data={"code": code[:8], "reactivated": reactivated})
            person = await storage.people.person(tx, pid)
        assert person is not None
        return person

    async def _bind_listed(self, tx: Tx, person_id: int, existing: Person | None, telegram_id: int) -> int:
        listed = await storage.people.person(tx, person_id)
        if listed is None or not listed.active or listed.telegram_id is not None:
            raise PeopleError("invite_used")
        if existing is not None:  # an officer record of this account: retired, the staff record takes over
            await storage.people.update_person(tx, existing.id, telegram_id=None, username=None, active=0)
            await storage.events.insert_event(tx, type=EventType.PERSON_REMOVED, now=self.clock.now(),
                                              data={"person_id": existing.id, "via": "became_staff",
                                                    "staff_id": listed.id})
        await storage.people.update_person(tx, listed.id, telegram_id=telegram_id)
        await storage.events.insert_event(tx, type=EventType.TELEGRAM_BOUND, now=self.clock.now(),
                                          actor_id=listed.id, data={"via": "invite"})
        return listed.id

    # -- Telegram identity

    async def listed_unbound(self, username: str | None) -> Person | None:
        """A member of staff listed by this @username who has not proved their account yet (None otherwise)."""
        if not username:
            return None
        person = await storage.people.person_by_username(self.db, username)
        if person is None or not person.is_staff or not person.active or person.telegram_id is not None:
            return None
        return person

    async def register_officer(
        self, *, telegram_id: int, username: str | None, name: str, agency_id: str
    ) -> Person:
        """Self-registration of an OPD officer: always the requester role, never a staff role."""
        agency = self.agencies.get(agency_id)
        if agency is None:
            raise PeopleError("unknown_agency")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            existing = await storage.people.person_by_telegram(tx, telegram_id)
            if existing is not None and existing.is_staff and existing.active:
                raise PeopleError("already_staff")
            if existing is not None and not existing.active:
                raise PeopleError("deactivated")
            if existing is None:
                free = username and await storage.people.person_by_username(tx, username) is None
                pid = await storage.people.insert_person(
                    tx, name=name, kind=PersonKind.OFFICER, now=now, telegram_id=telegram_id,
                    username=username if free else None, institution=agency.institution, opd=agency.id,
                    source=PersonSource.SELF,
                )
            else:
                pid = existing.id
                await storage.people.update_person(tx, pid, opd=agency.id, institution=agency.institution,
                                                   name=name)
            await storage.people.set_roles(tx, pid, ["requester"])
            await storage.events.insert_event(tx, type=EventType.OFFICER_REGISTERED, now=now, actor_id=pid,
                                              data={"opd": agency.id})
            person = await storage.people.person(tx, pid)
        assert person is not None
        return person

    def agency_name(self, person: Person) -> str:
        agency = self.agencies.get(person.opd or "")
        return agency.name if agency else ""


def _invite_code() -> str:
    return "inv_" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
