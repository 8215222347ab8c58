"""Every SQL statement of the domain: people, cases, steps, attachments, events, outbox.

Functions take a ``Reader`` (the Database or an open transaction) for queries and a ``Tx``
for writes, so the engine decides where a transaction begins and ends.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.core.clock import iso
from bot.storage.db import Tx
from bot.storage.records import Attachment, Case, Event, OutboxMessage, Person, StepInstance


class Reader(Protocol):
    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None: ...
    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]: ...


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


# ---------------------------------------------------------------- people


async def _roles(r: Reader, person_id: int) -> tuple[str, ...]:
    rows = await r.fetchall("SELECT role FROM person_roles WHERE person_id = ? ORDER BY role", (person_id,))
    return tuple(row["role"] for row in rows)


async def _person(r: Reader, row: sqlite3.Row | None) -> Person | None:
    if row is None:
        return None
    return Person.from_row(row, await _roles(r, row["id"]))


async def person(r: Reader, person_id: int) -> Person | None:
    return await _person(r, await r.fetchone("SELECT * FROM people WHERE id = ?", (person_id,)))


async def person_by_telegram(r: Reader, telegram_id: int) -> Person | None:
    return await _person(r, await r.fetchone("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,)))


async def person_by_username(r: Reader, username: str) -> Person | None:
    row = await r.fetchone("SELECT * FROM people WHERE username = ?", (username.lstrip("@").lower(),))
    return await _person(r, row)


async def people(r: Reader, *, active_only: bool = True) -> list[Person]:
    sql = "SELECT * FROM people" + (" WHERE active = 1" if active_only else "") + " ORDER BY id"
    rows = await r.fetchall(sql)
    roles = await r.fetchall("SELECT person_id, role FROM person_roles ORDER BY role")
    by_person: dict[int, list[str]] = {}
    for row in roles:
        by_person.setdefault(row["person_id"], []).append(row["role"])
    return [Person.from_row(row, tuple(by_person.get(row["id"], []))) for row in rows]


async def insert_person(
    tx: Tx,
    *,
    name: str,
    kind: str,
    now: datetime,
    telegram_id: int | None = None,
    username: str | None = None,
    institution: str | None = None,
    unit: str | None = None,
    opd: str | None = None,
    source: str = "manual",
) -> int:
    return await tx.insert(
        "INSERT INTO people (telegram_id, username, name, kind, institution, unit, opd, source, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (telegram_id, username.lstrip("@").lower() if username else None, name, kind, institution, unit, opd,
         source, iso(now)),
    )


async def update_person(tx: Tx, person_id: int, **fields: Any) -> None:
    allowed = {"telegram_id", "username", "name", "kind", "institution", "unit", "opd", "active", "reachable"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"unknown person fields: {unknown}")
    if not fields:
        return
    cols = ", ".join(f"{k} = ?" for k in fields)
    await tx.execute(f"UPDATE people SET {cols} WHERE id = ?", (*fields.values(), person_id))


async def person_source(r: Reader, person_id: int) -> str:
    row = await r.fetchone("SELECT source FROM people WHERE id = ?", (person_id,))
    return str(row["source"]) if row else ""


async def set_roles(tx: Tx, person_id: int, roles: Iterable[str]) -> None:
    await tx.execute("DELETE FROM person_roles WHERE person_id = ?", (person_id,))
    for role in sorted(set(roles)):
        await tx.execute("INSERT INTO person_roles (person_id, role) VALUES (?, ?)", (person_id, role))


async def holders_of(r: Reader, role: str, institution: str, unit: str | None) -> list[tuple[Person, int]]:
    """Active people with a role (in the unit when given), with how many open steps each holds."""
    sql = (
        "SELECT p.*, (SELECT COUNT(*) FROM step_instances s WHERE s.holder_id = p.id AND s.state = 'open') AS load "
        "FROM people p JOIN person_roles pr ON pr.person_id = p.id "
        "WHERE pr.role = ? AND p.active = 1 AND p.institution = ?"
    )
    params: list[Any] = [role, institution]
    if unit is not None:
        sql += " AND p.unit = ?"
        params.append(unit)
    rows = await r.fetchall(sql + " ORDER BY p.id", params)
    return [(Person.from_row(row, await _roles(r, row["id"])), int(row["load"])) for row in rows]


async def people_with_roles(r: Reader, roles: Sequence[str], institution: str | None = None) -> list[Person]:
    if not roles:
        return []
    marks = ",".join("?" for _ in roles)
    sql = (
        f"SELECT DISTINCT p.* FROM people p JOIN person_roles pr ON pr.person_id = p.id "
        f"WHERE pr.role IN ({marks}) AND p.active = 1"
    )
    params: list[Any] = list(roles)
    if institution is not None:
        sql += " AND (p.institution = ? OR p.institution IS NULL)"
        params.append(institution)
    rows = await r.fetchall(sql + " ORDER BY p.id", params)
    return [Person.from_row(row, await _roles(r, row["id"])) for row in rows]


# ---------------------------------------------------------------- invites and acting officials


async def insert_invite(
    tx: Tx, *, code: str, name: str, roles: Sequence[str], institution: str, unit: str | None,
    now: datetime, created_by: int | None = None,
) -> None:
    await tx.execute(
        "INSERT INTO invites (code, name, roles, institution, unit, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (code, name, _json(list(roles)), institution, unit, iso(now), created_by),
    )


async def invite(r: Reader, code: str) -> sqlite3.Row | None:
    return await r.fetchone("SELECT * FROM invites WHERE code = ?", (code,))


async def invites(r: Reader) -> list[sqlite3.Row]:
    return await r.fetchall("SELECT * FROM invites ORDER BY created_at")


async def use_invite(tx: Tx, code: str, person_id: int, now: datetime) -> bool:
    """Mark an invite used; False if it was used already (one use only)."""
    cur = await tx.execute(
        "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL", (person_id, iso(now), code)
    )
    return cur.rowcount == 1


async def insert_acting(
    tx: Tx, *, absent_id: int, acting_id: int, kind: str, start: str, end: str, reason: str, now: datetime
) -> int:
    return await tx.insert(
        "INSERT INTO acting (absent_id, acting_id, kind, start_date, end_date, reason, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (absent_id, acting_id, kind, start, end, reason, iso(now)),
    )


async def acting_for(r: Reader, absent_id: int, day: str) -> sqlite3.Row | None:
    """The latest acting arrangement covering ``day`` (ISO date) for an absent person."""
    return await r.fetchone(
        "SELECT * FROM acting WHERE absent_id = ? AND start_date <= ? AND end_date >= ? ORDER BY id DESC LIMIT 1",
        (absent_id, day, day),
    )


# ---------------------------------------------------------------- SOP versions and register numbers


async def ensure_sop_version(tx: Tx, *, sop_id: str, sop_hash: str, snapshot: str, now: datetime) -> None:
    await tx.execute(
        "INSERT OR IGNORE INTO sop_versions (hash, sop_id, snapshot, created_at) VALUES (?, ?, ?, ?)",
        (sop_hash, sop_id, snapshot, iso(now)),
    )


async def sop_snapshot(r: Reader, sop_hash: str) -> str | None:
    row = await r.fetchone("SELECT snapshot FROM sop_versions WHERE hash = ?", (sop_hash,))
    return row["snapshot"] if row else None


async def next_register_number(tx: Tx, prefix: str, year: int) -> int:
    await tx.execute(
        "INSERT INTO register_counters (prefix, year, last) VALUES (?, ?, 1) "
        "ON CONFLICT (prefix, year) DO UPDATE SET last = last + 1",
        (prefix, year),
    )
    row = await tx.fetchone("SELECT last FROM register_counters WHERE prefix = ? AND year = ?", (prefix, year))
    assert row is not None
    return int(row["last"])


# ---------------------------------------------------------------- cases


async def insert_case(
    tx: Tx, *, register_no: str, sop_id: str, sop_hash: str, institution: str, unit: str,
    requester_id: int, title: str, intake: dict[str, Any], now: datetime,
) -> int:
    return await tx.insert(
        "INSERT INTO cases (register_no, sop_id, sop_hash, institution, unit, requester_id, title, intake, state, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)",
        (register_no, sop_id, sop_hash, institution, unit, requester_id, title, _json(intake), iso(now)),
    )


async def case(r: Reader, case_id: int) -> Case | None:
    row = await r.fetchone("SELECT * FROM cases WHERE id = ?", (case_id,))
    return Case.from_row(row) if row else None


async def case_by_register(r: Reader, register_no: str) -> Case | None:
    row = await r.fetchone("SELECT * FROM cases WHERE register_no = ? COLLATE NOCASE", (register_no,))
    return Case.from_row(row) if row else None


async def close_case(tx: Tx, case_id: int, state: str, now: datetime, reason: str | None) -> bool:
    cur = await tx.execute(
        "UPDATE cases SET state = ?, closed_at = ?, closed_reason = ? WHERE id = ? AND state = 'open'",
        (state, iso(now), reason, case_id),
    )
    return cur.rowcount == 1


async def set_case_unassigned(tx: Tx, case_id: int, flag: bool) -> None:
    await tx.execute("UPDATE cases SET unassigned = ? WHERE id = ?", (int(flag), case_id))


async def cases_of_requester(r: Reader, person_id: int, limit: int = 20) -> list[Case]:
    rows = await r.fetchall(
        "SELECT * FROM cases WHERE requester_id = ? ORDER BY (state = 'open') DESC, id DESC LIMIT ?",
        (person_id, limit),
    )
    return [Case.from_row(row) for row in rows]


async def cases_touched_by(r: Reader, person_id: int, limit: int = 20) -> list[Case]:
    rows = await r.fetchall(
        "SELECT * FROM cases WHERE id IN (SELECT case_id FROM step_instances WHERE holder_id = ? "
        "OR completed_by = ? UNION SELECT case_id FROM events WHERE actor_id = ? AND case_id IS NOT NULL) "
        "ORDER BY (state = 'open') DESC, id DESC LIMIT ?",
        (person_id, person_id, person_id, limit),
    )
    return [Case.from_row(row) for row in rows]


async def cases(r: Reader, *, state: str | None = None, since: datetime | None = None) -> list[Case]:
    sql, params = "SELECT * FROM cases WHERE 1 = 1", []
    if state:
        sql += " AND state = ?"
        params.append(state)
    if since:
        sql += " AND created_at >= ?"
        params.append(iso(since))
    rows = await r.fetchall(sql + " ORDER BY id", params)
    return [Case.from_row(row) for row in rows]


# ---------------------------------------------------------------- step instances


async def insert_step(
    tx: Tx, *, case_id: int, step_no: str, role: str, holder_id: int | None, acting_for_id: int | None,
    now: datetime, due_at: datetime | None, remind_at: datetime | None, prewarn_at: datetime | None,
    escalate_at: datetime | None,
) -> int:
    alarms = [t for t in (remind_at, prewarn_at, due_at, escalate_at) if t is not None]
    return await tx.insert(
        "INSERT INTO step_instances (case_id, step_no, role, state, holder_id, acting_for_id, opened_at, due_at, "
        "remind_at, prewarn_at, escalate_at, next_alarm_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?)",
        (case_id, step_no, role, holder_id, acting_for_id, iso(now), iso(due_at), iso(remind_at), iso(prewarn_at),
         iso(escalate_at), iso(min(alarms)) if alarms else None),
    )


async def step(r: Reader, step_id: int) -> StepInstance | None:
    row = await r.fetchone("SELECT * FROM step_instances WHERE id = ?", (step_id,))
    return StepInstance.from_row(row) if row else None


async def steps_of_case(r: Reader, case_id: int) -> list[StepInstance]:
    rows = await r.fetchall("SELECT * FROM step_instances WHERE case_id = ? ORDER BY id", (case_id,))
    return [StepInstance.from_row(row) for row in rows]


async def open_steps_of_case(r: Reader, case_id: int) -> list[StepInstance]:
    rows = await r.fetchall(
        "SELECT * FROM step_instances WHERE case_id = ? AND state = 'open' ORDER BY id", (case_id,)
    )
    return [StepInstance.from_row(row) for row in rows]


async def open_steps_held_by(r: Reader, person_id: int) -> list[StepInstance]:
    rows = await r.fetchall(
        "SELECT * FROM step_instances WHERE holder_id = ? AND state = 'open' "
        "ORDER BY due_at IS NULL, due_at, id",
        (person_id,),
    )
    return [StepInstance.from_row(row) for row in rows]


async def unassigned_open_steps(r: Reader) -> list[StepInstance]:
    rows = await r.fetchall("SELECT * FROM step_instances WHERE state = 'open' AND holder_id IS NULL ORDER BY id")
    return [StepInstance.from_row(row) for row in rows]


async def unassigned_open_steps_of_case(r: Reader, case_id: int) -> list[StepInstance]:
    rows = await r.fetchall(
        "SELECT * FROM step_instances WHERE case_id = ? AND state = 'open' AND holder_id IS NULL", (case_id,)
    )
    return [StepInstance.from_row(row) for row in rows]


async def finish_step(
    tx: Tx, step_id: int, *, by: int, now: datetime, outcome: str, branch_label: str | None, note: str | None,
) -> bool:
    """Close an open step; False when it was not open any more (someone else won)."""
    cur = await tx.execute(
        "UPDATE step_instances SET state = 'done', completed_at = ?, completed_by = ?, outcome = ?, branch_label = ?, "
        "note = ?, next_alarm_at = NULL WHERE id = ? AND state = 'open'",
        (iso(now), by, outcome, branch_label, note, step_id),
    )
    return cur.rowcount == 1


async def cancel_open_steps(tx: Tx, case_id: int, now: datetime) -> list[int]:
    rows = await tx.fetchall("SELECT id FROM step_instances WHERE case_id = ? AND state = 'open'", (case_id,))
    await tx.execute(
        "UPDATE step_instances SET state = 'cancelled', completed_at = ?, next_alarm_at = NULL "
        "WHERE case_id = ? AND state = 'open'",
        (iso(now), case_id),
    )
    return [row["id"] for row in rows]


async def set_holder(tx: Tx, step_id: int, holder_id: int | None, acting_for_id: int | None) -> bool:
    cur = await tx.execute(
        "UPDATE step_instances SET holder_id = ?, acting_for_id = ? WHERE id = ? AND state = 'open'",
        (holder_id, acting_for_id, step_id),
    )
    return cur.rowcount == 1


async def completed_steps(r: Reader, *, since: datetime | None = None) -> list[sqlite3.Row]:
    """Completed step instances with their case's SOP (for standard-time analytics)."""
    sql = (
        "SELECT s.*, c.sop_id, c.sop_hash, c.unit, c.institution FROM step_instances s "
        "JOIN cases c ON c.id = s.case_id WHERE s.state = 'done'"
    )
    params: list[Any] = []
    if since:
        sql += " AND s.completed_at >= ?"
        params.append(iso(since))
    return await r.fetchall(sql + " ORDER BY s.id", params)


# ---------------------------------------------------------------- attachments


async def insert_attachment(
    tx: Tx, *, case_id: int, step_instance_id: int | None, purpose: str, field: str | None, file_id: str,
    file_unique_id: str | None, file_name: str | None, mime_type: str | None, file_size: int | None,
    uploaded_by: int | None, now: datetime,
) -> int:
    return await tx.insert(
        "INSERT INTO attachments (case_id, step_instance_id, purpose, field, file_id, file_unique_id, file_name, "
        "mime_type, file_size, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (case_id, step_instance_id, purpose, field, file_id, file_unique_id, file_name, mime_type, file_size,
         uploaded_by, iso(now)),
    )


async def attachments(r: Reader, case_id: int, step_instance_id: int | None = None) -> list[Attachment]:
    sql, params = "SELECT * FROM attachments WHERE case_id = ?", [case_id]
    if step_instance_id is not None:
        sql += " AND step_instance_id = ?"
        params.append(step_instance_id)
    rows = await r.fetchall(sql + " ORDER BY id", params)
    return [Attachment.from_row(row) for row in rows]


# ---------------------------------------------------------------- events


async def insert_event(
    tx: Tx, *, type: str, now: datetime, case_id: int | None = None, step_instance_id: int | None = None,
    actor_id: int | None = None, on_behalf_of: int | None = None, data: dict[str, Any] | None = None,
) -> int:
    return await tx.insert(
        "INSERT INTO events (at, case_id, step_instance_id, actor_id, on_behalf_of, type, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (iso(now), case_id, step_instance_id, actor_id, on_behalf_of, type, _json(data or {})),
    )


async def events_of_case(r: Reader, case_id: int) -> list[Event]:
    rows = await r.fetchall("SELECT * FROM events WHERE case_id = ? ORDER BY id", (case_id,))
    return [Event.from_row(row) for row in rows]


async def events(r: Reader, *, types: Sequence[str] | None = None, after_id: int = 0) -> list[Event]:
    sql, params = "SELECT * FROM events WHERE id > ?", [after_id]
    if types:
        sql += f" AND type IN ({','.join('?' for _ in types)})"
        params.extend(types)
    rows = await r.fetchall(sql + " ORDER BY id", params)
    return [Event.from_row(row) for row in rows]


# ---------------------------------------------------------------- outbox


async def enqueue(
    tx: Tx, *, person_id: int | None, chat_id: int | None, kind: str, payload: dict[str, Any], priority: int,
    now: datetime, not_before: datetime | None = None, dedupe_key: str | None = None,
) -> int | None:
    """Queue a notification; a message without a chat yet is held until the person starts the bot."""
    state = "pending" if chat_id is not None else "held"
    cur = await tx.execute(
        "INSERT OR IGNORE INTO outbox (created_at, person_id, chat_id, priority, kind, payload, dedupe_key, state, "
        "not_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (iso(now), person_id, chat_id, priority, kind, _json(payload), dedupe_key, state, iso(not_before or now)),
    )
    return int(cur.lastrowid) if cur.rowcount == 1 and cur.lastrowid else None


async def release_held(tx: Tx, person_id: int, chat_id: int) -> int:
    cur = await tx.execute(
        "UPDATE outbox SET chat_id = ?, state = 'pending' WHERE person_id = ? AND state = 'held'",
        (chat_id, person_id),
    )
    return cur.rowcount


async def outbox(r: Reader, *, state: str | None = None, person_id: int | None = None) -> list[OutboxMessage]:
    sql, params = "SELECT * FROM outbox WHERE 1 = 1", []
    if state:
        sql += " AND state = ?"
        params.append(state)
    if person_id is not None:
        sql += " AND person_id = ?"
        params.append(person_id)
    rows = await r.fetchall(sql + " ORDER BY id", params)
    return [OutboxMessage.from_row(row) for row in rows]


# ---------------------------------------------------------------- intake drafts


async def save_draft(
    tx: Tx, *, person_id: int, sop_id: str, answers: dict[str, Any], uploads: dict[str, Any], position: int,
    now: datetime, last_message_id: int = 0,
) -> None:
    await tx.execute(
        "INSERT INTO drafts (person_id, sop_id, answers, uploads, position, last_message_id, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (person_id) DO UPDATE SET sop_id = excluded.sop_id, answers = excluded.answers, "
        "uploads = excluded.uploads, position = excluded.position, last_message_id = excluded.last_message_id, "
        "updated_at = excluded.updated_at",
        (person_id, sop_id, _json(answers), _json(uploads), position, last_message_id, iso(now)),
    )


async def draft(r: Reader, person_id: int) -> sqlite3.Row | None:
    return await r.fetchone("SELECT * FROM drafts WHERE person_id = ?", (person_id,))


async def delete_draft(tx: Tx, person_id: int) -> None:
    await tx.execute("DELETE FROM drafts WHERE person_id = ?", (person_id,))


async def telegram_ids_with_drafts(r: Reader) -> list[int]:
    rows = await r.fetchall(
        "SELECT p.telegram_id FROM drafts d JOIN people p ON p.id = d.person_id WHERE p.telegram_id IS NOT NULL"
    )
    return [int(row["telegram_id"]) for row in rows]


async def due_outbox(r: Reader, now: datetime, limit: int = 500) -> list[OutboxMessage]:
    """The next message of each chat, where its time has come; most urgent first.

    A chat's next message is its most urgent pending one (priority, then queue order); while
    that one waits (e.g. for a 429's retry_after) nothing behind it overtakes it.
    """
    rows = await r.fetchall(
        "SELECT * FROM outbox o WHERE o.state = 'pending' AND o.not_before <= ? AND o.id = ("
        "  SELECT o2.id FROM outbox o2 WHERE o2.state = 'pending' AND o2.chat_id = o.chat_id"
        "  ORDER BY o2.priority, o2.id LIMIT 1) "
        "ORDER BY o.priority, o.id LIMIT ?",
        (iso(now), limit),
    )
    return [OutboxMessage.from_row(row) for row in rows]


async def mark_sending(tx: Tx, message_id: int) -> bool:
    cur = await tx.execute("UPDATE outbox SET state = 'sending' WHERE id = ? AND state = 'pending'", (message_id,))
    return cur.rowcount == 1


async def mark_sent(tx: Tx, message_id: int, now: datetime, telegram_message_id: int | None) -> None:
    await tx.execute(
        "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, telegram_message_id = ? WHERE id = ?",
        (iso(now), telegram_message_id, message_id),
    )


async def mark_retry(tx: Tx, message_id: int, not_before: datetime, error: str, *, count_attempt: bool) -> None:
    await tx.execute(
        "UPDATE outbox SET state = 'pending', not_before = ?, last_error = ?, attempts = attempts + ? WHERE id = ?",
        (iso(not_before), error[:500], 1 if count_attempt else 0, message_id),
    )


async def mark_dead(tx: Tx, message_id: int, error: str) -> None:
    await tx.execute(
        "UPDATE outbox SET state = 'dead', last_error = ?, attempts = attempts + 1 WHERE id = ?",
        (error[:500], message_id),
    )


async def reset_sending(tx: Tx) -> int:
    """After a crash: messages caught between sending and marking sent go out again, at most once more."""
    await tx.execute(
        "UPDATE outbox SET state = 'sent', last_error = 'uncertain: interrupted twice while sending' "
        "WHERE state = 'sending' AND uncertain >= 1"
    )
    cur = await tx.execute("UPDATE outbox SET state = 'pending', uncertain = 1 WHERE state = 'sending'")
    return cur.rowcount


async def outbox_counts(r: Reader) -> dict[str, int]:
    rows = await r.fetchall("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
    return {row["state"]: int(row["n"]) for row in rows}


# ---------------------------------------------------------------- digest look-ups


async def open_steps_overview(r: Reader) -> list[sqlite3.Row]:
    """Every open step with its case's number, institution and unit (one scan for all digests)."""
    return await r.fetchall(
        "SELECT s.id, s.step_no, s.role, s.holder_id, s.due_at, s.opened_at, c.register_no, c.institution, c.unit "
        "FROM step_instances s JOIN cases c ON c.id = s.case_id WHERE s.state = 'open' ORDER BY s.due_at"
    )


async def open_case_units(r: Reader) -> list[tuple[str, str]]:
    rows = await r.fetchall("SELECT institution, unit FROM cases WHERE state = 'open'")
    return [(row["institution"], row["unit"]) for row in rows]


async def cases_created_between(r: Reader, start: datetime, end: datetime) -> list[sqlite3.Row]:
    return await r.fetchall(
        "SELECT register_no, title, institution, unit, created_at FROM cases WHERE created_at >= ? AND created_at < ? "
        "ORDER BY id",
        (iso(start), iso(end)),
    )


async def steps_completed_between(r: Reader, start: datetime, end: datetime) -> list[sqlite3.Row]:
    return await r.fetchall(
        "SELECT s.completed_at, s.due_at, c.institution, c.unit FROM step_instances s JOIN cases c "
        "ON c.id = s.case_id WHERE s.state = 'done' AND s.completed_at >= ? AND s.completed_at < ?",
        (iso(start), iso(end)),
    )


async def sop_units(r: Reader) -> dict[str, tuple[str, str]]:
    rows = await r.fetchall("SELECT DISTINCT sop_id, institution, unit FROM cases")
    return {row["sop_id"]: (row["institution"], row["unit"]) for row in rows}


# ---------------------------------------------------------------- incoming updates (ledger)


async def record_updates(tx: Tx, updates: Sequence[tuple[int, str]], now: datetime) -> int:
    """Remember updates as they arrive, before Telegram is told they were received."""
    count = 0
    for update_id, payload in updates:
        cur = await tx.execute(
            "INSERT OR IGNORE INTO updates (update_id, received_at, payload) VALUES (?, ?, ?)",
            (update_id, iso(now), payload),
        )
        count += cur.rowcount
    return count


async def begin_update(tx: Tx, update_id: int) -> tuple[str, int] | None:
    """Count one more attempt at handling an update; (state, attempts) or None if it was never recorded."""
    await tx.execute("UPDATE updates SET attempts = attempts + 1 WHERE update_id = ? AND state = 'received'",
                     (update_id,))
    row = await tx.fetchone("SELECT state, attempts FROM updates WHERE update_id = ?", (update_id,))
    return (row["state"], int(row["attempts"])) if row else None


async def finish_update(tx: Tx, update_id: int, state: str, now: datetime) -> None:
    await tx.execute("UPDATE updates SET state = ?, handled_at = ? WHERE update_id = ?", (state, iso(now), update_id))


async def unfinished_updates(r: Reader) -> list[sqlite3.Row]:
    return await r.fetchall("SELECT * FROM updates WHERE state = 'received' ORDER BY update_id")


async def prune_updates(tx: Tx, before: datetime) -> int:
    cur = await tx.execute("DELETE FROM updates WHERE state != 'received' AND received_at < ?", (iso(before),))
    return cur.rowcount

# ---------------------------------------------------------------- reminders, escalations, digests


async def alarms_due(r: Reader, now: datetime, limit: int = 1000) -> list[StepInstance]:
    """Open steps with an alarm (reminder, due notice, escalation) at or before ``now`` (uses the partial index)."""
    rows = await r.fetchall(
        # INDEXED BY: without ANALYZE statistics SQLite may pick the (state, due_at) index and sort
        # every open step; the partial index keeps a sweep's cost independent of how many are open.
        "SELECT * FROM step_instances INDEXED BY step_instances_alarm WHERE state = 'open' "
        "AND next_alarm_at IS NOT NULL AND next_alarm_at <= ? ORDER BY next_alarm_at LIMIT ?",
        (iso(now), limit),
    )
    return [StepInstance.from_row(row) for row in rows]


async def alarm_stamps(r: Reader, step_id: int) -> sqlite3.Row | None:
    return await r.fetchone(
        "SELECT state, next_alarm_at, remind_at, reminded_at, prewarn_at, prewarned_at, due_at, due_notified_at, "
        "escalate_at, escalation_level FROM step_instances WHERE id = ?",
        (step_id,),
    )


async def update_alarms(tx: Tx, step_id: int, expected_next: str | None, **fields: Any) -> bool:
    """Record fired alarms; conditional on the step being open with the alarm we read (one sweeper wins)."""
    allowed = {"reminded_at", "prewarned_at", "due_notified_at", "escalate_at", "escalation_level", "next_alarm_at"}
    if set(fields) - allowed:
        raise ValueError(f"unknown alarm fields: {set(fields) - allowed}")
    cols = ", ".join(f"{k} = ?" for k in fields)
    values = [iso(v) if isinstance(v, datetime) else v for v in fields.values()]
    cur = await tx.execute(
        f"UPDATE step_instances SET {cols} WHERE id = ? AND state = 'open' AND next_alarm_at IS ?",
        (*values, step_id, expected_next),
    )
    return cur.rowcount == 1


async def claim_digest(tx: Tx, person_id: int, day: str, now: datetime) -> bool:
    """True the first time a person's digest for ``day`` is claimed (once per day, across restarts)."""
    cur = await tx.execute(
        "INSERT OR IGNORE INTO digests (person_id, day, created_at) VALUES (?, ?, ?)", (person_id, day, iso(now))
    )
    return cur.rowcount == 1


async def set_digest_outbox(tx: Tx, person_id: int, day: str, outbox_id: int | None) -> None:
    await tx.execute("UPDATE digests SET outbox_id = ? WHERE person_id = ? AND day = ?", (outbox_id, person_id, day))


async def digests_on(r: Reader, day: str) -> set[int]:
    rows = await r.fetchall("SELECT person_id FROM digests WHERE day = ?", (day,))
    return {int(row["person_id"]) for row in rows}


async def last_digest_at(r: Reader, person_id: int) -> str | None:
    row = await r.fetchone("SELECT MAX(created_at) AS t FROM digests WHERE person_id = ?", (person_id,))
    return row["t"] if row else None


# ---- benchmark fixtures
# Bulk rows for `alur bench` (handlers/bench): many open cases at once, in the caller's transaction,
# without the engine's events and notifications. The running bot never calls these.


async def bench_max_case_id(r: Reader) -> int:
    row = await r.fetchone("SELECT MAX(id) AS m FROM cases")
    return int(row["m"] or 0) if row else 0


async def bench_insert_open_cases(
    tx: Tx, cases: Sequence[tuple[Any, ...]], steps: Sequence[tuple[Any, ...]]
) -> None:
    """Open cases and their open steps in two bulk statements.

    ``cases``: (id, register_no, sop_id, sop_hash, institution, unit, requester_id, title, created_at);
    ``steps``: (case_id, step_no, role, holder_id, opened_at, due_at, remind_at, prewarn_at, escalate_at),
    times as stored (ISO-8601 UTC text); ``next_alarm_at`` is the earliest alarm, as insert_step sets it.
    """
    await tx.conn.executemany(
        "INSERT INTO cases (id, register_no, sop_id, sop_hash, institution, unit, requester_id, title, intake, "
        "state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', 'open', ?)",
        cases,
    )
    await tx.conn.executemany(
        "INSERT INTO step_instances (case_id, step_no, role, state, holder_id, opened_at, due_at, remind_at, "
        "prewarn_at, escalate_at, next_alarm_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)",
        [(*row, min((t for t in row[5:9] if t is not None), default=None)) for row in steps],
    )
