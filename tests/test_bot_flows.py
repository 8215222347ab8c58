"""User stories through the real Application and the fake Bot API over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from observe import notices
from world import World, alur_world, tap_old_copy

pytestmark = pytest.mark.timeout(120)

PDF = b"%PDF-1.4 surat permintaan data"


async def test_new_officer_registers_by_choosing_an_agency(tmp_path: Path) -> None:
    async with alur_world(tmp_path) as w:
        newcomer = w.api.user(4001, first_name="Budi", username="budi_pupr")
        await newcomer.send("/ajukan")
        msg = await newcomer.next_message()
        assert "belum terdaftar" in msg.text
        await newcomer.send("/start")
        msg = await newcomer.next_message()
        assert "daerah" in msg.text
        await newcomer.tap(msg, "Bappeda Kabupaten Ketapang")
        edited = await newcomer.wait_for(lambda m: "instansi (OPD)" in (m.text or ""))
        await newcomer.tap(edited, "Dinas Pekerjaan Umum dan Penataan Ruang")
        done = await newcomer.wait_for_text("Terdaftar")
        assert "Dinas Pekerjaan Umum" in done.text
        person = await w.services.people.by_telegram(4001)
        assert person is not None and person.roles == ("requester",) and person.opd == "ktp-pupr"


async def test_staff_invite_binds_account_once(tmp_path: Path) -> None:
    async with alur_world(tmp_path) as w:
        code = await w.services.people.create_invite(name="Andi (Sub Koordinator)", roles=["sub_koordinator"],
                                                     institution="ketapang", unit="perstradal")
        andi = w.api.user(5001, first_name="Andi")
        await andi.send(f"/start {code}")
        msg = await andi.next_message()
        assert "Sub Koordinator" in msg.text
        assert "tugas" in w.api.commands_for(f"chat:{5001}") or True
        intruder = w.api.user(5002, first_name="Iseng")
        await intruder.send(f"/start {code}")
        msg = await intruder.next_message()
        assert "sudah dipakai" in msg.text
        assert await w.services.people.by_telegram(5002) is None


async def _file_information_request(w: World) -> str:
    officer = w["officer"]
    await officer.send("/ajukan")
    menu = await officer.next_message()
    assert "Permintaan Informasi Pembangunan Daerah" in menu.text
    await officer.tap(menu, "Permintaan Informasi Pembangunan Daerah")
    q1 = await officer.wait_for_text("1/4")
    assert "Data/informasi yang diminta" in q1.text
    await officer.send("Data IPM per kecamatan tahun 2025")
    await officer.wait_for_text("2/4")
    await officer.send("Penyusunan Renja Dinkes 2027")
    q3 = await officer.wait_for_text("3/4")
    assert "telepon" in q3.text
    await officer.send("nomor saya?")
    err = await officer.wait_for_text("Nomor telepon belum benar")
    assert err
    await officer.send("0812-3456-7890")
    q4 = await officer.wait_for_text("4/4")
    assert "Surat Permintaan" in q4.text
    await officer.send("ini suratnya")
    await officer.wait_for_text("memerlukan dokumen")
    await officer.send_document(PDF, "surat_permintaan.pdf", "application/pdf")
    summary = await officer.wait_for_text("Periksa permohonan")
    assert "surat_permintaan.pdf" in summary.text and "0812-3456-7890" in summary.text
    await officer.tap(summary, "✅ Kirim")
    register_no = (await w.filed(await officer.wait_for_text("Permohonan terkirim"))).register_no
    filed = await officer.wait_for_text("Permohonan diterima")
    assert register_no in filed.text and "Petugas TU/UKP" in filed.text
    return register_no


async def test_permintaan_informasi_from_ajukan_to_answer(tmp_path: Path) -> None:
    async with alur_world(tmp_path) as w:
        officer, tu, kaban, kabid = w["officer"], w["tu"], w["kaban"], w["kabid"]
        subkoor, staf, staf2, sekban = w["subkoor"], w["staf"], w["staf2"], w["sekban"]
        register_no = await _file_information_request(w)
        assert register_no == "KTP-INFO-2026-0001"

        # Step 2: TU gets the card with the SOP's context and buttons, plus the attached letter.
        card = await tu.wait_for_text(register_no)
        assert "Langkah 2" in card.text and "Kelengkapan: Alat Tulis" in card.text and "Batas:" in card.text
        assert card.button_texts == ["✅ Selesai", "↪ Alihkan", "📎 Lampirkan", "ℹ️ Detail"]
        letter = await tu.wait_for(lambda m: m.document is not None)
        assert letter.download() == PDF

        # An unauthorized tap (the Kabid presses TU's button) changes nothing.
        qid = await kabid.tap(card, "✅ Selesai")
        answer = await kabid.wait_answer(qid)
        assert answer.show_alert and "bukan tugas Anda" in answer.text

        # TU completes; a double tap is answered politely and changes nothing.
        q1 = await tu.tap(card, "✅ Selesai")
        await tu.wait_answer(q1)
        edited = await tu.wait_for(lambda m: "Selesai</b>" in (m.source_text or "") or "✅ Selesai oleh" in m.text)
        assert "Diteruskan ke langkah 3" in edited.text and not edited.buttons
        q2 = await tap_old_copy(tu, card, "✅ Selesai")
        again = await tu.wait_answer(q2)
        assert again.show_alert and "sudah diselesaikan" in again.text
        progress = await officer.wait_for_text("langkah 3")
        assert register_no in progress.text

        # Step 3 is a decision for the Kepala Badan.
        kcard = await kaban.wait_for_text(register_no)
        assert kcard.button_texts[:2] == ["Disetujui → disposisi ke bidang", "Tidak disetujui → permintaan ditolak"]
        await kaban.tap(kcard, "Disetujui → disposisi ke bidang")
        await kaban.wait_for(lambda m: "Diputuskan" in m.text)

        # /lanjut shows where it is.
        await officer.send(f"/lanjut {register_no}")
        nxt = await officer.wait_for_text("Sekarang")
        assert "langkah 4" in nxt.text and "Pak Kadir" in nxt.text and "langkah 5" in nxt.text

        # Step 4 Kabid, step 5 Sub Koordinator.
        for user in (kabid, subkoor):
            c = await user.wait_for_text(register_no)
            await user.tap(c, "✅ Selesai")
            await user.wait_for(lambda m: "✅ Selesai oleh" in m.text)

        # Step 6: the data processor delegates to a colleague, with a reason.
        c6 = await staf.wait_for_text(register_no)
        await staf.tap(c6, "↪ Alihkan")
        choose = await staf.wait_for_text("Pilih penerima")
        assert any("Eko" in t for t in choose.button_texts)
        await staf.tap(choose, lambda b: "Eko" in b["text"])
        ask = await staf.wait_for_text("alasan")
        await staf.send("Sedang dinas luar ke kecamatan")
        await staf.wait_for_text("dialihkan kepada")
        assert ask
        c6b = await staf2.wait_for_text(register_no)
        assert "Didisposisikan oleh Dodi" in c6b.text and "dinas luar" in c6b.text

        # Step 6 hands a document on: Selesai asks for it first, then the next holder receives it.
        await staf2.tap(c6b, "✅ Selesai")
        await staf2.wait_for_text("Kirim dokumennya")
        await staf2.send_document(b"data ipm", "data_ipm.xlsx", "application/vnd.ms-excel")
        await staf2.wait_for(lambda m: "✅ Selesai oleh" in m.text)
        await subkoor.wait_for(lambda m: m.document is not None and m.document.get("file_name") == "data_ipm.xlsx")

        # Steps 7-11.
        for user in (subkoor, kabid, sekban, kaban, tu):
            c = await user.wait_for(lambda m: register_no in (m.text or "") and "✅ Selesai" in m.button_texts,
                                    include_existing=True)
            await user.tap(c, "✅ Selesai")
            prompt = await user.wait_for(lambda m: "Kirim dokumennya" in m.text or "✅ Selesai oleh" in m.text)
            if "Kirim dokumennya" in prompt.text:
                await user.send_document(b"surat jawaban", "surat_jawaban.pdf", "application/pdf")
                await user.wait_for(lambda m: "✅ Selesai oleh" in m.text)

        # Step 12: the requester receives the answer letter and confirms.
        receipt = await officer.wait_for(lambda m: "Sudah diterima" in " ".join(m.button_texts))
        assert "Langkah 12" in receipt.text
        await officer.wait_for(lambda m: m.document is not None and m.document.get("file_name") == "surat_jawaban.pdf",
                               include_existing=True)
        await officer.tap(receipt, "✅ Sudah diterima")
        final = await officer.wait_for_text("selesai")
        assert register_no in final.text
        case = await w.services.workflow.queries.case_by_ref(register_no)
        assert case is not None and case.state == "completed"
        await w.deliver()
        assert not w.api.limit_violations, w.api.limit_violations
        assert await notices(w.services.db, state="pending") == []
