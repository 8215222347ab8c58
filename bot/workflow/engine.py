"""The workflow engine: requests move through SOP steps, one transaction per operation.

Every operation reads and changes state inside one ``BEGIN IMMEDIATE`` transaction and
writes, in the same transaction, the event-log rows and the outbox notifications it
causes. Step changes are conditional on the step still being open, so double taps,
redelivered updates and concurrent holders produce exactly one effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot import storage
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog
from bot.sop.durations import Duration
from bot.sop.model import END, Sop, Step, snapshot, sop_from_snapshot
from bot.storage.db import Database, Reader, Tx
from bot.storage.records import Attachment, Case, Event, Person, StepInstance
from bot.text import payloads
from bot.workflow.people import ADMIN, SUPERVISOR_ROLES

PRIORITY_REPLY = 0
PRIORITY_NORMAL = 1
PRIORITY_BULK = 2


class EngineError(DomainError):
    """A workflow operation refused (not the holder, needs a decision, bad intake, …)."""


@dataclass(frozen=True)
class ReminderPolicy:
    """When to remind and escalate, in working time."""

    remind_fraction: float = 0.75
    prewarn_minutes: int = 60
    prewarn_min_standard: int = 120
    escalation_grace: Duration = field(default_factory=lambda: Duration(minutes=60))
    escalation_levels: int = 2


@dataclass(frozen=True)
class FileUpload:
    """A document received from Telegram (only ids and metadata; the bytes stay with Telegram)."""

    file_id: str
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What an operation did: ``changed`` is False when nothing had to change (already done)."""

    changed: bool
    case: Case
    step: StepInstance | None = None
    opened: tuple[StepInstance, ...] = ()
    closed: str | None = None
    done_by: Person | None = None


@dataclass(frozen=True)
class CurrentStep:
    instance: StepInstance
    step: Step
    holder: Person | None
    acting_for: Person | None


@dataclass(frozen=True)
class WhatNext:
    case: Case
    sop: Sop
    current: tuple[CurrentStep, ...]
    following: tuple[tuple[str, Step | None], ...]
    """(branch label or '', next step) for the first current step; None means the SOP ends."""


class Engine:
    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        calendar: WorkCalendar,
        clock: Clock,
        policy: ReminderPolicy | None = None,
        agencies: dict[str, Any] | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.calendar = calendar
        self.clock = clock
        self.policy = policy or ReminderPolicy()
        self.agencies = agencies or {}
        self._pinned: dict[str, Sop] = {}

    # ------------------------------------------------------------ SOP versions

    async def sop_of(self, case: Case, r: Reader | None = None) -> Sop:
        """The SOP version the case started with (not the catalog's current one)."""
        pinned = self._pinned.get(case.sop_hash)
        if pinned is None:
            current = self.catalog.get(case.sop_id)
            if current is not None and current.content_hash == case.sop_hash:
                pinned = current
            else:
                text = await storage.sop_versions.sop_snapshot(r or self.db, case.sop_hash)
                if text is None:
                    raise EngineError("sop_version_missing", sop=case.sop_id)
                pinned = sop_from_snapshot(text)
            self._pinned[case.sop_hash] = pinned
        return pinned

    # ------------------------------------------------------------ filing

    async def file_request(
        self,
        sop_id: str,
        requester_id: int,
        intake: dict[str, str],
        uploads: dict[str, FileUpload] | None = None,
        *,
        consume_draft: bool = False,
    ) -> Outcome:
        """Open a case: check the intake, give it a register number and assign its first open step.

        With ``consume_draft`` the requester's saved draft is deleted in the same transaction.
        """
        sop = self.catalog.get(sop_id)
        if sop is None:
            raise EngineError("unknown_sop", sop=sop_id)
        if sop.steps_missing or not sop.steps:
            raise EngineError("not_startable", sop=sop.title)
        uploads = uploads or {}
        clean = self.check_intake(sop, intake, uploads)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            requester = await storage.people.person(tx, requester_id)
            if requester is None or not requester.active:
                raise EngineError("not_registered")
            if not set(requester.roles) & set(sop.starters) and not requester.is_admin:
                raise EngineError("not_allowed_to_start", sop=sop.title)
            await storage.sop_versions.ensure_sop_version(tx, sop_id=sop.id, sop_hash=sop.content_hash,
                                                          snapshot=snapshot(sop),
                                           now=now)
            inst = self.catalog.institution(sop.institution)
            year = now.astimezone(self.calendar.tz).year
            number = await storage.cases.next_register_number(tx, f"{inst.prefix}-{sop.register_code}", year)
            register_no = f"{inst.prefix}-{sop.register_code}-{year}-{number:04d}"
            case_id = await storage.cases.insert_case(
                tx, register_no=register_no, sop_id=sop.id, sop_hash=sop.content_hash, institution=sop.institution,
                unit=sop.unit, requester_id=requester_id, title=sop.title, intake=clean, now=now,
            )
            for key, up in uploads.items():
                await storage.attachments.insert_attachment(
                    tx, case_id=case_id, step_instance_id=None, purpose="intake", field=key, file_id=up.file_id,
                    file_unique_id=up.file_unique_id, file_name=up.file_name, mime_type=up.mime_type,
                    file_size=up.file_size, uploaded_by=requester_id, now=now,
                )
            await storage.events.insert_event(tx, type="case_filed", now=now, case_id=case_id, actor_id=requester_id,
                                     data={"register_no": register_no, "sop_id": sop.id, "sop_hash": sop.content_hash})
            case = await storage.cases.case(tx, case_id)
            assert case is not None
            first = sop.steps[0]
            opened: list[StepInstance] = []
            if first.actor == "requester":
                # Filing the request in Telegram is the requester's first step ('Pemohon mengajukan …').
                sid = await storage.steps.insert_step(
                    tx, case_id=case_id, step_no=first.number, role=first.actor, holder_id=requester_id,
                    acting_for_id=None, now=now, due_at=None, remind_at=None, prewarn_at=None, escalate_at=None,
                )
                await storage.steps.finish_step(tx, sid, by=requester_id, now=now, outcome="done", branch_label=None,
                                        note=None)
                await storage.events.insert_event(tx, type="step_completed", now=now, case_id=case_id,
                                                  step_instance_id=sid,
                                         actor_id=requester_id, data={"step": first.number, "via": "filing"})
                nxt = sop.next_step(first)
                if nxt is not None:
                    opened.append(await self._open_step(tx, case, sop, nxt, now))
            else:
                opened.append(await self._open_step(tx, case, sop, first, now))
            await self._notify_filed(tx, case, sop, requester, opened, now)
            if consume_draft:
                await storage.drafts.delete_draft(tx, requester_id)
            case = await storage.cases.case(tx, case_id)
            assert case is not None
        return Outcome(True, case, None, tuple(opened))

    def check_intake(self, sop: Sop, intake: dict[str, str], uploads: dict[str, FileUpload]) -> dict[str, str]:
        """Validate the intake answers against the SOP's fields; raise with the first problem."""
        clean: dict[str, str] = {}
        for fld in sop.intake:
            if fld.kind == "document":
                if fld.required and fld.key not in uploads:
                    raise EngineError("intake_missing", field=fld.label)
                continue
            value = " ".join(str(intake.get(fld.key, "")).split()) if fld.kind != "long_text" else str(
                intake.get(fld.key, "")).strip()
            if not value:
                if fld.required:
                    raise EngineError("intake_missing", field=fld.label)
                continue
            problem = intake_problem(fld.kind, value, fld.max_length, fld.choices)
            if problem:
                raise EngineError(problem, field=fld.label, limit=fld.max_length)
            clean[fld.key] = value
        unknown = set(intake) - {f.key for f in sop.intake}
        if unknown:
            raise EngineError("intake_unknown", fields=sorted(unknown))
        return clean

    # ------------------------------------------------------------ assignment

    async def _open_step(
        self, tx: Tx, case: Case, sop: Sop, step: Step, now: datetime, *, exclude: set[int] | None = None
    ) -> StepInstance:
        """Open a step instance with its deadlines and assign it; notify holder or supervisors."""
        holder, acting_for = await self._choose_holder(tx, case, step.actor, now, exclude or set())
        duration = sop.duration(step)
        due = remind = prewarn = escalate = None
        if duration is not None and not duration.is_zero:
            due = self.calendar.add(now, duration)
            remind, prewarn, escalate = self._alarms(now, due, step.actor == "requester")
        sid = await storage.steps.insert_step(
            tx, case_id=case.id, step_no=step.number, role=step.actor, holder_id=holder.id if holder else None,
            acting_for_id=acting_for.id if acting_for else None, now=now, due_at=due, remind_at=remind,
            prewarn_at=prewarn, escalate_at=escalate,
        )
        await storage.events.insert_event(
            tx, type="step_opened", now=now, case_id=case.id, step_instance_id=sid,
            data={"step": step.number, "role": step.actor, "holder_id": holder.id if holder else None,
                  "due_at": due.isoformat() if due else None},
        )
        instance = await storage.steps.step(tx, sid)
        assert instance is not None
        if holder is None:
            await storage.cases.set_case_unassigned(tx, case.id, True)
            await storage.events.insert_event(tx, type="step_unassigned", now=now, case_id=case.id,
                                              step_instance_id=sid,
                                     data={"step": step.number, "role": step.actor})
            await self._notify_unassigned(tx, case, sop, step, instance, now)
        else:
            if acting_for is not None:
                await storage.events.insert_event(
                    tx, type="acting_assigned", now=now, case_id=case.id, step_instance_id=sid,
                    actor_id=holder.id, on_behalf_of=acting_for.id, data={"step": step.number},
                )
            await self._notify_assigned(tx, case, sop, step, instance, holder, acting_for, now)
        return instance

    def _alarms(
        self, opened: datetime, due: datetime, requester_step: bool
    ) -> tuple[datetime | None, datetime | None, datetime | None]:
        standard = self.calendar.working_minutes(opened, due)
        p = self.policy
        remind = self.calendar.add(opened, Duration(minutes=max(1, int(standard * p.remind_fraction))))
        prewarn = None
        if standard > p.prewarn_min_standard:
            prewarn = self.calendar.add(opened, Duration(minutes=standard - p.prewarn_minutes))
            if prewarn <= remind:
                prewarn = None
        escalate = None if requester_step else self.calendar.add(due, p.escalation_grace)
        return remind, prewarn, escalate

    async def _choose_holder(
        self, tx: Tx, case: Case, role_id: str, now: datetime, exclude: set[int]
    ) -> tuple[Person | None, Person | None]:
        """(holder, acting_for): the least-loaded holder of the role, routed to their Plt/Plh if absent."""
        if role_id == "requester":
            return await storage.people.person(tx, case.requester_id), None
        candidates = await self._role_holders(tx, case, role_id)
        role = self.catalog.roles.roles.get(role_id)
        if not candidates and role is not None and role.kind == "external":
            for proxy in role.proxy:
                candidates = await self._role_holders(tx, case, proxy)
                if candidates:
                    break
        candidates = [(p, load) for p, load in candidates if p.id not in exclude]
        if not candidates:
            return None, None
        chosen = min(candidates, key=lambda pl: (pl[1], pl[0].id))[0]
        return await self._route_acting(tx, chosen, now)

    async def _role_holders(self, tx: Tx, case: Case, role_id: str) -> list[tuple[Person, int]]:
        role = self.catalog.roles.roles.get(role_id)
        unit = case.unit if role is not None and role.scope == "unit" else None
        return await storage.people.holders_of(tx, role_id, case.institution, unit)

    async def _route_acting(self, tx: Tx, person: Person, now: datetime) -> tuple[Person, Person | None]:
        day = now.astimezone(self.calendar.tz).date().isoformat()
        arrangement = await storage.acting.acting_for(tx, person.id, day)
        if arrangement is None:
            return person, None
        acting = await storage.people.person(tx, arrangement["acting_id"])
        if acting is None or not acting.active:
            return person, None
        return acting, person

    # ------------------------------------------------------------ completing and deciding

    async def complete_step(
        self, step_id: int, actor_id: int, *, note: str | None = None, output: FileUpload | None = None
    ) -> Outcome:
        """Mark a (non-decision) step done and open what follows."""
        return await self._finish(step_id, actor_id, branch_index=None, note=note, output=output)

    async def decide(
        self, step_id: int, actor_id: int, branch_index: int, *, note: str | None = None,
        output: FileUpload | None = None,
    ) -> Outcome:
        """Take one labelled branch of a decision step."""
        return await self._finish(step_id, actor_id, branch_index=branch_index, note=note, output=output)

    async def _finish(
        self, step_id: int, actor_id: int, *, branch_index: int | None, note: str | None, output: FileUpload | None,
    ) -> Outcome:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            instance, case, sop = await self._load_step(tx, step_id)
            actor = await storage.people.person(tx, actor_id)
            if actor is None:
                raise EngineError("not_registered")
            if not instance.is_open:
                return await self._already(tx, case, instance)
            if not self._may_act(actor, instance):
                raise EngineError("not_holder", step=instance.step_no)
            step = sop.step(instance.step_no)
            outcome, label, target = "done", None, None
            if step.decision is not None:
                if branch_index is None:
                    raise EngineError("needs_decision", step=step.number)
                if not 0 <= branch_index < len(step.decision.branches):
                    raise EngineError("bad_branch")
                branch = step.decision.branches[branch_index]
                outcome, label, target = branch.outcome, branch.label, branch.target
            elif branch_index is not None:
                raise EngineError("bad_branch")
            if not await storage.steps.finish_step(tx, step_id, by=actor_id, now=now, outcome=outcome,
                                                   branch_label=label,
                                           note=note):
                return await self._already(tx, case, instance)
            if output is not None:
                await self._store_output(tx, case, instance, actor_id, output, now)
            on_behalf = instance.holder_id if instance.holder_id != actor_id else None
            await storage.events.insert_event(
                tx, type="step_decided" if label else "step_completed", now=now, case_id=case.id,
                step_instance_id=step_id, actor_id=actor_id, on_behalf_of=on_behalf or instance.acting_for_id,
                data={"step": step.number, "branch": label, "target": target, "outcome": outcome, "note": note},
            )
            opened, closed = await self._advance(tx, case, sop, step, target, outcome, actor, now)
            case = await storage.cases.case(tx, case.id)
            done = await storage.steps.step(tx, step_id)
            assert case is not None
        return Outcome(True, case, done, tuple(opened), closed)

    def _may_act(self, actor: Person, instance: StepInstance) -> bool:
        return actor.id == instance.holder_id

    async def _already(self, tx: Tx, case: Case, instance: StepInstance) -> Outcome:
        current = await storage.steps.step(tx, instance.id)
        by = await storage.people.person(tx, current.completed_by) if current and current.completed_by else None
        return Outcome(False, case, current, (), None, by)

    async def _advance(
        self, tx: Tx, case: Case, sop: Sop, step: Step, target: str | None, outcome: str, actor: Person,
        now: datetime,
    ) -> tuple[list[StepInstance], str | None]:
        if target is None:
            nxt = sop.next_step(step)
        elif target == END:
            nxt = None
        else:
            nxt = sop.step(target)
        if nxt is not None:
            opened = await self._open_step(tx, case, sop, nxt, now)
            await self._notify_progress(tx, case, sop, nxt, opened, now, returned=outcome == "return")
            return [opened], None
        if await storage.steps.open_steps_of_case(tx, case.id):
            return [], None
        state = "rejected" if outcome == "reject" else "completed"
        await storage.cases.close_case(tx, case.id, state, now, None)
        await storage.events.insert_event(tx, type=f"case_{state}", now=now, case_id=case.id, actor_id=actor.id)
        await self._notify_closed(tx, case, sop, state, actor, None, now)
        return [], state

    async def _store_output(
        self, tx: Tx, case: Case, instance: StepInstance, by: int, up: FileUpload, now: datetime
    ) -> int:
        aid = await storage.attachments.insert_attachment(
            tx, case_id=case.id, step_instance_id=instance.id, purpose="output", field=None, file_id=up.file_id,
            file_unique_id=up.file_unique_id, file_name=up.file_name, mime_type=up.mime_type, file_size=up.file_size,
            uploaded_by=by, now=now,
        )
        await storage.events.insert_event(tx, type="output_attached", now=now, case_id=case.id,
                                          step_instance_id=instance.id,
                                 actor_id=by, data={"attachment_id": aid, "file_name": up.file_name})
        return aid

    async def attach_output(self, step_id: int, actor_id: int, upload: FileUpload) -> Attachment:
        """Attach the step's output (the next holder receives it when the step is done)."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            instance, case, _ = await self._load_step(tx, step_id)
            actor = await storage.people.person(tx, actor_id)
            if actor is None or not instance.is_open or not self._may_act(actor, instance):
                raise EngineError("not_holder" if instance.is_open else "step_closed", step=instance.step_no)
            aid = await self._store_output(tx, case, instance, actor_id, upload, now)
            rows = await storage.attachments.attachments(tx, case.id, instance.id)
        return next(a for a in rows if a.id == aid)

    # ------------------------------------------------------------ delegation and cancellation

    async def reassign(self, step_id: int, by_id: int, to_id: int, reason: str) -> Outcome:
        """Disposisi: the holder, a supervisor of the unit or an admin hands an open step to someone else."""
        reason = " ".join(reason.split())
        if not reason:
            raise EngineError("reason_required")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            instance, case, sop = await self._load_step(tx, step_id)
            by = await storage.people.person(tx, by_id)
            to = await storage.people.person(tx, to_id)
            if by is None:
                raise EngineError("not_registered")
            if not instance.is_open:
                return await self._already(tx, case, instance)
            if to is None or not to.active or not to.is_staff or to.institution != case.institution:
                raise EngineError("bad_target")
            if to.id == instance.holder_id:
                raise EngineError("same_holder", name=to.name)
            candidates = await self.reassign_candidates(tx, instance, case, by)
            if to.id not in {p.id for p in candidates}:
                raise EngineError("not_allowed_reassign" if not candidates else "bad_target")
            previous = await storage.people.person(tx, instance.holder_id) if instance.holder_id else None
            target, acting_for = await self._route_acting(tx, to, now)
            if not await storage.steps.set_holder(tx, step_id, target.id, acting_for.id if acting_for else None):
                return await self._already(tx, case, instance)
            await storage.events.insert_event(
                tx, type="step_reassigned", now=now, case_id=case.id, step_instance_id=step_id, actor_id=by.id,
                on_behalf_of=acting_for.id if acting_for else None,
                data={"from": previous.id if previous else None, "to": target.id, "reason": reason,
                      "step": instance.step_no},
            )
            if not await storage.steps.unassigned_open_steps_of_case(tx, case.id):
                await storage.cases.set_case_unassigned(tx, case.id, False)
            step = sop.step(instance.step_no)
            updated = await storage.steps.step(tx, step_id)
            assert updated is not None
            await self._notify_assigned(tx, case, sop, step, updated, target, acting_for, now,
                                        reassigned_by=by, reason=reason)
            if previous is not None and previous.id not in (by.id, target.id):
                await self._enqueue(tx, previous, "step_taken_over",
                                    payloads.taken_over(case, step, by, target, reason), PRIORITY_NORMAL, now)
        return Outcome(True, case, updated)

    async def reassign_candidates(
        self, r: Reader, instance: StepInstance, case: Case, by: Person
    ) -> list[Person]:
        """Who ``by`` may hand this step to: colleagues with the role (holder), anyone in the unit (supervisor)."""
        if not instance.is_open:
            return []
        staff = [p for p in await storage.people.people(r) if p.is_staff and p.institution == case.institution]
        role = self.catalog.roles.roles.get(instance.role)
        if by.is_admin or self.is_supervisor_of(by, case, instance.role):
            in_unit = [p for p in staff if p.unit == case.unit or p.unit is None or (role and role.scope == "org")]
            return [p for p in in_unit if p.id != instance.holder_id]
        if by.id == instance.holder_id or (instance.acting_for_id and by.id == instance.holder_id):
            return [p for p in staff if instance.role in p.roles and p.id != by.id and
                    (role is None or role.scope == "org" or p.unit == case.unit)]
        return []

    def is_supervisor_of(self, person: Person, case: Case, role_id: str) -> bool:
        """A Kabid of the case's unit, or an org-wide supervisor above the role (Sekretaris, Kepala Badan)."""
        if person.institution != case.institution:
            return False
        chain = set(self.catalog.roles.supervisors(role_id))
        for r in person.roles:
            if r not in SUPERVISOR_ROLES:
                continue
            role = self.catalog.roles.roles.get(r)
            same_unit = role is not None and (role.scope == "org" or person.unit == case.unit)
            if same_unit and (r in chain or r in ("kepala_badan", "sekretaris", "sekda")):
                return True
        return False

    async def cancel(self, case_id: int, by_id: int, reason: str) -> Outcome:
        """Withdraw a request: the requester or an admin, with a reason."""
        reason = " ".join(reason.split())
        if not reason:
            raise EngineError("reason_required")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            case = await storage.cases.case(tx, case_id)
            by = await storage.people.person(tx, by_id)
            if case is None:
                raise EngineError("case_not_found")
            if by is None or not (by.id == case.requester_id or by.is_admin):
                raise EngineError("not_allowed_cancel")
            if not case.is_open:
                return Outcome(False, case)
            sop = await self.sop_of(case, tx)
            holders = [s.holder_id for s in await storage.steps.open_steps_of_case(tx, case_id) if s.holder_id]
            await storage.steps.cancel_open_steps(tx, case_id, now)
            await storage.cases.close_case(tx, case_id, "cancelled", now, reason)
            await storage.events.insert_event(tx, type="case_cancelled", now=now, case_id=case_id, actor_id=by.id,
                                     data={"reason": reason})
            await self._notify_closed(tx, case, sop, "cancelled", by, reason, now, extra=holders)
            case = await storage.cases.case(tx, case_id)
            assert case is not None
        return Outcome(True, case, closed="cancelled")

    # ------------------------------------------------------------ acting officials and holder changes

    async def act_for(
        self, absent_id: int, acting_id: int, start: str, end: str, *, kind: str = "plh", reason: str = "",
        by_id: int | None = None,
    ) -> list[StepInstance]:
        """Plt/Plh: route the absent person's open and new steps to the acting one for a date range."""
        if end < start:
            raise EngineError("bad_dates")
        now = self.clock.now()
        moved: list[StepInstance] = []
        async with self.db.transaction() as tx:
            absent = await storage.people.person(tx, absent_id)
            acting = await storage.people.person(tx, acting_id)
            if absent is None or acting is None or not acting.active or not acting.is_staff or absent_id == acting_id:
                raise EngineError("bad_target")
            await storage.acting.insert_acting(tx, absent_id=absent_id, acting_id=acting_id, kind=kind, start=start,
                                               end=end,
                                      reason=reason, now=now)
            await storage.events.insert_event(tx, type="acting_set", now=now, actor_id=by_id, on_behalf_of=absent_id,
                                     data={"acting_id": acting_id, "start": start, "end": end, "kind": kind})
            today = now.astimezone(self.calendar.tz).date().isoformat()
            if start <= today <= end:
                for instance in await storage.steps.open_steps_held_by(tx, absent_id):
                    await storage.steps.set_holder(tx, instance.id, acting_id, absent_id)
                    case = await storage.cases.case(tx, instance.case_id)
                    assert case is not None
                    sop = await self.sop_of(case, tx)
                    await storage.events.insert_event(
                        tx, type="step_rerouted", now=now, case_id=case.id, step_instance_id=instance.id,
                        actor_id=acting_id, on_behalf_of=absent_id, data={"step": instance.step_no, "kind": kind},
                    )
                    updated = await storage.steps.step(tx, instance.id)
                    assert updated is not None
                    await self._notify_assigned(tx, case, sop, sop.step(instance.step_no), updated, acting, absent, now)
                    moved.append(updated)
        return moved

    async def release_person(self, person_id: int) -> list[StepInstance]:
        """Hand a departing person's open steps to another holder of the role (or mark them unassigned)."""
        now = self.clock.now()
        moved: list[StepInstance] = []
        async with self.db.transaction() as tx:
            for instance in await storage.steps.open_steps_held_by(tx, person_id):
                case = await storage.cases.case(tx, instance.case_id)
                assert case is not None
                if instance.role == "requester":
                    continue
                sop = await self.sop_of(case, tx)
                step = sop.step(instance.step_no)
                holder, acting_for = await self._choose_holder(tx, case, instance.role, now, {person_id})
                await storage.steps.set_holder(tx, instance.id, holder.id if holder else None,
                                       acting_for.id if acting_for else None)
                await storage.events.insert_event(tx, type="step_released", now=now, case_id=case.id,
                                         step_instance_id=instance.id, on_behalf_of=person_id,
                                         data={"holder_id": holder.id if holder else None})
                updated = await storage.steps.step(tx, instance.id)
                assert updated is not None
                if holder is None:
                    await storage.cases.set_case_unassigned(tx, case.id, True)
                    await self._notify_unassigned(tx, case, sop, step, updated, now)
                else:
                    await self._notify_assigned(tx, case, sop, step, updated, holder, acting_for, now)
                moved.append(updated)
        return moved

    async def assign_waiting(self) -> list[StepInstance]:
        """Give unassigned open steps to anyone who now holds their role (after people change)."""
        now = self.clock.now()
        assigned: list[StepInstance] = []
        async with self.db.transaction() as tx:
            for instance in await storage.steps.unassigned_open_steps(tx):
                case = await storage.cases.case(tx, instance.case_id)
                assert case is not None
                holder, acting_for = await self._choose_holder(tx, case, instance.role, now, set())
                if holder is None:
                    continue
                await storage.steps.set_holder(tx, instance.id, holder.id, acting_for.id if acting_for else None)
                await storage.events.insert_event(tx, type="step_assigned", now=now, case_id=case.id,
                                         step_instance_id=instance.id, data={"holder_id": holder.id})
                if not await storage.steps.unassigned_open_steps_of_case(tx, case.id):
                    await storage.cases.set_case_unassigned(tx, case.id, False)
                sop = await self.sop_of(case, tx)
                updated = await storage.steps.step(tx, instance.id)
                assert updated is not None
                await self._notify_assigned(tx, case, sop, sop.step(instance.step_no), updated, holder, acting_for,
                                            now)
                assigned.append(updated)
        return assigned

    # ------------------------------------------------------------ questions about a case

    async def case_by_ref(self, ref: str | int) -> Case | None:
        """A case by register number ('KTP-INFO-2026-0007') or database number ('12')."""
        text = str(ref).strip().lstrip("#")
        if text.isdigit():
            return await storage.cases.case(self.db, int(text))
        return await storage.cases.case_by_register(self.db, text.upper())

    async def what_next(self, case_id: int) -> WhatNext:
        case = await storage.cases.case(self.db, case_id)
        if case is None:
            raise EngineError("case_not_found")
        sop = await self.sop_of(case)
        current: list[CurrentStep] = []
        for instance in await storage.steps.open_steps_of_case(self.db, case_id):
            holder = await storage.people.person(self.db, instance.holder_id) if instance.holder_id else None
            acting = await storage.people.person(self.db, instance.acting_for_id) if instance.acting_for_id else None
            current.append(CurrentStep(instance, sop.step(instance.step_no), holder, acting))
        following: list[tuple[str, Step | None]] = []
        if current:
            step = current[0].step
            if step.decision:
                for b in step.decision.branches:
                    following.append((b.label, None if b.target == END else sop.step(b.target)))
            else:
                following.append(("", sop.next_step(step)))
        return WhatNext(case, sop, tuple(current), tuple(following))

    async def history(self, case_id: int) -> list[tuple[Event, Person | None, Person | None]]:
        """The case's audit trail with the actor and, where someone acted for another, that person."""
        out = []
        cache: dict[int, Person | None] = {}

        async def who(pid: int | None) -> Person | None:
            if pid is None:
                return None
            if pid not in cache:
                cache[pid] = await storage.people.person(self.db, pid)
            return cache[pid]

        for ev in await storage.events.events_of_case(self.db, case_id):
            out.append((ev, await who(ev.actor_id), await who(ev.on_behalf_of)))
        return out

    async def steps(self, case_id: int) -> list[StepInstance]:
        return await storage.steps.steps_of_case(self.db, case_id)

    async def open_tasks(self, person_id: int) -> list[tuple[StepInstance, Case, Step]]:
        """A person's open steps, soonest due first."""
        out = []
        for instance in await storage.steps.open_steps_held_by(self.db, person_id):
            case = await storage.cases.case(self.db, instance.case_id)
            assert case is not None
            sop = await self.sop_of(case)
            out.append((instance, case, sop.step(instance.step_no)))
        return out

    async def step_notice(self, step_id: int) -> dict[str, Any]:
        """The assignment payload of an open step as it stands now (for /tugas and re-sent cards)."""
        instance, case, sop = await self._load_step(self.db, step_id)
        requester = await storage.people.person(self.db, case.requester_id)
        assert requester is not None
        acting = await storage.people.person(self.db, instance.acting_for_id) if instance.acting_for_id else None
        for_requester = instance.holder_id == case.requester_id
        return payloads.assignment(
            case, sop, sop.step(instance.step_no), instance, self.catalog.roles, requester,
            self._agency_name(requester), acting_for=acting, reassigned_by=None, reason=None,
            files=handed_files(await storage.attachments.attachments(self.db, case.id), for_requester),
                for_requester=for_requester,
        )

    async def may_view(self, person: Person, case: Case) -> bool:
        """The requester, an admin, or staff of the case's institution may see a case."""
        return person.id == case.requester_id or person.is_admin or (
            person.is_staff and person.institution == case.institution
        )

    async def step_context(self, step_id: int) -> tuple[StepInstance, Case, Sop, Step]:
        instance, case, sop = await self._load_step(self.db, step_id)
        return instance, case, sop, sop.step(instance.step_no)

    async def _load_step(self, r: Reader, step_id: int) -> tuple[StepInstance, Case, Sop]:
        instance = await storage.steps.step(r, step_id)
        if instance is None:
            raise EngineError("step_not_found")
        case = await storage.cases.case(r, instance.case_id)
        assert case is not None
        return instance, case, await self.sop_of(case, r)

    # ------------------------------------------------------------ notifications (outbox rows)

    async def _enqueue(
        self, tx: Tx, person: Person, kind: str, payload: dict[str, Any], priority: int, now: datetime,
        dedupe_key: str | None = None,
    ) -> None:
        """Queue a notification, then each document it carries as its own message (delivered right after)."""
        await storage.outbox.enqueue(tx, person_id=person.id, chat_id=person.telegram_id, kind=kind, payload=payload,
                            priority=priority, now=now, dedupe_key=dedupe_key)
        for f in payload.get("files") or []:
            await storage.outbox.enqueue(tx, person_id=person.id, chat_id=person.telegram_id, kind="document",
                                payload={"file_id": f["file_id"], "file_name": f.get("file_name"),
                                         "register_no": payload.get("register_no")},
                                priority=priority, now=now)

    async def _requester(self, tx: Tx, case: Case) -> Person:
        person = await storage.people.person(tx, case.requester_id)
        assert person is not None
        return person

    def _agency_name(self, person: Person) -> str:
        agency = self.agencies.get(person.opd or "")
        return getattr(agency, "name", "") if agency else ""

    async def _notify_filed(
        self, tx: Tx, case: Case, sop: Sop, requester: Person, opened: list[StepInstance], now: datetime
    ) -> None:
        current = []
        for inst in opened:
            current.append(payloads.position(sop, sop.step(inst.step_no), self.catalog.roles, inst))
        await self._enqueue(tx, requester, "case_filed", payloads.filed(case, sop, current), PRIORITY_REPLY, now)

    async def _notify_assigned(
        self, tx: Tx, case: Case, sop: Sop, step: Step, instance: StepInstance, holder: Person,
        acting_for: Person | None, now: datetime, *, reassigned_by: Person | None = None, reason: str | None = None,
    ) -> None:
        requester = await self._requester(tx, case)
        for_requester = holder.id == case.requester_id
        payload = payloads.assignment(
            case, sop, step, instance, self.catalog.roles, requester, self._agency_name(requester),
            acting_for=acting_for, reassigned_by=reassigned_by, reason=reason,
            files=handed_files(await storage.attachments.attachments(tx, case.id), for_requester),
                for_requester=for_requester,
        )
        await self._enqueue(tx, holder, "assignment", payload, PRIORITY_NORMAL, now)

    async def _notify_progress(
        self, tx: Tx, case: Case, sop: Sop, step: Step, opened: StepInstance, now: datetime, *, returned: bool
    ) -> None:
        requester = await self._requester(tx, case)
        if opened.holder_id == requester.id:
            return
        payload = payloads.progress(case, sop, step, self.catalog.roles, opened, returned=returned)
        await self._enqueue(tx, requester, "progress", payload, PRIORITY_NORMAL, now)

    async def _notify_unassigned(
        self, tx: Tx, case: Case, sop: Sop, step: Step, instance: StepInstance, now: datetime
    ) -> None:
        payload = payloads.unassigned(case, sop, step, self.catalog.roles, self._unit_name(case))
        for person in await self._supervisors_and_admins(tx, case):
            await self._enqueue(tx, person, "unassigned", payload, PRIORITY_NORMAL, now)

    async def _supervisors_and_admins(self, r: Reader, case: Case) -> list[Person]:
        people = await storage.people.people_with_roles(r, [*SUPERVISOR_ROLES, ADMIN], case.institution)
        out = []
        for p in people:
            unit_role = any(
                (role := self.catalog.roles.roles.get(x)) is not None and role.scope == "unit" for x in p.roles
                if x in SUPERVISOR_ROLES
            )
            if p.is_admin or not unit_role or p.unit == case.unit:
                out.append(p)
        return out

    def _unit_name(self, case: Case) -> str:
        inst = self.catalog.institutions.get(case.institution)
        unit = inst.unit(case.unit) if inst else None
        return unit.name if unit else case.unit

    async def _notify_closed(
        self, tx: Tx, case: Case, sop: Sop, state: str, by: Person, reason: str | None, now: datetime,
        extra: list[int] | None = None,
    ) -> None:
        finals = [a for a in await storage.attachments.attachments(tx, case.id) if a.purpose == "output"]
        steps = await storage.steps.steps_of_case(tx, case.id)
        if steps and steps[-1].role == "requester":
            finals = []  # the requester's own last step already handed them the result
        concerned = {case.requester_id, *(extra or [])}
        for inst in steps:
            if inst.holder_id:
                concerned.add(inst.holder_id)
            if inst.completed_by:
                concerned.add(inst.completed_by)
        for pid in sorted(concerned):
            person = await storage.people.person(tx, pid)
            if person is None:
                continue
            payload = payloads.closed(case, sop, state, by, reason, finals[-1:] if pid == case.requester_id else [],
                                     for_requester=pid == case.requester_id)
            await self._enqueue(tx, person, f"case_{state}", payload, PRIORITY_NORMAL, now)


def handed_files(files: list[Attachment], for_requester: bool) -> list[Attachment]:
    """What goes with a new step: the latest output handed on, and (for staff) the request's own documents."""
    outputs = [a for a in files if a.purpose == "output"][-1:]
    return outputs if for_requester else outputs + [a for a in files if a.purpose == "intake"]


def intake_problem(kind: str, value: str, max_length: int, choices: list[str]) -> str | None:
    """Why an intake answer is not acceptable, as an error code (None when it is fine)."""
    if len(value) > max_length:
        return "intake_too_long"
    if kind == "phone":
        digits = "".join(ch for ch in value if ch.isdigit())
        if not 8 <= len(digits) <= 15 or any(ch not in "0123456789+-() " for ch in value):
            return "intake_bad_phone"
    if kind == "choice" and choices and value not in choices:
        return "intake_bad_choice"
    return None


def lateness(calendar: WorkCalendar, instance: StepInstance, now: datetime) -> timedelta:
    """Working time past the due moment (zero when not late)."""
    if instance.due_at is None or now <= instance.due_at:
        return timedelta(0)
    return calendar.between(instance.due_at, now)
