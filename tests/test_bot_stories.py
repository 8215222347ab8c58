"""More user stories: the other two Ketapang services, forged buttons, drafts across a restart,
following and withdrawing a request, browsing SOPs, the supervisor's digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from observe import event_types
from world import World, alur_world, tap_old_copy

pytestmark = pytest.mark.timeout(120)


async def _pick_service(w: World, title: str) -> None:
    officer = w["officer"]
    await officer.send("/ajukan")
    menu = await officer.next_message()
    await officer.tap(menu, title)


async def _finish_current(user, register_no: str, label: str = "✅ Selesai") -> None:  # type: ignore[no-untyped-def]
    card = await user.wait_for(lambda m: register_no in (m.text or "") and label in m.button_texts,
                               include_existing=True)
    await user.tap(card, label)
    reply = await user.wait_for(lambda m: "oleh Anda" in (m.text or "") or "Kirim dokumennya" in (m.text or ""))
    if "Kirim dokumennya" in reply.text:
        await user.tap(reply, "Selesai tanpa lampiran")
        await user.wait_for(lambda m: "oleh Anda" in (m.text or ""))


async def _fill_intake(w: World, sop_id: str, text: str) -> None:
    """Answer every intake question as an officer would: buttons for choices, skip what is optional."""
    officer = w["officer"]
    for field in w.services.catalog[sop_id].intake:
        question = await officer.wait_for(lambda m, f=field: f.label in (m.text or ""))
        if field.kind == "choice":
            assert question.button_texts[: len(field.choices)] == field.choices
            await officer.tap(question, field.choices[0])
        elif not field.required:
            await officer.tap(question, "Lewati ⏭")
        elif field.kind == "phone":
            await officer.send("0812 1111 2222")
        else:
            await officer.send(text)


async def test_konsultasi_with_kabid_decision_and_requester_receipt(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        await _pick_service(w, "Permintaan Konsultasi dan Koordinasi")
        await _fill_intake(w, "ketapang-permintaan-konsultasi", "Penyelarasan program Renja dengan RKPD 2027")
        summary = await officer.wait_for_text("Periksa permohonan")
        await officer.tap(summary, "✅ Kirim")
        case = await w.filed(await officer.wait_for_text("Permohonan terkirim"))
        register_no = case.register_no
        assert register_no.startswith("KTP-")

        await _finish_current(w["tu"], register_no)
        kabid = w["kabid"]
        card = await kabid.wait_for(lambda m: register_no in (m.text or "") and m.buttons)
        labels = card.button_texts
        assert any("Sub Koordinator" in t for t in labels) and any("Bukan untuk bidang" in t for t in labels)
        await kabid.tap(card, lambda b: "diselesaikan langsung" in b["text"])
        await kabid.wait_for(lambda m: "Diputuskan" in (m.text or ""))
        await _finish_current(w["subkoor"], register_no)
        await _finish_current(w["tu"], register_no)
        receipt = await officer.wait_for(lambda m: "Sudah diterima" in " ".join(m.button_texts))
        await officer.tap(receipt, "✅ Sudah diterima")
        await officer.wait_for_text("selesai")
        events = await event_types(w.services.workflow, case.id)
        assert events.count("step_decided") == 1 and events[-1] == "case_completed"


async def test_forged_and_stale_buttons_change_nothing(tmp_path: Path) -> None:
    """Forged button data (no button carries it), another person's button and a stranger's forged cancel
    are each refused with an alert, and the case's record does not change."""
    async with alur_world(tmp_path, paced=False) as w:
        case = await w.file_information_request()
        tu, kabid, officer = w["tu"], w["kabid"], w["officer"]
        card = await tu.wait_for_text(case.register_no)
        before = await event_types(w.services.workflow, case.id)
        for forged in ["d:999999", "b:1:7", "zz:1", "d:abc", "d:" + "9" * 30, "rt:2:1", "cx:1", "ag:nope", ""]:
            if not forged:
                continue
            qid = await kabid.tap_data(card, forged)
            answer = await kabid.wait_answer(qid)
            assert answer.show_alert, forged
        # the requester may not complete the TU's step, and may not cancel someone else's request
        qid = await tap_old_copy(officer, card, "✅ Selesai")
        assert (await officer.wait_answer(qid)).show_alert
        stranger = w.api.user(4444, first_name="Orang Lain")
        await w.services.people.register_officer(telegram_id=4444, username=None, name="Orang Lain",
                                                 agency_id="ktp-dinsos")
        # the stranger may not see the case: refused as for a case that does not exist, never told why else
        qid = await stranger.tap_data(card, f"cx:{case.id}")
        refused = (await stranger.wait_answer(qid)).text
        assert "tidak berwenang" in refused and "pemohon" not in refused
        assert refused == (await stranger.wait_answer(await stranger.tap_data(card, f"cx:{case.id + 50}"))).text
        made_up = case.register_no[:-4] + "0999"
        await stranger.send(f"/status {case.register_no}")
        denied = (await stranger.next_message()).text
        await stranger.send(f"/status {made_up}")
        unknown = (await stranger.next_message()).text
        assert "tidak ditemukan, atau Anda tidak berwenang melihatnya" in denied
        assert denied.replace(case.register_no, "#") == unknown.replace(made_up, "#")
        assert await event_types(w.services.workflow, case.id) == before
        wn = await w.services.workflow.queries.what_next(case.id)
        assert wn.current[0].step.number == "2"


async def test_half_filled_request_survives_a_restart(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        await _pick_service(w, "Permintaan Informasi Pembangunan Daerah")
        await officer.wait_for_text("1/4")
        await officer.send("Data kemiskinan per desa")
        await officer.wait_for_text("2/4")
        await w.restart()
        await officer.send("Kajian Dinkes")
        q3 = await officer.wait_for_text("3/4")
        assert "telepon" in q3.text
        await officer.send("081298765432")
        await officer.wait_for_text("4/4")
        await officer.send_document(b"%PDF surat", "surat.pdf", "application/pdf")
        summary = await officer.wait_for_text("Periksa permohonan")
        assert "Data kemiskinan per desa" in summary.text and "Kajian Dinkes" in summary.text
        await w.restart()
        await officer.tap(summary, "✅ Kirim")
        await officer.wait_for_text("Permohonan terkirim")
        assert await w.services.intake.get(w.roster["officer"].id) is None


async def test_batal_discards_the_draft_and_ajukan_offers_to_resume(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        await _pick_service(w, "Permintaan Informasi Pembangunan Daerah")
        await officer.wait_for_text("1/4")
        await officer.send("Data jalan rusak")
        await officer.wait_for_text("2/4")
        await officer.send("/ajukan")
        resume = await officer.wait_for_text("belum dikirim")
        await officer.tap(resume, "▶️ Lanjutkan isian")
        await officer.wait_for_text("2/4")
        await officer.send("/batal")
        await officer.wait_for_text("dibatalkan")
        assert await w.services.intake.get(w.roster["officer"].id) is None
        await officer.send("halo")  # not an intake answer any more
        reply = await officer.next_message()
        assert "2/4" not in reply.text


async def test_status_history_and_withdrawal(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        case = await w.file_information_request()
        register_no = case.register_no
        await officer.send("/status")
        listing = await officer.wait_for_text("Permohonan Anda")
        assert register_no in listing.text and "Langkah 2" in listing.text
        await officer.send(f"/status {register_no.lower()}")
        card = await officer.wait_for_text("Pemegang")
        assert "Tari" in card.text and "Berikutnya" in card.text
        await officer.tap(card, "🧾 Riwayat")
        history = await officer.wait_for_text("Riwayat")
        assert "Diajukan oleh" in history.text
        await officer.tap(card, "🚫 Batalkan permohonan")
        await officer.wait_for_text("Tulis alasan")
        await officer.send("Data sudah diperoleh dari BPS")
        await officer.wait_for_text("dibatalkan")
        case = await w.services.workflow.queries.case_by_ref(register_no)
        assert case.state == "cancelled" and case.closed_reason == "Data sudah diperoleh dari BPS"
        await w.deliver()
        tu_told = await w["tu"].wait_for(lambda m: "dibatalkan" in (m.text or ""), include_existing=True)
        assert "BPS" in tu_told.text


async def test_tugas_lists_open_steps_with_buttons_and_detail(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        for _ in range(2):
            await w.file_information_request("Data IPM", file_name="surat.pdf")
        tu = w["tu"]
        tu.mark()
        await tu.send("/tugas")
        listing = await tu.wait_for_text("Tugas Anda: 2")  # one message: a line and a button per step
        assert "KTP-INFO-2026-0001" in listing.text and "KTP-INFO-2026-0002" in listing.text
        assert len(listing.buttons) == 2
        await tu.tap(listing, "1. KTP-INFO-2026-0001 · L2")
        card = await tu.wait_for(lambda m: "KTP-INFO-2026-0001" in (m.text or "") and "✅ Selesai" in m.button_texts)
        await tu.tap(card, "ℹ️ Detail")
        detail = await tu.wait_for_text("Isian permohonan")
        assert "Data IPM" in detail.text and "surat.pdf" in detail.text
        await tu.tap(listing, "2. KTP-INFO-2026-0002 · L2")
        card_b = await tu.wait_for(lambda m: "KTP-INFO-2026-0002" in (m.text or "") and "Tugas Anda" not in m.text
                                   and m.buttons)
        assert card_b.button_texts[0] == "✅ Selesai"


async def test_sop_browser_pages_through_steps(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        kabid = w["kabid"]
        await kabid.send("/sop rakordal")
        card = await kabid.wait_for_text("Penyusunan Koordinasi Pengendalian Pembangunan")
        assert "Dasar hukum" in card.text and "Langkah 1–5 dari 9" in card.text
        await kabid.tap(card, "Berikutnya ▶")
        page2 = await kabid.wait_for(lambda m: "Langkah 6–9 dari 9" in (m.text or ""))
        assert "Sesuai → diteruskan ke langkah 8" in page2.text
        await kabid.send("/sop")
        listing = await kabid.wait_for_text("Katalog SOP")
        assert len(listing.buttons) == len(w.services.catalog)


async def test_supervisor_digest_on_demand(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        from datetime import timedelta

        await w.file_information_request()
        w.clock.advance(timedelta(hours=3))
        kaban = w["kaban"]
        await kaban.send("/ringkasan")
        digest = await kaban.wait_for_text("Ringkasan")
        assert "Permohonan terbuka: 1" in digest.text and "Terlambat: 1" in digest.text
        assert "Tari" in digest.text
        chart = await kaban.wait_for(lambda m: m.photo is not None)
        assert chart.download()[:8] == b"\x89PNG\r\n\x1a\n"
        tu = w["tu"]
        await tu.send("/ringkasan")
        refused = await tu.wait_for_text("pimpinan")
        assert refused


async def test_reminder_and_escalation_reach_telegram(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        from datetime import timedelta

        from scheduler.tick import tick

        case = await w.file_information_request()
        tu, kaban = w["tu"], w["kaban"]
        await tu.wait_for_text(case.register_no)
        w.clock.advance(timedelta(minutes=23))
        result = await tick(w.services)
        assert result.sweep.sent["remind"] == 1
        w.sender.kick()
        reminder = await tu.wait_for_text("Pengingat")
        assert case.register_no in reminder.text and reminder.button_texts == ["🗂 Lihat tugas saya"]
        w.clock.advance(timedelta(hours=2))
        await tick(w.services)
        w.sender.kick()
        kabid_alert = await w["sekban"].wait_for_text("🚨 Terlambat")  # TU's step escalates to the Sekretaris
        assert "Tari" in kabid_alert.text and kabid_alert.button_texts == ["ℹ️ Detail", "↪ Alihkan"]
        assert kaban is not None


async def test_questions_in_plain_indonesian_and_siapa(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer, tu = w["officer"], w["tu"]
        await officer.send("berapa lama total permintaan konsultasi dan koordinasi di Bappeda Ketapang?")
        total = await officer.next_message()
        assert "PERMINTAAN KONSULTASI DAN KOORDINASI" in total.text and "1 hari" in total.text
        assert "Buka SOP" in total.button_texts
        await officer.tap(total, "Buka SOP")
        card = await officer.wait_for(lambda m: "📘" in (m.text or ""))
        assert "Dasar hukum" in card.text
        await officer.send("/siapa menyerahkan surat jawaban kepada pemohon")
        who = await officer.next_message()
        assert "TU/UKP" in who.text and "PERMINTAAN INFORMASI PEMBANGUNAN DAERAH" in who.text
        await officer.send("asdfgh qwerty zxcv")
        nothing = await officer.next_message()
        assert "/sop" in nothing.text
        case = await w.file_information_request()
        officer.mark()
        await officer.send(f"apa selanjutnya untuk permohonan {case.register_no}?")
        live = await officer.wait_for(lambda m: case.register_no in (m.text or "") and "Tari" in (m.text or ""))
        assert "langkah 2" in live.text.lower()
        stranger = w.api.user(4555, first_name="Lain")
        await w.services.people.register_officer(telegram_id=4555, username=None, name="Lain", agency_id="ktp-dinsos")
        await stranger.send(f"siapa yang pegang {case.register_no}?")
        refused = await stranger.next_message()
        assert "Tari" not in refused.text
        assert tu is not None


async def test_fasilitasi_aplikasi_from_ajukan_to_receipt(tmp_path: Path) -> None:
    """Choice field, optional screenshot skipped, Kabid sends it straight to the Admin Aplikasi."""
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        await _pick_service(w, "Fasilitasi Penggunaan Aplikasi Perencanaan")
        sop = w.services.catalog["ketapang-fasilitasi-aplikasi"]
        await _fill_intake(w, sop.id, "Belum bisa mengisi sub kegiatan di SIPD")
        summary = await officer.wait_for_text("Periksa permohonan")
        assert next(f for f in sop.intake if f.kind == "choice").choices[0] in summary.text
        await officer.tap(summary, "✅ Kirim")
        case = await w.filed(await officer.wait_for_text("Permohonan terkirim"))
        register_no = case.register_no
        await _finish_current(w["tu"], register_no)
        kabid = w["kabid"]
        card = await kabid.wait_for(lambda m: register_no in (m.text or "") and m.buttons)
        await kabid.tap(card, lambda b: "Admin Aplikasi" in b["text"] and "langsung" in b["text"])
        await kabid.wait_for(lambda m: "Diputuskan" in (m.text or ""))
        await _finish_current(w["admin_app"], register_no)
        await _finish_current(w["tu"], register_no)
        receipt = await officer.wait_for(lambda m: "Sudah diterima" in " ".join(m.button_texts))
        await officer.tap(receipt, "✅ Sudah diterima")
        await officer.wait_for_text("selesai")
        steps = [s.step_no for s in await w.services.workflow.queries.steps(case.id)]
        assert steps == ["1", "2", "4", "6", "7", "8"]  # the Sub Koordinator's step 5 was not needed


async def test_help_and_command_menus_per_audience(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        assert w.app.menus is not None
        await w.app.menus  # the menus are set in the background once polling runs
        assert "tugas" not in w.api.commands_for("default") and "ajukan" in w.api.commands_for("default")
        assert "tugas" in w.api.commands_for("chat:2004") and "ringkasan" in w.api.commands_for("chat:2004")
        officer, kabid = w["officer"], w["kabid"]
        await officer.send("/bantuan")
        help_officer = await officer.next_message()
        assert "/ajukan" in help_officer.text and "/tugas" not in help_officer.text
        await kabid.send("/bantuan")
        help_kabid = await kabid.next_message()
        assert "/tugas" in help_kabid.text and "/ringkasan" in help_kabid.text
        await officer.send("/tidakada")
        unknown = await officer.next_message()
        assert "/bantuan" in unknown.text


async def test_demo_runs_offline(capsys: pytest.CaptureFixture[str]) -> None:
    from sandbox.demo import run_demo

    assert await run_demo(verbose=True) == 0
    printed = capsys.readouterr().out
    assert "Bu Wati (Dinkes): menekan [✅ Kirim]" in printed
    assert "surat_jawaban.pdf" in printed and "status: selesai" in printed
