"""`alur doctor`: all ✓ on the demo configuration; ✗ with the fix for each thing an admin gets wrong."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from telegram import Bot

from bot import storage
from bot.cli.main import main
from bot.core.clock import SystemClock
from bot.core.states import Role
from bot.storage.db import Database
from bot.storage.dialect import PostgresUrl
from sandbox.fake_bot_api import FakeBotApi

from alur_process import DEMO_PEOPLE, Finished, clean_env, run_alur, without_write_override

pytestmark = pytest.mark.timeout(120)


def marks(result: Finished) -> list[str]:
    return [line for line in result.stdout.splitlines() if line and line[0] in "✓✗"]


async def test_demo_configuration_passes_every_check(tmp_path: Path) -> None:
    async with FakeBotApi(bot_username="alur_ketapang_bot") as api:
        env = clean_env(tmp_path, ALUR_PEOPLE=str(DEMO_PEOPLE), TELEGRAM_BOT_TOKEN=api.token,
                        TELEGRAM_API_BASE_URL=api.base_url, ALUR_BOT_USERNAME="alur_ketapang_bot")
        init = await run_alur("init", env=env, cwd=tmp_path)
        assert init.code == 0, init
        result = await run_alur("doctor", env=env, cwd=tmp_path)
    assert result.code == 0, result
    checks = marks(result)
    assert checks and all(line.startswith("✓") for line in checks), result
    out = result.stdout
    for found in ("✓ Pengaturan", "✓ Katalog SOP", "23 SOP", "✓ Berkas pegawai", "8 orang, valid",
                  "✓ Basis data", "dapat ditulis, skema versi", "(terbaru)", "✓ Peran", "✓ Kalender kerja",
                  "Asia/Jakarta (WIB)", "Jam kerja berikutnya mulai", "Ringkasan harian berikutnya",
                  "✓ Hari libur", "✓ Token bot diterima", "@alur_ketapang_bot", api.base_url,
                  "✓ Webhook: tidak ada", "Semua", "lulus"):
        assert found in out, (found, out)
    assert "Kepala Bidang (Bidang Perencanaan Strategis dan Pengendalian): Pak Kadir (Kabid Perstradal)" in out
    assert "Admin sistem: Admin Sistem" in out
    assert "Institusi tanpa pegawai" in out and "Kotawaringin Timur" in out
    assert api.token not in out and api.calls_to("getMe") and api.calls_to("getWebhookInfo")
    assert not api.calls_to("getUpdates") and not api.calls_to("sendMessage")  # the doctor changes nothing


async def test_broken_people_file_wrong_token_and_missing_database_each_get_a_fix(tmp_path: Path) -> None:
    people = tmp_path / "people.yaml"
    people.write_text(DEMO_PEOPLE.read_text(encoding="utf-8").replace("roles: [kabid]", "roles: [kabidd]"),
                      encoding="utf-8")
    async with FakeBotApi() as api:
        wrong = "123456789:AAWrongTokenWrongTokenWrongToken0000"
        env = clean_env(tmp_path, ALUR_PEOPLE=str(people), TELEGRAM_BOT_TOKEN=wrong,
                        TELEGRAM_API_BASE_URL=api.base_url)
        result = await run_alur("doctor", env=env, cwd=tmp_path)
    assert result.code == 1, result
    out = result.stdout
    lines = out.splitlines()

    def fix_after(title: str) -> str:
        start = next(i for i, line in enumerate(lines) if line.startswith(f"✗ {title}"))
        return next(line for line in lines[start + 1:] if line.strip().startswith("→"))

    assert "peran 'kabidd' tidak dikenal (maksud Anda: kabid?)" in out
    assert "contoh lengkap: sop_data/demo_people.yaml" in fix_after("Berkas pegawai")
    assert "salin ulang token dari @BotFather" in fix_after("Token bot ditolak")
    assert "alur init" in fix_after("Basis data")
    assert wrong not in out and "AAWrong" not in out
    assert "3 dari" in out and "gagal" in out
    assert not (tmp_path / "alur.sqlite3").exists()  # the doctor never creates a database


async def test_read_only_database_is_a_cross_with_the_fix(tmp_path: Path) -> None:
    prefix = without_write_override()
    env = clean_env(tmp_path, ALUR_PEOPLE=str(DEMO_PEOPLE))
    assert (await run_alur("init", env=env, cwd=tmp_path)).code == 0
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copy(tmp_path / "alur.sqlite3", folder / "alur.sqlite3")
    (folder / "alur.sqlite3").chmod(0o444)
    folder.chmod(0o555)
    try:
        env = clean_env(tmp_path, ALUR_PEOPLE=str(DEMO_PEOPLE), ALUR_DB=str(folder / "alur.sqlite3"))
        result = await run_alur("doctor", "--offline", env=env, cwd=tmp_path, prefix=prefix, timeout=30)
    finally:
        folder.chmod(0o755)
    assert result.code == 1, result
    crosses = [line for line in marks(result) if line.startswith("✗")]
    assert len(crosses) == 1 and crosses[0].startswith("✗ Basis data"), result
    assert "izin tulis" in result.stdout and "→" in result.stdout
    assert result.seconds < 10


async def test_webhook_status_is_reported(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        async with Bot(api.token, base_url=api.base_url) as bot:
            await bot.set_webhook("https://alur.example.go.id/tg")
        env = clean_env(tmp_path, ALUR_PEOPLE=str(DEMO_PEOPLE), TELEGRAM_BOT_TOKEN=api.token,
                        TELEGRAM_API_BASE_URL=api.base_url)
        assert (await run_alur("init", env=env, cwd=tmp_path)).code == 0
        result, offline = await asyncio.gather(run_alur("doctor", env=env, cwd=tmp_path),
                                               run_alur("doctor", "--offline", env=env, cwd=tmp_path))
    assert result.code == 0, result
    assert "✓ Webhook: https://alur.example.go.id/tg" in result.stdout
    assert offline.code == 0 and "Token bot" not in offline.stdout and "--offline" in offline.stdout


# ---------------------------------------------------------------- workers (ALUR_WORKERS)


async def _doctor(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], **env: str) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = await asyncio.to_thread(main, ["doctor", "--offline"])
    return code, capsys.readouterr().out


def _crosses(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("✗")]


async def test_several_workers_on_sqlite_are_a_cross_and_one_worker_shows_what_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"ALUR_DB": str(tmp_path / "alur.sqlite3"), "ALUR_PEOPLE": str(DEMO_PEOPLE)}
    code, out = await _doctor(monkeypatch, capsys, **env, ALUR_WORKERS="3")
    assert code == 1 and _crosses(out) == ["✗ Basis data " + str(tmp_path / "alur.sqlite3") + ": belum ada",
                                           "✗ Pekerja: ALUR_WORKERS=3, tetapi SQLite hanya untuk satu proses"], out
    assert await asyncio.to_thread(main, ["init"]) == 0
    db = await Database.open(tmp_path / "alur.sqlite3")
    async with db.transaction() as tx:
        await storage.updates.record_updates(tx, [(7, "{}")], SystemClock().now() - timedelta(minutes=3))
    await db.close()
    capsys.readouterr()

    code, out = await _doctor(monkeypatch, capsys, ALUR_WORKERS="3")
    assert code == 1 and _crosses(out) == ["✗ Pekerja: ALUR_WORKERS=3, tetapi SQLite hanya untuk satu proses"], out
    lines = out.splitlines()
    fix = lines[lines.index(_crosses(out)[0]) + 2]
    assert fix.strip().startswith("→") and "ALUR_WORKERS=1" in fix and "PostgreSQL" in fix and "alur db copy" in fix

    monkeypatch.delenv("ALUR_WORKERS")
    code, out = await _doctor(monkeypatch, capsys)
    assert code == 0, out
    assert "✓ Pekerja: ALUR_WORKERS=1, satu proses pada SQLite" in out
    assert "Update menunggu ditangani: 1; yang tertua menunggu 3 menit" in out


async def test_workers_on_postgresql_who_runs_who_leads_and_what_waits(
    pg_url: PostgresUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    db = await Database.open(pg_url)
    first = await Database.open(pg_url)  # two workers' leadership sessions
    second = await Database.open(pg_url)
    try:
        now = SystemClock().now()
        async with db.transaction() as tx:
            await storage.updates.record_updates(tx, [(1, "{}", "100"), (2, "{}", "100")], now - timedelta(seconds=40))
            await storage.updates.claim_chats(tx, "host-a:11:abc", 30.0)
            await storage.updates.record_updates(tx, [(3, "{}", "200")], now - timedelta(seconds=5))
        assert await first.lead(Role.TICK) and await first.lead(Role.SENDER)
        assert not await second.lead(Role.TICK) and await second.lead(Role.RECEIVER)

        code, out = await _doctor(monkeypatch, capsys, ALUR_DB=pg_url.url, ALUR_PEOPLE=str(DEMO_PEOPLE),
                                  ALUR_WORKERS="3")
        assert code == 0 and not _crosses(out), out
        lines = out.splitlines()
        assert "✓ Pekerja: ALUR_WORKERS=3 pada PostgreSQL" in lines, out
        assert any("2 pekerja berjalan sekarang" in line for line in lines), out
        workers = [line.strip() for line in lines if line.strip().startswith("pekerja ")]
        assert len(workers) == 2, out
        assert workers[0].endswith("peran: detak penjadwal, pengirim outbox"), workers
        assert workers[1].endswith("peran: penerima update"), workers
        assert "Mengklaim update dalam 10 menit terakhir: host-a:11:abc (2 update disewa)" in out
        assert re.search(r"Update menunggu ditangani: 3 \(2 sedang diklaim pekerja, 1 belum diklaim\); "
                         r"yang tertua menunggu 4[0-9] detik", out), out

        code, out = await _doctor(monkeypatch, capsys, ALUR_WORKERS="1")  # two processes think they are alone
        assert code == 1 and _crosses(out) == [
            "✗ Pekerja: ALUR_WORKERS=1, tetapi 2 proses Alur berjalan pada basis data ini"], out
        assert "atur ALUR_WORKERS=2" in out

        await second.close()  # the receiver's worker stops: its role is free until another takes it
        code, out = await _doctor(monkeypatch, capsys, ALUR_WORKERS="3")
        assert code == 0 and "1 pekerja berjalan sekarang" in out and "Peran tanpa pemegang: penerima update" in out
    finally:
        await first.close()
        await second.close()
        await db.close()
