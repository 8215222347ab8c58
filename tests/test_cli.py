"""The `alur` command line: catalog, people, questions."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from bot.cli.main import main


@pytest.fixture
def env_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("ALUR_DB", str(path))
    monkeypatch.setenv("ALUR_BOT_USERNAME", "alur_ketapang_bot")
    assert main(["init"]) == 0
    return path


def test_sop_list_json_has_every_seed_sop(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sop", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 23
    assert {r["source"]["file"][:3] for r in rows} == {"000", "001", "002", "003", "004"}
    ketapang = {r["id"] for r in rows if r["starters"] == ["requester"]}
    assert ketapang == {"ketapang-fasilitasi-aplikasi", "ketapang-permintaan-konsultasi",
                        "ketapang-permintaan-informasi"}


def test_sop_show_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sop", "show", "kotim-rakordal"]) == 0
    table = capsys.readouterr().out
    assert "Sesuai → diteruskan ke langkah 8" in table and "4 jam 30 menit" in table
    assert main(["sop", "show", "ketapang-permintaan-informasi", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["steps"][5]["duration"] == {"minutes": 0, "days": 1, "weeks": 0, "months": 0}
    assert main(["sop", "show", "tidak-ada"]) == 1


def test_people_commands(env_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["people", "add", "--name", "Pak Kadir", "--roles", "kabid", "--institution", "ketapang",
                 "--unit", "perstradal", "--telegram", "2004"]) == 0
    assert main(["people", "add", "--name", "Bu Sekar", "--roles", "sekretaris", "--institution", "ketapang",
                 "--telegram", "@sekar_bappeda"]) == 0
    assert main(["people", "add", "--name", "X", "--roles", "raja", "--institution", "ketapang",
                 "--telegram", "99"]) == 1
    capsys.readouterr()
    assert main(["people", "invite", "--name", "Andi", "--roles", "sub_koordinator", "--institution", "ketapang",
                 "--unit", "perstradal"]) == 0
    assert "https://t.me/alur_ketapang_bot?start=inv_" in capsys.readouterr().out
    assert main(["people", "act-for", "2004", "@sekar_bappeda", "--from", "2026-12-01", "--to", "2026-12-05"]) == 0
    assert "menjadi Plh untuk Pak Kadir" in capsys.readouterr().out
    assert main(["people", "remove", "@sekar_bappeda"]) == 0
    assert main(["people", "list"]) == 0
    listing = capsys.readouterr().out
    assert "Pak Kadir" in listing and "(nonaktif)" in listing and "@sekar_bappeda" in listing
    # inviting the deactivated person by name prints the new invite that gives her roles back; it works
    assert main(["people", "invite", "@sekar_bappeda"]) == 1
    told = capsys.readouterr().err
    assert "dinonaktifkan" in told
    command = told[told.index("alur people invite"):].strip()
    assert command == "alur people invite --name 'Bu Sekar' --roles sekretaris --institution ketapang"
    assert main(shlex.split(command)[1:]) == 0
    assert "?start=inv_" in capsys.readouterr().out


def test_qa_ask_plain_and_json_lines(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["qa", "ask", "siapa yang menandatangani surat jawaban permintaan data?"]) == 0
    out = capsys.readouterr().out
    assert "PERMINTAAN INFORMASI PEMBANGUNAN DAERAH" in out and "Kepala Badan" in out and "<b>" not in out
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("berapa lama musrenbang kota?\nrakordal dasar hukumnya apa\n"))
    assert main(["qa", "ask"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert [row["question"] for row in lines] == ["berapa lama musrenbang kota?", "rakordal dasar hukumnya apa"]
    assert "MUSYAWARAH PERENCANAAN PEMBANGUNAN KOTA" in lines[0]["answer"]


def test_run_without_token_starts_the_demo(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "TELEGRAM_BOT_TOKEN belum diatur" in out and "status: selesai" in out
