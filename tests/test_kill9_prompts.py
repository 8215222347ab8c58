"""kill -9 the real `alur run` between a question and its answer, and between a tap's answer and its effect.

Issue 11 (rows 17-19, "Done when"): the flow completes with nothing lost. The bot runs as a child
process against the fake Bot API in this process (as in test_kill9.py); the scene (a filed request
advanced to the step under test) is set through the workflow on the same SQLite file, and the
people then act in Telegram.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import Settings
from bot.runtime import Services, open_services
from bot.sop.catalog import DEFAULT_SOP_DIR
from bot.storage.records import Case
from bot.workflow.results import FileUpload
from sandbox.fake_bot_api import FakeBotApi, FakeUser

from alur_process import clean_env
from observe import audit_trail
from roster import advance
from test_kill9 import BotProcess, newest, until

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

OFFICER = 3001
STAFF = (2001, 2002, 2003, 2004, 2005, 2006, 2007, 2009)  # sop_data/demo_people.yaml


@dataclass
class Scene:
    api: FakeBotApi
    bot: BotProcess
    services: Services
    users: dict[int, FakeUser]
    log: Path

    async def restart(self) -> None:
        """kill -9, then a new process; returns once it serves again."""
        self.bot.kill()
        starts = self.starts()
        self.bot.start()
        assert await until(lambda: asyncio.sleep(0, self.starts() > starts), timeout=30), self.log.read_text()

    def starts(self) -> int:
        return self.log.read_text(encoding="utf-8", errors="replace").count("Alur berjalan")

    async def file_request(self) -> Case:
        stored = self.api._store_file(b"%PDF surat", file_name="surat.pdf", mime_type="application/pdf",
                                      kind="documents")
        officer = await self.services.people.by_telegram(OFFICER)
        assert officer is not None
        out = await self.services.workflow.filing.file_request(
            "ketapang-permintaan-informasi", officer.id,
            {"data_diminta": "Data IPM", "keperluan": "Kajian", "kontak": "081234567890"},
            {"surat_permintaan": FileUpload(stored.file_id, stored.file_unique_id, "surat.pdf", "application/pdf",
                                            10)},
        )
        return out.case

    async def step_state(self, case: Case, step_no: str) -> tuple[int, int]:
        """(how many times the step was completed or decided, how many instances of it are open)."""
        events = await audit_trail(self.services.workflow, case.id)
        steps = await self.services.workflow.queries.steps(case.id)
        ids = {s.id for s in steps if s.step_no == step_no}
        done = sum(1 for e in events if e.type in ("step_completed", "step_decided") and e.step_instance_id in ids)
        return done, sum(1 for s in steps if s.step_no == step_no and s.is_open)


@asynccontextmanager
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    async with FakeBotApi(bot_username="alur_kill_bot", timeout_delay=30.0) as api:
        db_path = tmp_path / "alur.sqlite3"
        log = tmp_path / "bot.log"
        env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=api.base_url,
                        ALUR_DB=str(db_path), ALUR_PEOPLE=str(DEFAULT_SOP_DIR / "demo_people.yaml"))
        bot = BotProcess(env, log)
        users = {tg: api.user(tg, first_name=f"Pegawai {tg}") for tg in STAFF}
        users[OFFICER] = api.user(OFFICER, first_name="Wati")
        services: Services | None = None
        try:
            bot.start()
            assert await until(lambda: asyncio.sleep(0, log.exists() and "Alur berjalan" in log.read_text()),
                               timeout=30), log.read_text() if log.exists() else "no log"
            services = await open_services(Settings(db_path=db_path), sync_people=False, create_db=False)
            await services.people.register_officer(telegram_id=OFFICER, username=None, name="Ibu Wati",
                                                   agency_id="ktp-dinkes")
            yield Scene(api, bot, services, users, log)
            assert api.token not in log.read_text(encoding="utf-8", errors="replace")
        finally:
            bot.stop_all()
            if services is not None:
                await services.close()


def _card(user: FakeUser, register_no: str, step: str):  # type: ignore[no-untyped-def]
    return newest(user, lambda m: register_no in (m.text or "") and f"Langkah {step}" in (m.text or "")
                  and bool(m.buttons))


async def test_kill_9_between_the_output_question_and_the_document(tmp_path: Path) -> None:
    """✅ Selesai asks for the output; the bot dies; the document sent to the new process completes the step."""
    async with scene(tmp_path) as sc:
        case = await sc.file_request()
        await advance(sc.services.workflow, case.id, 4)  # step 6: the data processor hands the data on
        dodi, sari = sc.users[2006], sc.users[2005]
        assert await until(lambda: asyncio.sleep(0, _card(dodi, case.register_no, "6")), timeout=20), dodi.dump()
        await dodi.tap(_card(dodi, case.register_no, "6"), "✅ Selesai")
        await dodi.wait_for_text("Kirim dokumennya", timeout=10)
        await sc.restart()
        await dodi.send_document(b"%PDF data IPM", "data_ipm.pdf", "application/pdf")
        done = await dodi.wait_for(lambda m: "oleh Anda" in (m.text or ""), timeout=20)
        assert "Diteruskan ke langkah 7" in done.text
        handed = await sari.wait_for(lambda m: m.document is not None and m.document.get("file_name")
                                     == "data_ipm.pdf", timeout=20)
        assert handed is not None
        assert await sc.step_state(case, "6") == (1, 0)
        assert not any("tidak ada yang sedang menunggunya" in (m.text or "") for m in dodi.inbox)


async def test_kill_9_right_after_the_document_arrives(tmp_path: Path) -> None:
    """The document reached Telegram (and maybe the bot) when the process died: after the restart it still
    completes the step, once."""
    async with scene(tmp_path) as sc:
        case = await sc.file_request()
        await advance(sc.services.workflow, case.id, 4)
        dodi, sari = sc.users[2006], sc.users[2005]
        assert await until(lambda: asyncio.sleep(0, _card(dodi, case.register_no, "6")), timeout=20), dodi.dump()
        await dodi.tap(_card(dodi, case.register_no, "6"), "✅ Selesai")
        await dodi.wait_for_text("Kirim dokumennya", timeout=10)
        await dodi.send_document(b"%PDF data IPM", "data_ipm.pdf", "application/pdf")
        await asyncio.sleep(0.05)
        await sc.restart()
        assert await until(lambda: _step_closed(sc, case, "6"), timeout=30)
        await sari.wait_for(lambda m: m.document is not None and m.document.get("file_name") == "data_ipm.pdf",
                            timeout=20, include_existing=True)
        assert await sc.step_state(case, "6") == (1, 0)
        outputs = [a for a in await sc.services.workflow.queries.attachments(case.id) if a.purpose == "output"]
        assert [a.file_name for a in outputs] == ["data_ipm.pdf"]


async def test_kill_9_between_a_taps_answer_and_its_effect(tmp_path: Path) -> None:
    """The Kepala Badan's decision tap is answered (Telegram stops the spinner), then the process dies before the
    decision is stored: after the restart the decision is applied once and the next holder gets the step."""
    async with scene(tmp_path) as sc:
        case = await sc.file_request()
        await advance(sc.services.workflow, case.id, 1)  # step 3: the Kepala Badan decides
        kaban, kabid = sc.users[2002], sc.users[2004]
        assert await until(lambda: asyncio.sleep(0, _card(kaban, case.register_no, "3")), timeout=20), kaban.dump()
        card = _card(kaban, case.register_no, "3")
        sc.api.fail_next("answerCallbackQuery", "timeout", delivers=True)  # answered; the reply is slow to return
        answers_before = len(sc.api.calls_to("answerCallbackQuery"))
        await kaban.tap(card, card.button_texts[0])
        assert await until(lambda: asyncio.sleep(0, len(sc.api.calls_to("answerCallbackQuery")) > answers_before),
                           timeout=10)
        open_when_killed = (await sc.step_state(case, "3"))[1]
        sc.bot.kill()
        assert open_when_killed == 1, "the effect came before the kill: this run did not test the gap"
        assert kaban.alerts, "Telegram saw the tap answered"
        await sc.restart()
        assert await until(lambda: _step_closed(sc, case, "3"), timeout=30), sc.log.read_text()
        assert await sc.step_state(case, "3") == (1, 0)
        await kabid.wait_for(lambda m: case.register_no in (m.text or "") and "Langkah 4" in (m.text or ""),
                             timeout=20, include_existing=True)
        open_steps = (await sc.services.workflow.queries.what_next(case.id)).current
        assert [s.instance.step_no for s in open_steps] == ["4"]


async def test_kill_9_between_the_reason_question_and_the_reason(tmp_path: Path) -> None:
    """A disposisi asks for a reason; the bot dies; the reason typed to the new process hands the step on."""
    async with scene(tmp_path) as sc:
        kadir = sc.users[2002]  # the Kepala Badan hands his decision to a colleague
        case = await sc.file_request()
        await advance(sc.services.workflow, case.id, 1)
        assert await until(lambda: asyncio.sleep(0, _card(kadir, case.register_no, "3")), timeout=20), kadir.dump()
        await kadir.tap(_card(kadir, case.register_no, "3"), "↪ Alihkan")
        choice = await kadir.wait_for_text("Pilih", timeout=10)
        target = choice.button_texts[0]
        await kadir.tap(choice, target)
        await kadir.wait_for_text("alasan disposisi", timeout=10)
        await sc.restart()
        await kadir.send("Sedang diklat di provinsi")
        told = await kadir.wait_for_text("dialihkan kepada", timeout=20)
        assert "Sedang diklat di provinsi" in told.text
        step = (await sc.services.workflow.queries.what_next(case.id)).current[0].instance
        holder = await sc.services.people.get(step.holder_id or 0)
        assert step.step_no == "3" and holder is not None and holder.name in target


async def _step_closed(sc: Scene, case: Case, step_no: str) -> bool:
    done, still_open = await sc.step_state(case, step_no)
    return done >= 1 and still_open == 0
