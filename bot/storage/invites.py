"""One-use invites that bind a Telegram account to staff roles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.clock import iso
from bot.storage.db import Reader, Tx, to_json
from bot.storage.records import Invite


async def insert_invite(
    tx: Tx, *, code: str, name: str, roles: Sequence[str], institution: str, unit: str | None,
    now: datetime, created_by: int | None = None, person_id: int | None = None,
) -> None:
    """A one-use invite; with ``person_id`` it binds that listed person instead of creating a new one."""
    await tx.execute(
        "INSERT INTO invites (code, name, roles, institution, unit, created_at, created_by, person_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (code, name, to_json(list(roles)), institution, unit, iso(now), created_by, person_id),
    )


async def invite(r: Reader, code: str) -> Invite | None:
    row = await r.fetchone("SELECT * FROM invites WHERE code = ?", (code,))
    return Invite.from_row(row) if row else None


async def invites(r: Reader) -> list[Invite]:
    return [Invite.from_row(row) for row in await r.fetchall("SELECT * FROM invites ORDER BY created_at")]


async def use_invite(tx: Tx, code: str, person_id: int, now: datetime) -> bool:
    """Mark an invite used; False if it was used already (one use only)."""
    cur = await tx.execute(
        "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL", (person_id, iso(now), code)
    )
    return cur.rowcount == 1
