"""Who may see and do what with a case: one place for the rules the edges and the use cases check."""

from __future__ import annotations

from bot.storage.records import Case, Person, StepInstance


class Access:
    def may_view(self, person: Person, case: Case) -> bool:
        """The requester, an admin, or staff of the case's institution may see a case."""
        return person.id == case.requester_id or person.is_admin or (
            person.is_staff and person.institution == case.institution
        )

    def may_act(self, person: Person, instance: StepInstance) -> bool:
        """Only the step's holder completes, decides or attaches to it."""
        return person.id == instance.holder_id

    def may_cancel(self, person: Person, case: Case) -> bool:
        """The requester withdraws their own request; an admin may cancel any."""
        return person.id == case.requester_id or person.is_admin
