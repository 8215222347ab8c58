"""The board in a real browser: headless Chromium (Debian's) driven by Playwright after a scripted day.

Where no Chromium is installed these tests say so and skip; with ALUR_REQUIRE_BROWSER=1 (set by
.ci/run) a missing browser is a failure. Screenshots are kept in test-artifacts/board/ (or
$ALUR_TEST_ARTIFACTS) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.workflow.board import BoardSessions, login_url
from web import auth

from board_day import KOTIM_KABID_TG, TOKEN, BoardDay, board_day

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARTIFACTS = Path(os.environ.get("ALUR_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))
ARTIFACTS = ARTIFACTS / "board"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if CHROMIUM is None:
    if os.environ.get("ALUR_REQUIRE_BROWSER") == "1":
        raise RuntimeError("Chromium is required (ALUR_REQUIRE_BROWSER=1) but /usr/bin/chromium is missing")
    pytest.skip("Chromium not found (apt-get install chromium): browser tests skipped", allow_module_level=True)

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.slow
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as pw:
        # Playwright gives the browser a fresh temporary profile of its own
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[BoardDay]:
    async with board_day(tmp_path) as d:
        yield d


async def _page(browser: Any, **options: Any) -> Any:
    context = await browser.new_context(locale="id-ID", **options)
    page = await context.new_page()
    # the machine has no internet: Telegram's own script is not needed to sign in
    await page.route("https://telegram.org/**", lambda route: route.abort())
    return page


def _mini_app_url(day: BoardDay, init_data: str) -> str:
    return f"{day.url}/#tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=android"


async def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def test_kabid_sees_the_day_on_a_phone_and_opens_a_case(day: BoardDay, browser: Any) -> None:
    page = await _page(browser, **PHONE)
    await page.goto(_mini_app_url(day, auth.make_init_data(2004, TOKEN, day.clock.now())))
    await page.wait_for_selector("body[data-state=board]", timeout=15000)
    assert "tgWebAppData" not in page.url  # the signature does not stay in the address
    totals = {k: await page.text_content(f"[data-total={k}]") for k in ("open", "due_today", "overdue", "unassigned")}
    assert totals == {"open": "3", "due_today": "1", "overdue": "1", "unassigned": "1"}
    overdue = await page.locator("[data-list=overdue]").inner_text()
    assert day.cases["late"] in overdue and "Bu Sari" in overdue
    assert "belum ada" in await page.locator("[data-list=unassigned]").inner_text()
    assert day.cases["due_today"] in await page.locator("[data-list=due_today]").inner_text()
    sla = await page.locator("[data-list=sla]").inner_text()
    assert "Permintaan Informasi Pembangunan Daerah · 2" in sla and "%" in sla
    body = await page.inner_text("body")
    assert "KTM-" not in body and "Kotawaringin" not in body
    # fits a phone: the page itself does not scroll sideways (wide tables scroll inside their box)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    await _shot(page, "phone-board-kabid")

    await page.select_option("select[name=periode]", "7")
    await page.wait_for_function("location.hash.includes('periode=7')")
    await page.wait_for_selector("body[data-state=board]")
    assert "7 hari terakhir" in await page.inner_text("body")

    await page.click(f"a[data-case='{day.cases['late']}']")
    await page.wait_for_selector("body[data-state=case]")
    await page.wait_for_selector("img[data-loaded='1']", timeout=20000)
    width = await page.evaluate("document.querySelector('.chart img').naturalWidth")
    assert width >= 2000  # the flowchart PNG, drawn at twice its size for zooming
    timeline = await page.locator("[data-list=timeline]").inner_text()
    assert "sedang berjalan" in timeline and "Bu Sari" in timeline
    await _shot(page, "phone-case-late")
    await page.go_back()
    await page.wait_for_selector("body[data-state=board]")


async def test_forged_stale_and_other_institution_get_nothing(day: BoardDay, browser: Any) -> None:
    attempts = {
        "forged": auth.make_init_data(2004, "999:SOMEONE-ELSES-BOT", day.clock.now()),
        "stale": auth.make_init_data(2004, TOKEN, day.clock.now() - timedelta(hours=3)),
        "tampered": auth.make_init_data(2004, TOKEN, day.clock.now()).replace("2004", "2002"),
    }
    for name, data in attempts.items():
        page = await _page(browser, **PHONE)
        await page.goto(_mini_app_url(day, data))
        await page.wait_for_selector("body[data-state=error]", timeout=15000)
        body = await page.inner_text("body")
        assert "tidak sah atau kedaluwarsa" in body, name
        assert "KTP-INFO" not in body and "Terlambat" not in body
        status = await page.evaluate("fetch('/api/papan').then(r => r.status)")
        assert status == 401, name
        if name == "forged":
            await _shot(page, "phone-forged-refused")
        await page.context.close()

    page = await _page(browser, **PHONE)
    await page.goto(_mini_app_url(day, auth.make_init_data(KOTIM_KABID_TG, TOKEN, day.clock.now())))
    await page.wait_for_selector("body[data-state=board]", timeout=15000)
    body = await page.inner_text("body")
    assert "Kotawaringin Timur" in body and "KTP-INFO" not in body
    await page.evaluate(f"location.hash = 'kasus/{day.cases['late']}'")
    await page.wait_for_selector("body[data-state=error]")
    assert "tidak ditemukan" in await page.inner_text("body")
    await _shot(page, "phone-other-institution")


async def test_desktop_one_time_link(day: BoardDay, browser: Any) -> None:
    token = await BoardSessions(day.services.db, day.services.clock).create_login(day.roster["kaban"].id)
    link = login_url(day.url, token)
    page = await _page(browser, viewport={"width": 1280, "height": 900})
    await page.goto(link)
    await page.wait_for_selector("body[data-state=board]", timeout=15000)
    assert "Semua unit" in await page.inner_text("body")  # Kepala Badan: the whole institution
    await _shot(page, "desktop-board-kepala-badan")
    other = await _page(browser, viewport={"width": 1280, "height": 900})
    await other.goto(link)
    assert "Tautan tidak berlaku" in await other.inner_text("body")
    await other.goto(day.url + "/")
    await other.wait_for_selector("body[data-state=error]")
    assert "KTP-INFO" not in await other.inner_text("body")
