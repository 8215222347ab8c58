"""Who may see and do what: one place for the rules every read path and every write path checks.

The edges (commands, free-text questions, /siapa, buttons) and the use cases ask this class; none
of them decides on its own. The rules:

* nobody unregistered or deactivated sees a request or starts one (they get public SOP content only);
* a request is seen by its requester, by staff of the request's institution, by that institution's
  admin and by a system admin (see ``Supervision.administers``);
* a step is completed, decided or given an output only by its holder;
* a request is withdrawn by its requester, or cancelled by an admin over its institution;
* a SOP is started only by someone of the SOP's institution who holds one of its starter roles
  (an admin over the institution may start any of its SOPs).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.sop.model import Sop
from bot.storage.records import Case, Person, StepInstance
from bot.workflow.supervision import Supervision


class Access:
    def __init__(self, supervision: Supervision) -> None:
        self.supervision = supervision

    def may_view(self, person: Person | None, case: Case) -> bool:
        """The requester, staff of the case's institution, or an admin over it may see a case."""
        if person is None or not person.active:
            return False
        return (
            person.id == case.requester_id
            or (person.is_staff and person.institution == case.institution)
            or self.supervision.administers(person, case.institution)
        )

    def visible(self, person: Person | None, cases: Iterable[Case]) -> list[Case]:
        """The cases of a list this person may see (for listings)."""
        return [c for c in cases if self.may_view(person, c)]

    def may_act(self, person: Person, instance: StepInstance) -> bool:
        """Only the step's holder completes, decides or attaches to it."""
        return person.active and person.id == instance.holder_id

    def may_cancel(self, person: Person | None, case: Case) -> bool:
        """The requester withdraws their own request; an admin over its institution may cancel it."""
        if person is None or not person.active:
            return False
        return person.id == case.requester_id or self.supervision.administers(person, case.institution)

    def may_start(self, person: Person | None, sop: Sop) -> bool:
        """Someone of the SOP's institution with one of its starter roles (or an admin over it)."""
        return self.start_refusal(person, sop) is None

    def start_refusal(self, person: Person | None, sop: Sop) -> str | None:
        """Why this person may not start this SOP, as an error code (None when they may)."""
        if person is None or not person.active:
            return "not_registered"
        if self.supervision.administers(person, sop.institution):
            return None
        if person.institution != sop.institution or not set(person.roles) & set(sop.starters):
            return "not_allowed_to_start"
        return None
