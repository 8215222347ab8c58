"""Filing a request: check the intake, give the case a register number, open and assign its first step.

The case, its documents, its first step and the notices all land in one transaction; with
``consume_draft`` the requester's saved draft is deleted in it too, so a submitted draft never
survives and a failed one is never half-filed.
"""

from __future__ import annotations

from bot import storage
from bot.core.states import AttachmentPurpose, EventType, PromptKind, StepOutcome
from bot.sop.model import Sop, snapshot
from bot.storage.records import Person, StepInstance
from bot.workflow.access import Access
from bot.workflow.assignment import Assigner
from bot.workflow.deps import WorkflowDeps
from bot.workflow.errors import WorkflowError
from bot.workflow.inputs import check_upload, clean_answer
from bot.workflow.notify import Notifier
from bot.workflow.results import FileUpload, Outcome


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


def check_intake(sop: Sop, intake: dict[str, str], uploads: dict[str, FileUpload]) -> dict[str, str]:
    """Validate the intake answers against the SOP's fields; raise with the first problem."""
    clean: dict[str, str] = {}
    for fld in sop.intake:
        if fld.kind == "document":
            if fld.required and fld.key not in uploads:
                raise WorkflowError("intake_missing", field=fld.label)
            if fld.key in uploads:
                check_upload(uploads[fld.key])
            continue
        value = clean_answer(str(intake.get(fld.key, "")), multiline=fld.kind == "long_text")
        if not value:
            if fld.required:
                raise WorkflowError("intake_missing", field=fld.label)
            continue
        problem = intake_problem(fld.kind, value, fld.max_length, fld.choices)
        if problem:
            raise WorkflowError(problem, field=fld.label, limit=fld.max_length)
        clean[fld.key] = value
    unknown = set(intake) - {f.key for f in sop.intake}
    if unknown:
        raise WorkflowError("intake_unknown", fields=sorted(unknown))
    return clean


def startable(sop: Sop | None, sop_id: str, person: Person | None, access: Access) -> Sop:
    """The SOP if this person may start it: it has steps, and the access rule lets them (institution, starter
    roles, active). Checked again on the server for every write, whatever the menu offered."""
    if sop is None:
        raise WorkflowError("unknown_sop", sop=sop_id)
    if sop.steps_missing or not sop.steps:
        raise WorkflowError("not_startable", sop=sop.title)
    refusal = access.start_refusal(person, sop)
    if refusal is not None:
        raise WorkflowError(refusal, sop=sop.title)
    return sop


class Filing:
    def __init__(self, deps: WorkflowDeps, assigner: Assigner, notify: Notifier, access: Access) -> None:
        self.d = deps
        self.assigner = assigner
        self.notify = notify
        self.access = access

    async def file_request(
        self,
        sop_id: str,
        requester_id: int,
        intake: dict[str, str],
        uploads: dict[str, FileUpload] | None = None,
        *,
        consume_draft: bool = False,
    ) -> Outcome:
        sop = self.d.catalog.get(sop_id)
        if sop is None:
            raise WorkflowError("unknown_sop", sop=sop_id)
        if sop.steps_missing or not sop.steps:
            raise WorkflowError("not_startable", sop=sop.title)
        uploads = uploads or {}
        clean = check_intake(sop, intake, uploads)
        now = self.d.clock.now()
        async with self.d.db.transaction() as tx:
            requester = await storage.people.person(tx, requester_id)
            if requester is None or not requester.active:
                raise WorkflowError("not_registered")
            startable(sop, sop_id, requester, self.access)
            await storage.sop_versions.ensure_sop_version(tx, sop_id=sop.id, sop_hash=sop.content_hash,
                                                          snapshot=snapshot(sop), now=now)
            inst = self.d.catalog.institution(sop.institution)
            year = now.astimezone(self.d.calendar.tz).year
            number = await storage.cases.next_register_number(tx, f"{inst.prefix}-{sop.register_code}", year)
            register_no = f"{inst.prefix}-{sop.register_code}-{year}-{number:04d}"
            case_id = await storage.cases.insert_case(
                tx, register_no=register_no, sop_id=sop.id, sop_hash=sop.content_hash, institution=sop.institution,
                unit=sop.unit, requester_id=requester_id, title=sop.title, intake=clean, now=now,
                requester_name=requester.name, requester_opd=requester.opd,
                requester_agency=self.d.agency_name(requester),
            )
            for key, up in uploads.items():
                await storage.attachments.insert_attachment(
                    tx, case_id=case_id, step_instance_id=None, purpose=AttachmentPurpose.INTAKE, field=key,
                    file_id=up.file_id, file_unique_id=up.file_unique_id, file_name=up.file_name,
                    mime_type=up.mime_type, file_size=up.file_size, uploaded_by=requester_id, now=now,
                )
            await storage.events.insert_event(
                tx, type=EventType.CASE_FILED, now=now, case_id=case_id, actor_id=requester_id,
                data={"register_no": register_no, "sop_id": sop.id, "sop_hash": sop.content_hash},
            )
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
                await storage.steps.finish_step(tx, sid, by=requester_id, now=now, outcome=StepOutcome.DONE,
                                                branch_label=None, note=None)
                await storage.events.insert_event(tx, type=EventType.STEP_COMPLETED, now=now, case_id=case_id,
                                                  step_instance_id=sid, actor_id=requester_id,
                                                  data={"step": first.number, "via": "filing"})
                nxt = sop.next_step(first)
                if nxt is not None:
                    opened.append(await self.assigner.open_step(tx, case, sop, nxt, now))
            else:
                opened.append(await self.assigner.open_step(tx, case, sop, first, now))
            await self.notify.filed(tx, case, sop, requester, opened, now)
            if consume_draft:
                await storage.drafts.delete_draft(tx, requester_id)
                await storage.prompts.clear_prompt(tx, requester_id, PromptKind.INTAKE)
            case = await storage.cases.case(tx, case_id)
            assert case is not None
        return Outcome(True, case, None, tuple(opened))
