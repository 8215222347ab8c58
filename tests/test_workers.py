"""Several workers on one PostgreSQL: per-chat claims, elected roles, shared pacing (issue 15, phase 2).

These run on PostgreSQL only (the ``pg_url`` fixture: a fresh database of the session's server);
SQLite is one process's database and has none of this.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import storage
from bot.config import Settings
from bot.core.clock import ManualClock
from bot.core.states import Role, UpdateState
from bot.runtime import StartupError
from bot.storage.db import Database
from bot.storage.dialect import PostgresUrl
from scheduler import cluster as cluster_module
from scheduler.cluster import Cluster
from scheduler.ledger import UpdateLedger
from scheduler.serve import serve

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


async def _record(db: Database, *rows: tuple[int, str]) -> None:
    async with db.transaction() as tx:
        await storage.updates.record_updates(tx, [(uid, f'{{"update_id": {uid}}}', chat) for uid, chat in rows], NOW)


async def _claim(db: Database, worker: str, lease: float = 30.0) -> list[int]:
    async with db.transaction() as tx:
        return [u.update_id for u in await storage.updates.claim_chats(tx, worker, lease)]


async def test_a_chat_is_claimed_by_one_worker_with_its_updates_in_order(pg_url: PostgresUrl) -> None:
    a = await Database.open(pg_url)
    b = await Database.open(pg_url)
    try:
        await _record(a, (1, "100"), (2, "200"), (3, "100"))
        assert await _claim(a, "w1") == [1, 2, 3]
        assert await _claim(b, "w2") == []  # both chats held by w1's live leases
        await _record(a, (4, "100"), (5, "300"))
        assert await _claim(b, "w2") == [5]  # chat 100 stays with w1, though its update 4 is unclaimed
        assert await _claim(a, "w1") == [4]  # w1 takes its own chat's next update
        async with a.transaction() as tx:  # w1 handled update 1
            await storage.updates.finish_updates(tx, [(1, "handled")], NOW)
        # w1 dies: its leases run out; w2 takes the chat's waiting updates, in order, one attempt more
        async with a.transaction() as tx:
            await tx.execute("UPDATE updates SET lease_until = now() - interval '1 second' WHERE worker = 'w1'")
        async with b.transaction() as tx:
            taken = await storage.updates.claim_chats(tx, "w2", 30.0)
        assert [(u.update_id, u.attempts) for u in taken] == [(2, 2), (3, 2), (4, 2)]
    finally:
        await a.close()
        await b.close()


async def test_racing_claims_never_share_a_chat(pg_url: PostgresUrl) -> None:
    """Eight workers claim at once, again and again: each update goes to exactly one of them."""
    dbs = [await Database.open(pg_url) for _ in range(8)]
    try:
        await _record(dbs[0], *[(uid, str(100 + uid % 7)) for uid in range(1, 141)])
        got: dict[str, list[int]] = {f"w{i}": [] for i in range(8)}

        async def worker(i: int) -> None:
            for _ in range(10):
                got[f"w{i}"].extend(await _claim(dbs[i], f"w{i}"))
                await asyncio.sleep(0)

        await asyncio.gather(*(worker(i) for i in range(8)))
        every = [uid for ids in got.values() for uid in ids]
        assert sorted(every) == list(range(1, 141))  # none twice, none left out
        owners = {}
        for name, ids in got.items():
            for uid in ids:
                owners.setdefault(uid % 7, set()).add(name)
        assert all(len(names) == 1 for names in owners.values()), owners
    finally:
        for db in dbs:
            await db.close()


async def test_a_role_moves_to_another_worker_when_its_holder_goes(pg_url: PostgresUrl) -> None:
    a = await Database.open(pg_url)
    b = await Database.open(pg_url)
    try:
        assert await a.lead(Role.TICK)
        assert await a.lead(Role.TICK)  # held, not taken twice
        assert not await b.lead(Role.TICK)
        assert await b.lead(Role.SENDER)  # roles are independent
        await a.close()  # a worker's connection ends (a clean stop, or SIGKILL closing its socket)
        started = time.monotonic()
        while not await b.lead(Role.TICK):
            assert time.monotonic() - started < 5, "the tick was not taken over"
            await asyncio.sleep(0.1)
    finally:
        await b.close()


async def test_a_killed_holders_role_is_freed_by_the_server(pg_url: PostgresUrl) -> None:
    """The holder's session is terminated (as PostgreSQL does when a killed worker's socket closes)."""
    a = await Database.open(pg_url)
    b = await Database.open(pg_url)
    try:
        assert await a.lead(Role.SENDER)
        await b.fetchone("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity "
                         "WHERE application_name = 'alur-leader' AND datname = current_database()")
        assert await b.lead(Role.SENDER)
        assert not await a.lead(Role.SENDER)  # a learns it lost the role (and reconnects without it)
    finally:
        await a.close()
        await b.close()


async def test_shared_pacing_spaces_sends_to_a_chat_and_overall(pg_url: PostgresUrl) -> None:
    a = await Database.open(pg_url)
    b = await Database.open(pg_url)
    try:
        first = await storage.pacing.reserve_send(a, "42", 1.0, 0.05)
        in_flight = await storage.pacing.reserve_send(b, "42", 1.0, 0.05)  # another worker, same chat
        await storage.pacing.sent(a, "42", 1.0)  # Telegram answered the first send
        second = await storage.pacing.reserve_send(b, "42", 1.0, 0.05)
        other = await storage.pacing.reserve_send(b, "43", 1.0, 0.05)  # another chat: only the overall spacing
        assert first == 0.0
        assert in_flight <= -29  # nothing reserved while the first send is on its way
        assert -1.0 <= second <= -0.9  # paced from Telegram's answer: free again in about a second
        assert 0.0 <= other <= 0.05  # the next overall slot, not held up by chat 42's wait
        waits = [await storage.pacing.reserve_send(a if i % 2 else b, str(1000 + i), 1.0, 0.05) for i in range(20)]
        assert waits == sorted(waits) and waits[-1] >= 19 * 0.05 * 0.8  # 20 chats: still one overall pace
    finally:
        await a.close()
        await b.close()


async def test_several_workers_on_sqlite_are_refused_before_anything_starts(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "alur.sqlite3", workers=3, token="123456:" + "x" * 35)
    with pytest.raises(StartupError, match="ALUR_WORKERS=3"):
        await serve(settings)
    assert not (tmp_path / "alur.sqlite3").exists()


async def test_retention_forgets_the_pacing_of_chats_long_free(pg_url: PostgresUrl) -> None:
    """The hourly retention (the elected tick, `alur prune`) deletes only pacing rows of chats free for an hour."""
    db = await Database.open(pg_url)
    try:
        assert await storage.pacing.reserve_send(db, "in-flight", 1.0, 0.05) == 0.0  # Telegram has not answered
        await storage.pacing.reserve_send(db, "paced", 1.0, 0.05)
        await storage.pacing.sent(db, "paced", 1.0)  # free again in a second: kept
        for key in ("idle", "just-free"):
            await storage.pacing.reserve_send(db, key, 1.0, 0.05)
        async with db.transaction() as tx:
            await tx.execute("UPDATE send_pacing SET next_at = now() - interval '2 hours' WHERE key IN ('idle', '*')")
            await tx.execute("UPDATE send_pacing SET next_at = now() - interval '5 minutes' WHERE key = 'just-free'")
        pruned = await storage.retention.prune(db, NOW, 30)
        assert pruned.pacing == 1
        keys = {row["key"] for row in await db.fetchall("SELECT key FROM send_pacing")}
        assert keys == {"*", "in-flight", "paced", "just-free"}
        assert await storage.pacing.reserve_send(db, "idle", 1.0, 0.05) >= 0  # a forgotten chat sends at once
    finally:
        await db.close()


def _webhook_worker(db: Database, name: str, *, webhook: bool = True) -> tuple[Cluster, asyncio.Queue, list[float]]:
    """A worker's claimer over a bare ledger: what it claims lands in ``queue``; ``now[0]`` is its clock."""
    ledger = UpdateLedger(db, ManualClock(NOW))
    queue: asyncio.Queue = asyncio.Queue()
    ledger.queue = queue
    app = SimpleNamespace(services=SimpleNamespace(db=db), ledger=ledger, bot=None)
    worker = Cluster(app, webhook=webhook, worker=name)  # type: ignore[arg-type]
    now = [100.0]
    worker.monotonic = lambda: now[0]
    return worker, queue, now


def _drain(queue: asyncio.Queue) -> list[int]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait().update_id)
    return out


async def test_webhook_claims_wait_for_an_earlier_update_still_being_recorded(pg_url: PostgresUrl) -> None:
    """Webhook: update 10 of a chat is posted to a slow worker, 11 of the same chat to a fast one, which
    records it first. The claimer holds the chat until 10 is recorded, then hands over 10 and 11 in order;
    an id that never comes holds the chat for SETTLE_SECONDS only."""
    db = await Database.open(pg_url)
    try:
        worker, queue, now = _webhook_worker(db, "w1")
        await _record(db, (9, "300"))
        assert await worker.claim() == 1 and _drain(queue) == [9]  # nothing missing below it
        await _record(db, (11, "100"))  # 10 is still on its way in another worker
        await _record(db, (12, "400"))  # another chat's update after the gap: held too (10 may be anyone's)
        assert await worker.claim() == 0 and worker.stats["held"] == 2
        now[0] += 1.0
        assert await worker.claim() == 0  # within the settle time
        await _record(db, (10, "100"))  # the slow worker commits
        assert await worker.claim() == 3
        assert _drain(queue) == [10, 11, 12]  # the chat's updates in order

        await _record(db, (14, "100"))  # 13 never comes (lost before it was recorded)
        assert await worker.claim() == 0
        now[0] += cluster_module.SETTLE_SECONDS
        assert await worker.claim() == 1 and _drain(queue) == [14]  # given up on 13 after the settle time
        await _record(db, (15, "100"))
        assert await worker.claim() == 1 and _drain(queue) == [15]  # 13 no longer holds anything

        # Long polling has no hold (the elected receiver records each batch at once, in order): 17 goes
        # although 16 is missing.
        polling, polled, _ = _webhook_worker(db, "w2", webhook=False)
        await _record(db, (17, "500"))
        assert await polling.claim() == 1 and _drain(polled) == [17]
    finally:
        await db.close()


async def test_missing_update_ids_are_looked_for_only_above_the_first_recorded_one(pg_url: PostgresUrl) -> None:
    db = await Database.open(pg_url)
    try:
        await _record(db, (1000, "a"), (1001, "b"), (1003, "a"), (1006, "c"), (5000, "d"))
        async with db.transaction() as tx:
            missing = await storage.updates.missing_below(tx, ["a", "b", "c", "d", "nobody"])
        # a: 1002 is missing below its newest waiting update; b: nothing below 1001 was ever recorded;
        # c: 1002, 1004, 1005; d: Telegram's jump after a quiet week (nothing recorded within the window)
        assert missing == {"a": [1002], "c": [1002, 1004, 1005]}
    finally:
        await db.close()


async def test_a_claim_skips_the_dead_rows_a_busy_queue_leaves_behind(pg_url: PostgresUrl) -> None:
    """Every update is inserted, claimed and marked handled, leaving dead index entries until VACUUM. A
    claim must not read them all again each time (a bitmap scan does: a claim then cost milliseconds of
    the server's CPU, growing with the traffic since the last vacuum); after one claim has passed them,
    the next reads a tenth of them at most (PostgreSQL's statistics count the entries read)."""
    db = await Database.open(pg_url)
    try:
        async with db.transaction() as tx:
            await tx.execute("ALTER TABLE updates SET (autovacuum_enabled = false)")  # the dead rows stay
        for start in range(1, 3001, 500):
            await _record(db, *[(uid, str(uid % 97)) for uid in range(start, start + 500)])
            await _claim(db, "w1")
            async with db.transaction() as tx:
                await storage.updates.finish_updates(
                    tx, [(uid, UpdateState.HANDLED) for uid in range(start, start + 500)], NOW)
        assert await _claim(db, "w1") == []  # passes the dead entries once

        async def index_entries_read() -> int:
            await db.fetchone("SELECT pg_stat_force_next_flush() IS NULL AS flushed")
            await db.fetchone("SELECT pg_stat_clear_snapshot() IS NULL AS cleared")
            row = await db.fetchone("SELECT SUM(idx_tup_read) AS n FROM pg_stat_user_indexes WHERE relname = 'updates'")
            assert row is not None
            return int(row["n"])

        before = await index_entries_read()
        assert await _claim(db, "w1") == []
        read = await index_entries_read() - before
        assert read < 300, f"a claim in an empty queue read {read} index entries (3,000 dead rows)"
    finally:
        await db.close()
