"""The admin's command line: settings honoured everywhere, no silent new databases, refusals in words."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.sop.catalog import DEFAULT_SOP_DIR

from alur_process import DEMO_PEOPLE, clean_env, run_alur


@pytest.fixture
def admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An admin's working folder: no .env, ALUR_DB inside it (not created yet)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALUR_DB", str(tmp_path / "alur.sqlite3"))
    return tmp_path


@pytest.mark.parametrize("command", [
    ["people", "list"], ["people", "remove", "@x_yz"], ["report", "sla"], ["backup", "copy.sqlite3"],
    ["people", "add", "--name", "A", "--roles", "admin", "--institution", "ketapang", "--telegram", "5"],
    ["people", "act-for", "1", "2", "--from", "2026-12-01", "--to", "2026-12-02"],
])
def test_commands_refuse_a_missing_database_instead_of_creating_one(
    admin: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    monkeypatch.setenv("ALUR_DB", str(admin / "alur.sqltie3"))  # a typo
    assert main(command) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Basis data tidak ditemukan:") and "alur.sqltie3" in err and "alur init" in err
    assert len(err.splitlines()) == 1
    assert not (admin / "alur.sqltie3").exists() and not (admin / "copy.sqlite3").exists()


def test_init_creates_once_and_applies_the_people_file(
    admin: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALUR_PEOPLE", str(DEMO_PEOPLE))
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "Basis data baru dibuat" in out and "8 ditambahkan" in out and "alur doctor" in out
    assert main(["init"]) == 0
    assert "Basis data sudah ada" in capsys.readouterr().out
    assert main(["backup", str(admin / "copy.sqlite3")]) == 0
    assert (admin / "copy.sqlite3").stat().st_size > 0
    assert main(["backup", str(admin / "alur.sqlite3")]) == 1
    assert "tidak boleh sama" in capsys.readouterr().err


def test_init_with_a_broken_people_file_creates_nothing(
    admin: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    people = admin / "people.yaml"
    people.write_text("people:\n  - {telegram: 2004, name: K, roles: [kabid], institution: ketapang}\n",
                      encoding="utf-8")
    monkeypatch.setenv("ALUR_PEOPLE", str(people))
    assert main(["init"]) == 2
    assert "unit tidak diisi" in capsys.readouterr().err
    assert not (admin / "alur.sqlite3").exists()


def test_people_list_shows_the_file_before_the_bot_ran_and_what_differs_after(
    admin: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    people = admin / "people.yaml"
    people.write_text(DEMO_PEOPLE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("ALUR_PEOPLE", str(people))
    assert main(["people", "list"]) == 0
    out = capsys.readouterr().out
    assert "Basis data belum ada" in out and "Pak Kadir (Kabid Perstradal)" in out and "8 orang di berkas" in out
    assert not (admin / "alur.sqlite3").exists()
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(["people", "list"]) == 0
    assert "Semua sudah sama dengan basis data" in capsys.readouterr().out
    text = people.read_text(encoding="utf-8").replace("roles: [sub_koordinator]", "roles: [sub_koordinator, admin]")
    text = "\n".join(line for line in text.splitlines() if "2006" not in line) + (
        '\n  - {telegram: "@eko_data", name: "Eko", roles: [staf_pengolah_data], institution: ketapang, '
        "unit: perstradal}\n")
    people.write_text(text, encoding="utf-8")
    assert main(["people", "list"]) == 0
    out = capsys.readouterr().out
    assert "+ baru" in out and "@eko_data" in out
    assert "~ berubah" in out and "Bu Sari" in out
    assert "- dihapus   #6 Dodi (Pengolah Data)" in out


def test_sop_and_qa_commands_read_the_configured_sop_folder(
    admin: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = admin / "sop"
    shutil.copytree(DEFAULT_SOP_DIR, folder)
    shutil.rmtree(folder / "kotim")
    assert main(["qa", "ask", "berapa lama rakordal?"]) == 0
    assert "Kotawaringin Timur" in capsys.readouterr().out
    monkeypatch.setenv("ALUR_SOP_DIR", str(folder))
    assert main(["sop", "list"]) == 0
    assert "\n8 SOP" in capsys.readouterr().out
    assert main(["sop", "validate"]) == 0
    assert str(folder) in capsys.readouterr().out
    assert main(["sop", "show", "kotim-rakordal"]) == 1
    capsys.readouterr()
    assert main(["qa", "ask", "berapa lama rakordal?"]) == 0
    assert "Kotawaringin Timur" not in capsys.readouterr().out
    bad = folder / "ketapang" / "permintaan-informasi.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("actor: petugas_tu", "actor: petugas_tuu"),
                   encoding="utf-8")
    assert main(["sop", "validate"]) == 1
    assert "petugas_tuu" in capsys.readouterr().out
    assert main(["sop", "validate", str(DEFAULT_SOP_DIR)]) == 0  # a folder on the command line still wins


def test_sop_validate_of_a_folder_that_is_not_there_is_one_indonesian_line(
    admin: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = admin / "tidak-ada"
    assert main(["sop", "validate", str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"Folder SOP tidak ditemukan: {missing}. Periksa path-nya.\n"
    a_file = admin / "roles.yaml"
    a_file.write_text("roles: []\n", encoding="utf-8")
    assert main(["sop", "validate", str(a_file)]) == 2
    assert capsys.readouterr().err.startswith(f"Bukan folder: {a_file}.")
    # a folder without roles.yaml: the file is named, with no English errno text
    empty = admin / "kosong"
    empty.mkdir()
    assert main(["sop", "validate", str(empty)]) == 1
    out = capsys.readouterr().out
    assert out == "roles.yaml: -: tidak terbaca: berkas tidak ada\n" and "Errno" not in out
    monkeypatch.setenv("ALUR_SOP_DIR", str(missing))  # the setting is checked with the others: one line too
    assert main(["sop", "validate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ALUR_SOP_DIR='{missing}' tidak valid: folder tidak ada.")


def test_near_misses_are_suggested(admin: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sop", "show", "rakordal"]) == 1
    assert "SOP tidak ditemukan: rakordal (maksud Anda: kotim-rakordal?)" in capsys.readouterr().err
    assert main(["sop", "show", "ketapang-permintaan-informas"]) == 1
    assert "maksud Anda: ketapang-permintaan-informasi?" in capsys.readouterr().err
    monkeypatch.setenv("ALUR_PEOPLE", str(DEMO_PEOPLE))
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(["people", "remove", "Pak Kadi"]) == 1
    assert "maksud Anda: #4 Pak Kadir (Kabid Perstradal)?" in capsys.readouterr().err
    assert main(["people", "invite", "--name", "A", "--roles", "sub_koordinatr", "--institution", "ketapang",
                 "--unit", "perstradal"]) == 1
    assert "maksud Anda: sub_koordinator?" in capsys.readouterr().err


def test_refusals_are_words_not_codes(admin: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ALUR_PEOPLE", str(DEMO_PEOPLE))
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(["people", "act-for", "2004", "2004", "--from", "2026-12-01", "--to", "2026-12-05"]) == 1
    assert main(["people", "act-for", "2004", "2003", "--from", "2026-12-05", "--to", "2026-12-01"]) == 1
    assert main(["people", "add", "--name", "Tari", "--roles", "petugas_tu", "--institution", "ketapang",
                 "--telegram", "2001"]) == 1
    err = capsys.readouterr().err
    assert "orang yang sama" in err and "lebih awal dari --from" in err and "sudah terdaftar (2001)" in err
    for code in ("bad_target", "bad_dates", "already_registered", "{'", "gagal:"):
        assert code not in err


def test_bad_time_zone_is_one_line_for_people_list(admin: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ALUR_TZ", "WIB")
    assert main(["people", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("ALUR_TZ='WIB' tidak valid") and "Asia/Jakarta" in err


def test_unexpected_errors_are_one_line_and_a_traceback_only_with_debug(
    admin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    capsys.readouterr()
    target = str(admin / "no" / "such" / "folder" / "sla.csv")
    assert main(["report", "sla", "--csv", target]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("Kesalahan tak terduga: FileNotFoundError")
    assert "--debug" in err
    assert main(["report", "sla", "--csv", target, "--debug"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


@pytest.mark.parametrize("url, hint", [
    ("postgress://alur:rahasia@db.example.go.id/alur", "maksud Anda: postgresql://?"),
    ("postgersql://alur:rahasia@db.example.go.id:5432/alur", "maksud Anda: postgresql://?"),
    ("mysql://alur:rahasia@db.example.go.id/alur", "postgresql://"),
    ("sqlite:/data/alur.sqlite3", "sqlite:///"),
])
async def test_a_database_url_with_an_unknown_scheme_is_refused_not_made_a_sqlite_file(
    tmp_path: Path, url: str, hint: str
) -> None:
    """A misspelt ``postgresql://`` once became a relative SQLite path: `alur init` created
    ``./postgress:/alur:rahasia@db…/alur`` (the password in a folder name) and the bot ran on an empty
    database. Every command, and both ends of `alur db copy`, refuse it in one line, hiding the password."""
    env = clean_env(tmp_path, ALUR_DB=url, ALUR_PEOPLE=str(DEMO_PEOPLE))
    for args in (("init",), ("run",), ("migrate",)):
        result = await run_alur(*args, env=env, cwd=tmp_path, timeout=30)
        assert result.code == 2, result
        assert len(result.error_lines) == 1 and result.error_lines[0].startswith("ALUR_DB="), result
        assert hint in result.error_lines[0] and "rahasia" not in result.stderr + result.stdout, result
    doctor = await run_alur("doctor", "--offline", env=env, cwd=tmp_path, timeout=30)
    assert doctor.code == 1 and "✗ Pengaturan ALUR_DB" in doctor.stdout and "rahasia" not in doctor.stdout, doctor
    good = clean_env(tmp_path, ALUR_PEOPLE=str(DEMO_PEOPLE))
    assert (await run_alur("init", env=good, cwd=tmp_path)).code == 0
    for args in (("--from", str(tmp_path / "alur.sqlite3"), "--to", url), ("--from", url, "--to", "copy.sqlite3")):
        copy = await run_alur("db", "copy", *args, env=good, cwd=tmp_path, timeout=30)
        assert copy.code == 2 and len(copy.error_lines) == 1 and hint in copy.stderr, copy
        assert "rahasia" not in copy.stderr + copy.stdout, copy
    assert sorted(p.name for p in os.scandir(tmp_path)) == ["alur.sqlite3"], "nothing else may be written"


def test_db_copy_names_its_own_missing_source_not_alur_db(
    admin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`alur db copy --from` a mistyped path used to say 'Periksa ALUR_DB', a variable the command never read."""
    assert main(["db", "copy", "--from", str(admin / "alur.sqltie3"), "--to", str(admin / "copy.sqlite3")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--from" in err and "alur.sqltie3" in err and "ALUR_DB" not in err, err
    assert not (admin / "copy.sqlite3").exists() and not (admin / "alur.sqltie3").exists()
