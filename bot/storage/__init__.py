"""Storage: the only place with SQL. One module per aggregate, each returning typed records."""

from bot.storage import (
    acting,
    alarms,
    app_settings,
    attachments,
    board,
    bulk,
    cases,
    digests,
    drafts,
    events,
    invites,
    outbox,
    pacing,
    people,
    prompts,
    retention,
    sla,
    sop_versions,
    steps,
    updates,
    workers,
)

__all__ = [
    "acting", "alarms", "app_settings", "attachments", "board", "bulk", "cases", "digests", "drafts", "events",
    "invites", "outbox", "pacing", "people", "prompts", "retention", "sla", "sop_versions", "steps", "updates",
    "workers",
]
