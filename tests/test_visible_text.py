"""What users read after issue 12, through the real bot: finished cards, greetings, Plh/Plt, corrected
SOP text, and the admin's view of the printed originals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.text.render import Renderer, address

from world import alur_world

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize(("name", "greeting"), [
    ("Wati", "Bapak/Ibu Wati"),
    ("  Budi   Santoso ", "Bapak/Ibu Budi Santoso"),
    ("Pak Harto (Kepala Badan)", "Pak Harto (Kepala Badan)"),
    ("Ibu Wati (Dinkes)", "Ibu Wati (Dinkes)"),
    ("Dr. Sari", "Dr. Sari"),
    ("", "Bapak/Ibu"),
])
def test_greetings_address_officials_as_bapak_ibu(name: str, greeting: str) -> None:
    assert address(name) == greeting


def test_dead_letters_are_explained_in_words() -> None:
    r = Renderer()
    html = r.render("digest", d={
        "open_cases": 1, "new_count": 0, "overdue_count": 0, "due_today_count": 0, "unassigned_count": 0,
        "is_admin": True, "day": "2026-11-23", "scope_label": "Bappeda", "new_cases": [], "overdue": [],
        "due_today": [], "completed_yesterday": 0, "on_time_share": None, "slowest": [], "unassigned": [],
        "dead_letters": [{"kind": "assignment", "error": "403 Forbidden: bot was blocked by the user"},
                         {"kind": "mystery", "error": "render: KeyError('x')"}],
    })
    assert "kartu tugas · ditolak Telegram" in html and "pesan · pesan tidak dapat disusun" in html
    assert "Forbidden" not in html and "assignment" not in html


async def test_a_finished_card_says_so_on_both_ways_of_finishing(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        case = await w.file_information_request()
        tu = w["tu"]
        card = await tu.wait_for(lambda m: case.register_no in (m.text or "") and bool(m.buttons))
        assert card.text.startswith("📥 Tugas baru")
        await tu.tap(card, "✅ Selesai")  # straight from the card
        done = await tu.wait_for(lambda m: "Selesai</b> oleh" in (m.source_text or "") or "✅ Selesai oleh" in m.text)
        assert done.message_id == card.message_id
        assert done.text.startswith("✅ Tugas selesai") and "Tugas baru" not in done.text

        for key in ("kaban", "kabid", "subkoor"):
            user = w[key]
            c = await user.wait_for(lambda m: case.register_no in (m.text or "") and bool(m.buttons))
            await user.tap(c, c.button_texts[0])
            await user.wait_for(lambda m: "oleh Anda" in (m.text or ""))
        staf = w["staf"]  # step 6 hands its output on: Selesai asks for the document first
        c6 = await staf.wait_for(lambda m: case.register_no in (m.text or "") and bool(m.buttons))
        await staf.tap(c6, "✅ Selesai")
        await staf.wait_for_text("Kirim dokumennya")
        await w.restart()  # the card is remembered across a restart
        await staf.send_document(b"data", "data_ipm.xlsx", "application/vnd.ms-excel")
        edited = await staf.wait_for(lambda m: m.message_id == c6.message_id and "oleh Anda" in (m.text or ""))
        assert edited.text.startswith("✅ Tugas selesai") and not edited.buttons
        assert "Langkah 6" in edited.text and "Diteruskan ke langkah 7" in edited.text


async def test_greetings_and_plh_in_the_chat(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        kaban, tu = w["kaban"], w["tu"]
        await kaban.send("/start")
        back = await kaban.next_message()
        assert back.text.startswith("👋 Selamat datang kembali, Pak Harto (Kepala Badan).")
        assert "Bapak/Ibu Pak" not in back.text
        await tu.send("/start")
        assert "Bapak/Ibu Tari (TU)" in (await tu.next_message()).text

        case = await w.file_information_request()
        await tu.wait_for(lambda m: case.register_no in (m.text or "") and bool(m.buttons))
        today = w.clock.now().date().isoformat()
        await w.services.workflow.acting.act_for(w.roster["tu"].id, w.roster["sekban"].id, today, today, kind="plh")
        w.sender.kick()
        moved = await w["sekban"].wait_for(lambda m: case.register_no in (m.text or "") and bool(m.buttons))
        assert "(Plt/Plh)" in moved.text
        officer = w["officer"]
        await officer.send(f"/riwayat {case.register_no}")
        history = await officer.wait_for_text("Riwayat")
        assert "sebagai Plh" in history.text and "PLH" not in history.text


async def test_corrected_sop_text_in_chat_and_the_printed_original_for_the_admin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        case = await w.file_information_request()
        for key in ("tu", "kaban"):
            user = w[key]
            c = await user.wait_for(lambda m: case.register_no in (m.text or "") and bool(m.buttons))
            await user.tap(c, c.button_texts[0])
            await user.wait_for(lambda m: "oleh Anda" in (m.text or ""))
        card = await w["kabid"].wait_for(lambda m: case.register_no in (m.text or "") and bool(m.buttons))
        assert "Kabid melanjutkan Surat Permintaan Data" in card.text and "/juri" not in card.text
        await w["kabid"].tap(card, "✅ Selesai")
        card5 = await w["subkoor"].wait_for(lambda m: case.register_no in (m.text or "") and bool(m.buttons))
        assert "menugaskan staf" in card5.text and "mengasikan" not in card5.text

    capsys.readouterr()
    assert main(["sop", "show", "ketapang-permintaan-informasi"]) == 0
    shown = capsys.readouterr().out
    assert "✎ tercetak (uraian): Kabid melanjutkan/juri Surat Permintaan Data" in shown
    assert "mengasikan staf" in shown and "menugaskan staf" in shown
    assert "✱ catatan kurator: Baris terakhir berkas sumber" in shown
    assert "⚠ OCR: 'mengasikan' = menugaskan (T04)." in shown
    assert main(["sop", "show", "kotim-rakordal"]) == 0
    rakordal = capsys.readouterr().out
    assert "(label 'Ya' tercetak di kolom Kabid, K11)" in rakordal
    assert "✎ tercetak (tanggal): dibuat Sunday, October 30, 2022" in rakordal
    assert main(["sop", "show", "kotim-rakordal", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dates"]["made"] == "Minggu, 30 Oktober 2022"
    assert data["printed"]["dates"]["made"] == "Sunday, October 30, 2022"
