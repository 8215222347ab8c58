"""The curated SOPs of Bappelitbangda Kotawaringin Timur (seed 000) against the seed text and dev.yaml."""

from __future__ import annotations

from functools import cache

import pytest
import yaml

from bot.sop.catalog import Catalog, load_catalog
from bot.sop.durations import dominant_unit, parse_duration
from bot.sop.model import Sop
from bot.sop_import import import_file

from paths import DEV_SET, SEEDS

SEED_000 = SEEDS / "000_86f500e7345e055f.txt"
TAB_SEEDS = [
    "000_86f500e7345e055f.txt",
    "001_bf82694fd069d106.txt",
    "002_cae8b829e33c78ad.txt",
    "003_34e05ad422ba86b6.txt",
]
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed texts not found in {SEEDS}")

STEP_COUNTS = {
    "kotim-dokumen-p2mpsda": 7,
    "kotim-sinergisitas-p2mpsda": 7,
    "kotim-dokumen-pemerintahan": 10,
    "kotim-asistensi-pemerintahan": 11,
    "kotim-monev-pemerintahan": 9,
    "kotim-sinergitas-pemerintahan": 8,
    "kotim-sinergisitas-kewilayahan": 7,
    "kotim-monev-kewilayahan": 7,
    "kotim-sinergisitas-infrastruktur": 7,
    "kotim-dokumen-infrastruktur": 7,
    "kotim-rkpd": 12,
    "kotim-rekap-fisik": 5,
    "kotim-rakordal": 9,
    "kotim-penelitian-ekonomi": 7,
    "kotim-krenova": 10,
}
K04_SOPS = ["kotim-sinergisitas-kewilayahan", "kotim-monev-kewilayahan", "kotim-sinergisitas-infrastruktur"]
JUMP_SOPS = [
    "kotim-dokumen-p2mpsda",
    "kotim-sinergisitas-p2mpsda",
    "kotim-sinergisitas-kewilayahan",
    "kotim-monev-kewilayahan",
    "kotim-sinergisitas-infrastruktur",
    "kotim-dokumen-infrastruktur",
]


@cache
def catalog() -> Catalog:
    return load_catalog()


def sop(sop_id: str) -> Sop:
    return catalog()[sop_id]


def kotim() -> list[Sop]:
    return [s for s in catalog() if s.institution == "kotim"]


@cache
def seed_text() -> str:
    """Seed 000 with whitespace collapsed, the form step texts are compared in."""
    return " ".join(SEED_000.read_text(encoding="utf-8").split())


# ---------------------------------------------------------------- the catalog


def test_catalog_loads() -> None:
    assert len(catalog()) >= len(STEP_COUNTS)


def test_kotim_sops_and_step_counts() -> None:
    assert {s.id: len(s.steps) for s in kotim()} == STEP_COUNTS
    for s in kotim():
        assert s.source.file == "000_86f500e7345e055f.txt"
        assert s.unit in {"p2mpsda", "infrawil", "p2epd", "litbang"}
        assert not s.steps_missing and not s.requester_started and not s.intake
        assert s.starters[:2] == ["kepala_badan", "kabid"]
        assert 3 <= len(s.keywords) <= 8


def test_units() -> None:
    units = {s.id: s.unit for s in kotim()}
    assert units["kotim-dokumen-pemerintahan"] == "p2mpsda"
    assert units["kotim-sinergitas-pemerintahan"] == "p2mpsda"
    assert units["kotim-monev-kewilayahan"] == "infrawil"
    assert units["kotim-dokumen-infrastruktur"] == "infrawil"
    assert units["kotim-rkpd"] == units["kotim-rakordal"] == units["kotim-rekap-fisik"] == "p2epd"
    assert units["kotim-krenova"] == units["kotim-penelitian-ekonomi"] == "litbang"


def test_actors_are_lane_roles() -> None:
    for s in kotim():
        lanes = {lane.role for lane in s.lanes}
        for st in s.steps:
            assert st.actor in lanes, (s.id, st.number, st.actor)
            if st.actor_source == "text":
                assert s.id != "kotim-rakordal"


# ---------------------------------------------------------------- step facts


def test_step_facts() -> None:
    p2mpsda = sop("kotim-dokumen-p2mpsda")
    assert [st.number for st in p2mpsda.steps] == ["1", "2", "3", "4", "7", "8", "9"]
    assert p2mpsda.next_step(p2mpsda.step("4")).number == "7"
    assert "evaluasi redaksional" in p2mpsda.step("7").text
    assert p2mpsda.step("7").actor == "kabid"
    assert p2mpsda.related[0].sop == "kotim-rakordal"
    assert p2mpsda.source.also_in == ["000_86f500e7345e055f.txt:121"]

    pemerintahan = sop("kotim-dokumen-pemerintahan")
    s2 = pemerintahan.step("2")
    assert s2.actor == "kabid" and s2.actor_source == "text"
    assert s2.outputs == ["Disposisi Kabid P2MPSDA kepada Perencana Ahli Muda Bidang P2MPSDA"]
    assert [pemerintahan.step(n).actor for n in ("8", "9")] == ["kabid", "kepala_badan"]  # K06
    assert pemerintahan.duration(pemerintahan.step("7")).minutes == 1800

    asistensi = sop("kotim-asistensi-pemerintahan")
    assert asistensi.step("5").outputs == ["Form 2 dan Form 3 Verifikasi dan Validasi Usulan Desa/Kelurahan"]
    assert asistensi.step("5").duration_text == "180 menit"
    assert asistensi.legal_basis == pemerintahan.legal_basis  # K03: header copied

    monev = sop("kotim-monev-pemerintahan")
    assert monev.step("5").duration_text == "1800 menit"
    assert monev.step("5").text == (
        "Melaksanakan monitoring dan evaluasi pelaksanaan pembangunan di tiap Perangkat Daerah"
    )

    rkpd = sop("kotim-rkpd")
    assert rkpd.step("4").text == "Menyusun Rancangan Awal RKPD"
    assert rkpd.step("4").duration_text == "7 Minggu"
    assert rkpd.duration(rkpd.step("4")).weeks == 7
    assert rkpd.step("5").original.duration_text == "1 Hri" and rkpd.step("5").duration_text == "1 Hari"
    assert rkpd.duration(rkpd.step("5")).days == 1
    assert rkpd.step("11").outputs == ["Perbup RKPD"] and rkpd.step("11").actor == "bupati"
    d12 = rkpd.duration(rkpd.step("12"))
    assert (d12.days, d12.qualifier) == (7, "setelah Penetapan")
    assert rkpd.related[0].text == "SOP Rakordal" and rkpd.related[0].sop == "kotim-rakordal"
    assert len(rkpd.equipment) == 9

    rekap = sop("kotim-rekap-fisik")
    assert rekap.step("1").text == "Mengonsep draf Surat Permintaan Data fisik Pembangunan"
    assert rekap.step("3").duration_text == "4 jam 30 menit"
    assert rekap.duration(rekap.step("3")).minutes == 270
    assert rekap.total_duration().minutes == 830  # dev-20: 13 jam 50 menit
    assert rekap.total_duration().format() == "13 jam 50 menit"

    rakordal = sop("kotim-rakordal")
    assert rakordal.step("5").duration_text == "3 jam 45 menit"
    assert rakordal.duration(rakordal.step("5")).minutes == 225
    assert rakordal.step("9").outputs == ["Dokumen Laporan Hasil Rakordal/Tepra"]
    assert rakordal.related[0].sop == "kotim-rkpd"
    assert "Rakordal harus dilaksanakan" in rakordal.warning

    monev_wil = sop("kotim-monev-kewilayahan")
    assert "SK Tim Monev" in monev_wil.equipment and "DPA Bappelitbangda" in monev_wil.equipment
    assert monev_wil.step("3").outputs == ["Kuisioner Monitoring dan Evaluasi"]

    krenova = sop("kotim-krenova")
    assert "Innovative Government Award" in krenova.warning
    assert [st.number_source for st in krenova.steps] == ["printed"] + ["assigned"] * 9
    assert all(st.duration_text is None for st in krenova.steps)
    assert krenova.step("8").actor == "tim_penilai" and krenova.step("8").actor_source == "text"

    penelitian = sop("kotim-penelitian-ekonomi")
    assert any("18 Tahun 2002" in lb for lb in penelitian.legal_basis)
    assert any("061-001" in lb for lb in penelitian.legal_basis)
    assert all(not st.requirements and not st.outputs and st.duration_text is None for st in penelitian.steps)


def test_rakordal_decision() -> None:
    rakordal = sop("kotim-rakordal")
    step7 = rakordal.step("7")
    assert step7.is_decision
    assert step7.decision.question == "Apakah draf laporan hasil rapat sudah sesuai?"
    assert {b.target: b.outcome for b in step7.decision.branches} == {"8": "continue", "6": "return"}
    assert rakordal.successors(step7) == ["8", "6"]
    assert sum(st.is_decision for s in kotim() for st in s.steps) == 1


def test_k04_steps_carry_the_warning() -> None:
    for sop_id in K04_SOPS:
        for st in sop(sop_id).steps:
            assert any(w.startswith("K04:") for w in st.warnings), (sop_id, st.number)
    step3 = sop("kotim-sinergisitas-p2mpsda").step("3")
    assert any(w.startswith("K04:") for w in step3.warnings)
    assert step3.original.text == "Menyusun: Data kompilasi terkait data pemutakhiran program sinegritas"
    assert step3.text == "Menyusun: Data kompilasi terkait data pemutakhiran program sinergitas"
    assert sop("kotim-sinergisitas-kewilayahan").step("3").text == (
        "Menyusun: Data kompilasi terkait data pemutakhiran SSK"
    )


def test_jump_numbers_preserved() -> None:
    for sop_id in JUMP_SOPS:
        s = sop(sop_id)
        assert [st.number for st in s.steps] == ["1", "2", "3", "4", "7", "8", "9"], sop_id
        assert s.next_step(s.step("4")).number == "7"
        assert any(n.startswith("K01:") for n in s.notes)


def test_empty_sections_are_noted() -> None:
    for sop_id in ("kotim-dokumen-p2mpsda", "kotim-sinergisitas-kewilayahan", "kotim-sinergisitas-infrastruktur"):
        s = sop(sop_id)
        assert s.warning == "" and s.records == []
        assert any(n.startswith("K07:") for n in s.notes)
    krenova = sop("kotim-krenova")
    assert krenova.records == [] and any(n.startswith("K07:") for n in krenova.notes)


# ---------------------------------------------------------------- against the seed and dev.yaml


@needs_seeds
def test_texts_and_durations_as_printed() -> None:
    text = seed_text()
    lines = SEED_000.read_text(encoding="utf-8").splitlines()
    for s in (k.original for k in kotim()):
        assert s.name in text
        assert s.name in lines[s.source.line - 1].replace("*", ""), (s.id, s.source.line)
        for st in (k.original for k in s.steps):
            if not any(w.startswith("K04:") for w in st.warnings):
                assert st.text in text, (s.id, st.number)
            if st.duration_text:
                assert st.duration_text in text, (s.id, st.number)
            for item in st.requirements + st.outputs:
                if not any(w.startswith("K12:") for w in st.warnings):
                    assert item in text, (s.id, st.number, item)
        for item in s.legal_basis + s.qualifications + s.equipment + s.records + [r.text for r in s.related]:
            assert item in text, (s.id, item)
        if s.warning:
            assert s.warning in text


@pytest.mark.skipif(not DEV_SET.is_file(), reason=f"dev set not found at {DEV_SET}")
def test_names_equal_dev_titles() -> None:
    items = yaml.safe_load(DEV_SET.read_text(encoding="utf-8"))
    titles = {
        (it["expect"]["sop"]["title"], it["expect"]["sop"]["line"])
        for it in items
        if it["expect"]["sop"]["seed"].startswith("000_")
    }
    by_name = {s.name: s for s in kotim()}
    assert len(titles) >= 10
    for title, line in titles:
        assert title in by_name, title
        assert by_name[title].source.line == line


@needs_seeds
def test_every_printed_waktu_parses() -> None:
    """Every Waktu cell of the tab tables of seeds 000-003 (duplicate table included) parses."""
    counts = {}
    for name in TAB_SEEDS:
        counts[name[:3]] = 0
        for table in import_file(SEEDS / name).tables:
            values = [row.duration for row in table.rows if row.duration]
            unit = dominant_unit(values)
            for value in values:
                parse_duration(value, default_unit=unit, where=f"{name}: {table.caption}")
                counts[name[:3]] += 1
    # 000: 130 rows less Penelitian (7) and Krenova (10), which print no Waktu
    assert counts == {"000": 113, "001": 25, "002": 11, "003": 14}


def test_catalog_durations_parse() -> None:
    for s in kotim():
        for st in s.steps:
            if st.duration_text:
                assert not s.duration(st).is_zero
