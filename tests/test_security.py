"""Issue 11, identity / access / input rows, each told as an attacker or a careless user would try it,
end to end through the fake Bot API (the workflow is called directly only to set the scene).

Row numbers are those of issue 11's table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.sop.catalog import DEFAULT_SOP_DIR
from bot.storage.records import Case
from bot.text.render import Renderer
from bot.workflow.errors import PeopleError, WorkflowError
from bot.workflow.results import FileUpload
from handlers.keyboards import encode, sop_key

from observe import all_cases, event_types, give_up_on, notices, notices_to, plant_old_draft, set_active
from roster import advance
from world import World, alur_world

pytestmark = pytest.mark.timeout(120)

def people_file(tmp_path: Path, entries: list[dict]) -> Path:
    path = tmp_path / "people.yaml"
    path.write_text(yaml.safe_dump({"people": entries}, allow_unicode=True), encoding="utf-8")
    return path


async def file_request(w: World, data: str = "Data") -> Case:
    """The officer's data request with a letter the fake Bot API really holds (so it can be handed on)."""
    stored = w.api._store_file(b"%PDF surat", file_name="surat.pdf", mime_type="application/pdf", kind="documents")
    out = await w.services.workflow.filing.file_request(
        "ketapang-permintaan-informasi", w.roster["officer"].id,
        {"data_diminta": data, "keperluan": "Laporan", "kontak": "081234567890"},
        {"surat_permintaan": FileUpload(stored.file_id, stored.file_unique_id, "surat.pdf", "application/pdf", 10)},
    )
    w.sender.kick()
    return out.case


async def _card(w: World, key: str, register_no: str, label: str):  # type: ignore[no-untyped-def]
    return await w[key].wait_for(lambda m: register_no in (m.text or "") and label in m.button_texts,
                                 include_existing=True)


# ---- row 5: staff role takeover through @username


async def test_row5_a_listed_username_is_no_proof_only_the_admins_invite_binds(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        await s.people.deactivate(w.roster["subkoor"].id)
        await s.people.sync_file(people_file(tmp_path, [
            {"telegram": "@sari_baru", "name": "Bu Sari Baru", "roles": ["sub_koordinator"],
             "institution": "ketapang", "unit": "perstradal"}]))
        sari = await s.people.find("@sari_baru")
        assert sari is not None and sari.telegram_id is None
        case = await file_request(w)
        await advance(s.workflow, case.id, 3)  # step 5 is the Sub Koordinator's: held for Bu Sari
        held = await notices_to(s.db, sari)
        assert held and all(m.state == "held" for m in held)

        # someone who took the free username first writes to the bot
        thief = w.api.user(6660, first_name="Penyusup", username="sari_baru")
        await thief.send("/start")
        hint = await thief.wait_for_text("tautan undangan")
        assert "belum membuktikan" in hint.text
        await thief.wait_for_text("pilih daerah")
        await thief.send("/tugas")
        assert "belum terdaftar" in (await thief.next_message()).text
        await thief.send(f"/status {case.register_no}")
        assert case.register_no not in (await thief.next_message()).text
        await w.deliver()
        assert not any(case.register_no in (m.text or "") for m in thief.inbox)
        assert (await s.people.get(sari.id)).telegram_id is None  # type: ignore[union-attr]

        # the real Bu Sari opens the admin's one-use link: her roles, her held assignment
        code = await s.people.invite_listed(sari.id)
        real = w.api.user(6661, first_name="Sari")
        await real.send(f"/start {code}")
        await real.wait_for_text("Sub Koordinator")
        card = await real.wait_for(lambda m: case.register_no in (m.text or "") and "Langkah 5" in (m.text or ""))
        assert "✅ Selesai" in card.button_texts
        bound = await s.people.get(sari.id)
        assert bound is not None and bound.telegram_id == 6661 and bound.is_staff
        # the link works once
        await thief.send(f"/start {code}")
        assert "sudah dipakai" in (await thief.next_message()).text
        assert await s.people.by_telegram(6660) is None


async def test_row5_an_officer_is_not_promoted_when_the_people_file_lists_their_username(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        officer = w["officer"]  # registered herself as an OPD officer with the username opd_dinkes
        await s.people.sync_file(people_file(tmp_path, [
            {"telegram": "@opd_dinkes", "name": "Kabid Baru", "roles": ["kabid"], "institution": "ketapang",
             "unit": "perstradal"}]))
        me = await s.people.by_telegram(3001)
        assert me is not None and not me.is_staff and me.roles == ("requester",)
        listed = await s.people.find("@opd_dinkes")
        assert listed is not None and listed.id != me.id and listed.telegram_id is None
        await officer.send("/ringkasan")
        assert "hanya untuk pimpinan" in (await officer.next_message()).text
        assert (await s.people.by_telegram(3001)).roles == ("requester",)  # type: ignore[union-attr]


# ---- row 7: starting another institution's SOP by forging the service button


async def test_row7_a_forged_service_button_starts_nothing(tmp_path: Path) -> None:
    """The attacker sends the data of a service button no menu of theirs shows: no draft, no case."""
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        kaban = w["kaban"]  # Kepala Badan of Ketapang: a starter role of Kotim's internal SOPs
        sent = await kaban.send("/ajukan")
        menu = await kaban.next_message()
        assert not any("RKPD" in t for t in menu.button_texts)
        qid = await kaban.tap_data(sent, encode("intake_start", sop_key("kotim-rkpd")))
        answer = await kaban.wait_answer(qid)
        assert answer.show_alert and "tidak dapat Anda ajukan" in (answer.text or "")
        assert await s.intake.get(w.roster["kaban"].id) is None

        # an officer of a Kotim agency forges Ketapang's data request
        outsider = w.api.user(6670, first_name="Kotim")
        await s.people.register_officer(telegram_id=6670, username=None, name="Pak Kotim", agency_id="ktm-dinkes")
        sent = await outsider.send("/ajukan")
        qid = await outsider.tap_data(sent, encode("intake_start", sop_key("ketapang-permintaan-informasi")))
        assert (await outsider.wait_answer(qid)).show_alert
        assert await s.intake.get((await s.people.by_telegram(6670)).id) is None  # type: ignore[union-attr]

        # and the write path itself refuses, whatever an edge lets through
        with pytest.raises(WorkflowError) as refused:
            await s.workflow.filing.file_request("kotim-rkpd", w.roster["kaban"].id, {})
        assert refused.value.code == "not_allowed_to_start"
        assert await all_cases(s.db) == []


# ---- row 8: a deactivated officer reactivates themselves with /start


async def test_row8_a_deactivated_officer_stays_deactivated(tmp_path: Path) -> None:
    """Neither /start nor a forged agency button (the bot offers none to a deactivated account) reactivates."""
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        officer = w["officer"]
        await s.people.deactivate(w.roster["officer"].id)
        sent = await officer.send("/start")
        told = await officer.next_message()
        assert "dinonaktifkan" in told.text and not told.buttons
        qid = await officer.tap_data(sent, encode("agency", "ktp-dinsos"))
        assert "dinonaktifkan" in ((await officer.wait_answer(qid)).text or "")
        with pytest.raises(PeopleError, match="deactivated"):
            await s.people.register_officer(telegram_id=3001, username=None, name="Wati", agency_id="ktp-dinkes")
        again = await s.people.by_telegram(3001)
        assert again is not None and not again.active
        await officer.send("/ajukan")
        assert "belum terdaftar" in (await officer.next_message()).text


async def test_row8_an_admins_new_invite_reactivates_a_deactivated_member_of_staff(tmp_path: Path) -> None:
    """Removed from the people file, Tono is refused at /start; the admin's new invite, opened from his own
    account, makes the same record active with the invite's roles, and the next start keeps him. An active
    member of staff opening an invite still changes nothing."""
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        tono_user = w.api.user(2106, first_name="Tono")
        await s.people.sync_file(people_file(tmp_path, [
            {"telegram": 2106, "name": "Tono (Pengolah Data)", "roles": ["staf_pengolah_data"],
             "institution": "ketapang", "unit": "perstradal"}]))
        tono = await s.people.by_telegram(2106)
        assert tono is not None and tono.active
        assert (await s.people.sync_file(people_file(tmp_path, [])))["deactivated"] == 1
        await tono_user.send("/start")
        assert "dinonaktifkan" in (await tono_user.next_message()).text

        code = await s.people.create_invite(name="Tono (Sub Koordinator)", roles=["sub_koordinator"],
                                            institution="ketapang", unit="perstradal")
        await tono_user.send(f"/start {code}")
        welcome = await tono_user.next_message()
        assert "Sub Koordinator" in welcome.text and "dinonaktifkan" not in welcome.text
        back = await s.people.by_telegram(2106)
        assert back is not None and back.id == tono.id and back.active and back.is_staff
        assert back.roles == ("sub_koordinator",) and back.name == "Tono (Sub Koordinator)"
        await tono_user.send("/tugas")
        tasks = (await tono_user.next_message()).text
        assert "belum terdaftar" not in tasks and "dinonaktifkan" not in tasks
        # the file that no longer lists him does not undo the admin's invite at the next start
        assert (await s.people.sync_file(people_file(tmp_path, [])))["deactivated"] == 0
        assert (await s.people.get(tono.id)).active  # type: ignore[union-attr]

        # an active member of staff gains nothing from someone else's invite
        other = await s.people.create_invite(name="Siapa Saja", roles=["kabid"], institution="ketapang",
                                             unit="perstradal")
        await w["subkoor"].send(f"/start {other}")
        assert "sudah terdaftar sebagai pegawai" in (await w["subkoor"].next_message()).text
        assert (await s.people.by_telegram(2005)).roles == ("sub_koordinator",)  # type: ignore[union-attr]


# ---- row 9: removing a person from the people file releases their open steps


async def test_row9_removal_from_the_people_file_hands_steps_on_like_people_remove(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        entry = {"telegram": 2106, "name": "Tono (Pengolah Data)", "roles": ["staf_pengolah_data"],
                 "institution": "ketapang", "unit": "perstradal"}
        tono_user = w.api.user(2106, first_name="Tono")
        await s.people.sync_file(people_file(tmp_path, [entry]))
        tono = await s.people.by_telegram(2106)
        assert tono is not None
        await set_active(s.db, [w.roster["staf"], w.roster["staf2"]], False)  # Tono, the only data processor
        case = await w.file_information_request()
        await advance(s.workflow, case.id, 4)
        await tono_user.wait_for(lambda m: case.register_no in (m.text or "") and "Langkah 6" in (m.text or ""))
        await set_active(s.db, [w.roster["staf2"]], True)

        counts = await s.people.sync_file(people_file(tmp_path, []))
        assert counts["deactivated"] == 1 and counts["released"] == 1
        step = (await s.workflow.queries.what_next(case.id)).current[0].instance
        assert step.step_no == "6" and step.holder_id == w.roster["staf2"].id
        card = await _card(w, "staf2", case.register_no, "✅ Selesai")
        assert "Langkah 6" in card.text
        assert "step_released" in await event_types(s.workflow, case.id)
        assert not (await s.people.get(tono.id)).active  # type: ignore[union-attr]


# ---- row 12: admin scope


async def test_row12_an_institution_admin_acts_only_within_their_institution(tmp_path: Path) -> None:
    """Another institution's admin reads nothing by command or free text, and forged case and step buttons
    (the ids of a case they were never shown) are refused; the case's own admin cancels it by its button."""
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        case = await w.file_information_request()
        await w.deliver()
        kotim_admin_user = w.api.user(7001, first_name="Admin Kotim")
        kotim_admin = await s.people.add_staff(name="Admin Kotim", roles=["admin"], institution="kotim", unit=None,
                                               telegram_id=7001)
        # reading: /status, /lanjut, /riwayat, /siapa, free text, the case button. Another institution's real
        # number is answered exactly as a made-up one, so the answer never confirms that the number exists.
        made_up = case.register_no[:-4] + "9999"
        for command in ("/status", "/lanjut", "/riwayat"):
            await kotim_admin_user.send(f"{command} {case.register_no}")
            real = (await kotim_admin_user.next_message()).text
            await kotim_admin_user.send(f"{command} {made_up}")
            invented = (await kotim_admin_user.next_message()).text
            assert f"Permohonan {case.register_no} tidak ditemukan, atau Anda tidak berwenang melihatnya" in real
            assert real.replace(case.register_no, "#") == invented.replace(made_up, "#"), command
        for question in ("/siapa pegang {}", "siapa yang pegang {}?", "permohonan saya {} sampai mana?"):
            await kotim_admin_user.send(question.format(case.register_no))
            real = (await kotim_admin_user.next_message()).text
            await kotim_admin_user.send(question.format(made_up))
            invented = (await kotim_admin_user.next_message()).text
            assert "Tari" not in real and "tidak berwenang" in real, question
            assert real.replace(case.register_no, "#") == invented.replace(made_up, "#"), question
        sent = await kotim_admin_user.send("/bantuan")

        async def tap_answer(data: str) -> str:
            answer = await kotim_admin_user.wait_answer(await kotim_admin_user.tap_data(sent, data))
            assert answer.show_alert, data
            return answer.text or ""

        for action in ("case", "history", "whatnext", "case_chart", "cancel_case"):
            real = await tap_answer(encode(action, case.id))
            assert "tidak ditemukan, atau Anda tidak berwenang" in real, action
            assert real == await tap_answer(encode(action, case.id + 1000)), action
        # cancelling and reassigning
        with pytest.raises(WorkflowError, match="not_allowed_cancel"):
            await s.workflow.cancellation.cancel(case.id, kotim_admin.id, "coba")
        step = (await s.workflow.queries.what_next(case.id)).current[0].instance
        for action in ("reassign", "detail"):
            assert await tap_answer(encode(action, step.id)) == await tap_answer(encode(action, step.id + 1000))
        with pytest.raises(WorkflowError) as refused:
            await s.workflow.delegation.reassign(step.id, kotim_admin.id, w.roster["staf2"].id, "coba")
        assert refused.value.code == "not_allowed_reassign"
        # the digest: Kotim only, no Ketapang dead letters
        await give_up_on(s.db, (await notices(s.db))[0].id, "400 uji")
        await kotim_admin_user.send("/ringkasan")
        digest = await kotim_admin_user.wait_for_text("Ringkasan")
        assert "Kotawaringin" in digest.text and "Ketapang" not in digest.text
        assert case.register_no not in digest.text and "tak terkirim" not in digest.text
        assert (await s.workflow.queries.case(case.id)).is_open  # type: ignore[union-attr]

        # Ketapang's own admin reads and cancels the Ketapang request
        admin = w["admin"]
        await admin.send(f"/status {case.register_no}")
        shown = await admin.wait_for(lambda m: "🚫 Batalkan permohonan" in m.button_texts)
        await admin.tap(shown, "🚫 Batalkan permohonan")
        await admin.wait_for_text("alasan")
        await admin.send("Permohonan ganda")
        await admin.wait_for_text("dibatalkan")
        assert (await s.workflow.queries.case(case.id)).state == "cancelled"  # type: ignore[union-attr]
        # a forged button on the now closed step tells the outsider neither who closed it nor that it exists
        closed = await tap_answer(encode("reassign", step.id))
        assert closed == await tap_answer(encode("reassign", step.id + 1000)) and "oleh" not in closed


def test_the_unavailable_case_answer_escapes_and_shortens_what_was_typed() -> None:
    """/status echoes the number as typed: markup in it is shown as text, and a page of digits is cut short."""
    text = Renderer().render("case_unavailable", ref="<b>KTP</b>-" + "9" * 500)
    assert "&lt;b&gt;KTP&lt;/b&gt;-999" in text and "<b>KTP</b>" not in text
    assert "9" * 60 not in text and "tidak ditemukan, atau Anda tidak berwenang melihatnya" in text


async def test_row12_a_system_admin_acts_across_institutions(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        case = await w.file_information_request()
        await w.deliver()
        root_user = w.api.user(7002, first_name="Admin Sistem Pusat")
        root = await s.people.add_staff(name="Admin Pusat", roles=["system_admin"], institution="kotim", unit=None,
                                        telegram_id=7002)
        await root_user.send(f"/lanjut {case.register_no}")
        assert "Tari" in (await root_user.next_message()).text
        await root_user.send(f"siapa yang pegang {case.register_no}?")
        assert "Tari" in (await root_user.next_message()).text
        await give_up_on(s.db, (await notices(s.db))[0].id, "400 uji")
        await root_user.send("/ringkasan")
        digest = await root_user.wait_for_text("Ringkasan")
        assert "Semua instansi" in digest.text and "tak terkirim" in digest.text
        step = (await s.workflow.queries.what_next(case.id)).current[0].instance
        out = await s.workflow.delegation.reassign(step.id, root.id, w.roster["kaban"].id, "Uji lintas instansi")
        assert out.changed
        out = await s.workflow.cancellation.cancel(case.id, root.id, "Uji pembatalan")
        assert out.changed and out.case.state == "cancelled"


# ---- row 13: cases keep the requester as filed


async def test_row13_re_registering_with_another_agency_does_not_rewrite_past_cases(tmp_path: Path) -> None:
    """The officer sends an agency choice again (forged: a registered officer is offered no agency buttons)
    and is re-registered; the request she filed before still shows the agency she filed it for."""
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        case = await w.file_information_request()
        officer = w["officer"]
        sent = await officer.send("/bantuan")
        qid = await officer.tap_data(sent, encode("agency", "ktp-dinsos"))
        await officer.wait_answer(qid)
        await officer.wait_for_text("Dinas Sosial")
        me = await s.people.by_telegram(3001)
        assert me is not None and me.opd == "ktp-dinsos"
        await officer.send(f"/status {case.register_no}")
        card = await officer.wait_for_text("Pemohon:")
        assert "Ibu Wati (Dinkes)" in card.text and "Dinas Kesehatan" in card.text and "Dinas Sosial" not in card.text
        await advance(s.workflow, case.id, 1)
        assignment = await w["kaban"].wait_for(lambda m: case.register_no in (m.text or "") and m.buttons)
        assert "Dinas Kesehatan" in assignment.text and "Dinas Sosial" not in assignment.text
        detail = await _card(w, "kaban", case.register_no, "ℹ️ Detail")
        await w["kaban"].tap(detail, "ℹ️ Detail")
        shown = await w["kaban"].wait_for_text("Pemohon:")
        assert "Dinas Kesehatan" in shown.text and "Dinas Sosial" not in shown.text


# ---- row 14: a draft whose SOP intake changed


def _sop_dir_with_nik(tmp_path: Path) -> Path:
    """A copy of the packaged SOP folder where the data request asks for the requester's NIK first."""
    folder = tmp_path / "sop_data"
    shutil.copytree(DEFAULT_SOP_DIR, folder)
    path = next(folder.rglob("*.yaml"), None)
    for candidate in folder.rglob("*.yaml"):
        text = candidate.read_text(encoding="utf-8")
        if "id: ketapang-permintaan-informasi" in text:
            path = candidate
            break
    assert path is not None
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["intake"].insert(0, {"key": "nik", "label": "NIK pemohon", "kind": "text", "required": True})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


async def test_row14_a_draft_on_a_changed_form_restarts_once_and_never_loops(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        await officer.send("/ajukan")
        await officer.tap(await officer.next_message(), "Permintaan Informasi Pembangunan Daerah")
        await officer.wait_for_text("1/4")
        await officer.send("Data kemiskinan per desa")
        await officer.wait_for_text("2/4")
        await officer.send("Kajian Dinkes")
        await officer.wait_for_text("3/4")
        # the admin adds a required NIK field to the form and restarts the bot
        w.settings = Settings(db_path=w.settings.db_path, sop_dir=_sop_dir_with_nik(tmp_path))
        await w.restart()
        officer.mark()
        await officer.send("0812 3456 7890")
        told = await officer.wait_for_text("telah diubah")
        assert "isi ulang dari awal" in told.text
        first = await officer.wait_for_text("1/5")
        assert "NIK pemohon" in first.text
        for answer in ("6104012345670001", "Data kemiskinan per desa", "Kajian Dinkes", "0812 3456 7890"):
            await officer.send(answer)
        await officer.wait_for_text("5/5")
        await officer.send_document(b"%PDF surat", "surat.pdf", "application/pdf")
        summary = await officer.wait_for_text("Periksa permohonan")
        await officer.tap(summary, "✅ Kirim")
        await officer.wait_for_text("Permohonan terkirim")
        assert not any("wajib diisi" in (m.text or "") for m in officer.inbox)
        cases = await all_cases(w.services.db)
        assert len(cases) == 1 and cases[0].intake["nik"] == "6104012345670001"


async def test_row14_an_old_complete_draft_that_no_longer_fits_restarts_instead_of_looping(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        me = w.roster["officer"]
        await plant_old_draft(s.db, me, "ketapang-permintaan-informasi",  # a field is missing
                              answers={"data_diminta": "Data", "keperluan": "Kajian"},
                              uploads={"surat_permintaan": {"file_id": "f", "file_name": "s.pdf"}},
                              position=4, now=w.clock.now())
        officer = w["officer"]
        await officer.send("/ajukan")
        resume = await officer.wait_for(lambda m: "▶️ Lanjutkan isian" in m.button_texts)
        await officer.tap(resume, "▶️ Lanjutkan isian")
        summary = await officer.wait_for_text("Periksa permohonan")
        await officer.tap(summary, "✅ Kirim")
        told = await officer.wait_for_text("telah diubah")
        assert "isi ulang" in told.text
        await officer.wait_for_text("1/4")
        draft = await s.intake.get(me.id)
        assert draft is not None and draft.position == 0 and draft.answers == {}


# ---- row 16: visible text, accepted files


async def test_row16_invisible_answers_and_unsafe_files_are_refused(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        await officer.send("/ajukan")
        await officer.tap(await officer.next_message(), "Permintaan Informasi Pembangunan Daerah")
        await officer.wait_for_text("1/4")
        for blank in ("\u200b\u200b", "\u200d \u2060", "\u2800", "\u3164", "\u00ad\ufeff"):
            await officer.send(blank)
            assert "wajib diisi" in (await officer.next_message()).text, repr(blank)
        await officer.send("Data IPM 2025")
        await officer.wait_for_text("2/4")
        await officer.send("Kajian")
        await officer.wait_for_text("3/4")
        await officer.send("0812 3456 7890")
        await officer.wait_for_text("4/4")
        await officer.send_document(b"MZ\x90\x00", "surat.pdf.exe", "application/x-msdownload")
        refused = await officer.next_message()
        assert "tidak dapat diterima" in refused.text and "PDF" in refused.text
        await officer.send_document(b"MZ\x90\x00", "surat.pdf", "application/x-msdownload")
        assert "tidak dapat diterima" in (await officer.next_message()).text
        await officer.send_document(b"%PDF" + b"\0" * (21 * 1024 * 1024), "besar.pdf", "application/pdf")
        assert "terlalu besar" in (await officer.next_message(timeout=15)).text
        draft = await w.services.intake.get(w.roster["officer"].id)
        assert draft is not None and draft.position == 3 and not draft.uploads
        await officer.send_document(b"%PDF surat", "surat.docx", "application/vnd.openxmlformats-officedocument."
                                                               "wordprocessingml.document")
        await officer.wait_for_text("Periksa permohonan")

        # a step's output goes through the same check; the bot keeps waiting for a good one
        case = await w.file_information_request()
        await advance(w.services.workflow, case.id, 4)
        staf = w["staf"]
        await staf.tap(await _card(w, "staf", case.register_no, "✅ Selesai"), "✅ Selesai")
        await staf.wait_for_text("Kirim dokumennya")
        await staf.send_document(b"#!/bin/sh", "data.sh", "application/x-sh")
        assert "tidak dapat diterima" in (await staf.next_message()).text
        await staf.send_document(b"PK xlsx", "data.xlsx", "application/vnd.openxmlformats-officedocument."
                                                           "spreadsheetml.sheet")
        done = await staf.wait_for(lambda m: "oleh Anda" in (m.text or ""))
        assert "Diteruskan ke langkah 7" in done.text


async def test_row16_blank_reasons_are_refused(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        case = await w.file_information_request()
        with pytest.raises(WorkflowError, match="reason_required"):
            await s.workflow.cancellation.cancel(case.id, w.roster["officer"].id, "\u200b \u200c")
        assert (await s.workflow.queries.case(case.id)).is_open  # type: ignore[union-attr]


# ---- row 20: staff who had not opened the bot


async def test_row20_messages_to_someone_who_never_opened_the_bot_wait_for_their_start(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        staf = w["staf"]
        staf.started = False  # Dodi has never opened Alur
        await set_active(s.db, [w.roster["staf2"]], False)
        first = await file_request(w, "Data pertama")
        second = await file_request(w, "Data kedua")
        await advance(s.workflow, first.id, 4)
        await advance(s.workflow, second.id, 4)
        await w.deliver()
        rows = await notices_to(s.db, w.roster["staf"])
        assert rows and all(r.state == "held" for r in rows), [(r.kind, r.state) for r in rows]
        assert not staf.inbox
        told = await w["kabid"].wait_for_text("tidak dapat dihubungi", include_existing=True)
        assert "Dodi" in told.text and "belum pernah membuka" in told.text
        # more work for him while he still has not opened the bot: the supervisor is not told again
        third = await file_request(w, "Data ketiga")
        await advance(s.workflow, third.id, 4)
        await w.deliver()
        assert sum("tidak dapat dihubungi" in (m.text or "") for m in w["kabid"].inbox) == 1
        assert not await notices(s.db, state="dead")

        await staf.send("/start")
        await staf.wait_for_text("sudah terdaftar")
        await w.deliver()
        cards = [m for m in staf.inbox if "Langkah 6" in (m.text or "")]
        assert [next(c for c in (first, second, third) if c.register_no in m.text).id for m in cards] == [
            first.id, second.id, third.id]
        rows = await notices_to(s.db, w.roster["staf"])
        assert all(r.state == "sent" for r in rows)
        assert (await s.people.get(w.roster["staf"].id)).reachable  # type: ignore[union-attr]


# ---- a question the bot asked about a step that then moved on (fresh-eyes pass)


async def test_a_question_about_a_step_that_moved_on_is_dropped_not_kept_demanding(tmp_path: Path) -> None:
    """Dodi taps ✅ Selesai and is asked for the output; meanwhile the Kabid hands the step to Eko. Before,
    the bot kept answering every message of Dodi's with 'this part needs a document' and refused his document
    with 'not your step', until he guessed /batal. Now his next message is told once that the step no longer
    waits for him, and what he writes after that is answered as usual. The same for the Kepala Badan whose
    rejection reason arrives after the admin cancelled the request: before, his old card was edited to say he
    had finished the step himself."""
    async with alur_world(tmp_path, paced=False) as w:
        s = w.services
        case = await file_request(w)
        await advance(s.workflow, case.id, 4)
        staf = w["staf"]
        await staf.tap(await _card(w, "staf", case.register_no, "✅ Selesai"), "✅ Selesai")
        await staf.wait_for_text("Kirim dokumennya")
        step = (await s.workflow.queries.what_next(case.id)).current[0].instance
        await s.workflow.delegation.reassign(step.id, w.roster["kabid"].id, w.roster["staf2"].id, "Beban kerja")
        await w.deliver()
        staf.mark()
        await staf.send_document(b"%PDF data", "data.pdf", "application/pdf")
        told = await staf.next_message()
        assert "tidak lagi menunggu" in told.text and case.register_no in told.text and "Langkah 6" in told.text
        assert "dialihkan" in told.text
        await staf.send("berapa lama permintaan data?")
        answer = await staf.next_message()
        assert "dokumen" not in answer.text and "bukan tugas Anda" not in answer.text
        assert "1 hari 7 jam" in answer.text
        assert await s.workflow.prompts.pending(w.roster["staf"].id) is None
        now = (await s.workflow.queries.what_next(case.id)).current[0].instance
        assert now.id == step.id and now.is_open and now.holder_id == w.roster["staf2"].id

        # a rejection reason that arrives after the request was cancelled
        other = await file_request(w, "Data kedua")
        await advance(s.workflow, other.id, 1)
        kaban = w["kaban"]
        card = await kaban.wait_for(lambda m: other.register_no in (m.text or "") and
                                    "Tidak disetujui → permintaan ditolak" in m.button_texts, include_existing=True)
        await kaban.tap(card, "Tidak disetujui → permintaan ditolak")
        await kaban.wait_for_text("Tulis alasan")
        await s.workflow.cancellation.cancel(other.id, w.roster["admin"].id, "Permohonan ganda")
        await w.deliver()
        kaban.mark()
        await kaban.send("Data dikecualikan")
        told = await kaban.next_message()
        assert "tidak lagi menunggu" in told.text and other.register_no in told.text and "ditutup" in told.text
        assert "oleh Anda" not in kaban.message(card).text
        assert "step_decided" not in await event_types(s.workflow, other.id)
        assert (await s.workflow.queries.case(other.id)).state == "cancelled"  # type: ignore[union-attr]
