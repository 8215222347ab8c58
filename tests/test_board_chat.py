"""The flowchart and the board in the chat, through the fake Bot API: 🗺 Bagan alir arrives as a photo,
📊 Buka papan is a Web App button, and a one-time login link is sent on request."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import aiohttp
from PIL import Image

from bot.text.notices import render_notice
from bot.text.payloads import DigestPayload
from bot.text.render import Renderer
from bot.workflow.board import BoardSessions

from roster import advance
from world import World, alur_world, card_for

BOARD_URL = "https://papan.example.go.id"


def _photo_size(message) -> tuple[int, int]:
    return Image.open(io.BytesIO(message.download())).size


def _with_board(w: World) -> None:
    w.services.settings = w.services.settings.model_copy(update={"web_url": BOARD_URL})


async def test_sop_card_offers_the_flowchart_as_a_photo(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        kabid = w["kabid"]
        await kabid.send("/sop rakordal")
        card = await kabid.wait_for_text("Penyusunan Koordinasi Pengendalian Pembangunan")
        assert "🗺 Bagan alir" in card.button_texts
        await kabid.tap(card, "🗺 Bagan alir")
        photo = await kabid.wait_for(lambda m: m.photo is not None, timeout=20)
        assert "Bagan alir" in photo.caption and "Koordinasi Pengendalian Pembangunan" in photo.caption
        width, height = _photo_size(photo)
        assert width >= 2000 and max(width, height) <= 2560


async def test_case_status_and_step_detail_offer_the_case_picture(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        case = await w.file_information_request()
        await advance(w.services.workflow, case.id, 5)  # at step 7, the Sub Koordinator's check
        await officer.send(f"/status {case.register_no}")
        card = await officer.wait_for_text("Pemegang")
        await officer.tap(card, "🗺 Bagan alir")
        photo = await officer.wait_for(lambda m: m.photo is not None, timeout=20)
        assert case.register_no in photo.caption and "✓" in photo.caption
        assert _photo_size(photo)[0] >= 2000
        # a forged case id: an alert, no picture
        officer.mark()
        query = await officer.tap_data(card, "cc:99999")
        answer = await officer.wait_answer(query)
        assert answer.show_alert
        assert not [m for m in officer.inbox[-3:] if m.photo and m.message_id > photo.message_id]

        await w.deliver()
        subkoor = w["subkoor"]
        task = card_for(subkoor, case.register_no, "7")
        await subkoor.tap(task, "ℹ️ Detail")
        detail = await subkoor.wait_for_text("Isian permohonan")
        assert "🗺 Bagan alir" in detail.button_texts
        await subkoor.tap(detail, "🗺 Bagan alir")
        again = await subkoor.wait_for(lambda m: m.photo is not None, timeout=20)
        assert again.download() == photo.download()  # same case state: the cached picture


async def test_ringkasan_opens_the_board_and_sends_a_one_time_link(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        await w.file_information_request()
        w.clock.advance(timedelta(hours=3))
        kaban = w["kaban"]
        await kaban.send("/ringkasan")
        digest = await kaban.wait_for_text("Ringkasan")
        assert "📊 Buka papan" not in digest.button_texts  # no public address: no button
        _with_board(w)
        await kaban.send("/ringkasan")
        digest = await kaban.wait_for(lambda m: "Ringkasan" in (m.text or "") and bool(m.buttons))
        board = next(b for row in digest.buttons for b in row if b["text"] == "📊 Buka papan")
        assert board["web_app"] == {"url": BOARD_URL}
        await kaban.tap(digest, "🔗 Tautan masuk (komputer)")
        link = await kaban.wait_for_text(f"{BOARD_URL}/masuk/")
        token = link.text.split(f"{BOARD_URL}/masuk/")[1].split()[0]
        sessions = BoardSessions(w.services.db, w.services.clock)
        assert await sessions.redeem_login(token) == w.roster["kaban"].id
        assert await sessions.redeem_login(token) is None  # once only
        tu = w["tu"]
        query = await tu.tap_data(await _any_message(tu), "bl")
        assert (await tu.wait_answer(query)).show_alert  # not a supervisor: no link


async def _any_message(user):
    await user.send("/bantuan")
    return await user.next_message()


def test_digest_notice_carries_the_board_button() -> None:
    renderer = Renderer()
    renderer.env.globals["role_names"] = {}
    payload = DigestPayload.model_validate({
        "day": "2026-11-23", "scope_label": "Bappeda", "new_cases": [], "new_count": 0, "open_cases": 0,
        "due_today": [], "due_today_count": 0, "overdue": [], "overdue_count": 0, "completed_yesterday": 0,
        "on_time_yesterday": 0, "on_time_share": None, "slowest": [], "unassigned": [], "unassigned_count": 0,
        "dead_letters": [], "overdue_by_unit": {}, "is_admin": False,
    })
    assert render_notice(renderer, "digest", payload).keyboard == []
    keyboard = render_notice(renderer, "digest", payload, board_url=BOARD_URL).keyboard
    assert keyboard[0][0].url == BOARD_URL and keyboard[0][0].web_app
    assert keyboard[1][0].action == "board_link"


async def test_fake_api_refuses_a_web_app_button_without_https(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        async with aiohttp.ClientSession() as http:
            for url, ok in [("http://papan.example.go.id", False), (BOARD_URL, True)]:
                r = await http.post(f"{w.api.base_url}{w.api.token}/sendMessage", json={
                    "chat_id": 2002, "text": "papan",
                    "reply_markup": {"inline_keyboard": [[{"text": "📊 Buka papan", "web_app": {"url": url}}]]},
                })
                assert (await r.json())["ok"] is ok, url
