"""Answers to free-text questions: about the asker's own requests and tasks, and about the SOPs.

How a question is answered, in order:

1. **Who is asking comes first.** A register number is answered from that request's live state,
   for people who may see it. 'Permohonan saya', 'data saya kapan jadi', 'sudah sampai mana'
   are answered from the asker's own requests (one open: its state; several: a short list with
   buttons); 'tugas saya' from the asker's open steps. This needs a :class:`LiveData`.
2. **The kind of question** (``intent.parse``) — who, how long, what next, what is needed, what
   comes out, a total, or one SOP field (Dasar Hukum, Kualifikasi, Keterkaitan, Peringatan,
   Pencatatan) — is decided before retrieval, and decides both the field weights used to find
   the SOP and the field that answers.
3. **The SOP** with the highest

       BM25F(question, SOP fields, field weights of the kind)
       + STEP_SHARE × BM25F(question, its best step, the SOP's name words left out)
       + NAME_MATCH × F1(question, SOP name)²

   is the answer, if it explains enough of the question (``_on_topic``). Only SOPs of the
   institution the question names are considered; otherwise only the asker's own institution's
   (another institution's fitting SOP is named, not answered). What the question rules out
   ('bukan yg sinergisitas') is dropped. When two SOPs score too close to call, the bot offers
   them as a choice; when none fits, it suggests questions it can answer.
4. **The step** inside the SOP is found by BM25 over that SOP's own steps, counting the words
   that did not already name the SOP; a number, 'langkah terakhir' or a range 'dari X sampai Y'
   name it directly. Without such evidence the answer is about the SOP as a whole (the whole
   total, the final output, the equipment).

Every answer quotes the field as printed, with the SOP title and institution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.qa.index import CatalogIndex, step_weights_for, weights_for
from bot.qa.intent import CUE_WORDS, FIELD_KINDS, STEP_KINDS, Question, case_reference, parse
from bot.qa.live import Asker, CaseState, LiveData, Task
from bot.qa.text import Analyzer
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog
from bot.sop.durations import Duration, DurationError
from bot.sop.model import END, Sop, Step
from bot.text.render import Renderer, to_plain

TEMPLATES = (
    "answer_step", "answer_next", "answer_total", "answer_field", "answer_outputs", "answer_start", "answer_sop",
    "answer_choices", "answer_not_found", "answer_case", "answer_cases", "answer_tasks", "answer_case_missing",
    "answer_personal",
)
ButtonSpec = tuple[str, str, str]
"""(label, action, argument): 'sop' takes an SOP id, 'step' 'sop_id:number', 'total' 'sop_id:first:last',
'case' a case id, 'detail' a step id, 'tasks' nothing."""

# ---------------------------------------------------------------- retrieval settings

STEP_SHARE = 0.5
"""How much the SOP's best matching step adds to the SOP's own field score (the SOP's name words do not
count there: a step repeating the title is no sign that the question describes that activity). Nothing
for a question about one field of the SOP as a whole (Dasar Hukum, Peringatan, ...)."""
NAME_MATCH = 12.0
"""Added (times the share squared) when the question repeats the SOP's name: names tell look-alikes apart."""
NAME_TERMS_IN_STEPS = 0.3
"""Weight of the SOP's name words when choosing its step (they said which SOP, not which step)."""
STEP_EVIDENCE = 1.0
"""Least score (without name words) for a step to count as 'the step the question is about'."""
SECOND_STEP = 0.93
"""A second step is shown when it scores this close to the best (identical texts, merged rows)."""
FOCUS = 2.0
"""Weight of the words in the clause a 'who' question asks about ('yang menyerahkan ... siapa')."""
MIN_SHARE = 0.45
"""Least IDF-weighted share of the question's terms the chosen SOP must contain (else: not found)."""
MIN_SCORE = 3.0
"""Least score of the chosen SOP: about two distinctive words, or one in its name (else: not found)."""
NAMED = 0.5
"""A name match this good makes an SOP the topic even when half the question's words are unknown."""
TIE = 0.05
"""Two SOPs within this share of the best score are too close to call: the asker chooses."""
NAMED_LEAD = 0.2
"""No choice is offered when the question repeats the best SOP's name this much more than the other's."""


@dataclass(frozen=True)
class Answer:
    html: str
    plain: str
    kind: str
    """The question kind answered, or 'choices', 'not_found', 'case', 'cases', 'tasks', 'case_missing', 'personal'."""
    sop_id: str | None = None
    step_no: str | None = None
    buttons: tuple[ButtonSpec, ...] = ()
    choices: tuple[ButtonSpec, ...] = ()
    confidence: float = 0.0


@dataclass
class Candidate:
    sop: Sop
    score: float
    share: float = 0.0
    """IDF-weighted share of the question's terms the SOP has (``CatalogIndex.matched_share``)."""
    cover: float = 0.0
    """How well the question names the SOP (``CatalogIndex.name_match``)."""


class Answerer:
    """Answers questions over one catalog. Build once at start (well under a second), ask many times."""

    def __init__(
        self, catalog: Catalog, renderer: Renderer | None = None, calendar: WorkCalendar | None = None
    ) -> None:
        self.catalog = catalog
        self.renderer = renderer or Renderer()
        self.calendar = calendar or WorkCalendar()
        self.analyzer = Analyzer(extra_words=CUE_WORDS)
        self.index = CatalogIndex(catalog, self.analyzer)
        hours = self.calendar.schedule.hours
        days = sum(1 for ivs in hours.values() if ivs) or 5
        self.day_minutes = self.calendar.schedule.minutes_per_week() / days
        self.month_days = days * 52 / 12
        for name in TEMPLATES:  # compile once at start, not on the first question
            self.renderer.env.get_template(f"{name}.j2")
        self._suggested: dict[str, list[str]] = {}
        for sop in catalog:  # checked once at start, so a flood of unanswerable questions costs no more
            self._suggestions(sop)

    # ------------------------------------------------------------ entry points

    async def ask(self, question: str, asker: Asker | None = None, live: LiveData | None = None) -> Answer:
        """Answer a question from someone; their own requests and tasks come from ``live``.

        ``asker`` is None for people who are not registered (or deactivated): they never see a request.
        """
        ref = case_reference(question)
        if ref is not None:
            if live is None:
                return self._render("answer_case_missing", "case_missing", ref=ref, reason="no_lookup")
            case = await live.case(ref, asker) if asker is not None else None
            if case is None:
                return self._render("answer_case_missing", "case_missing", ref=ref, reason="not_found")
            return self._case(case)
        q = self.parse(question)
        if q.personal == "my_tasks":
            if asker is None or live is None:
                return self._personal_unavailable(live)
            tasks = await live.tasks_of(asker)
            return self._tasks(list(tasks))
        personal = q.personal == "my_cases" or (q.status and not self._content(q))
        if personal or (q.kind == "next_step" and not self._content(q)):
            if asker is None or live is None:
                if personal:
                    return self._personal_unavailable(live)
            else:
                cases = list(await live.cases_of(asker))
                if cases or personal:
                    return self._cases(cases, asker)
        return self._search(q, asker.institution if asker is not None else None)

    def answer(self, question: str, institution: str | None = None) -> Answer:
        """Answer from the SOP definitions only (no live data), optionally as someone of ``institution``."""
        ref = case_reference(question)
        if ref is not None:
            return self._render("answer_case_missing", "case_missing", ref=ref, reason="no_lookup")
        q = self.parse(question)
        if q.personal is not None or (q.status and not self._content(q)):
            return self._personal_unavailable(None)
        return self._search(q, institution)

    def parse(self, question: str) -> Question:
        return parse(question, self.analyzer.question_words(question))

    # ------------------------------------------------------------ terms

    def _terms(self, words: Sequence[str], q: Question) -> dict[str, float]:
        """Retrieval terms of some question words: institution words and what the question rules out removed."""
        idx = self.index
        ruled_out = self._negated(q)
        return {
            t: w for t, w in self.analyzer.question_terms(words).items()
            if t not in idx.place_terms and t not in ruled_out
        }

    def _groups(self, q: Question) -> list[tuple[set[str], set[str]]]:
        """The question's words as alternatives (typed terms, added terms), without places and what it rules out."""
        drop = self.index.place_terms | self._negated(q)
        groups = [(typed - drop, added - drop) for typed, added in self.analyzer.question_groups(q.retrieval_words)]
        return [g for g in groups if g[0] or g[1]]

    def _pairs(self, q: Question) -> set[tuple[str, str]]:
        """Adjacent content words of the question as typed (no added long forms, places or ruled-out words)."""
        drop = self.index.place_terms | self._negated(q)
        typed = [w for w in q.retrieval_words if not w.startswith("~")]
        return {p for p in self.analyzer.bigrams(typed) if not (set(p) & drop)}

    def _negated(self, q: Question) -> set[str]:
        out: set[str] = set()
        for phrase in q.negated:
            out.update(self.analyzer.question_terms(self.analyzer.question_words(phrase)))
        return out

    def _content(self, q: Question) -> bool:
        """Whether the question has words that could find an SOP (beyond question and status words)."""
        return any(w == 1.0 and t in self.index.sop_bm25.idf for t, w in self._terms(q.retrieval_words, q).items())

    # ------------------------------------------------------------ finding the SOP

    def rank(self, q: Question, institution: str | None = None) -> list[Candidate]:
        """SOPs ordered by how well they match the question (only those matching at all).

        Only SOPs of the institutions the question names count; else, with ``institution``, only
        that institution's SOPs.
        """
        idx = self.index
        terms = self._terms(q.retrieval_words, q)
        if not terms:
            return []
        sop_scores = idx.score_sops(terms, weights_for(q.kind))
        step_scores = idx.best_steps(terms, step_weights_for(q.kind), name_share=0.0)
        named = idx.institutions_named(q.words)
        excluded = self._ruled_out_sops(q)
        pairs = self._pairs(q)
        out: list[Candidate] = []
        places = named or ({institution} if institution else set())
        for sop in idx.sops:
            if (places and sop.institution not in places) or sop.id in excluded:
                continue
            cover = idx.name_match(sop.id, terms, pairs)
            step_share = 0.0 if q.kind in FIELD_KINDS else STEP_SHARE
            score = sop_scores.get(sop.id, 0.0) + step_share * step_scores.get(sop.id, 0.0) + NAME_MATCH * cover**2
            if score > 0:
                out.append(Candidate(sop, score, cover=cover))
        out.sort(key=lambda c: -c.score)
        groups = self._groups(q)
        for cand in out[:3]:
            cand.share = idx.matched_share(cand.sop.id, groups)
        return out

    def _ruled_out_sops(self, q: Question) -> set[str]:
        """SOPs whose name carries what the question rules out ('bukan yang sinergisitas')."""
        out: set[str] = set()
        idf = self.index.sop_bm25.idf
        for phrase in q.negated:
            terms = set(self.analyzer.question_terms(self.analyzer.question_words(phrase))) - self.index.place_terms
            mass = sum(idf.get(t, 0.0) for t in terms)
            if not mass:
                continue
            for sop_id, words in self.index.name_words.items():
                if sum(idf.get(t, 0.0) for t in terms & words) >= 0.6 * mass:
                    out.add(sop_id)
        return out

    def _on_topic(self, cand: Candidate) -> bool:
        """Whether the best SOP answers the question at all (not one shared word of 'harga cabai di pasar').

        A question that names the SOP may carry more words the catalog does not know.
        """
        if cand.score < MIN_SCORE:
            return False
        return cand.share >= MIN_SHARE or (cand.cover >= NAMED and cand.share >= MIN_SHARE / 2)

    def _search(self, q: Question, institution: str | None) -> Answer:
        own = institution if institution in self.catalog.institutions else None
        ranked = self.rank(q, own)
        if not ranked or not self._on_topic(ranked[0]):
            # another institution's SOP is only named when the question names that institution
            elsewhere = self.rank(q) if own else []
            hint = elsewhere[0] if elsewhere and self._on_topic(elsewhere[0]) else None
            return self._not_found(q, ranked, hint.sop if hint else None)
        best = ranked[0]
        close = [
            c for c in ranked[1:3]
            if c.score >= (1 - TIE) * best.score and self._on_topic(c) and c.cover > best.cover - NAMED_LEAD
        ]
        margin = 1.0 if len(ranked) == 1 else (best.score - ranked[1].score) / best.score
        if close:
            return self._choices([best, *close], margin)
        return self._answer_sop(q, best.sop, margin)

    # ------------------------------------------------------------ finding the step

    def _step_scores(
        self, sop: Sop, words: Sequence[str], q: Question, kind: str, focus_words: Sequence[str] = ()
    ) -> tuple[dict[int, float], float]:
        """Scores of the SOP's steps for some question words, and the best score without the SOP's name words."""
        idx = self.index
        terms = self._terms(words, q)
        focus = set(self._terms(focus_words, q)) if focus_words else set()
        names = idx.name_words.get(sop.id, set())
        weights = step_weights_for(kind)
        own = {t: w for t, w in terms.items() if t not in names}
        shared = {t: w * NAME_TERMS_IN_STEPS for t, w in terms.items() if t in names}
        main = idx.score_steps_of(sop.id, own, weights)
        extra = idx.score_steps_of(sop.id, shared, weights)
        focused = idx.score_steps_of(sop.id, {t: w * (FOCUS - 1) for t, w in own.items() if t in focus}, weights)
        steps = set(main) | set(extra)
        scores = {i: main.get(i, 0.0) + extra.get(i, 0.0) + focused.get(i, 0.0) for i in steps}
        return scores, max(main.values(), default=0.0)

    def _named_step(self, sop: Sop, q: Question) -> Step | None:
        """A step the question names by number or position."""
        for number in q.step_numbers:
            if sop.has_step(number):
                return sop.step(number)
        if q.ordinal is not None and sop.steps:
            pos = len(sop.steps) - 1 if q.ordinal == -1 else q.ordinal - 1
            if 0 <= pos < len(sop.steps):
                return sop.steps[pos]
        return None

    def _pick_steps(self, q: Question, sop: Sop) -> list[Step]:
        """The step(s) a step question is about: named by number or position, else the best match."""
        named = self._named_step(sop, q)
        scores, evidence = self._step_scores(sop, q.retrieval_words, q, q.kind, q.focus_words)
        if named is not None and (q.step_numbers or q.ordinal in (-1, 1) or evidence < STEP_EVIDENCE):
            return [named]
        if evidence < STEP_EVIDENCE or not scores:
            return []
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        picked = [sop.steps[ranked[0][0]]]
        if len(ranked) > 1 and ranked[1][1] >= SECOND_STEP * ranked[0][1]:
            picked.append(sop.steps[ranked[1][0]])
        return sorted(picked, key=lambda s: sop.steps.index(s))

    def _step_for(self, sop: Sop, words: Sequence[str], q: Question, kind: str) -> Step | None:
        """The one step some words describe, if they describe one."""
        scores, evidence = self._step_scores(sop, words, q, kind)
        if evidence < STEP_EVIDENCE or not scores:
            return None
        return sop.steps[max(scores.items(), key=lambda kv: (kv[1], -kv[0]))[0]]

    # ------------------------------------------------------------ one SOP, by kind

    def _answer_sop(self, q: Question, sop: Sop, margin: float) -> Answer:
        kind = q.kind
        if q.document and kind in ("who_handles", "which_sop"):
            return self._overview(q, sop, margin)
        if kind in FIELD_KINDS:
            return self._field(kind, sop, margin)
        if kind == "total_duration":
            return self._total(q, sop, margin)
        if kind == "requirements" and q.equipment:
            return self._field("equipment", sop, margin)
        if kind == "output" and q.all_outputs and not q.step_numbers and sop.steps:
            return self._outputs(sop, margin, every=True)
        decision = self._decision_asked(q, sop) if kind in ("which_sop", "next_step") else None
        if decision is not None:
            return self._next(q, sop, margin, start=decision)
        if kind in STEP_KINDS and sop.steps:
            if kind == "next_step":
                return self._next(q, sop, margin)
            picked = self._pick_steps(q, sop)
            if picked and kind == "requirements" and q.first_person and sop.requester_started:
                if all(s.actor != "requester" for s in picked):
                    return self._start(sop, margin)
            if picked:
                return self._step_answer(q, sop, picked, margin)
            if kind == "duration":
                return self._total(q, sop, margin)
            if kind == "requirements":
                return self._start(sop, margin)
            if kind == "output":
                return self._outputs(sop, margin, every=False)
        return self._overview(q, sop, margin)

    # ------------------------------------------------------------ answers

    def _field_items(self, sop: Sop, what: str) -> list[str]:
        if what == "legal_basis":
            return list(sop.legal_basis)
        if what == "related_sop":
            return [r.text for r in sop.related]
        if what == "qualifications":
            return list(sop.qualifications)
        if what == "records":
            return list(sop.records)
        if what == "equipment":
            return list(sop.equipment)
        return [sop.warning] if sop.warning else []

    def _field(self, what: str, sop: Sop, margin: float) -> Answer:
        """One SOP field, quoted as printed."""
        kind = "requirements" if what == "equipment" else what
        return self._render(
            "answer_field", kind, sop, None, margin, what=what, items=self._field_items(sop, what), **self._head(sop)
        )

    def _start(self, sop: Sop, margin: float) -> Answer:
        """What is needed to start: the requester's form and first step, or the equipment and first step."""
        first = sop.steps[0] if sop.steps else None
        own = next((s for s in sop.steps if s.actor == "requester"), None) if sop.requester_started else None
        return self._render(
            "answer_start", "requirements", sop, (own or first).number if (own or first) else None, margin,
            intake=[{"label": f.label, "help": f.help, "document": f.kind == "document", "required": f.required}
                    for f in sop.intake],
            first=self._step_view(sop, own or first) if (own or first) else None,
            equipment=list(sop.equipment), requester=sop.requester_started, **self._head(sop),
        )

    def _outputs(self, sop: Sop, margin: float, every: bool) -> Answer:
        """The final output of the SOP (its last step's), or every output in order."""
        last = sop.steps[-1]
        rows = [self._step_view(sop, s) for s in sop.steps if s.outputs] if every else []
        return self._render(
            "answer_outputs", "output", sop, last.number, margin, buttons=[self._step_button(sop, last)],
            last=self._step_view(sop, last), rows=rows, every=every, **self._head(sop),
        )

    def _step_answer(self, q: Question, sop: Sop, steps: list[Step], margin: float) -> Answer:
        return self._render(
            "answer_step", q.kind, sop, steps[0].number, margin,
            buttons=[self._step_button(sop, s) for s in steps],
            steps=[self._step_view(sop, s) for s in steps], **self._head(sop),
        )

    def _decision_asked(self, q: Question, sop: Sop) -> Step | None:
        """A decision step whose branches a conditional question is about ('kalau ditolak gimana?')."""
        if q.step_numbers or not q.conditional:
            return None
        names = self.index.name_words.get(sop.id, set())
        typed = {t for t, w in self._terms(q.retrieval_words, q).items() if w >= 1.0 and t not in names}
        best: tuple[int, Step] | None = None
        for step in sop.steps:
            if step.decision is None:
                continue
            labels = set(self.analyzer.terms(self.analyzer.document_words(
                " ".join(b.label for b in step.decision.branches))))
            hits = len(typed & labels)
            if hits and (best is None or hits > best[0]):
                best = (hits, step)
        return best[1] if best else None

    def _from_step(self, q: Question, sop: Sop) -> Step | None:
        """The step a 'what comes next' question starts from."""
        for number in q.step_numbers:
            if sop.has_step(number):
                return sop.step(number)
        if q.after_words:
            step = self._step_for(sop, q.after_words, q, "next_step")
            if step is not None:
                return step
        step = self._step_for(sop, q.retrieval_words, q, "next_step")
        if step is not None:
            return step
        if q.ordinal is not None:
            pos = len(sop.steps) - 1 if q.ordinal == -1 else q.ordinal - 1
            if 0 <= pos < len(sop.steps):
                return sop.steps[pos]
        return None

    def _next(self, q: Question, sop: Sop, margin: float, start: Step | None = None) -> Answer:
        start = start or self._from_step(q, sop)
        if start is None:
            if q.ordinal == -1:
                return self._step_answer(q, sop, [sop.steps[-1]], margin)
            return self._overview(q, sop, margin)
        following: list[dict[str, Any]] = []
        if q.previous:
            before = [s for s in sop.steps if start.number in sop.successors(s) and s is not start]
            previous = [
                {"label": next((b.label for b in s.decision.branches if b.target == start.number), "")
                 if s.decision else "", "step": self._step_view(sop, s)}
                for s in before
            ]
            return self._render(
                "answer_next", "next_step", sop, before[0].number if before else start.number, margin,
                buttons=[self._step_button(sop, s) for s in before[:2]], start=self._step_view(sop, start),
                following=previous, previous=True, **self._head(sop),
            )
        if start.decision:
            for b in start.decision.branches:
                target = None if b.target == END else sop.step(b.target)
                following.append({"label": b.label, "step": self._step_view(sop, target) if target else None})
        else:
            target = sop.next_step(start)
            following.append({"label": "", "step": self._step_view(sop, target) if target else None})
        shown = [f["step"] for f in following if f["step"]]
        buttons = [("Lihat langkah " + s["number"], "step", f"{sop.id}:{s['number']}") for s in shown[:2]]
        return self._render(
            "answer_next", "next_step", sop, shown[0]["number"] if shown else start.number, margin,
            buttons=buttons, start=self._step_view(sop, start), following=following, previous=False,
            **self._head(sop),
        )

    # ------------------------------------------------------------ totals

    def _range(self, q: Question, sop: Sop) -> tuple[Step, Step] | None:
        """First and last step of the range the question names (the whole SOP by default)."""
        if not sop.steps:
            return None
        order = {s.number: i for i, s in enumerate(sop.steps)}
        numbers = [n for n in dict.fromkeys([*(q.step_range or ()), *q.step_numbers]) if n in order]
        ends: list[Step] = [sop.step(n) for n in numbers]
        if len(ends) < 2 and q.range_words:
            found = [self._step_for(sop, words, q, "total_duration") for words in q.range_words]
            described = [s for s in found if s is not None]
            if len(described) == 2:
                ends = described
            elif len(described) == 1 and len(ends) == 1 and described[0] is not ends[0]:
                ends = [ends[0], described[0]]
        if len(ends) < 2:
            return sop.steps[0], sop.steps[-1]
        ends.sort(key=lambda s: order[s.number])
        return ends[0], ends[-1]

    def _total(self, q: Question, sop: Sop, margin: float) -> Answer:
        ends = self._range(q, sop)
        if ends is None:
            return self._overview(q, sop, margin)
        first, last = ends
        return self._total_answer(sop, first.number, last.number, margin, breakdown=False)

    def total_breakdown(self, sop_id: str, first: str, last: str) -> Answer | None:
        """The per-step breakdown of a total (the button under a total answer)."""
        sop = self.catalog.get(sop_id)
        if sop is None or not (sop.has_step(first) and sop.has_step(last)):
            return None
        return self._total_answer(sop, first, last, 1.0, breakdown=True)

    def _total_answer(self, sop: Sop, first: str, last: str, margin: float, breakdown: bool) -> Answer:
        rows: list[dict[str, Any]] = []
        total = Duration()
        inside = False
        warnings: list[str] = []
        for step in sop.steps:
            if step.number == first:
                inside = True
            if inside:
                try:
                    d = sop.duration(step)
                except DurationError:
                    d = None
                if d is not None:
                    total = total + d
                    warnings.extend(d.warnings)
                rows.append({"number": step.number, "text": step.text, "duration": step.duration_text, "parsed": d,
                             "read": d.format() if d is not None and d.warnings else None})
            if step.number == last:
                break
        whole = first == sop.steps[0].number and last == sop.steps[-1].number
        counted = [r for r in rows if r["parsed"] is not None]
        buttons = [] if breakdown else [("📋 Rincian per langkah", "total", f"{sop.id}:{first}:{last}")]
        return self._render(
            "answer_total", "total_duration", sop, None, margin, buttons=buttons,
            total=total.format() if counted else None, working=self._working(total) if counted else None,
            months=total.months, rows=rows, whole=whole, first=first, last=last, breakdown=breakdown,
            missing=[r["number"] for r in rows if r["parsed"] is None], warnings=list(dict.fromkeys(warnings))[:3],
            qualifiers=[f"langkah {r['number']}: {r['duration']}" for r in counted if r["parsed"].qualifier],
            step_count=len(rows), **self._head(sop, step_count=False),
        )

    def _working(self, total: Duration) -> str:
        """A sum of printed times in one unit of working time: '± 57 hari kerja', '± 4,5 jam kerja'."""
        minutes = total.minutes + (total.working_days + total.months * self.month_days) * self.day_minutes
        days = minutes / self.day_minutes
        if days < 1:
            return f"± {_decimal(minutes / 60)} jam kerja"
        return f"± {_decimal(days) if days < 10 else round(days)} hari kerja"

    # ------------------------------------------------------------ overview, choices, not found

    def _overview(self, q: Question, sop: Sop, margin: float) -> Answer:
        scores, evidence = self._step_scores(sop, q.retrieval_words, q, q.kind)
        matched = None
        if evidence >= STEP_EVIDENCE and scores:
            pos = max(scores.items(), key=lambda kv: (kv[1], -kv[0]))[0]
            matched = self._step_view(sop, sop.steps[pos])
        roles = list(dict.fromkeys(self.catalog.roles.name(s.actor) for s in sop.steps))
        total = sop.total_duration() if sop.steps else None
        buttons = [self._step_button(sop, sop.step(matched["number"]))] if matched else []
        return self._render(
            "answer_sop", "which_sop", sop, matched["number"] if matched else None, margin,
            buttons=buttons, matched=matched, roles=roles, asked=q.kind,
            show_meta=q.document, dates=sop.dates, approved_by=sop.approved_by,
            first=self._step_view(sop, sop.steps[0]) if sop.steps else None,
            last=self._step_view(sop, sop.steps[-1]) if sop.steps else None,
            total=total.format() if total and not total.is_zero else None,
            working=self._working(total) if total and not total.is_zero else None,
            requester=sop.requester_started, **self._head(sop),
        )

    def _choices(self, cands: list[Candidate], margin: float) -> Answer:
        options = [{"name": c.sop.name, **self._head(c.sop)} for c in cands]
        choices = tuple((c.sop.title[:60], "sop", c.sop.id) for c in cands)
        html = self.renderer.render("answer_choices", options=options)
        return Answer(html, to_plain(html), "choices", choices=choices, confidence=round(margin, 3))

    def _not_found(self, q: Question, ranked: list[Candidate], elsewhere: Sop | None = None) -> Answer:
        """Nothing fits: say so, and suggest two or three questions the bot can answer.

        ``elsewhere`` is an SOP of another institution that would fit: it is named, not answered.
        """
        sops = [c.sop for c in ranked[:3] if c.score > 0]
        if not sops:
            sops = [s for s in self.catalog if s.requester_started][:3]
        suggestions: list[str] = []
        for i, sop in enumerate(sops):
            verified = self._suggestions(sop)
            if verified:
                suggestions.append(verified[i % len(verified)])
        other = {"name": elsewhere.name, **self._head(elsewhere)} if elsewhere else None
        html = self.renderer.render("answer_not_found", question=q.text.strip()[:200], suggestions=suggestions[:3],
                                    elsewhere=other)
        buttons: tuple[ButtonSpec, ...] = (("Buka SOP instansi lain", "sop", elsewhere.id),) if elsewhere else ()
        return Answer(html, to_plain(html), "not_found", choices=buttons)

    def _suggestions(self, sop: Sop) -> list[str]:
        """Questions about an SOP that this answerer answers with that SOP (checked once, then kept)."""
        if sop.id not in self._suggested:
            name = sop.title
            asks = [f"berapa lama {name}?", f"siapa yang menangani {name}?", f"apa syarat {name}?"]
            ok = []
            for text in asks:
                answer = self._search(self.parse(text), None)
                if answer.sop_id == sop.id:
                    ok.append(text)
            self._suggested[sop.id] = ok
        return self._suggested[sop.id]

    # ------------------------------------------------------------ live requests and tasks

    def _case(self, case: CaseState) -> Answer:
        """One request as it stands: the open step, who holds it since when, the due time, what follows."""
        sop = case.sop
        current = [
            {"step": self._step_view(sop, c.step), "holder": c.holder, "acting_for": c.acting_for,
             "since": c.since, "due": c.due}
            for c in case.current
        ]
        following = [{"label": label, "step": self._step_view(sop, s) if s else None} for label, s in case.following]
        html = self.renderer.render(
            "answer_case", case=case, current=current, following=following, estimate=self._estimate(case),
            **self._head(sop),
        )
        buttons: tuple[ButtonSpec, ...] = (("Lihat permohonan", "case", str(case.id)),)
        return Answer(html, to_plain(html), "case", sop.id, current[0]["step"]["number"] if current else None,
                      buttons, confidence=1.0)

    def _estimate(self, case: CaseState) -> datetime | None:
        """When an open request ends if every later step takes its standard time (None if unknown)."""
        if not case.is_open or not case.current:
            return None
        now = case.current[0]
        start = now.due or now.since
        rest = Duration()
        step: Step | None = case.sop.next_step(now.step) if not now.step.decision else None
        if now.step.decision:
            target = next((b.target for b in now.step.decision.branches if b.outcome == "continue"), END)
            step = None if target == END else case.sop.step(target)
        seen: set[str] = set()
        while step is not None and step.number not in seen:
            seen.add(step.number)
            try:
                d = case.sop.duration(step)
            except DurationError:
                d = None
            if d is not None:
                rest = rest + d
            if step.decision:
                target = next((b.target for b in step.decision.branches if b.outcome == "continue"), END)
                step = None if target == END else case.sop.step(target)
            else:
                step = case.sop.next_step(step)
        return self.calendar.add(start, rest)

    def _cases(self, cases: list[CaseState], asker: Asker) -> Answer:
        """The asker's requests: one open -> its state; several -> a short list with buttons."""
        open_cases = [c for c in cases if c.is_open]
        if len(open_cases) == 1:
            return self._case(open_cases[0])
        shown = open_cases[:5] if open_cases else cases[:3]
        items = [
            {"case": c, "current": [{"step": self._step_view(c.sop, o.step), "holder": o.holder, "due": o.due}
                                    for o in c.current]}
            for c in shown
        ]
        html = self.renderer.render("answer_cases", items=items, open_count=len(open_cases), staff=asker.is_staff)
        buttons = tuple((f"{c.register_no}", "case", str(c.id)) for c in shown)
        kind = "cases" if open_cases else "case" if shown else "cases"
        return Answer(html, to_plain(html), kind, choices=buttons, confidence=1.0)

    def _tasks(self, tasks: list[Task]) -> Answer:
        """The asker's open steps, soonest due first."""
        items = [{"task": t, "step": self._step_view(t.sop, t.step), "place": self._head(t.sop)["sop_name"]}
                 for t in tasks[:8]]
        html = self.renderer.render("answer_tasks", items=items, count=len(tasks))
        buttons = tuple((f"ℹ️ {t.register_no} · langkah {t.step.number}", "detail", str(t.step_id)) for t in tasks[:5])
        more: tuple[ButtonSpec, ...] = (("🗂 Semua tugas saya", "tasks", ""),) if tasks else ()
        return Answer(html, to_plain(html), "tasks", choices=buttons + more, confidence=1.0)

    def _personal_unavailable(self, live: LiveData | None) -> Answer:
        html = self.renderer.render("answer_personal", reason="no_lookup" if live is None else "not_registered")
        return Answer(html, to_plain(html), "personal")

    # ------------------------------------------------------------ helpers

    def _head(self, sop: Sop, step_count: bool = True) -> dict[str, Any]:
        inst = self.catalog.institutions.get(sop.institution)
        unit = inst.unit(sop.unit) if inst else None
        head: dict[str, Any] = {
            "sop_name": sop.name, "place": inst.name if inst else sop.institution, "unit": unit.name if unit else "",
            "sop_number": sop.number, "warning": sop.warning, "steps_missing": sop.steps_missing or not sop.steps,
        }
        if step_count:
            head["step_count"] = len(sop.steps)
        return head

    def _step_view(self, sop: Sop, step: Step) -> dict[str, Any]:
        return {
            "number": step.number,
            "assigned": step.number_source == "assigned",
            "text": step.text,
            "role": self.catalog.roles.name(step.actor),
            "inferred": step.actor_source == "inferred",
            "duration": step.duration_text,
            "duration_read": self._read_duration(sop, step),
            "requirements": step.requirements,
            "outputs": step.outputs,
            "note": step.note,
            "decision": step.decision.question if step.decision else None,
            "end": END in sop.successors(step),
        }

    @staticmethod
    def _read_duration(sop: Sop, step: Step) -> str | None:
        """How a damaged printed time was read ('S hari' -> '5 hari', bare '3' -> '3 hari'), else None."""
        try:
            d = sop.duration(step)
        except DurationError:
            return None
        return d.format() if d is not None and d.warnings else None

    @staticmethod
    def _step_button(sop: Sop, step: Step) -> ButtonSpec:
        return (f"Lihat langkah {step.number}", "step", f"{sop.id}:{step.number}")

    def _render(
        self, template: str, kind: str, sop: Sop | None = None, step_no: str | None = None, margin: float = 0.0,
        buttons: Sequence[ButtonSpec] | None = None, **context: Any,
    ) -> Answer:
        html = self.renderer.render(template, kind=kind, **context)
        all_buttons: list[ButtonSpec] = [("Buka SOP", "sop", sop.id)] if sop else []
        all_buttons.extend(buttons or [])
        return Answer(
            html, to_plain(html), kind, sop.id if sop else None, step_no, tuple(all_buttons),
            confidence=round(max(0.0, min(1.0, margin)), 3) if sop else 0.0,
        )


def _decimal(value: float) -> str:
    """One decimal, Indonesian comma, no trailing ',0' ('4,5', '2')."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")
