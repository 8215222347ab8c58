"""`alur demo`: one full 'Permintaan Informasi Pembangunan Daerah' request, offline.

The real bot runs against the built-in local Bot API server with simulated people; the demo
prints, person by person, what each one saw and tapped, ending with the requester receiving
the answer letter. It honours the deployment's settings where they make sense (time zone,
working hours, holidays, the SOP folder, reminder policy); it always uses its own temporary
database and the example staff of sop_data/demo_people.yaml, never ALUR_DB or ALUR_PEOPLE.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.runtime import open_services
from bot.sop.catalog import DEFAULT_SOP_DIR, load_catalog
from bot.text.render import STATE_NAMES
from sandbox.fake_bot_api import FakeBotApi, FakeUser
from scheduler.application import build_application, shutdown, startup
from scheduler.ratelimit import ChatRateLimiter

SOP_ID = "ketapang-permintaan-informasi"
PEOPLE_FILE = DEFAULT_SOP_DIR / "demo_people.yaml"
LETTER = b"%PDF-1.4\n% Surat Permintaan Data - Dinas Kesehatan Kabupaten Ketapang\n"
ANSWER = b"%PDF-1.4\n% Surat Jawaban Permintaan Data - Bappeda Kabupaten Ketapang\n"


class Narrator:
    """Prints what each simulated person sees and does."""

    def __init__(self, api: FakeBotApi, names: dict[int, str], verbose: bool) -> None:
        self.names = names
        self.verbose = verbose
        self.closed = False
        """The reader of our output went away (`alur demo | head`): stay quiet, finish the story."""
        self.lines = 0
        api.on_event(self._on_event)

    def _who(self, chat_id: int) -> str:
        return self.names.get(chat_id, str(chat_id))

    def _on_event(self, kind: str, chat: Any, payload: Any) -> None:
        if not self.verbose or kind not in ("message", "edit"):
            return
        message: dict[str, Any] = payload
        text = str(message.get("text") or message.get("caption") or "").strip()
        if message.get("document"):
            text = f"📄 {message['document'].get('file_name', 'dokumen')}"
        elif message.get("photo"):
            text = "🖼 gambar"
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [b.get("text", "") for row in rows for b in row]
        head = f"  {self._who(chat.id)} {'melihat pesan diubah' if kind == 'edit' else 'menerima'}"
        self.say(head)
        for line in text.splitlines():
            self.say(f"      │ {line}")
        if buttons:
            self.say("      │ [" + "] [".join(buttons) + "]")

    def act(self, who: str, action: str) -> None:
        self.say(f"\n▶ {who}: {action}")

    def say(self, line: str) -> None:
        self.lines += 1
        if self.closed:
            return
        try:
            print(line, flush=True)
        except BrokenPipeError:
            self.closed = True
            self.verbose = False
            _quiet_stdout()


async def _tap_card(n: Narrator, user: FakeUser, name: str, register_no: str) -> None:
    card = await user.wait_for(
        lambda m: register_no in (m.text or "") and bool(m.button_texts) and "Sudah" not in m.button_texts[0],
        include_existing=True, timeout=20,
    )
    label = card.button_texts[0]
    n.act(name, f"menekan [{label}]")
    await user.tap(card, label)
    reply = await user.wait_for(lambda m: "Kirim dokumennya" in (m.text or "") or "oleh Anda" in (m.text or ""),
                                timeout=20)
    if "Kirim dokumennya" in reply.text:
        n.act(name, "mengirim surat_jawaban.pdf")
        await user.send_document(ANSWER, "surat_jawaban.pdf", "application/pdf")
        await user.wait_for(lambda m: "oleh Anda" in (m.text or ""), timeout=20)


def _quiet_stdout() -> None:
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


async def run_demo(settings: Settings | None = None, verbose: bool = True) -> int:
    """The demo story; ``settings`` (the deployment's) give the calendar, time zone and SOP folder."""
    base = settings or Settings()
    if load_catalog(base.sop_dir).get(SOP_ID) is None:
        print(f"Demo offline memakai SOP '{SOP_ID}' dan pegawai contoh Bappeda Ketapang, tetapi katalog di "
              f"ALUR_SOP_DIR={base.sop_dir} tidak memuatnya. Jalankan demo tanpa ALUR_SOP_DIR.", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="alur-demo-") as tmp:
        async with FakeBotApi(bot_username="alur_demo_bot") as api:
            settings = base.model_copy(update={"db_path": Path(tmp) / "demo.sqlite3", "people_file": PEOPLE_FILE,
                                               "token": None, "api_base_url": None, "api_file_url": None})
            services = await open_services(settings)
            app = build_application(services, token=api.token, base_url=api.base_url,
                                    base_file_url=api.base_file_url, limiter=ChatRateLimiter(private_interval=0.05))
            staff = {p.telegram_id: p.name for p in await services.people.all() if p.telegram_id}
            names = {**staff, 3001: "Bu Wati (Dinkes)"}
            n = Narrator(api, names, verbose)
            users = {tg: api.user(tg, first_name=name.split(" (")[0]) for tg, name in staff.items()}
            wati = api.user(3001, first_name="Wati", username="wati_dinkes")
            n.say("Alur — demo offline: Permintaan Informasi Pembangunan Daerah, Bappeda Kabupaten Ketapang")
            n.say("(bot sungguhan + server Bot API lokal + orang-orang simulasi; tidak ada jaringan)")
            n.say(f"Zona waktu {settings.timezone} ({services.calendar.zone_label}) · jam kerja "
                  f"{services.calendar.schedule.describe()} · katalog {settings.sop_dir or DEFAULT_SOP_DIR}")
            async with app:
                await startup(app)
                await app.start()
                assert app.updater is not None
                await app.updater.start_polling(poll_interval=0, timeout=1)
                try:
                    register_no = await _story(n, wati, users)
                finally:
                    await app.sender.drain()
                    await app.updater.stop()
                    await app.stop()
                    await shutdown(app)
            case = await services.workflow.queries.case_by_ref(register_no)
            state = case.state if case else "?"
            await services.close()
    if not n.closed:
        n.say(f"\nDemo berakhir: permohonan {register_no} — status: {STATE_NAMES.get(state, state)}.")
    return 0 if state == "completed" else 1


async def _story(n: Narrator, wati: FakeUser, users: dict[int, FakeUser]) -> str:
    n.act("Bu Wati (Dinkes)", "/start")
    await wati.send("/start")
    msg = await wati.next_message(timeout=20)
    n.act("Bu Wati (Dinkes)", "memilih [Bappeda Kabupaten Ketapang]")
    await wati.tap(msg, "Bappeda Kabupaten Ketapang")
    msg = await wati.wait_for(lambda m: "instansi (OPD)" in (m.text or ""), timeout=20)
    n.act("Bu Wati (Dinkes)", "memilih [Dinas Kesehatan]")
    await wati.tap(msg, "Dinas Kesehatan")
    await wati.wait_for_text("Terdaftar", timeout=20)
    n.act("Bu Wati (Dinkes)", "/ajukan")
    await wati.send("/ajukan")
    menu = await wati.next_message(timeout=20)
    n.act("Bu Wati (Dinkes)", "memilih [Permintaan Informasi Pembangunan Daerah]")
    await wati.tap(menu, "Permintaan Informasi Pembangunan Daerah")
    for answer in ("Data IPM dan angka kemiskinan per kecamatan 2025", "Penyusunan Renja Dinas Kesehatan 2027",
                   "0812 3456 7890"):
        await wati.wait_for(lambda m: "/4 ·" in (m.text or ""), timeout=20)
        n.act("Bu Wati (Dinkes)", f"menjawab: {answer}")
        await wati.send(answer)
    await wati.wait_for_text("4/4", timeout=20)
    n.act("Bu Wati (Dinkes)", "mengirim surat_permintaan.pdf")
    await wati.send_document(LETTER, "surat_permintaan.pdf", "application/pdf")
    summary = await wati.wait_for_text("Periksa permohonan", timeout=20)
    n.act("Bu Wati (Dinkes)", "menekan [✅ Kirim]")
    await wati.tap(summary, "✅ Kirim")
    sent = await wati.wait_for_text("Permohonan terkirim", timeout=20)
    register_no = sent.text.split("nomor register ")[1].split(".")[0].strip()
    order = [2001, 2002, 2004, 2005, 2006, 2005, 2004, 2003, 2002, 2001]
    for tg in order:
        await _tap_card(n, users[tg], n.names[tg], register_no)
    receipt = await wati.wait_for(lambda m: "Sudah diterima" in " ".join(m.button_texts), timeout=30)
    await wati.wait_for(lambda m: m.document is not None, include_existing=True, timeout=30)
    n.act("Bu Wati (Dinkes)", "menekan [✅ Sudah diterima]")
    await wati.tap(receipt, "✅ Sudah diterima")
    await wati.wait_for_text("selesai", timeout=30)
    return register_no
