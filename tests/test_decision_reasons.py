"""Reasons for decisions, through the real bot and the fake Bot API.

A rejecting or returning branch asks the deciding official why before the decision is taken; the
question is kept in the database (a restart between the tap and the answer loses nothing), one tap
skips it, and the decision is taken exactly once. The requester reads the reason in the notice and in
/riwayat; the holder of the step a request is returned to reads it on their card. Documents handed on
reach the next holder before the card that asks them to act.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import storage
from bot.core.states import PromptKind
from bot.text import payloads
from sandbox.fake_bot_api import FakeUser, InboxMessage

from world import World, alur_world

pytestmark = pytest.mark.timeout(120)

REJECT = "Tidak disetujui → permintaan ditolak"
APPROVE = "Disetujui → disposisi ke bidang"
REASON = "Data yang diminta termasuk informasi yang dikecualikan"


async def _to_kepala_badan(w: World) -> tuple[str, int, InboxMessage]:
    """A data request past the TU's check: (register number, case id, the Kepala Badan's decision card)."""
    case = await w.file_information_request()
    tu = w["tu"]
    card = await tu.wait_for(lambda m: case.register_no in (m.text or "") and bool(m.buttons))
    await tu.tap(card, "✅ Selesai")
    await tu.wait_for(lambda m: "oleh Anda" in (m.text or ""))
    kaban = w["kaban"]
    decision = await kaban.wait_for(lambda m: case.register_no in (m.text or "") and REJECT in m.button_texts)
    return case.register_no, case.id, decision


async def _events(w: World, case_id: int) -> list[str]:
    return [e.type for e in await storage.events.events_of_case(w.services.db, case_id)]


async def test_rejection_asks_why_and_the_requester_reads_it_even_across_a_restart(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        register_no, case_id, card = await _to_kepala_badan(w)
        kaban, officer = w["kaban"], w["officer"]
        await kaban.tap(card, REJECT)
        ask = await kaban.wait_for_text("Tulis alasan")
        assert "Tidak disetujui" in ask.text and ask.button_texts[0].startswith("Lewati")
        # nothing is decided yet: the step is open and the card keeps its buttons
        assert "step_decided" not in await _events(w, case_id)
        assert kaban.message(card).buttons
        prompt = await storage.prompts.prompt(w.services.db, w.roster["kaban"].id)
        assert prompt is not None and prompt.kind == PromptKind.DECISION_REASON

        await w.restart()  # a deploy between the tap and the reason

        await kaban.send(REASON)
        finished = await kaban.wait_for(lambda m: "Diputuskan" in (m.text or ""))
        assert "Alasan: " + REASON in finished.text
        assert "Tugas selesai" in finished.text and "Tugas baru" not in finished.text
        assert "⛔ Permohonan ditutup" in finished.text
        assert not kaban.message(card).buttons

        notice = await officer.wait_for(lambda m: "tidak dapat dilanjutkan" in (m.text or ""))
        assert "tidak disetujui" in notice.text and "Alasan: " + REASON in notice.text
        case = await w.services.workflow.queries.case_by_ref(register_no)
        assert case is not None and case.state == "rejected" and case.closed_reason == REASON
        events = await storage.events.events_of_case(w.services.db, case_id)
        decided = [e for e in events if e.type == "step_decided"]
        assert len(decided) == 1 and decided[0].data["note"] == REASON
        assert events[-1].type == "case_rejected" and events[-1].data["reason"] == REASON
        steps = await storage.steps.steps_of_case(w.services.db, case_id)
        assert steps[-1].note == REASON and steps[-1].outcome == "reject"
        assert await storage.prompts.prompt(w.services.db, w.roster["kaban"].id) is None

        # the same reason sent again is a question now, not a second decision
        await kaban.send(REASON)
        await kaban.next_message()
        assert (await _events(w, case_id)).count("step_decided") == 1

        await officer.send(f"/lanjut {register_no}")
        where = await officer.wait_for_text("sudah ditutup")
        assert "ditutup karena tidak disetujui" in where.text and "Alasan: " + REASON in where.text
        await officer.send(f"/riwayat {register_no}")
        history = await officer.wait_for_text("Riwayat")
        assert "alasan: " + REASON in history.text and "Permohonan tidak disetujui" in history.text
        staff = await w["tu"].wait_for(lambda m: "tidak dapat dilanjutkan" in (m.text or ""), include_existing=True)
        assert REASON in staff.text


async def test_one_tap_skips_the_reason(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        register_no, case_id, card = await _to_kepala_badan(w)
        kaban, officer = w["kaban"], w["officer"]
        await kaban.tap(card, REJECT)
        ask = await kaban.wait_for_text("Tulis alasan")
        await kaban.tap(ask, lambda b: b["text"].startswith("Lewati"))
        finished = await kaban.wait_for(lambda m: "Diputuskan" in (m.text or ""))
        assert "Alasan" not in finished.text and "Tugas selesai" in finished.text
        assert not kaban.message(ask).buttons and not kaban.message(card).buttons
        notice = await officer.wait_for(lambda m: "tidak dapat dilanjutkan" in (m.text or ""))
        assert "Alasan" not in notice.text
        # a second tap on the old Lewati changes nothing and says who decided
        qid = await kaban.tap_data(ask, ask.callback_data[0])
        assert "sudah diselesaikan" in (await kaban.wait_answer(qid)).text
        assert (await _events(w, case_id)).count("step_decided") == 1
        case = await w.services.workflow.queries.case_by_ref(register_no)
        assert case is not None and case.state == "rejected" and case.closed_reason is None


async def test_changing_ones_mind_after_the_question_decides_once(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        register_no, case_id, card = await _to_kepala_badan(w)
        kaban = w["kaban"]
        await kaban.tap(card, REJECT)
        await kaban.wait_for_text("Tulis alasan")
        await kaban.tap(card, APPROVE)  # the card kept its buttons: approve after all
        await kaban.wait_for(lambda m: "Diputuskan" in (m.text or ""))
        assert await storage.prompts.prompt(w.services.db, w.roster["kaban"].id) is None
        await kaban.send("berapa lama permintaan data?")  # a question again, not a reason
        answer = await kaban.next_message()
        assert "Diputuskan" not in answer.text
        events = await storage.events.events_of_case(w.services.db, case_id)
        decided = [e for e in events if e.type == "step_decided"]
        assert len(decided) == 1 and decided[0].data["branch"] == APPROVE and decided[0].data["note"] is None
        case = await w.services.workflow.queries.case_by_ref(register_no)
        assert case is not None and case.state == "open"


async def test_a_reason_must_be_short_text(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        _, case_id, card = await _to_kepala_badan(w)
        kaban = w["kaban"]
        await kaban.tap(card, REJECT)
        await kaban.wait_for_text("Tulis alasan")
        await kaban.send_document(b"%PDF-1.4", "alasan.pdf", "application/pdf")
        await kaban.wait_for_text("sebagai teks")
        await kaban.send("x" * 600)
        await kaban.wait_for_text("terlalu panjang")
        await kaban.send("<b>bukan</b> & kewenangan kami")
        finished = await kaban.wait_for(lambda m: "Diputuskan" in (m.text or ""))
        assert "<b>bukan</b> & kewenangan kami" in finished.text  # escaped, shown as typed
        assert (await _events(w, case_id)).count("step_decided") == 1
        notice = await w["officer"].wait_for(lambda m: "tidak dapat dilanjutkan" in (m.text or ""))
        assert "<b>bukan</b> & kewenangan kami" in notice.text


async def test_a_returned_request_tells_the_next_holder_and_the_requester_why(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        out = await w.services.workflow.filing.file_request(
            "ketapang-permintaan-konsultasi", w.roster["officer"].id,
            {"topik": "Indikator kinerja", "uraian": "Penyelarasan indikator Renja", "instansi": "Dinkes",
             "kontak": "081234567890"}, {},
        )
        w.sender.kick()
        register_no = out.case.register_no
        tu, kabid, officer = w["tu"], w["kabid"], w["officer"]
        first = await tu.wait_for(lambda m: register_no in (m.text or "") and bool(m.buttons))
        await tu.tap(first, "✅ Selesai")
        offer = await tu.wait_for_text("Kirim dokumennya")
        await tu.tap(offer, "Selesai tanpa lampiran")
        await tu.wait_for(lambda m: "oleh Anda" in (m.text or ""))
        card = await kabid.wait_for(lambda m: register_no in (m.text or "") and bool(m.buttons))
        await kabid.tap(card, lambda b: "Bukan untuk bidang" in b["text"])
        ask = await kabid.wait_for_text("Tulis alasan")
        assert "↩️" in ask.text and "pemegang langkah yang dituju" in ask.text
        await kabid.send("Topik indikator kinerja ditangani Bidang P2EPD")
        finished = await kabid.wait_for(lambda m: "Diputuskan" in (m.text or ""))
        assert "↩️ Dikembalikan ke langkah 2" in finished.text

        back = await tu.wait_for(lambda m: register_no in (m.text or "") and "Dikembalikan oleh" in (m.text or ""))
        assert "Pak Kadir" in back.text and "ditangani Bidang P2EPD" in back.text and back.buttons
        told = await officer.wait_for(lambda m: "dikembalikan ke langkah 2" in (m.text or ""))
        assert "oleh Pak Kadir" in told.text and "Alasan: Topik indikator kinerja ditangani Bidang P2EPD" in told.text
        progress = [m for m in await storage.outbox.outbox(w.services.db, person_id=w.roster["officer"].id)
                    if m.kind == "progress" and m.payload.get("returned")]
        model = payloads.parse(progress[-1].kind, progress[-1].payload)
        assert isinstance(model, payloads.ProgressPayload) and model.reason and model.returned_by


async def test_documents_reach_the_next_holder_before_the_card(tmp_path: Path) -> None:
    """With Telegram's real pacing (one message a second per chat) the letter arrives before the card."""
    async with alur_world(tmp_path) as w:
        register_no = await _ajukan_information(w)
        tu = w["tu"]
        card = await tu.wait_for(lambda m: register_no in (m.text or "") and bool(m.buttons), timeout=15)
        _assert_documents_first(tu, card, ["surat_permintaan.pdf"])
        assert "1 dokumen tugas ini sudah dikirim di atas" in card.text
        await tu.tap(card, "✅ Selesai")
        kaban = w["kaban"]
        decision = await kaban.wait_for(lambda m: register_no in (m.text or "") and bool(m.buttons), timeout=15)
        _assert_documents_first(kaban, decision, ["surat_permintaan.pdf"])


async def _ajukan_information(w: World) -> str:
    """The officer files a data request the Telegram way, with a real letter upload."""
    officer = w["officer"]
    await officer.send("/ajukan")
    menu = await officer.next_message(timeout=10)
    await officer.tap(menu, "Permintaan Informasi Pembangunan Daerah")
    for n, answer in ((1, "Data IPM 2025"), (2, "Penyusunan Renja"), (3, "0812 3456 7890")):
        await officer.wait_for_text(f"{n}/4", timeout=10)
        await officer.send(answer)
    await officer.wait_for_text("4/4", timeout=10)
    await officer.send_document(b"%PDF-1.4 surat", "surat_permintaan.pdf", "application/pdf")
    summary = await officer.wait_for_text("Periksa permohonan", timeout=10)
    await officer.tap(summary, "✅ Kirim")
    sent = await officer.wait_for_text("Permohonan terkirim", timeout=10)
    return sent.text.split("nomor register ")[1].split(".")[0].strip()


def _assert_documents_first(user: FakeUser, card: InboxMessage, names: list[str]) -> None:
    arrived = [m for m in user.inbox]
    position = next(i for i, m in enumerate(arrived) if m.message_id == card.message_id)
    before = [m.document.get("file_name") for m in arrived[:position] if m.document]
    assert before == names, user.dump()
    assert not any(m.document for m in arrived[position + 1:]), user.dump()


async def test_deciding_another_request_keeps_the_question_about_the_first(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        first_no, first_id, first = await _to_kepala_badan(w)
        second_no, second_id, second = await _to_kepala_badan(w)
        kaban = w["kaban"]
        await kaban.tap(first, REJECT)
        await kaban.wait_for_text("Tulis alasan")
        await kaban.tap(second, APPROVE)
        await kaban.wait_for(lambda m: second_no in (m.text or "") and "Diputuskan" in (m.text or ""))
        await kaban.send(REASON)  # still the reason for the first request
        done = await kaban.wait_for(lambda m: first_no in (m.text or "") and "Diputuskan" in (m.text or ""))
        assert "Alasan: " + REASON in done.text
        first_case = await w.services.workflow.queries.case_by_ref(first_no)
        second_case = await w.services.workflow.queries.case_by_ref(second_no)
        assert first_case is not None and first_case.state == "rejected" and first_case.closed_reason == REASON
        assert second_case is not None and second_case.state == "open"
        assert (await _events(w, first_id)).count("step_decided") == 1
        assert (await _events(w, second_id)).count("step_decided") == 1
