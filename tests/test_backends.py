"""The Database interface behaves alike on SQLite and PostgreSQL; PostgreSQL's own guarantees (one winner
across connections at any default isolation level, migrations applied once, a lost connection replaced)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot import storage
from bot.core.states import NoticeKind, PersonKind
from bot.storage.db import Database, DatabaseError, DatabaseProblem, migrations
from bot.storage.dialect import Dialect, PostgresUrl
from bot.storage.postgres import CONNECTION_LOST
from bot.text.payloads import UnreachablePayload
from bot.workflow.people import People
from bot.workflow.results import FileUpload
from bot.workflow.use_cases import Workflow

from pg_server import PgServer
from roster import ketapang_roster

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
INFO = "ketapang-permintaan-informasi"


def _notice(name: str) -> UnreachablePayload:
    return UnreachablePayload(name=name, kind=PersonKind.STAFF, reason="blocked")


async def _person(db: Database, name: str = "Tari", telegram_id: int = 2001) -> int:
    async with db.transaction() as tx:
        return await storage.people.insert_person(tx, name=name, kind="staff", now=NOW, telegram_id=telegram_id,
                                                  institution="ketapang")


async def test_ids_rowcounts_and_skipped_inserts(db: Database) -> None:
    first, second = await _person(db, "A", 1), await _person(db, "B", 2)
    assert second == first + 1
    async with db.transaction() as tx:
        new = await storage.outbox.enqueue(tx, person_id=first, chat_id=1, kind=NoticeKind.UNREACHABLE,
                                           payload=_notice("x"), priority=1, now=NOW, dedupe_key="k")
        again = await storage.outbox.enqueue(tx, person_id=first, chat_id=1, kind=NoticeKind.UNREACHABLE,
                                             payload=_notice("y"), priority=1, now=NOW, dedupe_key="k")
        assert isinstance(new, int) and again is None  # the dedupe key holds: skipped, no id
        assert (await tx.execute("UPDATE people SET reachable = 0 WHERE id IN (?, ?)", (first, second))).rowcount == 2
        assert (await tx.execute("UPDATE people SET reachable = 0 WHERE id = ?", (-1,))).rowcount == 0
        assert await storage.digests.claim_digest(tx, first, "2026-11-23", NOW)
        assert not await storage.digests.claim_digest(tx, first, "2026-11-23", NOW)
    assert [m.payload["name"] for m in await storage.outbox.outbox(db)] == ["x"]


async def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    pid = await _person(db)
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction() as tx:
            await storage.people.update_person(tx, pid, name="Changed")
            await storage.events.insert_event(tx, type="test", now=NOW, actor_id=pid)
            await storage.outbox.enqueue(tx, person_id=pid, chat_id=5, kind=NoticeKind.UNREACHABLE,
                                         payload=_notice("x"), priority=1, now=NOW)
            raise RuntimeError("boom")
    person = await storage.people.person(db, pid)
    assert person is not None and person.name == "Tari"
    assert await storage.events.events(db) == [] and await storage.outbox.outbox(db) == []


async def test_text_order_is_byte_order_on_both(db: Database) -> None:
    """Times are ISO text and roles are compared as text: both backends order them by bytes (COLLATE "C")."""
    pid = await _person(db)
    async with db.transaction() as tx:
        await storage.people.set_roles(tx, pid, ["b_role", "B_role", "a-role", "a_role", "Z"])
    person = await storage.people.person(db, pid)
    assert person is not None and list(person.roles) == sorted(["b_role", "B_role", "a-role", "a_role", "Z"])


async def test_the_roster_carries_each_persons_roles_as_a_single_lookup_does(db: Database) -> None:
    """people() groups the roles of the whole roster itself; it must agree with person() for everyone."""
    with_roles, without, gone = await _person(db, "A", 1), await _person(db, "B", 2), await _person(db, "C", 3)
    async with db.transaction() as tx:
        await storage.people.set_roles(tx, with_roles, ["kabid", "admin_sop", "Kasi"])
        await storage.people.set_roles(tx, gone, ["kabid"])
        await storage.people.update_person(tx, gone, active=0)
    roster = {p.id: p.roles for p in await storage.people.people(db)}
    assert roster == {with_roles: ("Kasi", "admin_sop", "kabid"), without: ()}
    everyone = await storage.people.people(db, active_only=False)
    assert [p.id for p in everyone] == [with_roles, without, gone]
    for p in everyone:
        single = await storage.people.person(db, p.id)
        assert single is not None and single.roles == p.roles


async def test_case_insensitive_register_lookup(workflow: Workflow, db: Database, people: People) -> None:
    roster = await ketapang_roster(people)
    out = await workflow.filing.file_request(
        INFO, roster["officer"].id, {"data_diminta": "Data", "keperluan": "Laporan", "kontak": "0812-3456-7890"},
        {"surat_permintaan": FileUpload("f1", file_name="s.pdf")},
    )
    found = await storage.cases.case_by_register(db, out.case.register_no.lower())
    assert found is not None and found.id == out.case.id
    assert await storage.cases.case_by_register(db, out.case.register_no + "x") is None


# ---------------------------------------------------------------- PostgreSQL only


async def _admin(pg_server: PgServer, database: str) -> asyncpg.Connection:
    return await asyncpg.connect(pg_server.dsn(database))


@pytest.mark.parametrize("default_isolation", ["read committed", "repeatable read", "serializable"])
async def test_two_connections_one_winner_whatever_the_server_default(
    pg_server: PgServer, pg_url: PostgresUrl, default_isolation: str
) -> None:
    """Transaction B's conditional UPDATE waits for A's row lock, then finds the step closed: rowcount 0, no error."""
    admin = await _admin(pg_server, "postgres")
    await admin.execute(f'ALTER DATABASE "{pg_url.database}" SET default_transaction_isolation = '
                        f"'{default_isolation}'")
    await admin.close()
    a, b = await Database.open(pg_url), await Database.open(pg_url)
    watcher = await _admin(pg_server, pg_url.database)
    try:
        pid = await _person(a)
        async with a.transaction() as tx:
            await storage.sop_versions.ensure_sop_version(tx, sop_id="s", sop_hash="h", snapshot="{}", now=NOW)
            case_id = await storage.cases.insert_case(tx, register_no="R-1", sop_id="s", sop_hash="h", institution="i",
                                                      unit="u", requester_id=pid, title="t", intake={}, now=NOW)
            step_id = await storage.steps.insert_step(tx, case_id=case_id, step_no="2", role="r", holder_id=pid,
                                                      acting_for_id=None, now=NOW, due_at=None, remind_at=None,
                                                      prewarn_at=None, escalate_at=None)

        async def b_finishes() -> bool:
            async with b.transaction() as tx:
                return await storage.steps.finish_step(tx, step_id, by=pid, now=NOW, outcome="done",
                                                       branch_label="B", note=None)

        async with a.transaction() as tx:
            assert await storage.steps.finish_step(tx, step_id, by=pid, now=NOW, outcome="done", branch_label="A",
                                                   note=None)
            loser = asyncio.create_task(b_finishes())
            for _ in range(500):  # until B waits for A's row lock
                if await watcher.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("B never waited for A's lock")
        assert await loser is False
        step = await storage.steps.step(a, step_id)
        assert step is not None and step.branch_label == "A"
    finally:
        await watcher.close()
        await a.close()
        await b.close()


async def test_migrations_run_once_when_two_processes_start_together(pg_url: PostgresUrl) -> None:
    opened = await asyncio.gather(*[Database.open(pg_url) for _ in range(4)])
    try:
        rows = await opened[0].fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [v for v, _, _ in migrations(Dialect.POSTGRESQL)]
        assert sum(db.created for db in opened) >= 1
    finally:
        for db in opened:
            await db.close()


async def test_a_lost_connection_is_replaced(pg_server: PgServer, pg_url: PostgresUrl) -> None:
    """A database restart (here: the server ends our session) fails at most the statement in flight."""
    db = await Database.open(pg_url)
    admin = await _admin(pg_server, "postgres")
    try:
        pid = await _person(db)
        for _ in range(3):
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE application_name = 'alur'")
            person = await storage.people.person(db, pid)  # a read is tried again on a new connection
            assert person is not None and person.name == "Tari"
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'alur'")
        try:
            await _person(db, "Lost", 2002)
        except CONNECTION_LOST:
            pass  # a transaction that meets the closed connection fails (and changed nothing); the next one works
        assert await _person(db, "After", 2003) > pid
    finally:
        await admin.close()
        await db.close()


async def test_open_creates_a_missing_database_only_when_asked(pg_server: PgServer) -> None:
    url = PostgresUrl(pg_server.dsn("alur_created_by_init"))
    with pytest.raises(DatabaseError) as missing:
        await Database.open(url, create=False)
    assert missing.value.reason == DatabaseProblem.MISSING
    db = await Database.open(url, create=True)
    try:
        assert db.created and await db.schema_version() == migrations(Dialect.POSTGRESQL)[-1][0]
    finally:
        await db.close()
    again = await Database.open(url, create=False)
    assert not again.created
    await again.close()
    admin = await _admin(pg_server, "postgres")
    await admin.execute('DROP DATABASE "alur_created_by_init" WITH (FORCE)')
    await admin.close()


async def test_an_empty_database_is_not_alur_until_init(pg_url: PostgresUrl) -> None:
    with pytest.raises(DatabaseError) as caught:
        await Database.open(pg_url, create=False)
    assert caught.value.reason == DatabaseProblem.MISSING and "belum berisi tabel Alur" in caught.value.detail


async def test_an_unreachable_server_is_told_quickly(tmp_path: Path) -> None:
    url = PostgresUrl(f"postgresql://alur:geheim@/alur?host={tmp_path}&port=5999")
    with pytest.raises(DatabaseError) as caught:
        await Database.open(url)
    assert caught.value.reason == DatabaseProblem.UNREACHABLE
    assert "geheim" not in str(caught.value)


async def test_events_cannot_be_truncated_either(pg_url: PostgresUrl) -> None:
    db = await Database.open(pg_url)
    try:
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            async with db.transaction() as tx:
                await tx.execute("TRUNCATE events")
    finally:
        await db.close()
