"""When to remind and escalate, in working time (set from the settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.sop.durations import Duration


@dataclass(frozen=True)
class ReminderPolicy:
    remind_fraction: float = 0.75
    prewarn_minutes: int = 60
    prewarn_min_standard: int = 120
    escalation_grace: Duration = field(default_factory=lambda: Duration(minutes=60))
    escalation_levels: int = 2
