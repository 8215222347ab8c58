"""`alur migrate`, `alur db copy`, and `alur init` / `alur doctor` / `alur people list` against PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot import storage
from bot.cli.main import main
from bot.core.clock import ManualClock
from bot.core.states import PromptKind
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog
from bot.storage import transfer
from bot.storage.db import Database, migrations
from bot.storage.dialect import Dialect, PostgresUrl
from bot.workflow.people import People
from bot.workflow.results import FileUpload
from bot.workflow.use_cases import Workflow

from alur_process import DEMO_PEOPLE
from conftest import MONDAY_8
from pg_server import PgServer
from roster import ketapang_roster

INFO = "ketapang-permintaan-informasi"
INTAKE = {"data_diminta": "Data IPM", "keperluan": "Laporan", "kontak": "0812-3456-7890"}
SURAT = {"surat_permintaan": FileUpload("file-1", "u1", "surat.pdf", "application/pdf", 1234)}


@pytest.fixture
def admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An admin's working folder without a .env."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def alur(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


# ---------------------------------------------------------------- migrate


async def test_migrate_applies_what_is_pending_and_says_so(
    admin: Path, db_path: Path | PostgresUrl, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = await Database.open(db_path, upto=1)
    await db.close()
    monkeypatch.setenv("ALUR_DB", str(db_path))
    names = [f"{v:04d}_{n}" for v, n, _ in migrations(db.dialect)]
    assert await alur("migrate", "--check") == 1
    out = capsys.readouterr().out
    assert "skema versi 1" in out and all(name in out for name in names[1:]) and names[0] not in out
    db = await Database.open(db_path, migrate=False)
    assert await db.schema_version() == 1  # --check changed nothing
    await db.close()

    assert await alur("migrate") == 0
    out = capsys.readouterr().out
    assert f"menerapkan {len(names) - 1} migrasi" in out
    assert [line.strip() for line in out.splitlines() if "✓" in line] == [f"✓ {n}" for n in names[1:]]
    assert f"Skema sekarang versi {migrations(db.dialect)[-1][0]} (terbaru)" in out
    assert await alur("migrate") == 0
    assert "tidak ada migrasi tertunda" in capsys.readouterr().out
    assert await alur("migrate", "--check") == 0


async def test_migrate_never_creates_a_database(
    admin: Path, pg_url: PostgresUrl, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALUR_DB", str(admin / "alur.sqltie3"))
    assert await alur("migrate") == 2
    assert "Basis data tidak ditemukan" in capsys.readouterr().err and not (admin / "alur.sqltie3").exists()
    monkeypatch.setenv("ALUR_DB", str(pg_url))  # exists, but holds no Alur tables
    assert await alur("migrate") == 2
    err = capsys.readouterr().err
    assert "belum siap" in err and "alur init" in err


# ---------------------------------------------------------------- init, doctor, people list on PostgreSQL


async def test_init_doctor_and_people_list_on_postgresql(
    admin: Path, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = PostgresUrl(pg_server.dsn("alur_init_test"))  # does not exist yet: init creates it
    monkeypatch.setenv("ALUR_DB", url.url)
    monkeypatch.setenv("ALUR_PEOPLE", str(DEMO_PEOPLE))
    try:
        assert await alur("doctor", "--offline") == 1
        out = capsys.readouterr().out
        assert "✗ Basis data PostgreSQL" in out and "belum siap" in out and "alur init" in out

        assert await alur("init") == 0
        out = capsys.readouterr().out
        assert f"Basis data baru dibuat: {url}" in out and "8 ditambahkan" in out
        assert await alur("init") == 0
        assert "Basis data sudah ada" in capsys.readouterr().out

        assert await alur("doctor", "--offline") == 0, capsys.readouterr()
        out = capsys.readouterr().out
        assert "✓ Basis data PostgreSQL" in out and "dapat ditulis" in out and "(terbaru)" in out
        assert "8 orang aktif" in out

        assert await alur("people", "list") == 0
        assert "Pak Kadir" in capsys.readouterr().out
        assert await alur("backup", str(admin / "copy.sqlite3")) == 1
        assert "pg_dump" in capsys.readouterr().err and not (admin / "copy.sqlite3").exists()
    finally:
        import asyncpg

        conn = await asyncpg.connect(pg_server.dsn())
        await conn.execute('DROP DATABASE IF EXISTS "alur_init_test" WITH (FORCE)')
        await conn.close()


async def test_doctor_names_an_unreachable_server_without_its_password(
    admin: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALUR_DB", f"postgresql://alur:geheim@/alur?host={admin}&port=5999")
    assert await alur("doctor", "--offline") == 1
    out = capsys.readouterr().out
    assert "✗ Basis data PostgreSQL postgresql://alur:***@" in out and "tidak dapat dihubungi" in out
    assert "pg_hba.conf" in out and "geheim" not in out
    assert await alur("people", "list") == 2
    err = capsys.readouterr().err
    assert "tidak dapat dihubungi" in err and "geheim" not in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- db copy


async def _agency_on_sqlite(path: Path, catalog: Catalog, calendar: WorkCalendar) -> None:
    """An SQLite database in use: people, cases in several states, events, outbox, a draft, a prompt, a digest."""
    clock = ManualClock(MONDAY_8)
    db = await Database.open(path)
    try:
        people = People(db, catalog, clock)
        roster = await ketapang_roster(people)
        workflow = Workflow.build(db, catalog, calendar, clock)
        first = await workflow.filing.file_request(INFO, roster["officer"].id, INTAKE, SURAT)
        await workflow.steps.complete_step(first.opened[0].id, roster["tu"].id)
        second = await workflow.filing.file_request(INFO, roster["officer"].id, INTAKE, SURAT)
        await workflow.cancellation.cancel(second.case.id, roster["officer"].id, "salah kirim")
        clock.advance(timedelta(hours=3))
        await workflow.filing.file_request(INFO, roster["officer"].id, INTAKE, SURAT)
        now = clock.now()
        async with db.transaction() as tx:
            await storage.drafts.save_draft(tx, person_id=roster["officer"].id, sop_id=INFO, answers={"a": "ü"},
                                            uploads={}, position=1, now=now)
            await storage.prompts.set_prompt(tx, roster["kabid"].id, PromptKind.ATTACH, {"step": 1}, now)
            await storage.digests.claim_digest(tx, roster["kabid"].id, "2026-11-23", now)
            await storage.updates.record_updates(tx, [(900001, '{"update_id": 900001}')], now)
    finally:
        await db.close()


async def _rows(db: Database) -> dict[str, list[tuple]]:
    out = {}
    for table in transfer.TABLES:
        cols = sorted(await transfer.columns(db, table.name))
        rows = await db.fetchall(f"SELECT {', '.join(cols)} FROM {table.name} ORDER BY {', '.join(table.key)}")
        out[table.name] = [tuple(row[c] for c in cols) for row in rows]
    return out


async def test_db_copy_moves_an_agency_to_postgresql_and_numbering_continues(
    admin: Path, pg_url: PostgresUrl, catalog: Catalog, calendar: WorkCalendar, capsys: pytest.CaptureFixture[str]
) -> None:
    source = admin / "agency.sqlite3"
    await _agency_on_sqlite(source, catalog, calendar)
    assert await alur("db", "copy", "--from", f"sqlite:///{source.name}", "--to", pg_url.url) == 0
    out = capsys.readouterr().out
    table_lines = [line.strip() for line in out.splitlines() if line.strip()[:1] in "✓✗"]
    assert len(table_lines) == len(transfer.TABLES) and all(line.startswith("✓") for line in table_lines), out
    assert "jumlah per tabel sama" in out

    lite, pg = await Database.open(source, migrate=False), await Database.open(pg_url, create=False)
    try:
        before = await _rows(lite)
        assert before == await _rows(pg)  # every row, every column, the same
        assert all(before[t] for t in ("people", "cases", "step_instances", "events", "outbox", "attachments",
                                       "drafts", "prompts", "digests", "updates", "sop_versions"))
        # the bot goes on on PostgreSQL: new rows continue the numbering, the register counts on
        clock = ManualClock(MONDAY_8 + timedelta(hours=4))
        workflow = Workflow.build(pg, catalog, calendar, clock)
        officer = await storage.people.person_by_telegram(pg, 3001)
        assert officer is not None
        new = await workflow.filing.file_request(INFO, officer.id, INTAKE, SURAT)
        assert new.case.id == max(r.id for r in await storage.cases.cases(lite)) + 1
        assert new.case.register_no.endswith("-0004")
        assert min(s.id for s in new.opened) > max(s.id for s in await storage.steps.steps_of_case(lite, 3))
        with pytest.raises(Exception, match="append-only"):
            async with pg.transaction() as tx:
                await tx.execute("DELETE FROM events")
    finally:
        await lite.close()
        await pg.close()

    # a copy only goes into an empty database, and never onto itself
    assert await alur("db", "copy", "--from", str(source), "--to", pg_url.url) == 1
    assert "tidak kosong" in capsys.readouterr().err
    assert await alur("db", "copy", "--from", str(source), "--to", f"sqlite:///{source.name}") == 2
    assert "sama" in capsys.readouterr().err

    # and back: PostgreSQL to a new SQLite file holds the same rows
    back = admin / "back.sqlite3"
    assert await alur("db", "copy", "--from", pg_url.url, "--to", str(back)) == 0
    capsys.readouterr()
    pg, again = await Database.open(pg_url, create=False), await Database.open(back, create=False)
    try:
        assert await _rows(pg) == await _rows(again)
    finally:
        await pg.close()
        await again.close()


async def test_db_copy_refuses_what_it_cannot_copy_faithfully(
    admin: Path, pg_url: PostgresUrl, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await alur("db", "copy", "--from", str(admin / "missing.sqlite3"), "--to", pg_url.url) == 2
    assert "tidak ditemukan" in capsys.readouterr().err
    old = admin / "old.sqlite3"
    db = await Database.open(old, upto=1)
    await db.close()
    assert await alur("db", "copy", "--from", str(old), "--to", pg_url.url) == 1
    assert "alur migrate" in capsys.readouterr().err
    db = await Database.open(old)
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE local_notes (id INTEGER PRIMARY KEY, text TEXT)")
    await db.close()
    assert await alur("db", "copy", "--from", str(old), "--to", pg_url.url) == 1
    assert "local_notes" in capsys.readouterr().err
    assert await alur("db", "copy", "--from", str(old), "--to", "postgresql://h/") == 2
    assert "nama basis data" in capsys.readouterr().err


def test_every_table_of_the_schema_is_copied() -> None:
    """A migration that adds a table must add it to transfer.TABLES too (parents before children)."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    for _, _, sql in migrations(Dialect.SQLITE):
        conn.executescript(sql)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names - {"sqlite_sequence"} == {t.name for t in transfer.TABLES}
    order = [t.name for t in transfer.TABLES]
    for table in order:
        for (parent,) in conn.execute(f"SELECT DISTINCT \"table\" FROM pragma_foreign_key_list('{table}')"):
            assert order.index(parent) < order.index(table), (table, parent)


async def test_alur_run_on_postgresql_logs_the_database_without_its_password(
    tmp_path: Path, pg_url: PostgresUrl
) -> None:
    """The real `alur run` (child process) on PostgreSQL: creates the tables, answers, stops cleanly, no password."""
    import signal
    import sys

    from sandbox.fake_bot_api import FakeBotApi

    from alur_process import clean_env

    parts = pg_url.parts
    host = parts.netloc.rsplit("@", 1)[-1]  # the test server trusts local connections: any password does
    with_password = PostgresUrl(f"{parts.scheme}://postgres:geheim@{host}{parts.path}?{parts.query}")
    async with FakeBotApi(bot_username="alur_pg_bot") as api:
        env = clean_env(tmp_path, ALUR_DB=with_password.url, TELEGRAM_BOT_TOKEN=api.token,
                        TELEGRAM_API_BASE_URL=api.base_url, ALUR_PEOPLE=str(DEMO_PEOPLE))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli.main", "run", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            user = api.user(2001, first_name="Tari")
            await user.send("/tugas")
            await user.next_message(timeout=20)
            proc.send_signal(signal.SIGTERM)
            out, _ = await asyncio.wait_for(proc.communicate(), 20)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    log = out.decode()
    assert proc.returncode == 0, log
    assert "geheim" not in log and "postgres:***@" in log, log
    assert any("Basis data baru dibuat" in line for line in log.splitlines()), log
    assert "ERROR" not in log and "Traceback" not in log, log
    db = await Database.open(pg_url, create=False)
    try:
        assert await storage.people.person_by_telegram(db, 2001) is not None  # the people file went to PostgreSQL
    finally:
        await db.close()
