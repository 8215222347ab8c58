"""Users read clean Indonesian: no English words, no seed line references, no curator notes.

Checked where a user's text comes from and where it ends up: every template, every field of every
SOP that chat shows, the transcript `alur demo` prints, and every message, edit, button and alert
of a long end-to-end story through the real bot. The checker itself is tested on the leaks issue 12
found, so a checker that finds nothing cannot pass for a clean text.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.sop.catalog import load_catalog
from bot.sop.model import Sop
from sandbox.fake_bot_api import FakeUser

from language import ALLOWED, Finding, check_all, english_words, problems, template_texts
from world import World, alur_world

TEMPLATES = Path(__file__).resolve().parents[1] / "bot" / "text" / "templates"


# ---------------------------------------------------------------- the checker


@pytest.mark.parametrize("leak", [
    "ℹ️ Baris terakhir berkas sumber (tanpa baris baru di akhir berkas, baris 230).",
    "Paraf Kabid sebelum tanda tangan Kepala Badan (label 'Ya' tercetak di kolom Kabid, K11).",
    "Disposisi surat masuk diberikan oleh Kepala Badan (pelaksana tidak tertulis di sumber).",
    "Langkah 3 tidak ada di sumber; langkah ini tercetak sebagai 4 (T01).",
    "OCR: 'mengasikan' = menugaskan",
    "Sumber: 001_bf82694fd069d106.txt:165",
    "🏁 Selanjutnya (ke end): permohonan selesai.",
    "Status permohonan: 'completed'",
    "Langkah 3 dibuka (kepala_badan)",
    "Pesan tak terkirim: assignment · 400 Bad Request: chat not found",
    "📥 Tugas baru · the case is pending",
])
def test_the_checker_finds_each_kind_of_leak(leak: str) -> None:
    assert problems("sampel", leak), leak


@pytest.mark.parametrize("clean", [
    "✅ Selesai oleh Anda, Senin, 23 November 2026 08.00 WIB.",
    "Kelengkapan: Laptop, ATK, Internet, Handphone · Output: Surat Jawaban · Waktu standar: 0,5 jam",
    "👋 Selamat datang di Alur, Bapak/Ibu Wati. Kirim berkasnya sebagai dokumen (PDF) atau foto.",
    "Target langkah ini tercapai; status: berjalan. Detail data monitoring ada di /status KTP-INFO-2026-0001.",
    "📄 surat_permintaan.pdf",
])
def test_the_checker_passes_indonesian_with_its_loanwords(clean: str) -> None:
    assert problems("sampel", clean) == []


def test_the_allow_list_stays_small() -> None:
    assert len(ALLOWED) <= 40
    assert english_words("open done end the reason") == ["done", "end", "open", "reason", "the"]


# ---------------------------------------------------------------- templates and SOP data


def test_templates_write_no_english_no_seed_references_and_no_curator_notes() -> None:
    texts = template_texts(TEMPLATES)
    assert len(texts) > 300  # every template's literal text was read, not just a few
    assert check_all(texts) == []


def _sop_texts(sop: Sop) -> list[tuple[str, str]]:
    """Every SOP field a chat message can show (the printed originals and curator notes are admin-only)."""
    out = [(f"{sop.id}.name", sop.name), (f"{sop.id}.short_name", sop.short_name),
           (f"{sop.id}.warning", sop.warning), (f"{sop.id}.approved_by", sop.approved_by),
           *((f"{sop.id}.dates", d) for d in (sop.dates.made, sop.dates.revised, sop.dates.effective) if d)]
    for field in ("legal_basis", "qualifications", "equipment", "records"):
        out.extend((f"{sop.id}.{field}", item) for item in getattr(sop, field))
    out.extend((f"{sop.id}.related", r.text) for r in sop.related)
    out.extend((f"{sop.id}.intake.{f.key}", f"{f.label} {f.help} {' '.join(f.choices)}") for f in sop.intake)
    for step in sop.steps:
        where = f"{sop.id}[{step.number}]"
        out.extend([(where, step.text), (where, step.note), (where, " ; ".join(step.requirements + step.outputs))])
        if step.duration_text:
            out.append((where, step.duration_text))
        if step.decision:
            out.append((where, step.decision.question))
            out.extend((where, b.label) for b in step.decision.branches)
    return out


def test_no_sop_text_users_read_carries_a_curator_note_or_a_seed_reference() -> None:
    """SOP texts are the agencies' own words (English terms they print, like 'Policy Brief', stay);
    what the curators added about the source must not reach a user."""
    findings: list[Finding] = []
    for sop in load_catalog():
        for where, text in _sop_texts(sop):
            findings.extend(f for f in problems(where, text) if not f.what.startswith("English"))
    assert findings == [], "\n".join(map(str, findings))


def test_every_correction_keeps_its_printed_original() -> None:
    corrected = [(s.id, st.number) for s in load_catalog() for st in s.steps if st.printed is not None]
    assert len(corrected) >= 40
    for sop in load_catalog():
        for step in sop.steps:
            if step.printed is not None:
                original = step.original
                assert original != step and any(getattr(original, f) != getattr(step, f)
                                                 for f in ("text", "requirements", "outputs", "duration_text"))


# ---------------------------------------------------------------- what users actually read


async def test_the_demo_transcript_is_clean_indonesian(capsys: pytest.CaptureFixture[str]) -> None:
    from sandbox.demo import run_demo

    assert await run_demo(verbose=True) == 0
    transcript = capsys.readouterr().out
    assert "Tugas baru" in transcript and "Tugas selesai" in transcript and "status: selesai" in transcript
    _header, _, story = transcript.partition("\n\n")  # the header names the catalog folder and time zone
    findings = check_all([("demo", line) for line in story.splitlines()])
    assert findings == [], "\n".join(map(str, findings))


def _everything_read(w: World) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, user in w.users.items():
        for event in user.events:
            text = event.message.text or ""
            if event.message.document:
                continue  # a document's file name is the uploader's
            out.append((f"{key} {event.kind}", text))
            out.extend((f"{key} button", b) for b in event.message.button_texts)
        out.extend((f"{key} alert", a.text or "") for a in user.alerts)
    return out


async def _finish(user: FakeUser, register_no: str) -> None:
    card = await user.wait_for(lambda m: register_no in (m.text or "") and "✅ Selesai" in m.button_texts,
                               include_existing=True)
    await user.tap(card, "✅ Selesai")
    reply = await user.wait_for(lambda m: "oleh Anda" in (m.text or "") or "Kirim dokumennya" in (m.text or ""))
    if "Kirim dokumennya" in reply.text:
        await user.tap(reply, "Selesai tanpa lampiran")
        await user.wait_for(lambda m: "oleh Anda" in (m.text or ""))


async def test_a_long_story_reads_as_clean_indonesian(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        newcomer = w.api.user(4001, first_name="Budi", username="budi_pupr")
        await newcomer.send("/start")
        regions = await newcomer.next_message()
        await newcomer.tap(regions, "Bappeda Kabupaten Ketapang")
        agencies = await newcomer.wait_for(lambda m: "instansi (OPD)" in (m.text or ""))
        await newcomer.tap(agencies, "Dinas Pekerjaan Umum dan Penataan Ruang")
        welcome = await newcomer.wait_for_text("Terdaftar")
        assert "Bapak/Ibu Budi" in welcome.text
        await newcomer.send("/bantuan")
        await newcomer.wait_for_text("Panduan")
        await newcomer.send("/perintahaneh")
        await newcomer.next_message()

        # a data request, rejected with a reason
        officer, kaban, tu = w["officer"], w["kaban"], w["tu"]
        await officer.send("/ajukan")
        menu = await officer.next_message()
        await officer.tap(menu, "Permintaan Informasi Pembangunan Daerah")
        for n, answer in ((1, "Data IPM 2025"), (2, "Penyusunan Renja"), (3, "0812 3456 7890")):
            await officer.wait_for_text(f"{n}/4")
            await officer.send(answer)
        await officer.wait_for_text("4/4")
        await officer.send_document(b"%PDF-1.4 surat", "surat_permintaan.pdf", "application/pdf")
        summary = await officer.wait_for_text("Periksa permohonan")
        await officer.tap(summary, "✅ Kirim")
        sent = await officer.wait_for_text("Permohonan terkirim")
        register_no = sent.text.split("nomor register ")[1].split(".")[0].strip()
        card = await tu.wait_for(lambda m: register_no in (m.text or "") and bool(m.buttons))
        await tu.tap(card, "ℹ️ Detail")
        await tu.wait_for_text("Isian permohonan")
        await _finish(tu, register_no)
        decision = await kaban.wait_for(lambda m: register_no in (m.text or "") and bool(m.buttons))
        await kaban.tap(decision, "Tidak disetujui → permintaan ditolak")
        await kaban.wait_for_text("Tulis alasan")
        await kaban.send("Data tersebut belum dirilis")
        await kaban.wait_for(lambda m: "Diputuskan" in (m.text or ""))
        await officer.wait_for(lambda m: "tidak dapat dilanjutkan" in (m.text or ""))
        for command in (f"/status {register_no}", f"/riwayat {register_no}", f"/lanjut {register_no}", "/status"):
            await officer.send(command)
            await officer.next_message()

        # a second request: the staff's views, questions about the SOPs, the supervisor's digest
        second = await w.file_information_request()
        await _finish(tu, second.register_no)
        await kaban.send("/tugas")
        await kaban.wait_for(lambda m: second.register_no in (m.text or "") and bool(m.buttons))
        answers = []
        for question in ("setelah petugas TU menerima surat jawaban permintaan data, apa selanjutnya?",
                         "siapa yang memaraf laporan hasil rapat rakordal di Bappelitbangda Kotawaringin Timur?",
                         "berapa lama pengajuan konsep SK Bupati bankeu sarpras desa di Setda Karanganyar?",
                         f"apa selanjutnya untuk permohonan {second.register_no}?",
                         "apa dasar hukum musrenbang kota bogor?"):
            kaban.mark()
            await kaban.send(question)
            answers.append(await kaban.wait_for(lambda m: m.text.startswith(("📘", "🧭", "🔎")), timeout=10))
        assert "Langkah 12" in answers[0].text and "Langkah 8" in answers[1].text  # step cards, with any note
        assert "Pengajuan Konsep SK Bupati" in answers[2].text
        await kaban.send("/sop rakordal")
        page = await kaban.wait_for_text("Penyusunan Koordinasi Pengendalian Pembangunan")
        await kaban.tap(page, "Berikutnya ▶")
        await kaban.wait_for(lambda m: "Langkah 6–9" in (m.text or ""))
        w.clock.advance(timedelta(hours=3))
        await kaban.send("/ringkasan")
        await kaban.wait_for_text("Ringkasan")
        await w.deliver()

        read = _everything_read(w)
        assert len(read) > 60
        findings = check_all(read)
        assert findings == [], "\n".join(map(str, findings))
