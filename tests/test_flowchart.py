"""The SOP flowchart: geometry checked for every SOP, the pictures drawn, a live case marked, the cache."""

from __future__ import annotations

import asyncio
import io
import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from bot.cli.main import main
from bot.config import Settings
from bot.core.clock import ManualClock
from bot.runtime import open_services
from bot.sop.catalog import Catalog
from bot.sop.model import Sop
from bot.text.flowchart import FlowchartCache, Marks, draw, layout, png, svg
from bot.text.flowchart.layout import Box, Flowchart
from bot.workflow.people import People
from bot.workflow.pictures import Pictures
from bot.workflow.results import FileUpload
from bot.workflow.use_cases import Workflow

from conftest import MONDAY_8
from roster import advance, ketapang_roster

SVG = "{http://www.w3.org/2000/svg}"


def _segments(points: tuple[tuple[float, float], ...]) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return list(itertools.pairwise(points))


def _crosses(seg: tuple[tuple[float, float], tuple[float, float]], box: Box) -> bool:
    """An axis-parallel segment passing through the inside of a box (touching its edge is fine)."""
    (x1, y1), (x2, y2) = seg
    inner = Box(box.x + 1, box.y + 1, box.w - 2, box.h - 2)
    if abs(y1 - y2) < 0.01:
        lo, hi = sorted((x1, x2))
        return inner.y < y1 < inner.y2 and lo < inner.x2 and inner.x < hi
    assert abs(x1 - x2) < 0.01, f"connector segment is not axis-parallel: {seg}"
    lo, hi = sorted((y1, y2))
    return inner.x < x1 < inner.x2 and lo < inner.y2 and inner.y < hi


def check_geometry(chart: Flowchart, sop: Sop) -> None:
    steps = [s for s in chart.symbols if s.kind != "terminal"]
    # every step appears once, in table order, inside its own row
    assert [s.step for s in steps] == [s.number for s in sop.steps]
    rows = dict(chart.rows)
    for s in steps:
        assert rows[s.step].contains(s.extent), s.step
        assert s.step in chart.step_texts
    # no symbol (with its tick badge) touches another, labels sit clear of symbols and of each other
    for a, b in itertools.combinations(chart.symbols, 2):
        assert not a.extent.intersects(b.extent, gap=4), (a.step, b.step)
    labels = [c.label for c in chart.connectors if c.label]
    for label in labels:
        for s in chart.symbols:
            assert not label.box.intersects(s.extent), (label.lines, s.step)
    for a, b in itertools.combinations(labels, 2):
        assert not a.box.intersects(b.box), (a.lines, b.lines)
    # every line of text fits inside its cell
    for cell in chart.cells:
        if cell.text:
            assert cell.box.contains(cell.text.box), cell.text.lines
    for block in [*chart.title, *chart.legend]:
        assert 0 <= block.box.x and block.box.x2 <= chart.width
    # connectors run around symbols, and end on the symbol they point at
    by_step = {s.step: s for s in chart.symbols}
    for conn in chart.connectors:
        ends = {conn.source, conn.target} | ({f"{conn.source}→selesai"} if conn.kind == "end" else set())
        for seg in _segments(conn.points):
            for s in chart.symbols:
                if s.step not in ends:
                    assert not _crosses(seg, s.box), (conn.source, conn.target, s.step)
        target = by_step[f"{conn.source}→selesai" if conn.kind == "end" else conn.target].box
        tx, ty = conn.points[-1]
        assert target.x - 0.5 <= tx <= target.x2 + 0.5 and target.y - 0.5 <= ty <= target.y2 + 0.5
    # one connector per distinct successor
    expected = {(s.number, t) for s in sop.steps for t in sop.successors(s) if t != "end" or s.decision}
    assert {(c.source, c.target) for c in chart.connectors} == expected


def test_every_sop_lays_out_cleanly_and_renders(catalog: Catalog) -> None:
    assert len(catalog) == 23
    for sop in catalog:
        chart = layout(sop, catalog.roles)
        check_geometry(chart, sop)
        text = svg(chart, sop.name)
        root = ET.fromstring(text)
        drawn = {t.text for t in root.iter(f"{SVG}text")}
        assert all(f"{s.number}*" in drawn or s.number in drawn for s in sop.steps)
        image = Image.open(io.BytesIO(png(text, chart.width, chart.height, scale=0.5)))
        assert image.format == "PNG" and image.size[0] == pytest.approx(chart.width / 2, abs=2)


def test_every_sop_with_every_step_current_stays_clean(catalog: Catalog) -> None:
    """Ticks and highlights never push a symbol into another, wherever the case stands."""
    for sop in catalog:
        numbers = [s.number for s in sop.steps]
        for i, number in enumerate(numbers):
            marks = Marks(frozenset(numbers[:i]), frozenset([number]),
                          {n: "Selesai 12/11 10.30" for n in numbers[:i]} | {number: "Sedang: Bu Sari, batas 13/11"},
                          caption="Permohonan X-1 · posisi")
            check_geometry(layout(sop, catalog.roles, marks), sop)


def test_largest_sop_fourteen_steps(catalog: Catalog) -> None:
    sop = catalog["karanganyar-pengendalian-pembangunan"]
    chart = layout(sop, catalog.roles)
    kinds = [s.kind for s in chart.symbols]
    assert len(kinds) == 14 and kinds[0] == "start" and kinds[-1] == "end" and set(kinds[1:-1]) == {"activity"}
    assert [label for label, _ in chart.lanes] == ["Pelaksana", "Kasubag", "Kabag", "Asisten", "Sekda", "Bupati"]
    assert chart.symbol("9").lane == 5 and not chart.symbol("9").inferred  # 'Disposisi Bapak Bupati'
    assert chart.symbol("1").inferred and chart.symbol("1").label == "1*"
    # readable on a phone: drawn at twice the size, within Telegram's 2560 px, body text ≥ 12 px before scaling
    data = draw(sop, catalog.roles)
    image = Image.open(io.BytesIO(data))
    assert max(image.size) == 2560 and image.size[0] >= 2 * 1200 * 0.9


def test_rakordal_loop_back_is_drawn_as_such(catalog: Catalog) -> None:
    sop = catalog["kotim-rakordal"]
    chart = layout(sop, catalog.roles)
    seven, six, eight = chart.symbol("7"), chart.symbol("6"), chart.symbol("8")
    assert seven.kind == "decision"
    back = next(c for c in chart.connectors if c.source == "7" and c.target == "6")
    forward = next(c for c in chart.connectors if c.source == "7" and c.target == "8")
    assert back.kind == "back" and forward.kind == "next"
    assert back.label is not None and back.label.lines == ("Tidak sesuai",)
    assert forward.label is not None and forward.label.lines == ("Sesuai",)
    # it leaves the diamond's left corner, runs up left of both symbols and enters step 6 from the side
    assert back.points[0] == (seven.box.x, seven.box.cy)
    channel_x = back.points[1][0]
    assert channel_x < six.box.x and channel_x < seven.box.x
    assert back.points[-1] == (six.box.x, six.box.cy)
    assert forward.points[-1] == (eight.box.cx, eight.box.y)
    text = svg(chart)
    assert "Tidak sesuai" in text and 'stroke-dasharray="7 3"' in text


def test_decision_with_three_ways_and_an_early_end(catalog: Catalog) -> None:
    chart = layout(catalog["ketapang-fasilitasi-aplikasi"], catalog.roles)
    kinds = {(c.source, c.target): c.kind for c in chart.connectors}
    assert kinds[("4", "5")] == "next" and kinds[("4", "6")] == "skip" and kinds[("4", "2")] == "back"
    info = layout(catalog["ketapang-permintaan-informasi"], catalog.roles)
    end = next(c for c in info.connectors if c.kind == "end")
    assert end.source == "3" and end.label is not None and "Tidak disetujui" in " ".join(end.label.lines)
    assert any(s.kind == "terminal" and s.label == "Selesai" for s in info.symbols)


def test_live_case_marks_and_inferred_actors_are_visible(catalog: Catalog) -> None:
    sop = catalog["ketapang-permintaan-informasi"]
    marks = Marks(frozenset("123456"), frozenset({"7"}), {"7": "Sedang: Bu Sari"}, "Permohonan KTP-INFO-2026-0007")
    chart = layout(sop, catalog.roles, marks)
    assert chart.symbol("7").state == "current" and chart.symbol("7").inferred
    assert [s.step for s in chart.symbols if s.state == "done"] == list("123456")
    assert dict(chart.rows)["7"] in [band for band, _ in chart.bands]
    text = svg(chart)
    assert text.count("✓") == 6 + 1  # six ticks and the legend
    assert "Sedang: Bu Sari" in text and "KTP-INFO-2026-0007" in text
    assert "Pelaksana disimpulkan" in text and 'stroke-dasharray="5 3"' in text


def test_hostile_text_is_escaped_and_long_words_wrap(catalog: Catalog) -> None:
    sop = catalog["kotim-rakordal"]
    evil = sop.steps[0].model_copy(update={"text": "<script>alert(1)</script> & " + "x" * 300})
    sop = sop.model_copy(update={"steps": [evil, *sop.steps[1:]], "name": 'A "quoted" <name> & co'})
    chart = layout(sop, catalog.roles)
    check_geometry(chart, sop)
    root = ET.fromstring(svg(chart, sop.name))  # well-formed XML: everything escaped
    assert any("<script>" in (t.text or "") for t in root.iter(f"{SVG}tspan"))
    assert len(chart.step_texts["1"].lines) > 3


def test_geometry_check_catches_an_overlap(catalog: Catalog) -> None:
    """The checker itself fails on a chart whose two symbols share a place."""
    sop = catalog["kotim-rakordal"]
    chart = layout(sop, catalog.roles)
    one, two = chart.symbols[0], chart.symbols[1]
    chart.symbols[1] = type(two)(two.step, two.kind, one.box, two.lane, two.inferred, two.state, two.label)
    with pytest.raises(AssertionError):
        check_geometry(chart, sop)


def test_sop_without_steps_still_draws(catalog: Catalog) -> None:
    sop = catalog["karanganyar-laporan-kinerja"]
    chart = layout(sop, catalog.roles)
    assert chart.symbols == [] and "Tabel langkah tidak ada" in svg(chart)


def test_cache_by_content_and_marks(catalog: Catalog) -> None:
    cache = FlowchartCache(catalog.roles, size=2)
    sop = catalog["kotim-rakordal"]
    first = cache.get(sop, "svg")
    assert cache.get(sop, "svg") is first and cache.hits == 1
    marked = cache.get(sop, "svg", Marks(current=frozenset({"7"})))
    assert marked != first and cache.misses == 2
    renamed = sop.model_copy(update={"name": "Lain"})
    renamed.__dict__.pop("content_hash", None)
    assert cache.get(renamed, "svg") != first
    assert len(cache._items) == 2  # least recently used went


async def test_case_marks_follow_the_case(workflow: Workflow, people: People) -> None:
    roster = await ketapang_roster(people)
    out = await workflow.filing.file_request(
        "ketapang-permintaan-informasi", roster["officer"].id,
        {"data_diminta": "Data", "keperluan": "Laporan", "kontak": "081234567890"},
        {"surat_permintaan": FileUpload("f1", file_name="s.pdf")},
    )
    await advance(workflow, out.case.id, 5)
    pictures = Pictures(workflow)
    sop, marks = await pictures.case_marks(out.case)
    assert sop.id == "ketapang-permintaan-informasi"
    assert marks.current == {"7"} and marks.done == set("123456")
    assert marks.notes["7"].startswith("Sedang: Bu Sari") and "posisi: langkah 7" in marks.caption
    data = await pictures.case_chart(out.case)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert await pictures.case_chart(out.case) is data  # nothing moved: the cached picture


def test_cli_draw(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rakordal.svg"
    assert main(["sop", "draw", "kotim-rakordal", "--out", str(out)]) == 0
    assert ET.fromstring(out.read_text()).tag == f"{SVG}svg"
    assert main(["sop", "draw", "tidak-ada", "--out", str(tmp_path / "x.png")]) == 1
    assert main(["sop", "draw", "kotim-rakordal", "--out", str(tmp_path / "x.jpg")]) == 2


async def _case_at_step_7(db_path: Path) -> str:
    services = await open_services(Settings(db_path=db_path), clock=ManualClock(MONDAY_8), sync_people=False)
    try:
        roster = await ketapang_roster(services.people)
        out = await services.workflow.filing.file_request(
            "ketapang-permintaan-informasi", roster["officer"].id,
            {"data_diminta": "Data", "keperluan": "Laporan", "kontak": "081234567890"},
            {"surat_permintaan": FileUpload("f1", file_name="s.pdf")},
        )
        await advance(services.workflow, out.case.id, 5)
        return out.case.register_no
    finally:
        await services.close()


def test_cli_draws_a_live_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    db_path = tmp_path / "alur.sqlite3"
    register_no = asyncio.run(_case_at_step_7(db_path))
    monkeypatch.setenv("ALUR_DB", str(db_path))
    out = tmp_path / "case.svg"
    assert main(["sop", "draw", "ketapang-permintaan-informasi", "--case", register_no, "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert register_no in text and "posisi: langkah 7" in text
    capsys.readouterr()
    assert main(["sop", "draw", "kotim-rakordal", "--case", register_no, "--out", str(tmp_path / "x.png")]) == 1
    assert "bukan kotim-rakordal" in capsys.readouterr().err
    assert main(["sop", "draw", "ketapang-permintaan-informasi", "--case", "KTP-INFO-2026-9999",
                 "--out", str(tmp_path / "y.png")]) == 1
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "y.png").exists()
    # a database that does not exist is not created by drawing
    monkeypatch.setenv("ALUR_DB", str(tmp_path / "none.sqlite3"))
    assert main(["sop", "draw", "ketapang-permintaan-informasi", "--case", register_no,
                 "--out", str(tmp_path / "z.png")]) == 2
    assert not (tmp_path / "none.sqlite3").exists()
