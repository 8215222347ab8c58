"""Refusals of workflow and people operations; the code selects the Indonesian message at the edge."""

from __future__ import annotations

from bot.core.errors import DomainError


class WorkflowError(DomainError):
    """A workflow operation refused (not the holder, needs a decision, bad intake, …)."""


class PeopleError(DomainError):
    """A people operation that cannot be done (unknown role, invite used, …)."""
