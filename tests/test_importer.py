"""The SOP importer (`alur sop import`) on the seed text extractions and on small synthetic texts."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pytest
import yaml

from bot.cli.main import main
from bot.sop.catalog import DEFAULT_SOP_DIR, read_catalog
from bot.sop.durations import dominant_unit, parse_duration
from bot.sop.model import Sop
from bot.sop_import import ImportResult, import_file, import_text, split_items, split_numbered

from paths import SEEDS

SEED = {
    "000": "000_86f500e7345e055f.txt",
    "001": "001_bf82694fd069d106.txt",
    "002": "002_cae8b829e33c78ad.txt",
    "003": "003_34e05ad422ba86b6.txt",
    "004": "004_3e65c449abe4c977.txt",
}
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed texts not found in {SEEDS}")


@cache
def imported(key: str) -> ImportResult:
    return import_file(SEEDS / SEED[key])


def sop(result: ImportResult, line: int):
    return next(s for s in result.sops if s.line == line)


def draft(result: ImportResult, line: int) -> dict:
    """The YAML draft of the SOP whose title is on that line (parsed once per import)."""
    cached = _DRAFTS.get(id(result))
    if cached is None or cached[0] is not result:
        loaded = (yaml.load(text, Loader=_LOADER) for text in result.drafts.values())
        cached = _DRAFTS[id(result)] = (result, {data["source"]["line"]: data for data in loaded})
    return cached[1][line]


_DRAFTS: dict[int, tuple[ImportResult, dict[int, dict]]] = {}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def step(data: dict, number: str) -> dict:
    return next(s for s in data["steps"] if s["number"] == number)


def reported(result: ImportResult, *parts: str) -> list[str]:
    return [line for line in result.report if all(p in line for p in parts)]


# ---------------------------------------------------------------- list splitting


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (
            "1. DPA Bappelitbangda 2. SK TIM Penyusun 3. DPA OPD terkait",
            ["DPA Bappelitbangda", "SK TIM Penyusun", "DPA OPD terkait"],
        ),
        ("1 SOP Rakordal", ["SOP Rakordal"]),
        (
            "1. Undang-Undang Nomor 18 Tahun 2002 tentang X; 2. Permendagri No. 17 tahun 2016",
            ["Undang-Undang Nomor 18 Tahun 2002 tentang X", "Permendagri No. 17 tahun 2016"],
        ),
        (
            "1. Perda Nomor 4 Tahun 2021 tentang RPJMD 2. Perbup Nomor 13 Tahun 2020",
            ["Perda Nomor 4 Tahun 2021 tentang RPJMD", "Perbup Nomor 13 Tahun 2020"],
        ),
        ("1.", []),
        ("SOP Permintaan Data Perencanaan", ["SOP Permintaan Data Perencanaan"]),
        ("- SOP Penyusunan Program", ["SOP Penyusunan Program"]),
    ],
)
def test_split_numbered(text: str, items: list[str]) -> None:
    assert split_numbered(text) == items


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        ("- Draf SK TIM Penyusun '- Undangan Rapat", ["Draf SK TIM Penyusun", "Undangan Rapat"]),
        ("Laptop, ATK, Internet , Handphone", ["Laptop", "ATK", "Internet", "Handphone"]),
        (
            "- Notulen Rapat - SK TIM Penyusun (Pokja Ekonomi, Pokja Pendidikan dan Kesra), BA Forgab",
            ["Notulen Rapat", "SK TIM Penyusun (Pokja Ekonomi, Pokja Pendidikan dan Kesra)", "BA Forgab"],
        ),
        ("Daftar usulan, Ranwal RKPd, dan Rancangan RKPd", ["Daftar usulan, Ranwal RKPd, dan Rancangan RKPd"]),
        ("Forum Gabungan-PD 2021-2026", ["Forum Gabungan-PD 2021-2026"]),
    ],
)
def test_split_items(cell: str, items: list[str]) -> None:
    assert split_items(cell) == items


# ---------------------------------------------------------------- seed 000 (Kotim)


@needs_seeds
def test_000_tables_and_sops() -> None:
    result = imported("000")
    assert len(result.tables) == 16  # 15 SOP tables + the K02 copy at line 121
    assert [len(s.table.rows) for s in result.sops] == [7, 7, 10, 11, 9, 8, 7, 7, 7, 7, 12, 5, 9, 7, 10]
    assert [s.line for s in result.sops] == [14, 54, 105, 150, 167, 182, 205, 255, 310, 358, 394, 445, 475, 540, 572]
    assert len(result.drafts) == 15
    assert all(name.startswith("kotim-") for name in result.drafts)
    # the K02 copy is recognised and skipped; the header at line 105 gets the 10-step table
    assert reported(result, "tabel baris 123", "salinan")
    assert sop(result, 105).table.line == 136
    # K03: three tables share the header of line 105
    shared = [s for s in result.sops if s.shared_header]
    assert [s.line for s in shared] == [150, 167, 182]
    assert all(s.block is sop(result, 105).block for s in shared)


@needs_seeds
def test_000_reports_jumps_and_empty_texts() -> None:
    result = imported("000")
    jumps = reported(result, "nomor langkah melompat 4 → 7 (langkah 5, 6 tidak ada)")
    assert len(jumps) == 6  # K01: seven tables, one of them the skipped copy
    assert all(": langkah 7: " in line and line.startswith("000_86f500e7345e055f.txt: ") for line in jumps)
    empty = reported(result, "uraian langkah kosong")
    assert len(empty) == 1 + 3 * 7  # K04: Sinergisitas P2MPSDA step 3 + three tables without texts
    assert reported(result, "Sinergisitas", "langkah 3: uraian langkah kosong")
    assert reported(result, "KRENOVA", "baris 585 tanpa nomor", "diberi nomor 2")
    assert reported(result, "Rekapitulasi", "tidak ada Waktu") == []
    assert reported(result, "Penelitian", "tidak ada Waktu di seluruh tabel")
    assert reported(result, "Pengendalian Pembangunan", "langkah 7", "'Tidak'")
    assert reported(result, "Pengendalian Pembangunan", "langkah 7", "jika/apabila")
    assert reported(result, "Sinergitas", "langkah 2", "kolom bergeser")


@needs_seeds
def test_000_step_facts() -> None:
    result = imported("000")
    p2mpsda = draft(result, 14)
    assert [s["number"] for s in p2mpsda["steps"]] == ["1", "2", "3", "4", "7", "8", "9"]
    assert step(p2mpsda, "7")["text"].startswith("Mencermati, melakukan evaluasi redaksional")
    assert step(p2mpsda, "4")["duration_text"] == "42 jam"
    assert step(p2mpsda, "2")["outputs"][-1] == "BA Forgab"

    pemerintahan = draft(result, 105)
    assert step(pemerintahan, "2")["actor"] == "kabid"
    assert step(pemerintahan, "2")["actor_source"] == "text"  # output 'Disposisi Kabid P2MPSDA kepada ...'
    assert step(pemerintahan, "10")["outputs"] == ["Arsip"]
    assert step(pemerintahan, "10")["note"] == "Ket.: SOP pengarsipan"

    sinergitas = draft(result, 182)  # K05: columns shifted one to the right from step 2
    assert step(sinergitas, "2")["requirements"] == ["Disposisi"]
    assert step(sinergitas, "4")["duration_text"] == "720 menit"
    assert step(sinergitas, "4")["outputs"] == ["Laporan hasil koordinasi atau sinkronisasi"]

    rkpd = draft(result, 394)
    assert rkpd["name"] == "PENYUSUNAN RENCANA KERJA PEMERINTAH DAERAH (RKPD)"
    assert rkpd["unit"] == "p2epd"
    assert rkpd["related"] == [{"text": "SOP Rakordal"}]
    assert len(rkpd["equipment"]) == 9 and rkpd["equipment"][0] == "DPA SOPD terkait"
    assert rkpd["records"][0].startswith("Perencanaan Pembangunan Daerah didasarkan")
    assert step(rkpd, "5")["duration_text"] == "1 Hri"
    assert step(rkpd, "11")["outputs"] == ["Perbup RKPD"]
    assert step(rkpd, "12")["duration_text"] == "7 Hari setelah Penetapan"

    rekap = draft(result, 445)  # K10: texts merged into the No column
    assert step(rekap, "1")["text"] == "Mengonsep draf Surat Permintaan Data fisik Pembangunan"
    assert step(rekap, "3")["duration_text"] == "4 jam 30 menit"

    monev = draft(result, 255)  # stacked headings: contents in the same order
    assert monev["unit"] == "infrawil"
    assert monev["equipment"] == ["DPA Bappelitbangda", "SK Tim Monev", "DPA OPD terkait"]
    assert monev["warning"].startswith("Jika monitoring dan evaluasi tidak terlaksana")
    assert monev["records"][0].startswith("Monitoring dan evaluasi merupakan bagian integral")

    krenova = draft(result, 572)
    assert [s["number"] for s in krenova["steps"]] == [str(n) for n in range(1, 11)]
    assert [s.get("number_source", "printed") for s in krenova["steps"]].count("assigned") == 9
    assert "duration_text" not in step(krenova, "1")
    assert krenova["records"] == []  # K07: just '1.'
    assert step(krenova, "8")["actor"] == "tim_penilai"

    penelitian = draft(result, 540)
    assert penelitian["unit"] == "litbang"
    assert penelitian["legal_basis"][1].startswith(
        "Peraturan Menteri Dalam Negeri Republik Indonesia No. 17 tahun 2016"
    )
    assert len(penelitian["legal_basis"]) == 4


# ---------------------------------------------------------------- seeds 001-004


@needs_seeds
def test_001_ketapang() -> None:
    result = imported("001")
    assert len(result.tables) == 3  # the two split tables are merged across their pages
    assert [len(s.table.rows) for s in result.sops] == [7, 6, 12]
    fasilitasi = draft(result, 21)
    assert fasilitasi["institution"] == "ketapang" and fasilitasi["unit"] == "perstradal"
    assert [s["number"] for s in fasilitasi["steps"]] == ["1", "2", "4", "5", "6", "7", "8"]
    assert fasilitasi["related"][0]["text"] == "SOP Permintaan Data Perencanaan"  # under 'KETERANGAN'
    assert step(fasilitasi, "1")["actor"] == "requester" and step(fasilitasi, "1")["actor_source"] == "text"
    assert step(fasilitasi, "6")["actor"] == "admin_aplikasi"
    assert step(fasilitasi, "5")["requirements"] == ["Laptop", "ATK", "Internet", "Handphone"]
    assert fasilitasi["starters"] == ["requester"] and fasilitasi["intake"]
    for title in ("FASILITASI", "KONSULTASI"):
        assert reported(result, title, "langkah 4: nomor langkah melompat 2 → 4 (langkah 3 tidak ada)")
    informasi = draft(result, 165)
    assert step(informasi, "11")["actor"] == "petugas_tu"
    assert step(informasi, "12")["outputs"] == ["Surat Jawaban"]
    assert reported(result, "INFORMASI", "langkah 6: pelaksana tidak disebut")


@needs_seeds
def test_002_bogor() -> None:
    result = imported("002")
    (only,) = result.sops
    assert only.name == "MUSYAWARAH PERENCANAAN PEMBANGUNAN KOTA" and only.line == 31
    assert len(only.table.rows) == 11 and only.table.pages == 2
    data = draft(result, 31)
    assert data["number"] == "SOP/P2EPD.1/003"
    assert data["equipment"] == ["Komputer/ Laptop", "Printer", "Internet", "ATK", "Ruang rapat"]
    assert step(data, "8")["duration_text"] == "300 menit"
    assert step(data, "11")["outputs"] == ["Laporan Musrenbang", "bukti distribusi", "arsip"]
    assert step(data, "1")["requirements"] == ["DPA"]


@needs_seeds
def test_003_karanganyar_bare_number() -> None:
    result = imported("003")
    (only,) = result.sops
    assert only.name == "PENGENDALIAN PEMBANGUNAN DAERAH" and len(only.table.rows) == 14
    data = draft(result, 15)
    assert data["institution"] == "karanganyar" and data["unit"] == "adpem"
    assert step(data, "9")["duration_text"] == "3"
    assert step(data, "9")["outputs"] == ["Disposisi Bupati"]
    assert step(data, "9")["actor"] == "bupati"  # 'Disposisi Bapak Bupati ...'
    (line,) = reported(result, "langkah 9", "'3'")
    assert "3 hari" in line
    unit = dominant_unit([r.duration for r in only.table.rows])
    d = parse_duration("3", default_unit=unit)
    assert d.days == 3 and d.warnings


@needs_seeds
def test_004_ocr_metadata_only() -> None:
    result = imported("004")
    assert result.tables == []
    assert [s.name for s in result.sops][1:] == [
        "PEMBINAAN JASA KONSTRUKSI",
        "PENYUSUNAN LAPORAN KINERJA PELAKSANAAN PEMBANGUNAN",
        "PENGENDALIAN PEMBANGUNAN DAERAH",
    ]
    assert "BANTUAN KEUANGAN UNTUK SARANA DAN PRASARANA DESA" in result.sops[0].name
    assert all(yaml.safe_load(t)["steps_missing"] for t in result.drafts.values())
    assert len(reported(result, "tabel langkah tidak ditemukan atau tidak terbaca")) == 4


@needs_seeds
def test_drafts_validate_as_a_catalog(tmp_path: Path) -> None:
    for name in ("roles.yaml", "institutions.yaml"):
        shutil.copy(DEFAULT_SOP_DIR / name, tmp_path / name)
    for key in ("000", "001", "002", "003"):
        folder = tmp_path / f"seed{key}"
        folder.mkdir()
        for name, text in imported(key).drafts.items():
            (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    catalog, problems = read_catalog(tmp_path)
    assert problems == []
    assert len(catalog) == 15 + 3 + 1 + 1


# ---------------------------------------------------------------- synthetic texts

SYNTHETIC = "\n".join(
    [
        "BADAN PERENCANAAN PEMBANGUNAN DAERAH KABUPATEN KETAPANG",
        "Nomor SOP\t:\t010/2024",
        "Nama SOP\t:\tUji Coba Impor",
        "Dasar Hukum\tKualifikasi Pelaksana",
        "1. Peraturan A 2. Peraturan B\t1. Memahami X",
        "Peringatan",
        "Jika tidak dilaksanakan, uji gagal.",
        "",
        "No\tURAIAN\tPelaksana\t\tMutu Baku\t\t\tKet",
        "\t\tKepala Bidang\tJabatan Fungsional Perencana\tKelengkapan\tWaktu\tOutput\t",
        "1\tKabid menugaskan perencana\t\t\tDisposisi\t30 menit\tDisposisi Kabid\t",
        "2\t\t\t\tDisposisi Kabid\t2 jam\tDraf laporan\t",
        "3\tMenyusun laporan akhir\t\t\tDraf laporan\tsebentar\tLaporan\t",
        "5\tMenyimpan laporan\t\t\tLaporan\t10 menit\tArsip\tSOP pengarsipan",
    ]
)


def test_synthetic_report() -> None:
    result = import_text(SYNTHETIC, "uji.txt")
    assert list(result.drafts) == ["ketapang-uji-coba-impor"]
    data = yaml.safe_load(result.drafts["ketapang-uji-coba-impor"])
    Sop.model_validate(data)
    assert data["number"] == "010/2024"
    assert data["legal_basis"] == ["Peraturan A", "Peraturan B"]
    assert data["qualifications"] == ["Memahami X"]
    assert data["warning"] == "Jika tidak dilaksanakan, uji gagal."
    assert data["lanes"] == [
        {"label": "Kepala Bidang", "role": "kabid"},
        {"label": "Jabatan Fungsional Perencana", "role": "fungsional_perencana"},
    ]
    assert step(data, "1")["actor"] == "kabid" and step(data, "1")["actor_source"] == "text"
    assert step(data, "2")["text"] == "(uraian kosong di sumber) Output: Draf laporan"
    assert step(data, "2")["warnings"]
    assert step(data, "5")["note"] == "Ket.: SOP pengarsipan"
    assert reported(result, "uji.txt: Uji Coba Impor: langkah 2: uraian langkah kosong")
    assert reported(result, "uji.txt: Uji Coba Impor: langkah 3: Waktu tidak terbaca", "sebentar")
    assert reported(result, "langkah 5: nomor langkah melompat 3 → 5 (langkah 4 tidak ada)")
    assert reported(result, "langkah 3: pelaksana tidak disebut; diduga 'fungsional_perencana'")
    assert reported(result, "bagian 'Pencatatan dan Pendataan'") == []  # absent, not empty
    assert reported(result, "bagian tidak ditemukan", "Keterkaitan SOP", "Pencatatan dan Pendataan")


def test_synthetic_without_table_or_institution() -> None:
    result = import_text("Nama SOP : Tanpa Tabel\n\nDasar Hukum\n1. Aturan\n", "kosong.txt")
    assert reported(result, "kosong.txt: institusi tidak dikenali")
    data = yaml.safe_load(next(iter(result.drafts.values())))
    assert data["steps_missing"] is True and data["steps"] == []
    assert data["legal_basis"] == ["Aturan"]
    assert reported(result, "Tanpa Tabel", "tabel langkah tidak ditemukan")


def test_page_split_table_is_merged() -> None:
    header = ["No\tURAIAN\tPelaksana\tMutu Baku\t\t\tKet", "\t\tKepala Bidang\tKelengkapan\tWaktu\tOutput\t"]
    text = "\n".join(
        [
            "Nama SOP : Dua Halaman",
            *header,
            "1\tKabid memeriksa\t\tA\t1 jam\tB\t",
            "",
            *header,
            "2\tKabid menandatangani\t\tB\t1 jam\tC\t",
        ]
    )
    result = import_text(text, "dua.txt", institution="kotim")
    (table,) = result.tables
    assert table.pages == 2 and [r.number for r in table.rows] == ["1", "2"]
    assert not reported(result, "melompat")


# ---------------------------------------------------------------- the command


def test_command_writes_drafts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "uji.txt"
    source.write_text(SYNTHETIC, encoding="utf-8")
    out = tmp_path / "draf"
    assert main(["sop", "import", str(source), "--out", str(out)]) == 0
    printed, notes = capsys.readouterr()
    assert printed.strip() == f"1 draf ditulis ke {out}"
    assert "! uji.txt: Uji Coba Impor: langkah 2: uraian langkah kosong" in notes.splitlines()
    Sop.model_validate(yaml.safe_load((out / "ketapang-uji-coba-impor.yaml").read_text(encoding="utf-8")))


def test_command_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "tidak-ada.txt"
    assert main(["sop", "import", str(missing)]) == 2
    printed, error = capsys.readouterr()
    assert printed == ""
    assert error == f"Berkas tidak ditemukan: {missing}\n"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda path: path.mkdir(), "adalah folder, bukan berkas teks."),
        (lambda path: path.write_bytes(b"%PDF-1.7\n\xe2\x28\xa1\xff\xfe"), "Berkas bukan teks UTF-8:"),
    ],
    ids=["folder", "binary"],
)
def test_command_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], make, expected: str) -> None:
    path = tmp_path / "sop.pdf"
    make(path)
    assert main(["sop", "import", str(path)]) == 2
    printed, error = capsys.readouterr()
    assert printed == ""
    assert expected in error and str(path) in error
    assert len(error.splitlines()) == 1 and "Traceback" not in error


@pytest.mark.parametrize(
    "text",
    ["Daftar belanja\n- kopi\n- gula\n", "", "No\tURAIAN\tPelaksana\n1\tTanpa baris Kelengkapan\n"],
    ids=["prose", "empty", "header-without-lanes"],
)
def test_command_file_without_sop(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    path = tmp_path / "bukan-sop.txt"
    path.write_text(text, encoding="utf-8")
    assert main(["sop", "import", str(path)]) == 1
    printed, error = capsys.readouterr()
    assert printed == ""
    assert error == f"Tidak ada SOP di {path}: tidak ditemukan kepala SOP (Nomor/Nama SOP) maupun tabel langkah.\n"
