"""A request being filled in, one intake field at a time, kept in the database.

The draft is saved after every answer, so a half-filled request survives a restart of the
bot; submitting files the case and deletes the draft in the same transaction.

A draft remembers the intake form it was started on (a fingerprint of the SOP's intake fields).
When an admin changes that form while someone is half-way, the answers no longer fit it: the
draft starts again from the first field of the new form, and the person is told so once
(WorkflowError ``intake_changed``) instead of being asked for a field the summary never shows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot import storage
from bot.core.clock import Clock
from bot.core.states import NoticeKind, Priority, PromptKind
from bot.sop.catalog import Catalog
from bot.sop.model import IntakeField, Sop
from bot.storage.db import Database
from bot.text.payloads import IntakePausedPayload
from bot.workflow.errors import WorkflowError
from bot.workflow.filing import Filing, intake_problem, startable
from bot.workflow.inputs import check_upload, clean_answer
from bot.workflow.results import FileUpload, Outcome


@dataclass(frozen=True)
class Draft:
    person_id: int
    sop: Sop
    answers: dict[str, str] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    position: int = 0
    last_message_id: int = 0
    """The Telegram message that gave the latest answer (a redelivered message is not applied twice)."""
    intake_hash: str = ""
    """The intake form the answers were given to (``intake_fingerprint``); '' means the SOP's current one."""

    def __post_init__(self) -> None:
        if not self.intake_hash:
            object.__setattr__(self, "intake_hash", intake_fingerprint(self.sop))

    @property
    def current(self) -> IntakeField | None:
        """The field to ask next, None when every field has been answered or skipped."""
        return self.sop.intake[self.position] if self.position < len(self.sop.intake) else None

    @property
    def number(self) -> int:
        return self.position + 1

    @property
    def total(self) -> int:
        return len(self.sop.intake)

    def summary(self) -> list[tuple[str, str, bool]]:
        """(label, answer or file name, is_document) for every answered field."""
        out = []
        for fld in self.sop.intake:
            if fld.kind == "document" and fld.key in self.uploads:
                out.append((fld.label, str(self.uploads[fld.key].get("file_name") or "dokumen"), True))
            elif fld.key in self.answers:
                out.append((fld.label, self.answers[fld.key], False))
        return out


def intake_fingerprint(sop: Sop) -> str:
    """A short hash of the SOP's intake form: its fields, their order, kinds and rules."""
    form = json.dumps([f.model_dump(mode="json") for f in sop.intake], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(form.encode()).hexdigest()[:16]


class Intake:
    def __init__(self, db: Database, catalog: Catalog, clock: Clock, filing: Filing) -> None:
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.filing = filing

    async def get(self, person_id: int) -> Draft | None:
        """The person's draft; WorkflowError ``intake_changed`` (after starting it again) when its form changed."""
        stored = await storage.drafts.draft(self.db, person_id)
        if stored is None:
            return None
        sop = self.catalog.get(stored.sop_id)
        if sop is None:
            return None
        current = intake_fingerprint(sop)
        if stored.intake_hash and stored.intake_hash != current:
            await self._restart(Draft(person_id, sop))
        return Draft(person_id, sop, stored.answers, stored.uploads, stored.position, stored.last_message_id,
                     current)

    async def _restart(self, fresh: Draft) -> None:
        """Start the draft again on the SOP's current form and say so."""
        await self._save(fresh, ask=True)
        raise WorkflowError("intake_changed", sop=fresh.sop.title)

    async def start(self, person_id: int, sop_id: str) -> Draft:
        """A new draft for the SOP; the person's next messages answer its fields.

        Whether they may start it is decided here from the person as stored (institution, starter roles,
        active), not from what a menu offered or a button claims.
        """
        person = await storage.people.person(self.db, person_id)
        sop = startable(self.catalog.get(sop_id), sop_id, person, self.filing.access)
        return await self._save(Draft(person_id, sop), ask=True)

    async def resume(self, person_id: int) -> Draft:
        """Pick up a saved draft again: the next messages answer its current field."""
        return await self._save(await self._require(person_id), ask=True)

    async def _save(self, draft: Draft, *, ask: bool = False) -> Draft:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await storage.drafts.save_draft(tx, person_id=draft.person_id, sop_id=draft.sop.id,
                                            answers=draft.answers, uploads=draft.uploads, position=draft.position,
                                            now=now, last_message_id=draft.last_message_id,
                                            intake_hash=draft.intake_hash)
            if ask:
                await storage.prompts.set_prompt(tx, draft.person_id, PromptKind.INTAKE, {"sop_id": draft.sop.id},
                                                 now)
            else:
                await storage.prompts.touch_prompt(tx, draft.person_id, now)
        return draft

    async def answer_text(
        self, person_id: int, text: str, *, message_id: int = 0, position: int | None = None
    ) -> Draft:
        """Answer the current field; ``message_id``/``position`` make a repeated delivery a no-op."""
        draft = await self._require(person_id)
        fld = draft.current
        if fld is None or _stale(draft, message_id, position):
            return draft
        if fld.kind == "document":
            raise WorkflowError("intake_need_document", field=fld.label)
        value = clean_answer(text, multiline=fld.kind == "long_text")
        if not value:
            raise WorkflowError("intake_missing", field=fld.label)
        problem = intake_problem(fld.kind, value, fld.max_length, fld.choices)
        if problem:
            raise WorkflowError(problem, field=fld.label, limit=fld.max_length)
        return await self._save(Draft(person_id, draft.sop, {**draft.answers, fld.key: value}, draft.uploads,
                                      draft.position + 1, max(message_id, draft.last_message_id)))

    async def answer_file(self, person_id: int, upload: FileUpload, *, message_id: int = 0) -> Draft:
        draft = await self._require(person_id)
        fld = draft.current
        if fld is None or _stale(draft, message_id, None):
            return draft
        if fld.kind != "document":
            raise WorkflowError("intake_need_text", field=fld.label)
        check_upload(upload)
        info = {"file_id": upload.file_id, "file_unique_id": upload.file_unique_id, "file_name": upload.file_name,
                "mime_type": upload.mime_type, "file_size": upload.file_size}
        return await self._save(Draft(person_id, draft.sop, draft.answers, {**draft.uploads, fld.key: info},
                                      draft.position + 1, max(message_id, draft.last_message_id)))

    async def skip(self, person_id: int, *, position: int | None = None) -> Draft:
        draft = await self._require(person_id)
        fld = draft.current
        if fld is None or _stale(draft, 0, position):
            return draft
        if fld.required:
            raise WorkflowError("intake_missing", field=fld.label)
        return await self._save(Draft(person_id, draft.sop, draft.answers, draft.uploads, draft.position + 1,
                                      draft.last_message_id))

    async def discard(self, person_id: int) -> bool:
        existed = await storage.drafts.draft(self.db, person_id) is not None
        async with self.db.transaction() as tx:
            await storage.drafts.delete_draft(tx, person_id)
            await storage.prompts.clear_prompt(tx, person_id, PromptKind.INTAKE)
        return existed

    async def pause_idle(self, idle_for: timedelta) -> int:
        """Stop waiting for intake answers nobody gave for ``idle_for``; the draft stays, the person is told once."""
        now = self.clock.now()
        paused = 0
        for idle in await storage.prompts.idle_prompts(self.db, PromptKind.INTAKE, now - idle_for):
            async with self.db.transaction() as tx:
                if not await storage.prompts.clear_prompt(tx, idle.person_id, PromptKind.INTAKE):
                    continue
                person = await storage.people.person(tx, idle.person_id)
                draft = await storage.drafts.draft(tx, idle.person_id)
                if person is None or draft is None:
                    continue
                sop = self.catalog.get(draft.sop_id)
                payload = IntakePausedPayload(title=sop.title if sop else draft.sop_id)
                await storage.outbox.enqueue(tx, person_id=person.id, chat_id=person.telegram_id,
                                             kind=NoticeKind.INTAKE_PAUSED, payload=payload, priority=Priority.NORMAL,
                                             now=now)
                paused += 1
        return paused

    async def submit(self, person_id: int) -> Outcome:
        draft = await self._require(person_id)
        uploads = {k: FileUpload(**v) for k, v in draft.uploads.items()}
        try:
            return await self.filing.file_request(draft.sop.id, person_id, draft.answers, uploads,
                                                  consume_draft=True)
        except WorkflowError as exc:
            if exc.code.startswith("intake") and draft.current is None:
                # every field was answered and still the form refuses them: the form is not the one they
                # were given to (a draft from before forms were fingerprinted). Asking again would loop.
                await self._restart(Draft(person_id, draft.sop))
            raise

    async def _require(self, person_id: int) -> Draft:
        draft = await self.get(person_id)
        if draft is None:
            raise WorkflowError("no_draft")
        return draft


def _stale(draft: Draft, message_id: int, position: int | None) -> bool:
    """An answer already applied (same or older message) or meant for another question."""
    return (message_id and message_id <= draft.last_message_id) or (position is not None and position != draft.position)
