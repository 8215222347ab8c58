"""The people file is checked as a whole: every problem with file, line, entry and fix; nothing half-applied."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.sop.catalog import DEFAULT_SOP_DIR, Catalog, load_catalog
from bot.storage.db import Database
from bot.workflow.people import People
from bot.workflow.people_file import PeopleFileError, parse_people_file, parse_telegram

from alur_process import DEMO_PEOPLE


def problems_of(tmp_path: Path, catalog: Catalog, text: str) -> list[str]:
    path = tmp_path / "people.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PeopleFileError) as caught:
        parse_people_file(path, catalog)
    return [str(p) for p in caught.value.problems]


def test_duplicate_telegram_id_names_both_entries_and_the_line(tmp_path: Path, catalog: Catalog) -> None:
    text = DEMO_PEOPLE.read_text(encoding="utf-8") + (
        '  - {telegram: 2001, name: "Petugas Baru", roles: [petugas_tu], institution: ketapang}\n')
    (line,) = problems_of(tmp_path, catalog, text)
    assert f"people.yaml:{len(text.splitlines())}: entri 9 (Petugas Baru)" in line
    assert "id Telegram 2001 sudah dipakai entri 1 (Tari (Petugas TU))" in line and "perbaiki:" in line


def test_duplicate_username_ignores_case(tmp_path: Path, catalog: Catalog) -> None:
    (line,) = problems_of(tmp_path, catalog, (
        "people:\n"
        '  - {telegram: "@Sari_Bappeda", name: Sari, roles: [admin], institution: ketapang}\n'
        '  - {telegram: "@sari_bappeda", name: Sari 2, roles: [admin], institution: ketapang}\n'))
    assert "people.yaml:3: entri 2 (Sari 2): @sari_bappeda sudah dipakai entri 1 (Sari)" in line


def test_unit_scope_comes_from_roles_yaml(tmp_path: Path, catalog: Catalog) -> None:
    text = "people:\n  - {telegram: 2004, name: Kadir, roles: [kabid, kepala_badan], institution: ketapang}\n"
    (line,) = problems_of(tmp_path, catalog, text)
    assert "peran kabid dipegang per unit/bidang" in line and "kepala_badan" not in line.split("—")[0]
    assert "tambahkan unit: salah satu dari perstradal" in line
    folder = tmp_path / "sop"  # the same file is fine where roles.yaml makes kabid organisation-wide
    shutil.copytree(DEFAULT_SOP_DIR, folder)
    roles = folder / "roles.yaml"
    body = roles.read_text(encoding="utf-8")
    kabid = body.index("- id: kabid")
    roles.write_text(body[:kabid] + body[kabid:].replace("scope: unit", "scope: org", 1), encoding="utf-8")
    specs = parse_people_file(tmp_path / "people.yaml", load_catalog(folder))
    assert specs[0].roles == ("kabid", "kepala_badan") and specs[0].unit is None


@pytest.mark.parametrize("entry,expected", [
    ("{telegram: 2004, name: K, roles: [kabid], institution: ketapang, unit: perstrada}",
     "unit 'perstrada' tidak ada di ketapang (maksud Anda: perstradal?)"),
    ("{telegram: 2004, name: K, roles: [kabidd], institution: ketapang, unit: perstradal}",
     "peran 'kabidd' tidak dikenal (maksud Anda: kabid?)"),
    ("{telegram: 2004, name: K, roles: [admin], institution: bapeda}", "institusi 'bapeda' tidak dikenal"),
    ("{telegram: abc, name: K, roles: [admin], institution: ketapang}", "tulis '@abc' bila itu username"),
    ("{telegram: 12ab, name: K, roles: [admin], institution: ketapang}", "bukan id angka maupun @username"),
    ("{telegram: -1001, name: K, roles: [admin], institution: ketapang}", "bukan id orang"),
    ("{telegram: '@', name: K, roles: [admin], institution: ketapang}", "username '@' tidak valid"),
    ("{telegram: yes, name: K, roles: [admin], institution: ketapang}", "tidak terbaca"),
    ("{name: K, roles: [admin], institution: ketapang}", "telegram wajib diisi"),
    ("{telegram: 5, roles: [admin], institution: ketapang}", "name wajib diisi"),
    ("{telegram: 5, name: K, roles: admin kabid, institution: ketapang}", "peran 'admin kabid' tidak dikenal"),
    ("{telegram: 5, name: K, roles: [admin], institution: ketapang, jabatan: x}", "kunci 'jabatan' tidak dikenal"),
    ("just text", "entri bukan pemetaan"),
])
def test_each_malformed_entry_is_named_with_its_fix(tmp_path: Path, catalog: Catalog, entry: str,
                                                    expected: str) -> None:
    (line,) = problems_of(tmp_path, catalog, f"people:\n  - {entry}\n")
    assert line.startswith(f"{tmp_path / 'people.yaml'}:2:") and expected in line and " — perbaiki: " in line


@pytest.mark.parametrize("text,expected", [
    ("people:\n  - {telegram: 1, name: x, roles: [kabid\n", "YAML tidak valid"),
    ("people: {}\n", "tidak ada daftar 'people:'"),
    ("", "tidak ada daftar 'people:'"),
    ("people:\n  - {telegram: 1, name: 2026-13-45, roles: [admin], institution: ketapang}\n", "tidak terbaca"),
])
def test_whole_file_problems(tmp_path: Path, catalog: Catalog, text: str, expected: str) -> None:
    (line,) = problems_of(tmp_path, catalog, text)
    assert expected in line


def test_missing_file(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(PeopleFileError, match="berkas tidak ada"):
        parse_people_file(tmp_path / "none.yaml", catalog)


def test_parse_telegram() -> None:
    assert parse_telegram(2004) == (2004, None)
    assert parse_telegram(" 2004 ") == (2004, None)
    assert parse_telegram("@Sari_Bappeda") == (None, "sari_bappeda")
    for bad in ("abc", "sari_bappeda", "@a b", "", None, True, 0, "-5", 3.5):
        with pytest.raises(ValueError):
            parse_telegram(bad)


async def test_a_file_with_errors_changes_nothing(tmp_path: Path, db: Database, people: People) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(DEMO_PEOPLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert (await people.sync_file(good))["added"] == 8
    before = await people.all(active_only=False)
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "people:\n"
        '  - {telegram: 2001, name: "Tari (Petugas TU)", roles: [petugas_tu], institution: ketapang}\n'
        '  - {telegram: 2010, name: "Orang Baru", roles: [admin], institution: ketapang}\n'
        '  - {telegram: 2010, name: "Salah Ketik", roles: [admin], institution: ketapang}\n', encoding="utf-8")
    with pytest.raises(PeopleFileError):
        await people.sync_file(broken)
    assert await people.all(active_only=False) == before  # nobody added, nobody deactivated


def test_people_add_requires_at_for_usernames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALUR_DB", str(tmp_path / "a.sqlite3"))
    assert main(["init"]) == 0
    base = ["people", "add", "--name", "Eko", "--roles", "staf_pengolah_data", "--institution", "ketapang",
            "--unit", "perstradal", "--telegram"]
    capsys.readouterr()
    assert main([*base, "abc"]) == 1
    err = capsys.readouterr().err
    assert "telegram 'abc' bukan angka dan tidak diawali @" in err and "tulis '@abc'" in err
    assert main(["people", "add", "--name", "K", "--roles", "kabid", "--institution", "ketapang",
                 "--telegram", "2004"]) == 1
    assert "unit tidak diisi" in capsys.readouterr().err
    assert main(["people", "list"]) == 0
    assert "Eko" not in capsys.readouterr().out  # nothing was added by the refused commands
    assert main([*base, "@eko_data"]) == 0
    assert main(["people", "list"]) == 0
    assert "@eko_data" in capsys.readouterr().out
