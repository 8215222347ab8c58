"""A burst of mixed interactions from many simulated people, next to a bare PTB echo bot on the same server.

The people (a third file a request through /ajukan, a fifth follow their requests with /status and
questions, the rest are Kabid who decide a step with a button, then ask /status and a question) all
start at once; each waits for the bot's answer, thinks 1.5-3 s like a person would, and acts again.
Then the same accounts send the same number of plain messages to a bare PTB echo bot under the same
rules: the same rate limiter with the same limits, the server enforcing Telegram's limits on both,
64 updates at a time for both. With ``limits=False`` (the processing ceiling) neither bot is paced
and the server only counts.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.core.clock import Clock
from bot.qa.answers import Answerer
from bot.qa.evaluation import check, load_items
from bot.runtime import Services
from bot.sop.model import Sop
from bot.storage.records import Person
from sandbox.bench.common import (
    MONDAY_8,
    PhaseCounts,
    Probe,
    RunningClock,
    Sample,
    add_officers,
    add_staff,
    bench_services,
    gather_people,
    percentile,
    phase_counts,
    phase_marks,
    running_bot,
)
from sandbox.fake_bot_api import FakeBotApi, FakeUser, InboxMessage
from scheduler.ratelimit import PRIVATE_INTERVAL, ChatRateLimiter
from scheduler.request import AiohttpRequest
from scheduler.updates import MAX_CONCURRENT

SOP_ID = "ketapang-permintaan-konsultasi"
DECISION_STEP = "4"  # the Kabid's decision in that SOP
THINK = (1.5, 3.0)
TEXT_ANSWERS = {"text": "Indikator kinerja Renja 2027", "long_text": "Mohon arahan penyusunan indikator kinerja",
                "phone": "0812 3456 7890"}
KINDS = ("filing", "tap", "question", "status")
ASKER_INTERACTIONS = 4  # /status, a question, /status of a request, a question
DECIDER_INTERACTIONS = 3  # the decision tap, /status, a question


@dataclass
class Measured:
    """What one bot did in the burst: every timed interaction, failures, 429s and flood-limit violations."""

    bot: str
    samples: list[Sample]
    errors: list[str]
    server: PhaseCounts
    concurrent_updates: int
    notifications: int = 0

    @property
    def interactions(self) -> int:
        return len(self.samples)

    @property
    def elapsed(self) -> float:
        if not self.samples:
            return 0.0
        return max(s.end for s in self.samples) - min(s.start for s in self.samples)

    @property
    def throughput(self) -> float:
        return self.interactions / self.elapsed if self.elapsed else 0.0

    def latency(self, q: float, kind: str | None = None) -> float:
        return percentile([s.latency for s in self.samples if kind is None or s.kind == kind], q)

    def count(self, kind: str) -> int:
        return sum(1 for s in self.samples if s.kind == kind)

    @property
    def max_latency(self) -> float:
        return max((s.latency for s in self.samples), default=float("nan"))

    @property
    def edits(self) -> int:
        """Interactions answered by editing a message (not sent through the message queue)."""
        return sum(1 for s in self.samples if s.edit)

    def overtaking(self, edits: bool = False) -> tuple[int, int, float]:
        """Among the interactions answered with a new message (each through the same send queue): (most
        later arrivals answered before one, how many were overtaken by more than the queue ahead of them
        when they arrived, share overtaken at all).

        Interactions answered by an edit (a tapped card changing in place) are left out on both sides:
        Telegram does not count edits against its message limits, so they pass no queue and hold up no one
        (``edits=True`` counts them as well).
        """
        samples = sorted((s for s in self.samples if edits or not s.edit), key=lambda x: x.start)
        starts = [x.start for x in samples]
        worst, beyond, overtaken = 0, 0, 0
        import bisect

        for i, x in enumerate(samples):
            later = samples[bisect.bisect_right(starts, x.start):]
            by = sum(1 for y in later if y.end < x.end)
            ahead = sum(1 for y in samples[:i] if y.end > x.start)
            worst = max(worst, by)
            beyond += int(by > ahead)
            overtaken += int(by > 0)
        return worst, beyond, overtaken / len(samples) if samples else 0.0


@dataclass
class BurstResult:
    people: int
    filers: int
    askers: int
    deciders: int
    alur: Measured
    echo: Measured
    think: tuple[float, float]
    limits: bool = True
    echo_aiohttp: Measured | None = None
    """The ceiling only: the echo bot again, on the HTTP client Alur uses (what the client alone is worth)."""


@dataclass
class Cast:
    filers: list[Person]
    askers: list[Person]
    deciders: list[Person]
    register_nos: dict[int, list[str]] = field(default_factory=dict)  # officer id -> their requests


def split(people: int) -> tuple[int, int, int]:
    """(filers, askers, deciders) for a burst of ``people``."""
    filers = max(1, round(people * 0.3))
    askers = max(1, round(people * 0.2))
    return filers, askers, max(1, people - filers - askers)


def limiter(limits: bool) -> ChatRateLimiter:
    """Both bots' limiter: Telegram's limits, or none at all (the processing ceiling)."""
    return ChatRateLimiter() if limits else ChatRateLimiter(private_interval=0.0, group_interval=0.0,
                                                            global_rate=1_000_000)


async def run_burst(
    directory: Path, people: int = 200, think: tuple[float, float] = THINK, seed: int = 7, limits: bool = True,
) -> BurstResult:
    filers, askers, deciders = split(people)
    async with FakeBotApi(enforce_limits=limits) as api:
        clock: Clock = RunningClock(MONDAY_8.replace(hour=9))
        async with bench_services(directory, "burst", clock) as services:
            cast = await cast_people(services, filers, askers, deciders)
            everyone = [p for p in await services.people.all() if p.telegram_id]
            users = {p.id: api.user(p.telegram_id or 0, first_name=p.name.split()[0]) for p in everyone}
            sop = services.catalog.get(SOP_ID)
            assert sop is not None
            planned = {p.id: len(sop.intake) + 3 for p in cast.filers}
            planned.update({p.id: ASKER_INTERACTIONS for p in cast.askers})
            planned.update({p.id: DECIDER_INTERACTIONS for p in cast.deciders})
            await open_decisions(services, cast)
            alur = await _alur_burst(services, api, cast, users, think, seed, limits)
        api.limits.reset()
        await asyncio.sleep(1.1)  # every chat may receive again: the echo bot starts from quiet too
        echo = await _echo_burst(api, planned, users, think, seed, limits)
        echo_aiohttp = None
        if not limits:
            api.limits.reset()
            await asyncio.sleep(1.1)
            echo_aiohttp = await _echo_burst(api, planned, users, think, seed, limits, aiohttp_client=True)
    return BurstResult(people, filers, askers, deciders, alur, echo, think, limits, echo_aiohttp)


async def cast_people(services: Services, filers: int, askers: int, deciders: int) -> Cast:
    """Officers who file or follow requests, the Kabid who decide, and who else the SOP needs."""
    await add_staff(services, 1, first_tg=300_001, roles=["kepala_badan"], institution="ketapang", unit=None,
                    label="Kepala Badan")
    await add_staff(services, 1, first_tg=300_002, roles=["sekretaris"], institution="ketapang", unit=None,
                    label="Sekretaris")
    await add_staff(services, max(2, deciders // 5), first_tg=310_001, roles=["petugas_tu"], institution="ketapang",
                    unit=None, label="Petugas TU")
    await add_staff(services, max(2, deciders // 10), first_tg=320_001, roles=["sub_koordinator"],
                    institution="ketapang", unit="perstradal", label="Sub Koordinator")
    kabid = await add_staff(services, deciders, first_tg=330_001, roles=["kabid"], institution="ketapang",
                            unit="perstradal", label="Kabid")
    officers = await add_officers(services, filers + askers, first_tg=100_001)
    return Cast(officers[:filers], officers[filers:], kabid)


async def open_decisions(services: Services, cast: Cast) -> None:
    """One request per Kabid, filed by the officers (askers first) and passed by TU: each Kabid holds one decision.

    Spreading the requests keeps the notices they cause (filed, progress) to a few per chat, which the
    sender delivers before the burst at one per second per chat.
    """
    workflow = services.workflow
    intake = {"topik": "Indikator kinerja Renja 2027", "uraian": "Mohon arahan penyusunan indikator",
              "instansi": "Dinas Kesehatan", "kontak": "0812 3456 7890"}
    officers = [*cast.askers, *cast.filers]
    filed = []
    for i in range(len(cast.deciders)):  # all filed first, so TU's load spreads them over every TU officer
        officer = officers[i % len(officers)]
        filed.append(await workflow.filing.file_request(SOP_ID, officer.id, intake))
        cast.register_nos.setdefault(officer.id, []).append(filed[-1].case.register_no)
    for outcome in filed:
        tu_step = outcome.opened[0]
        assert tu_step.holder_id is not None
        await workflow.steps.complete_step(tu_step.id, tu_step.holder_id)


def _has(text: str) -> Callable[[InboxMessage], bool]:
    return lambda m: text in m.text


def _starts(text: str) -> Callable[[InboxMessage], bool]:
    return lambda m: m.text.startswith(text)


def _names(title: str) -> Callable[[InboxMessage], bool]:
    return lambda m: check(m.text, title, [])[0]


def pick_questions(answerer: Answerer, avoid_title: str, titles: set[str] | None = None) -> list[tuple[str, str]]:
    """Dev-set questions the answerer gets right, about other SOPs than the one the burst files
    (so a progress notice about that SOP is never taken for the answer)."""
    from bot.qa.evaluation import DEFAULT_SET

    picked = []
    for item in load_items(DEFAULT_SET):
        if item.title.lower() == avoid_title.lower() or (titles is not None and item.title.lower() not in titles):
            continue
        if check(answerer.answer(item.question, institution="ketapang").plain, item.title, [])[0]:  # as the asker
            picked.append((item.question, item.title))
    if not picked:
        raise RuntimeError("no dev question is answered with its SOP title")
    return picked


async def _alur_burst(
    services: Services, api: FakeBotApi, cast: Cast, users: dict[int, FakeUser], think: tuple[float, float],
    seed: int, limits: bool,
) -> Measured:
    sop = services.catalog.get(SOP_ID)
    assert sop is not None
    async with running_bot(services, api, limiter=limiter(limits)) as app:
        sender = app.sender
        assert sender is not None
        await sender.drain(timeout=900)  # the decision cards reach the Kabid before the burst
        await asyncio.sleep(PRIVATE_INTERVAL)  # and every chat may receive again: the burst starts from quiet
        ketapang = {s.title.lower() for s in services.catalog if s.institution == sop.institution}  # askers' own SOPs
        questions = pick_questions(app.bot_data.answerer, sop.title, ketapang)
        decision = sop.step(DECISION_STEP).decision
        assert decision is not None
        probe = Probe(api)
        marks = phase_marks(api)
        sent_before = sender.stats["sent"]
        scripts: list[Awaitable[None]] = []
        for p in cast.filers:
            scripts.append(filer(probe, users[p.id], sop, pauser(seed, p.id, think)))
        for i, p in enumerate(cast.askers):
            qs = (questions[(2 * i) % len(questions)], questions[(2 * i + 1) % len(questions)])
            own = cast.register_nos.get(p.id) or next(iter(cast.register_nos.values()))
            scripts.append(asker(probe, users[p.id], own[0], qs, pauser(seed, p.id, think)))
        for i, p in enumerate(cast.deciders):
            scripts.append(decider(probe, users[p.id], decision_card(users[p.id]), decision.branches[0].label,
                                    questions[i % len(questions)], pauser(seed, p.id, think)))
        await gather_people(scripts, probe.errors)
        server = phase_counts(api, marks)
        notifications = sender.stats["sent"] - sent_before
        concurrency = app.update_processor.slot_count
    return Measured("alur", probe.samples, probe.errors, server, concurrency, notifications)


def pauser(seed: int, person: int, think: tuple[float, float]) -> Callable[[], Awaitable[None]]:
    """A person's thinking time between two interactions: their own draw, the same for both bots."""
    rng = random.Random(f"{seed}:{person}")
    return lambda: asyncio.sleep(rng.uniform(*think))


def decision_card(user: FakeUser) -> InboxMessage:
    for message in reversed(user.inbox):
        if f"Langkah {DECISION_STEP}" in message.text and message.buttons:
            return message
    raise RuntimeError(f"no decision card in chat {user.id}\n{user.dump()}")


async def filer(probe: Probe, user: FakeUser, sop: Sop, pause: Callable[[], Awaitable[None]]) -> None:
    """/ajukan, choose the service, answer each field (skipping the optional document), send."""
    menu = await probe(user, "filing", partial(user.send, "/ajukan"),
                       lambda m: m.text.startswith("📝 Ajukan permohonan") and bool(m.buttons))
    await pause()
    total = len(sop.intake)
    question = await probe(user, "filing", partial(user.tap, menu, sop.title), _has(f"1/{total} ·"))
    for number, fld in enumerate(sop.intake, start=1):
        await pause()
        expect = _has(f"{number + 1}/{total} ·") if number < total else _has("Periksa permohonan")
        if fld.kind == "document":
            act = partial(user.tap, question, "Lewati ⏭")
        elif fld.kind == "choice":
            act = partial(user.tap, question, fld.choices[0])
        else:
            act = partial(user.send, TEXT_ANSWERS.get(fld.kind, TEXT_ANSWERS["text"]))
        question = await probe(user, "filing", act, expect)
    await pause()
    await probe(user, "filing", partial(user.tap, question, "✅ Kirim"), _has("Permohonan terkirim"))


async def asker(
    probe: Probe, user: FakeUser, register_no: str, questions: tuple[tuple[str, str], tuple[str, str]],
    pause: Callable[[], Awaitable[None]],
) -> None:
    """/status, a question, /status of one request (its card), another question."""
    await probe(user, "status", partial(user.send, "/status"), _starts("📂"))
    await pause()
    await probe(user, "question", partial(user.send, questions[0][0]), _names(questions[0][1]))
    await pause()
    await probe(user, "status", partial(user.send, f"/status {register_no}"),
                lambda m: "Langkah berikutnya" in " ".join(m.button_texts))
    await pause()
    await probe(user, "question", partial(user.send, questions[1][0]), _names(questions[1][1]))


async def decider(
    probe: Probe, user: FakeUser, card: InboxMessage, label: str, question: tuple[str, str],
    pause: Callable[[], Awaitable[None]],
) -> None:
    """The Kabid taps a decision on the task card, then /status and a question."""
    await probe(user, "tap", partial(user.tap, card, label), _has("Diputuskan"))
    await pause()
    await probe(user, "status", partial(user.send, "/status"), _starts("📂"))
    await pause()
    await probe(user, "question", partial(user.send, question[0]), _names(question[1]))


# ----------------------------------------------------------------------------- the echo baseline


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


async def _echo_burst(
    api: FakeBotApi, planned: dict[int, int], users: dict[int, FakeUser], think: tuple[float, float], seed: int,
    limits: bool, *, aiohttp_client: bool = False,
) -> Measured:
    """The same people send as many plain messages as they had interactions; the echo bot repeats them
    (with PTB's own HTTP client, or ``aiohttp_client``: with Alur's)."""
    builder = (ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url)
               .rate_limiter(limiter(limits)).concurrent_updates(MAX_CONCURRENT))
    if aiohttp_client:
        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest(1))
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    probe = Probe(api)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, drop_pending_updates=True)
    try:
        marks = phase_marks(api)
        scripts = [_echoer(probe, users[pid], n, pauser(seed, pid, think)) for pid, n in planned.items()]
        await gather_people(scripts, probe.errors)
        server = phase_counts(api, marks)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    return Measured("echo+aiohttp" if aiohttp_client else "echo", probe.samples, probe.errors, server,
                    app.concurrent_updates)


async def _echoer(probe: Probe, user: FakeUser, count: int, pause: Callable[[], Awaitable[None]]) -> None:
    for i in range(count):
        if i:
            await pause()
        text = f"gema {user.id} {i + 1}"
        await probe(user, "echo", partial(user.send, text), lambda m, t=text: m.text == t)
