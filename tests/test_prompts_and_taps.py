"""Stories about what the bot waits for and about taps going wrong: a restart between the question and the
answer, a tap whose answer Telegram refuses or loses, garbage numbers, an intake left half-way."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scheduler.tick import tick

from roster import advance
from world import World, alur_world

pytestmark = pytest.mark.timeout(120)

QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


async def _card(w: World, key: str, register_no: str, label: str):  # type: ignore[no-untyped-def]
    return await w[key].wait_for(lambda m: register_no in (m.text or "") and label in m.button_texts,
                                 include_existing=True)


async def test_the_output_asked_for_before_a_restart_is_taken_after_it(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        case = await w.file_information_request()
        await advance(w.services.workflow, case.id, 4)  # the data processor's step 6 hands its output on
        staf = w["staf"]
        await staf.tap(await _card(w, "staf", case.register_no, "✅ Selesai"), "✅ Selesai")
        await staf.wait_for_text("Kirim dokumennya")
        await w.restart()
        await staf.send_document(b"%PDF data kemiskinan", "data_kemiskinan.pdf", "application/pdf")
        done = await staf.wait_for(lambda m: "oleh Anda" in (m.text or ""))
        assert "Diteruskan ke langkah 7" in done.text
        subkoor = w["subkoor"]
        handed = await subkoor.wait_for(lambda m: m.document is not None)
        assert handed.document["file_name"] == "data_kemiskinan.pdf"
        assert not any("tidak ada yang sedang menunggunya" in (m.text or "") for m in staf.inbox)


async def test_a_reason_asked_for_before_a_restart_is_taken_after_it(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        case = await w.file_information_request()
        await advance(w.services.workflow, case.id, 4)
        staf = w["staf"]
        await staf.tap(await _card(w, "staf", case.register_no, "↪ Alihkan"), "↪ Alihkan")
        choice = await staf.wait_for_text("Pilih")
        await staf.tap(choice, lambda b: b["text"].startswith("Eko"))
        await staf.wait_for_text("alasan disposisi")
        await w.restart()
        await staf.send("Saya diklat tiga hari")
        told = await staf.wait_for_text("dialihkan kepada")
        assert "Eko" in told.text and "Saya diklat tiga hari" in told.text
        card = await w["staf2"].wait_for(lambda m: case.register_no in (m.text or "") and m.buttons)
        assert "Saya diklat tiga hari" in card.text


async def test_withdrawing_asks_a_reason_that_survives_a_restart(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        case = await w.file_information_request()
        officer = w["officer"]
        await officer.send(f"/status {case.register_no}")
        shown = await officer.wait_for(lambda m: "🚫 Batalkan permohonan" in m.button_texts)
        await officer.tap(shown, "🚫 Batalkan permohonan")
        await officer.wait_for_text("alasan")
        await w.restart()
        await officer.send("Data sudah kami peroleh dari BPS")
        await officer.wait_for_text("dibatalkan")
        await officer.send(f"/status {case.register_no}")
        assert "dibatalkan" in (await officer.next_message()).text


async def test_batal_forgets_what_the_bot_was_waiting_for(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        case = await w.file_information_request()
        await advance(w.services.workflow, case.id, 4)
        staf = w["staf"]
        await staf.tap(await _card(w, "staf", case.register_no, "📎 Lampirkan"), "📎 Lampirkan")
        await staf.wait_for_text("Kirim")
        await staf.send("/batal")
        await staf.wait_for_text("Dibatalkan")
        await staf.send_document(b"%PDF", "nanti.pdf", "application/pdf")
        assert "tidak ada yang sedang menunggunya" in (await staf.next_message()).text


async def test_a_decision_is_applied_when_telegram_refuses_to_answer_the_tap(tmp_path: Path) -> None:
    """A tap replayed after a restart (or whose answer response was lost) gets 'query is too old'."""
    async with alur_world(tmp_path, paced=False) as w:
        case = await w.file_information_request()
        await advance(w.services.workflow, case.id, 1)  # to the Kepala Badan's approval
        kaban = w["kaban"]
        card = await kaban.wait_for(lambda m: case.register_no in (m.text or "") and len(m.buttons) > 1,
                                    include_existing=True)
        w.api.fail_next("answerCallbackQuery", 400, QUERY_TOO_OLD)
        await kaban.tap(card, card.button_texts[0])
        decided = await kaban.wait_for(lambda m: "Diputuskan" in (m.text or ""))
        assert "langkah 4" in decided.text
        await w["kabid"].wait_for(lambda m: case.register_no in (m.text or "") and m.buttons)


async def test_a_step_completes_when_the_answer_to_its_tap_is_lost(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False, read_timeout=1.0, timeout_delay=2.0) as w:
        case = await w.file_information_request()
        tu = w["tu"]
        card = await _card(w, "tu", case.register_no, "✅ Selesai")
        w.api.fail_next("answerCallbackQuery", "timeout", delivers=True)
        await tu.tap(card, "✅ Selesai")
        done = await tu.wait_for(lambda m: "oleh Anda" in (m.text or ""))
        assert "Diteruskan ke langkah 3" in done.text


@pytest.mark.parametrize("number", ["²", "9" * 30, "-1", "12abc", "١٢"])
async def test_odd_numbers_get_a_polite_answer_and_change_nothing(tmp_path: Path, number: str) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        await officer.send(f"/status {number}")
        assert "tidak ditemukan" in (await officer.next_message()).text
        await officer.send(f"/lanjut {number}")
        assert "tidak ditemukan" in (await officer.next_message()).text


async def test_every_tap_is_answered_even_with_garbage_data(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        case = await w.file_information_request()
        tu = w["tu"]
        card = await _card(w, "tu", case.register_no, "✅ Selesai")
        for data in ["d:²", "d:" + "9" * 11, "c:١", "b:1:²", "ic:x:y", "n:zzzz", "irs", "iok", "tt:x:1:2"]:
            qid = await tu.tap_data(card, data)
            assert (await tu.wait_answer(qid)).show_alert, data
        assert (await w.services.workflow.queries.what_next(case.id)).current[0].step.number == "2"


async def test_an_intake_left_half_way_is_set_aside_and_resumed_later(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        await officer.send("/ajukan")
        await officer.tap(await officer.next_message(), "Permintaan Informasi Pembangunan Daerah")
        await officer.wait_for_text("1/4")
        await officer.send("Data stunting per desa")
        await officer.wait_for_text("2/4")
        w.clock.advance(timedelta(minutes=31))
        assert (await tick(w.services)).paused_intakes == 1
        await w.deliver()
        paused = await officer.wait_for_text("Anda disimpan")
        assert "Permintaan Informasi Pembangunan Daerah" in paused.text
        await officer.send("berapa lama permintaan data?")
        answer = await officer.next_message()
        assert "2/4" not in answer.text  # a question again, not the next intake answer
        await officer.send("/ajukan")
        offer = await officer.wait_for_text("Lanjutkan isian")
        await officer.tap(offer, "▶️ Lanjutkan isian")
        asked = await officer.wait_for_text("2/4")
        assert "Keperluan" in asked.text or "keperluan" in asked.text.lower()
