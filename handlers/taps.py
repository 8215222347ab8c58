"""Button taps: decoding, the checks every tap on a step or a case needs, and answering each tap once.

A tap's ``callback_data`` names ids, never authority: the decorators here load the step or case
it names, check that the person may act on it, and map the workflow's refusals to an alert. A
tap is always answered (the dispatcher answers one the handler did not), and a failed answer
never stops its effect.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Message, Update

from bot.storage.records import Case, Person, StepInstance
from bot.workflow.access import Access
from bot.workflow.errors import WorkflowError
from handlers.context import AlurContext
from handlers.keyboards import Tap
from handlers.replies import answer, drop_buttons, person_of, reply_error


@dataclass
class Tapped:
    """A tap being handled: the query, its decoded data, and whether it was answered yet."""

    query: CallbackQuery
    tap: Tap
    answered: bool = False

    @property
    def message(self) -> Message | None:
        return self.query.message if isinstance(self.query.message, Message) else None

    async def ok(self, text: str | None = None) -> None:
        """Answer the tap quietly (or with a short toast) if it was not answered yet."""
        if not self.answered:
            self.answered = True
            await answer(self.query, text)

    async def alert(self, context: AlurContext, code: str, **params: Any) -> None:
        self.answered = True
        await answer(self.query, context.error_text(code, **params), alert=True)

    async def alert_text(self, text: str) -> None:
        self.answered = True
        await answer(self.query, text, alert=True)


TapHandler = Callable[[Update, AlurContext, Tapped], Awaitable[None]]


@dataclass
class StepTap:
    """A tap on a step's button by someone entitled to it; the step is open."""

    person: Person
    step: StepInstance
    tapped: Tapped

    @property
    def tap(self) -> Tap:
        return self.tapped.tap

    @property
    def message(self) -> Message | None:
        return self.tapped.message


@dataclass
class CaseTap:
    """A tap on a case's button by someone who may see the case."""

    person: Person
    case: Case
    tapped: Tapped


async def _tapper(update: Update, context: AlurContext, t: Tapped) -> Person | None:
    """The registered person who tapped, or None after telling them to register."""
    person = await person_of(update, context)
    if person is None:
        await t.alert(context, "not_registered")
    return person


async def _act(update: Update, context: AlurContext, t: Tapped, action: Awaitable[None]) -> None:
    """Run the tap's action; a workflow refusal after the tap was answered goes to the chat, before it is
    the tap's alert."""
    try:
        await action
    except WorkflowError as exc:
        if t.answered:
            await reply_error(update, context, exc.code, **exc.params)
        else:
            await t.alert(context, exc.code, **exc.params)


def step_tap(*, holder_only: bool = True) -> Callable[[Callable[[Update, AlurContext, StepTap], Awaitable[None]]],
                                                       TapHandler]:
    """A handler for a button on a step: the tapper is registered, the step exists and is open, and
    (``holder_only``) they hold it. A closed step answers who closed it and loses its buttons."""

    def wrap(fn: Callable[[Update, AlurContext, StepTap], Awaitable[None]]) -> TapHandler:
        @functools.wraps(fn)
        async def handler(update: Update, context: AlurContext, t: Tapped) -> None:
            person = await _tapper(update, context, t)
            if person is None:
                return
            sid = t.tap.int_arg(0)
            queries = context.workflow.queries
            instance = await queries.step(sid) if sid is not None else None
            if instance is None or not await _may_see_step(context, person, instance):
                await t.alert(context, "garbage")
            elif not instance.is_open:
                by = await queries.person(instance.completed_by) if instance.completed_by else None
                await t.alert_text(context.plain("step_closed_alert", by=by.name if by else None))
                await drop_buttons(t.message)
            elif holder_only and instance.holder_id != person.id:
                await t.alert(context, "not_holder")
            else:
                await _act(update, context, t, fn(update, context, StepTap(person, instance, t)))

        return handler

    return wrap


async def _may_see_step(context: AlurContext, person: Person, instance: StepInstance) -> bool:
    """Its holder, or someone who may see its case: anyone else is answered as for a step that does not
    exist (a forged step id must not tell who closed it, nor that it exists)."""
    if instance.holder_id == person.id:
        return True
    case = await context.workflow.queries.case(instance.case_id)
    return case is not None and context.workflow.access.may_view(person, case)


CaseRule = Callable[[Access, Person, Case], bool]


def _may_view(access: Access, person: Person, case: Case) -> bool:
    return access.may_view(person, case)


def case_tap(*, allowed: CaseRule = _may_view, refusal: str = "not_allowed_view") -> Callable[
        [Callable[[Update, AlurContext, CaseTap], Awaitable[None]]], TapHandler]:
    """A handler for a button on a case: the tapper is registered and ``allowed`` (by default: may see it).

    A case the tapper may not see gets the same answer as one that does not exist, whatever ``refusal``
    says: only someone who may see the case learns why else they may not act on it.
    """

    def wrap(fn: Callable[[Update, AlurContext, CaseTap], Awaitable[None]]) -> TapHandler:
        @functools.wraps(fn)
        async def handler(update: Update, context: AlurContext, t: Tapped) -> None:
            person = await _tapper(update, context, t)
            if person is None:
                return
            cid = t.tap.int_arg(0)
            case = await context.workflow.queries.case(cid) if cid is not None else None
            if cid is None:
                await t.alert(context, "garbage")
            elif case is None or not context.workflow.access.may_view(person, case):
                await t.alert(context, "case_unavailable")
            elif not allowed(context.workflow.access, person, case):
                await t.alert(context, refusal)
            else:
                await _act(update, context, t, fn(update, context, CaseTap(person, case, t)))

        return handler

    return wrap
