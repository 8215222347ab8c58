"""Questions in Telegram, end to end through the fake Bot API: who is asking comes first.

An officer's 'permohonan saya' is their live request, a staff member's 'tugas saya' their open
steps, a Ketapang officer's 'berapa lama permintaan data?' the Ketapang SOP's whole process; and
nobody who may not see a request learns anything about it.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.fake_bot_api import FakeUser, InboxMessage

from world import alur_world

INFO_TITLE = "PERMINTAAN INFORMASI PEMBANGUNAN DAERAH"


async def _ask(user: FakeUser, question: str, expect: str) -> InboxMessage:
    """Send a question and wait for the reply that contains ``expect`` (notices may arrive meanwhile)."""
    user.mark()
    await user.send(question)
    return await user.wait_for(lambda m: expect in (m.text or ""))


async def test_officer_with_one_request_gets_its_live_state(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        case = await w.file_information_request()
        await w.deliver()
        for question in ("apa selanjutnya untuk permohonan saya?", "data saya kapan jadi?", "sudah sampai mana?"):
            reply = await _ask(officer, question, case.register_no)
            assert "Sekarang: langkah 2" in reply.text, question
            assert "Tari" in reply.text and "Petugas TU/UKP" in reply.text  # who holds it
            assert "Selanjutnya: langkah 3" in reply.text and "Perkiraan selesai" in reply.text
            assert reply.button_texts[0] == "Lihat permohonan"
        await officer.tap(reply, "Lihat permohonan")
        card = await officer.wait_for(lambda m: case.register_no in (m.text or "") and m is not reply
                                      and "Riwayat" in " ".join(m.button_texts))
        assert card.text


async def test_officer_with_two_requests_chooses_one(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        first = await w.file_information_request(data="Data IPM")
        second = await w.file_information_request(data="Data kemiskinan")
        await w.deliver()
        reply = await _ask(officer, "permohonan saya sudah sampai mana?", "sedang berjalan (2)")
        assert first.register_no in reply.text and second.register_no in reply.text
        assert reply.button_texts == [second.register_no, first.register_no]
        await officer.tap(reply, first.register_no)
        card = await officer.wait_for(lambda m: first.register_no in (m.text or "") and "Riwayat" in
                                      " ".join(m.button_texts))
        assert second.register_no not in card.text


async def test_staff_asks_for_their_tasks(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        tu = w["tu"]
        case = await w.file_information_request()
        await w.deliver()
        reply = await _ask(tu, "tugas saya apa saja?", "Tugas Anda yang terbuka (1)")
        assert case.register_no in reply.text and "langkah 2" in reply.text
        assert f"ℹ️ {case.register_no} · langkah 2" in reply.button_texts
        await tu.tap(reply, f"ℹ️ {case.register_no} · langkah 2")
        detail = await tu.wait_for(lambda m: case.register_no in (m.text or "") and m.message_id != reply.message_id)
        assert "Data" in detail.text
        kabid = w["kabid"]
        nothing = await _ask(kabid, "apa yang harus saya kerjakan?", "Tidak ada tugas")
        assert case.register_no not in nothing.text


async def test_ketapang_officer_gets_the_ketapang_total_and_its_breakdown(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        reply = await _ask(officer, "berapa lama permintaan data?", "Total waktu standar")
        assert INFO_TITLE in reply.text and "Bappeda Kabupaten Ketapang" in reply.text
        assert "seluruh langkah (12 langkah): 1 hari 7 jam" in reply.text and "hari kerja" in reply.text
        assert "📋 Rincian per langkah" in reply.button_texts
        await officer.tap(reply, "📋 Rincian per langkah")
        breakdown = await officer.wait_for_text("Rincian per langkah")
        assert "12. 0,5 jam" in breakdown.text and "6. 1 hari" in breakdown.text


async def test_strangers_unregistered_and_deactivated_never_see_a_request(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        case = await w.file_information_request()
        await w.deliver()
        # the requester sees their own request through /siapa and free text
        own = await _ask(officer, f"/siapa pegang {case.register_no}", case.register_no)
        assert "Tari" in own.text

        nobody = w.api.user(4999, first_name="Tamu")  # never registered
        await nobody.send(f"/siapa pegang {case.register_no}")
        refused = await nobody.next_message()
        assert "Tari" not in refused.text and "langkah 2" not in refused.text.lower()
        await nobody.send(f"siapa yang pegang {case.register_no}?")
        assert "Tari" not in (await nobody.next_message()).text
        await nobody.send("/siapa permohonan 1, 2, 3")
        listing = await nobody.next_message()
        assert case.register_no not in listing.text and "Tari" not in listing.text

        stranger = w.api.user(4555, first_name="Lain")
        await w.services.people.register_officer(telegram_id=4555, username=None, name="Lain", agency_id="ktp-dinsos")
        await stranger.send("/siapa permohonan 1")
        seen = await stranger.next_message()
        await stranger.send("/siapa permohonan 777")
        unknown = await stranger.next_message()
        assert "Tari" not in seen.text and case.register_no not in seen.text
        assert seen.text.replace(" 1 ", " N ") == unknown.text.replace(" 777 ", " N ")  # existence not revealed
        assert "Tari" not in (await _ask(stranger, "permohonan saya sampai mana?", "belum punya permohonan")).text

        await w.services.people.deactivate(w.roster["officer"].id)
        await officer.send(f"/siapa pegang {case.register_no}")
        gone = await officer.next_message()
        assert "Tari" not in gone.text
        await officer.send("permohonan saya sudah sampai mana?")
        assert "Tari" not in (await officer.next_message()).text
