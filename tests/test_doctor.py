"""`alur doctor`: all ✓ on the demo configuration; ✗ with the fix for each thing an admin gets wrong."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from telegram import Bot

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
