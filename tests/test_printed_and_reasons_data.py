"""The data behind issue 12's text changes: printed originals in the SOP model, and reasons in stored payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.core.states import NoticeKind
from bot.sop.catalog import load_catalog
from bot.sop.model import Sop, Step, snapshot, sop_from_snapshot
from bot.storage.db import to_json
from bot.text import payloads
from bot.text.notices import render_notice
from bot.text.render import Renderer, to_plain

STORED: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "outbox_payloads.json").read_text(encoding="utf-8")
)
STEP = {"number": "1", "text": "Membuat konsep", "actor": "kabag", "actor_source": "inferred"}


def test_a_printed_original_must_differ_from_what_users_read() -> None:
    step = Step.model_validate({**STEP, "printed": {"text": "membnuat konsep"}})
    assert step.original.text == "membnuat konsep" and step.text == "Membuat konsep"
    with pytest.raises(ValidationError, match=r"printed\.text"):
        Step.model_validate({**STEP, "printed": {"text": "Membuat konsep"}})
    with pytest.raises(ValidationError):
        Step.model_validate({**STEP, "printed": {"actor": "sekda"}})  # only text fields have a printed form


def test_every_sop_survives_the_snapshot_a_case_pins() -> None:
    for sop in load_catalog():
        again = sop_from_snapshot(snapshot(sop))
        assert again == sop and again.content_hash == sop.content_hash
        assert [s.original for s in again.steps] == [s.original for s in sop.steps]


def test_a_snapshot_pinned_before_printed_originals_existed_still_loads() -> None:
    sop = load_catalog()["ketapang-permintaan-informasi"]
    data = json.loads(snapshot(sop))
    data.pop("printed")
    for raw in data["steps"]:
        raw.pop("printed")
        raw.pop("curator_notes")
    old = Sop.model_validate(data)
    assert old.step("4").printed is None and old.step("4").original is old.step("4")


def _progress(returned: bool) -> dict[str, Any]:
    return next(s["payload"] for s in STORED if s["kind"] == "progress" and s["payload"]["returned"] is returned)


def test_a_progress_row_stored_before_reasons_reads_and_renders_without_one() -> None:
    model = payloads.parse(NoticeKind.PROGRESS, _progress(True))
    assert isinstance(model, payloads.ProgressPayload) and model.reason is None and model.returned_by is None
    text = to_plain(render_notice(Renderer(), NoticeKind.PROGRESS, model).html)
    assert "dikembalikan ke langkah 2" in text and "Alasan" not in text and "oleh" not in text


def test_a_progress_row_with_a_reason_keeps_it_through_the_outbox() -> None:
    stored = {**_progress(True), "returned_by": "Pak Kadir", "reason": "Bukan bidang kami"}
    model = payloads.parse(NoticeKind.PROGRESS, json.loads(to_json(stored)))
    assert json.loads(to_json(model.model_dump(mode="json"))) == stored
    text = to_plain(render_notice(Renderer(), NoticeKind.PROGRESS, model).html)
    assert "untuk diperbaiki oleh Pak Kadir" in text and "Alasan: Bukan bidang kami" in text


def test_a_return_card_and_a_rejection_notice_show_the_reason() -> None:
    card = next(s["payload"] for s in STORED if s["kind"] == "assignment" and not s["payload"]["for_requester"])
    model = payloads.parse(NoticeKind.ASSIGNMENT, {**card, "returned_by": "Pak Kadir", "reason": "Lengkapi data",
                                                   "reassigned_by": None})
    text = to_plain(render_notice(Renderer(), NoticeKind.ASSIGNMENT, model).html)
    assert "↩️ Dikembalikan oleh Pak Kadir — alasan: Lengkapi data." in text
    closed = next(s["payload"] for s in STORED if s["kind"] == "case_rejected")
    model = payloads.parse(NoticeKind.CASE_REJECTED, {**closed, "reason": "Data belum dirilis", "for_requester": True})
    text = to_plain(render_notice(Renderer(), NoticeKind.CASE_REJECTED, model).html)
    assert "tidak disetujui" in text and "Alasan: Data belum dirilis" in text
