"""The SOP importer's guesses for a step that names no actor come from roles.yaml (`import_head`), not from code."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.sop.catalog import DEFAULT_SOP_DIR
from bot.sop.roles import Role, RoleBook, load_roles
from bot.sop_import import import_file, import_text
from bot.sop_import.actors import lane_guess

from paths import SEEDS

SETDA_SEED = SEEDS / "003_34e05ad422ba86b6.txt"


def book(*, marked: bool = True) -> RoleBook:
    """A small institution: a chief over a lead over a clerk, and the requester."""
    return RoleBook([
        Role(id="requester", name="Pemohon", kind="requester", scope="org"),
        Role(id="chief", name="Kepala", kind="staff", scope="org", import_head="institution" if marked else None),
        Role(id="lead", name="Ketua", kind="staff", supervisor="chief", import_head="unit" if marked else None),
        Role(id="clerk", name="Juru", kind="staff", supervisor="lead"),
    ])


ALL = ["clerk", "lead", "chief"]


@pytest.mark.parametrize(
    ("text", "lanes", "position", "previous", "guess"),
    [
        ("Menugaskan juru menyusun draf", ALL, "first", None, "chief"),
        ("Menugaskan juru menyusun draf", ["clerk", "lead"], "first", None, "lead"),
        ("Menugaskan juru menyusun draf", ["clerk"], "first", None, "clerk"),
        ("Menugaskan juru menyusun draf", ["requester"], "first", None, "lead"),  # no staff lane: the unit head
        ("Menugaskan juru menyusun draf", ALL, "", None, "clerk"),  # an order in the middle is ordinary work
        ("Menandatangani surat jawaban", ALL, "", "clerk", "chief"),
        ("Menandatangani surat jawaban", ["clerk", "lead"], "", "clerk", "clerk"),
        ("Memeriksa draf laporan", ALL, "", "clerk", "lead"),
        ("Memeriksa draf laporan", ALL, "", "lead", "chief"),  # the unit head checked already: up it goes
        ("Memeriksa draf laporan", ["clerk", "lead"], "", "lead", "lead"),
        ("Menyusun draf laporan", ALL, "", None, "clerk"),  # the rest: the lowest staff lane
        ("Menerima surat jawaban", ["requester", *ALL], "last", "chief", "requester"),
    ],
)
def test_lane_guess_follows_the_heads_marked_in_roles_yaml(
    text: str, lanes: list[str], position: str, previous: str | None, guess: str
) -> None:
    assert lane_guess(text, lanes, book(), position, previous) == guess


def test_without_marked_heads_the_guesses_are_the_generic_ones() -> None:
    roles = book(marked=False)
    assert roles.import_heads("institution") == [] and roles.import_heads("unit") == []
    assert lane_guess("Menugaskan juru", ALL, roles, "first", None) == "clerk"
    assert lane_guess("Menandatangani surat", ALL, roles, "", None) == "clerk"
    assert lane_guess("Memeriksa draf", ALL, roles, "", "lead") == "clerk"
    assert lane_guess("Menyusun draf", ["requester"], roles, "", None) == "?"  # left for the curator


def test_a_typo_in_import_head_is_refused() -> None:
    with pytest.raises(ValueError, match="import_head"):
        Role(id="x", name="X", kind="staff", import_head="instituion")  # type: ignore[arg-type]


def test_the_catalog_marks_the_badan_heads() -> None:
    roles = load_roles(DEFAULT_SOP_DIR)
    assert roles.import_heads("institution") == ["kepala_badan"]
    assert roles.import_heads("unit") == ["kabid"]


def _roles_yaml(tmp_path: Path, marks: dict[str, str]) -> Path:
    """A copy of the catalog's roles.yaml (and institutions.yaml) with ``import_head`` set only as given."""
    data: dict[str, Any] = yaml.safe_load((DEFAULT_SOP_DIR / "roles.yaml").read_text(encoding="utf-8"))
    for role in data["roles"]:
        role.pop("import_head", None)
        if role["id"] in marks:
            role["import_head"] = marks[role["id"]]
    (tmp_path / "roles.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    shutil.copy(DEFAULT_SOP_DIR / "institutions.yaml", tmp_path / "institutions.yaml")
    return tmp_path


def _starters(drafts: dict[str, str]) -> list[list[str]]:
    return [yaml.safe_load(text)["starters"] for text in drafts.values()]


def _actors(drafts: dict[str, str]) -> list[list[str]]:
    return [[s["actor"] for s in yaml.safe_load(text)["steps"]] for text in drafts.values()]


@pytest.mark.skipif(not SETDA_SEED.is_file(), reason="seed texts not found")
def test_marking_the_setda_heads_in_roles_yaml_changes_the_setda_drafts(tmp_path: Path) -> None:
    text = SETDA_SEED.read_text(encoding="utf-8")
    before = import_file(SETDA_SEED)
    assert _starters(before.drafts) == [["sekda", "pelaksana"]]  # generic: the top staff lane, then the first actor
    marked = _roles_yaml(tmp_path, {"sekda": "institution", "kabag": "unit"})
    after = import_text(text, SETDA_SEED.name, sop_dir=marked)
    assert _starters(after.drafts) == [["sekda", "kabag", "pelaksana"]]


def test_a_table_without_staff_lanes_starts_from_every_marked_head(tmp_path: Path) -> None:
    text = "\n".join([
        "BADAN PERENCANAAN PEMBANGUNAN DAERAH KABUPATEN KETAPANG",
        "Nomor SOP\t:\t011/2024",
        "Nama SOP\t:\tUji Tanpa Staf",
        "",
        "No\tURAIAN\tPelaksana\t\tMutu Baku\t\t\tKet",
        "\t\tBupati\tDPRD\tKelengkapan\tWaktu\tOutput\t",
        "1\tMenyusun nota kesepakatan\t\t\tDraf\t1 hari\tNota\t",
        "2\tMenyetujui nota kesepakatan\t\t\tNota\t1 hari\tNota disetujui\t",
    ])
    default = import_text(text, "uji.txt")
    assert _starters(default.drafts) == [["kepala_badan", "kabid"]]
    assert _actors(default.drafts) == [["kabid", "kabid"]]  # no staff lane: the unit head
    marks = {"sekretaris": "institution", "sub_koordinator": "unit"}
    moved = import_text(text, "uji.txt", sop_dir=_roles_yaml(tmp_path, marks))
    assert _starters(moved.drafts) == [["sekretaris", "sub_koordinator"]]
    assert _actors(moved.drafts) == [["sub_koordinator", "sub_koordinator"]]
