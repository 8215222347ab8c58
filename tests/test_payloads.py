"""Outbox payloads: one model per notice kind, and rows stored before the models existed still read and render.

tests/fixtures/outbox_payloads.json holds payloads as the outbox stored them when they were plain dicts
(captured from the workflow's own flows), at least one of each notice kind.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.core.states import NoticeKind
from bot.storage.db import to_json
from bot.text import payloads
from bot.text.notices import render_notice
from bot.text.render import Renderer, to_plain

from observe import notices
from world import alur_world

STORED: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "outbox_payloads.json").read_text(encoding="utf-8")
)
TEXT_KINDS = set(NoticeKind) - {NoticeKind.DOCUMENT, NoticeKind.DIGEST_CHART}


def _id(sample: dict[str, Any]) -> str:
    return sample["kind"]


def test_every_notice_kind_has_a_model_and_a_stored_sample() -> None:
    assert set(payloads.MODELS) == set(NoticeKind)
    assert {s["kind"] for s in STORED} == set(NoticeKind)


@pytest.mark.parametrize("sample", STORED, ids=_id)
def test_a_payload_stored_as_a_dict_reads_into_its_model_and_writes_back_the_same_json(sample: dict[str, Any]):
    model = payloads.parse(sample["kind"], sample["payload"])
    assert type(model) is payloads.MODELS[NoticeKind(sample["kind"])]
    assert to_json(model.model_dump(mode="json")) == to_json(sample["payload"])


@pytest.mark.parametrize("sample", STORED, ids=_id)
def test_a_payload_stored_as_a_dict_still_renders(sample: dict[str, Any]) -> None:
    kind, data = NoticeKind(sample["kind"]), sample["payload"]
    notice = render_notice(Renderer(), kind, payloads.parse(kind, data))
    if kind == NoticeKind.DOCUMENT:
        assert [d.file_id for d in notice.documents] == [data["file_id"]] and notice.html == ""
        return
    if kind == NoticeKind.DIGEST_CHART:
        assert notice.photo is not None and notice.photo.startswith(b"\x89PNG")
        return
    text = to_plain(notice.html)
    if kind == NoticeKind.INTAKE_PAUSED:
        assert data["title"] in text and "/ajukan" in text
        return
    facts = [data[k] for k in ("register_no", "name", "scope_label") if k in data]
    assert facts and all(f in text for f in facts), (facts, text)
    buttons = [(b.label, b.action, b.args) for row in notice.keyboard for b in row]
    if kind == NoticeKind.ASSIGNMENT:
        sid = data["step_instance_id"]
        if data["for_requester"]:
            assert buttons == [("✅ Sudah diterima", "done", (sid,))]
        elif data["decision"]:
            wanted = [(b["label"], "branch", (sid, b["index"])) for b in data["decision"]["branches"]]
            assert buttons[: len(wanted)] == wanted and data["decision"]["question"] in text
        else:
            assert buttons[0] == ("✅ Selesai", "done", (sid,))
        if data["acting_for"]:
            assert data["acting_for"] in text
        if data["reassigned_by"]:
            assert data["reassigned_by"] in text and data["reason"] in text
    elif kind == NoticeKind.CASE_FILED:
        assert buttons == [("📍 Posisi permohonan", "case", (data["case_id"],))]
    elif kind == NoticeKind.ESCALATION:
        assert [a for _, a, _ in buttons] == ["detail", "reassign"]
        assert all(args == (data["step_instance_id"],) for _, _, args in buttons)
    elif kind == NoticeKind.REMINDER:
        assert buttons == [("🗂 Lihat tugas saya", "tasks", ())]
    elif kind == NoticeKind.DIGEST:
        assert f"Terlambat: {data['overdue_count']}" in text
        assert all(c["register_no"] in text for c in data["new_cases"])
    else:
        assert buttons == []


def test_a_notice_hands_on_its_files_as_documents_of_the_same_case() -> None:
    sample = next(s for s in STORED if s["kind"] == "assignment" and s["payload"]["files"])
    model = payloads.parse(sample["kind"], sample["payload"])
    docs = model.documents()
    assert [d.file_id for d in docs] == [f["file_id"] for f in sample["payload"]["files"]]
    assert {d.register_no for d in docs} == {sample["payload"]["register_no"]}
    assert payloads.DocumentPayload(file_id="x").documents() == []


def test_a_digest_step_stores_its_lateness_only_when_it_is_late() -> None:
    on_time = payloads.DigestStep(register_no="R", step="1", role="TU", holder=None, due_at=None, unit="U")
    late = on_time.model_copy(update={"late_minutes": 30})
    assert "late_minutes" not in on_time.model_dump(mode="json")
    assert late.model_dump(mode="json")["late_minutes"] == 30


def test_moments_are_stored_in_utc_as_before() -> None:
    wib = datetime.fromisoformat("2026-11-23T08:30:00+07:00")
    step = payloads.StepPosition(step="1", text="t", role="r", due_at=wib, holder_id=None)
    assert step.model_dump(mode="json")["due_at"] == "2026-11-23T01:30:00+00:00"


def test_a_payload_that_does_not_fit_its_kind_is_refused() -> None:
    progress = next(s["payload"] for s in STORED if s["kind"] == "progress")
    with pytest.raises(ValueError):
        payloads.parse("telegram_spam", progress)
    with pytest.raises(ValidationError):
        payloads.parse("progress", {k: v for k, v in progress.items() if k != "register_no"})
    with pytest.raises(ValidationError):
        payloads.parse("progress", {**progress, "case_id": "1; DROP TABLE outbox"})
    with pytest.raises(TypeError):
        render_notice(Renderer(), NoticeKind.ASSIGNMENT, payloads.parse("progress", progress))


def test_unknown_keys_in_a_stored_payload_are_ignored() -> None:
    sample = next(s["payload"] for s in STORED if s["kind"] == "unreachable")
    model = payloads.parse("unreachable", {**sample, "added_later": 1})
    assert to_json(model.model_dump(mode="json")) == to_json(sample)


async def test_rows_stored_before_the_models_are_delivered_and_a_broken_one_goes_to_dead_letters(
    tmp_path: Path,
) -> None:
    async with alur_world(tmp_path, start_sender=False, paced=False) as w:
        tu = w.roster["tu"]
        now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC).isoformat()
        rows = [(s["kind"], json.dumps(s["payload"], ensure_ascii=False, sort_keys=True))
                for s in STORED if s["kind"] != NoticeKind.DOCUMENT]
        rows.insert(1, ("progress", "{}"))
        async with w.services.db.transaction() as tx:
            for kind, payload in rows:
                await tx.execute(
                    "INSERT INTO outbox (created_at, person_id, chat_id, priority, kind, payload, state, not_before) "
                    "VALUES (?, ?, ?, 1, ?, ?, 'pending', ?)", (now, tu.id, tu.telegram_id, kind, payload, now),
                )
        await w.sender.drain(timeout=60)
        stored = await notices(w.services.db)
        assert [r.state for r in stored] == ["sent", "dead"] + ["sent"] * (len(rows) - 2)
        assert "render" in (stored[1].last_error or "")
        inbox = w["tu"].inbox
        assert len(inbox) == len(rows) - 1
        texts = [m.text for m in inbox if m.photo is None]
        assert len(texts) == len([k for k, _ in rows if k in TEXT_KINDS]) - 1  # all but the broken row
        assert sum(1 for m in inbox if m.photo) == 1
        for s in STORED:
            if "register_no" in s["payload"] and s["kind"] in TEXT_KINDS:
                assert any(s["payload"]["register_no"] in t for t in texts), s["kind"]
