"""Answers to free-text questions about the SOPs and about running requests.

Two levels: first the SOP (BM25 over titles, keywords, institution, metadata, plus the best
matching step of each SOP, plus how much of the SOP title the question repeats), then the
step inside it (a step number or 'langkah terakhir' in the question, else BM25 over step
text, outputs, requirements and role, weighted by what the question asks). The kind of the
question decides which field answers. Every answer names the SOP exactly as printed and
cites step number, role and standard time; when two SOPs score too close to call, the top
three are offered as choices instead.

Questions that carry a register number ('KTP-INFO-2026-0007', 'permohonan 12') are answered
from the live case through a :class:`CaseLookup` (``bot.workflow.queries.CaseQueries`` is one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.qa.index import CatalogIndex
from bot.qa.intent import CUE_WORDS, STEP_KINDS, Question, case_reference, parse
from bot.qa.text import Analyzer
from bot.sop.catalog import Catalog
from bot.sop.durations import Duration, DurationError
from bot.sop.model import END, Sop, Step
from bot.text.render import Renderer, to_plain

if TYPE_CHECKING:
    from bot.storage.records import Case
    from bot.workflow.results import WhatNext

TEMPLATES = (
    "answer_step", "answer_next", "answer_total", "answer_list", "answer_warning", "answer_sop",
    "answer_choices", "answer_not_found", "answer_case", "answer_case_missing",
)
_META = re.compile(r"\b(disahkan|pengesahan|mengesahkan|tanggal|kapan|berlaku|efektif|revisi|nomor sop|dibuat)\b")
"""Questions about the SOP document itself (who approved it, when it took effect)."""

ButtonSpec = tuple[str, str, str]
"""(label, action, argument): 'sop' takes an SOP id, 'step' takes 'sop_id:number', 'case' a case id."""


class CaseLookup(Protocol):
    """What the answerer needs to read a running request (``CaseQueries`` satisfies it)."""

    async def case_by_ref(self, ref: str | int) -> Case | None: ...

    async def what_next(self, case_id: int) -> WhatNext: ...


@dataclass(frozen=True)
class Answer:
    html: str
    plain: str
    kind: str
    """The question kind answered, or 'choices', 'not_found', 'case', 'case_missing'."""
    sop_id: str | None = None
    step_no: str | None = None
    buttons: tuple[ButtonSpec, ...] = ()
    choices: tuple[ButtonSpec, ...] = ()
    confidence: float = 0.0


# ---------------------------------------------------------------- tuning

SOP_WEIGHTS: dict[str, float] = {
    "title": 2.0, "keywords": 1.5, "place": 1.5, "unit": 0.5, "meta": 0.15, "legal": 0.25, "related": 0.15,
    "equipment": 0.25, "warning": 0.35,
}
SOP_WEIGHTS_BY_KIND: dict[str, dict[str, float]] = {
    "legal_basis": {"legal": 0.6},
    "warning": {"warning": 0.8},
    "related_sop": {"related": 0.05},
    "requirements": {"equipment": 0.3},
}
STEP_WEIGHTS: dict[str, float] = {
    "text": 1.0, "outputs": 0.5, "requirements": 0.4, "role": 0.4, "note": 0.25, "handover": 0.0,
}
STEP_WEIGHTS_BY_KIND: dict[str, dict[str, float]] = {
    "next_step": {"outputs": 0.9, "requirements": 0.2, "role": 0.3, "handover": 0.4},
    "output": {"outputs": 0.45, "requirements": 0.45},
    "requirements": {"requirements": 0.5, "outputs": 0.4},
    "who_handles": {"outputs": 0.6, "requirements": 0.3, "role": 0.0},
}
STEP_SHARE = 0.8
"""How much the best matching step of an SOP adds to the SOP's own score."""
TITLE_BONUS = 12.0
"""Added (times coverage squared) when the question repeats the SOP's title."""
TITLE_PHRASE = 8.0
"""Added (times the share of title word pairs) when the question repeats the title's wording in order."""
STEP_COVER_SOP = 8.0
"""Added (times coverage squared) when the question repeats the text of one of the SOP's steps."""
OTHER_PLACE = 0.4
"""Factor for SOPs of institutions other than the one(s) the question names."""
TITLE_TERMS_IN_STEPS = 0.3
"""Weight of title terms when choosing the step (they say which SOP, not which step)."""
MIN_SCORE = 3.0
MIN_SHARE = 0.4
"""Least IDF-weighted share of the question's terms that the best SOP must contain."""
SURE_SHARE = 0.6
SURE_SCORE = 10.0
"""Below SURE_SHARE the best SOP must also score at least SURE_SCORE."""
AMBIGUOUS_MARGIN = 0.08
NAMED_LEAD = 0.15
"""Close scores are still no tie when the question names the first SOP's title clearly better."""
STEP_EVIDENCE = 0.8
"""Least step score (without title terms) for a step to be 'the step asked about'."""
STEP_COVER = 3.0
"""Added (times coverage squared) when the question repeats a step's text."""
STEP_PHRASE = 6.0
"""Added to an SOP (times the best share of one step's word pairs) when the question repeats a step's wording."""
FOCUS = 2.0
"""Weight of the words in the clause a 'who' question asks about ('yang menyerahkan ... siapa')."""
SECOND_STEP = 0.93
"""A second step is shown when it scores this close to the best (identical texts, merged rows)."""


@dataclass
class Candidate:
    sop: Sop
    score: float
    coverage: float
    steps: dict[int, float] = field(default_factory=dict)
    """Position in ``sop.steps`` -> score (title terms down-weighted)."""
    named: float = 0.0
    """How much the question names this SOP (title coverage squared plus title word pairs)."""
    evidence: float = 0.0
    """Best step score without the SOP's title terms."""


class Answerer:
    """Answers questions over one catalog. Build once at start (~0.5 s with the templates), ask many times."""

    def __init__(self, catalog: Catalog, renderer: Renderer | None = None) -> None:
        self.catalog = catalog
        self.renderer = renderer or Renderer()
        self.analyzer = Analyzer(extra_words=CUE_WORDS)
        self.index = CatalogIndex(catalog, self.analyzer)
        for name in TEMPLATES:  # compile once at start, not on the first question
            self.renderer.env.get_template(f"{name}.j2")

    # ------------------------------------------------------------ entry points

    async def ask(self, question: str, cases: CaseLookup | None = None, viewer: Any = None) -> Answer:
        """Answer a question; register numbers are looked up in ``cases`` when given.

        ``viewer`` (a Person) is checked with ``cases.may_view`` when the lookup offers it.
        """
        ref = case_reference(question)
        if ref is not None and cases is not None:
            return await self._answer_case(ref, cases, viewer)
        return self.answer(question)

    def answer(self, question: str) -> Answer:
        """Answer from the SOP definitions only (no live cases)."""
        ref = case_reference(question)
        if ref is not None:
            return self._render("answer_case_missing", "case_missing", ref=ref, reason="no_lookup")
        q = self.parse(question)
        ranked = self.rank(q)
        if not ranked or not self._on_topic(q, ranked[0]):
            return self._render("answer_not_found", "not_found", question=question.strip()[:200])
        best = ranked[0]
        margin = 1.0 if len(ranked) == 1 else (best.score - ranked[1].score) / best.score
        if margin < AMBIGUOUS_MARGIN and best.named < ranked[1].named + NAMED_LEAD:
            return self._choices(q, ranked[:3], margin)
        return self._answer_sop(q, best, margin)

    def _on_topic(self, q: Question, best: Candidate) -> bool:
        """Whether the best SOP answers the question at all (not one shared word of 'harga cabai di pasar')."""
        if best.score < MIN_SCORE:
            return False
        share = self.index.matched_share(best.sop.id, self.analyzer.question_terms(q.retrieval_words))
        return share >= MIN_SHARE and (share >= SURE_SHARE or best.score >= SURE_SCORE)

    def parse(self, question: str) -> Question:
        return parse(question, self.analyzer.question_words(question))

    # ------------------------------------------------------------ ranking

    def rank(self, q: Question) -> list[Candidate]:
        """SOPs ordered by how well they match the question (only those matching at all)."""
        idx = self.index
        terms = self.analyzer.question_terms(q.retrieval_words)
        if not terms:
            return []
        term_set = set(terms)
        sop_weights = {**SOP_WEIGHTS, **SOP_WEIGHTS_BY_KIND.get(q.kind, {})}
        step_weights = {**STEP_WEIGHTS, **STEP_WEIGHTS_BY_KIND.get(q.kind, {})}
        # institution words say where, not what: only the 'place' field and the institution filter use them
        content = {t: w for t, w in terms.items() if t not in idx.place_terms}
        sop_scores = idx.score_sops(content, {k: v for k, v in sop_weights.items() if k != "place"})
        for sop_id, s in idx.score_sops(terms, {"place": sop_weights["place"]}).items():
            sop_scores[sop_id] = sop_scores.get(sop_id, 0.0) + s
        # a step's words that are also its SOP's title words are already counted by the title field
        step_scores: dict[int, float] = {}
        for term, weight in content.items():
            for i, s in idx.score_steps({term: weight}, step_weights).items():
                if term in idx.title_words[idx.steps[i].sop_id]:
                    s *= TITLE_TERMS_IN_STEPS
                step_scores[i] = step_scores.get(i, 0.0) + s
        best_step: dict[str, float] = {}
        for i, s in step_scores.items():
            sop_id = idx.steps[i].sop_id
            best_step[sop_id] = max(best_step.get(sop_id, 0.0), s)
        pairs = self.analyzer.bigrams(q.retrieval_words)
        step_cover = idx.best_step_coverage(step_scores, term_set, pairs)
        named = idx.institutions_named(q.words)
        out: list[Candidate] = []
        for sop in idx.sops:
            coverage = idx.title_coverage(sop.id, term_set)
            score = sop_scores.get(sop.id, 0.0) + STEP_SHARE * best_step.get(sop.id, 0.0)
            words_share, pairs_share = step_cover.get(sop.id, (0.0, 0.0))
            score += TITLE_BONUS * coverage * coverage + STEP_COVER_SOP * words_share**2 + STEP_PHRASE * pairs_share
            phrase = idx.title_phrase(sop.id, pairs)
            score += TITLE_PHRASE * phrase
            if named and sop.institution not in named:
                score *= OTHER_PLACE
            if score > 0:
                out.append(Candidate(sop, score, coverage, named=coverage * coverage + phrase))
        out.sort(key=lambda c: -c.score)
        return out

    def _score_steps(
        self, cand: Candidate, words: Sequence[str], kind: str, focus_words: Sequence[str] = ()
    ) -> tuple[dict[int, float], float]:
        """Scores of the SOP's steps for some question words, and the best score without title terms."""
        idx = self.index
        sop_id = cand.sop.id
        terms = {t: w for t, w in self.analyzer.question_terms(words).items() if t not in idx.place_terms}
        focus = set(self.analyzer.question_terms(focus_words)) if focus_words else set()
        titles = set().union(*idx.title_terms.get(sop_id, [set()]))
        weights = {**STEP_WEIGHTS, **STEP_WEIGHTS_BY_KIND.get(kind, {})}
        own = {t: w * (FOCUS if t in focus else 1.0) for t, w in terms.items() if t not in titles}
        shared = {t: w * TITLE_TERMS_IN_STEPS for t, w in terms.items() if t in titles}
        main = idx.score_steps_of(sop_id, own, weights)
        extra = idx.score_steps_of(sop_id, shared, weights)
        cover = idx.step_coverage(sop_id, set(terms))
        scores = {
            i: main.get(i, 0.0) + extra.get(i, 0.0) + STEP_COVER * cover.get(i, 0.0) ** 2
            for i in set(main) | set(extra)
        }
        evidence = max(main.values(), default=0.0)
        if any(c >= 0.99 and main.get(i, 0.0) > 0 for i, c in cover.items()):
            # the question spells out a whole step ('Melaksanakan Rakor POK'), title words and all
            evidence = max(evidence, STEP_EVIDENCE)
        return scores, evidence

    # ------------------------------------------------------------ one SOP

    def _answer_sop(self, q: Question, cand: Candidate, margin: float) -> Answer:
        sop = cand.sop
        cand.steps, cand.evidence = self._score_steps(cand, q.retrieval_words, q.kind, q.focus_words)
        kind = q.kind
        if kind == "legal_basis":
            return self._list(q, sop, "legal_basis", sop.legal_basis, margin)
        if kind == "related_sop":
            return self._list(q, sop, "related_sop", [r.text for r in sop.related], margin)
        if kind == "warning":
            return self._render("answer_warning", kind, sop, margin=margin, **self._head(sop))
        if kind == "total_duration":
            return self._total(q, cand, margin)
        if kind == "requirements" and q.equipment:
            return self._list(q, sop, "equipment", sop.equipment, margin)
        if kind in STEP_KINDS and sop.steps:
            if kind == "next_step":
                return self._next(q, cand, margin)
            picked = self._pick_steps(q, cand)
            if picked and kind == "requirements" and q.first_person and sop.requester_started:
                # 'what must I prepare' from a requester: their own first step comes first
                own = next((s for s in sop.steps if s.actor == "requester"), None)
                if own is not None and all(s.actor != "requester" for s in picked):
                    picked = [own, *picked[:1]]
            if picked:
                return self._step_answer(q, sop, picked, margin)
            if kind == "duration":
                return self._total(q, cand, margin)
            if kind == "requirements":
                # no step named: what is needed to start, plus the SOP's equipment
                return self._list(q, sop, "equipment", sop.equipment, margin, first=self._step_view(sop, sop.steps[0]))
            if kind == "output":
                return self._step_answer(q, sop, [sop.steps[-1]], margin)
        return self._overview(q, cand, margin)

    def _pick_steps(self, q: Question, cand: Candidate) -> list[Step]:
        """The step(s) a step question is about: named by number/position, else the best match."""
        sop = cand.sop
        for number in q.step_numbers:
            if sop.has_step(number):
                return [sop.step(number)]
        if q.ordinal is not None and not q.step_numbers:
            pos = len(sop.steps) - 1 if q.ordinal == -1 else q.ordinal - 1
            if 0 <= pos < len(sop.steps) and (q.ordinal in (-1, 1) or cand.evidence < STEP_EVIDENCE):
                return [sop.steps[pos]]
        if cand.evidence < STEP_EVIDENCE or not cand.steps:
            return []
        ranked = sorted(cand.steps.items(), key=lambda kv: (-kv[1], kv[0]))
        picked = [sop.steps[ranked[0][0]]]
        if len(ranked) > 1 and ranked[1][1] >= SECOND_STEP * ranked[0][1]:
            picked.append(sop.steps[ranked[1][0]])
        return sorted(picked, key=lambda s: sop.steps.index(s))

    def _from_step(self, q: Question, cand: Candidate) -> Step | None:
        """The step a 'what comes next' question starts from."""
        sop = cand.sop
        for number in q.step_numbers:
            if sop.has_step(number):
                return sop.step(number)
        scores, evidence = cand.steps, cand.evidence
        if q.after_words:
            after_scores, after_evidence = self._score_steps(cand, q.after_words, "next_step")
            if after_evidence >= STEP_EVIDENCE:
                scores, evidence = after_scores, after_evidence
        if evidence >= STEP_EVIDENCE and scores:
            pos = max(scores.items(), key=lambda kv: (kv[1], -kv[0]))[0]
            return sop.steps[pos]
        if q.ordinal is not None:
            pos = len(sop.steps) - 1 if q.ordinal == -1 else q.ordinal - 1
            if 0 <= pos < len(sop.steps):
                return sop.steps[pos]
        return None

    # ------------------------------------------------------------ answers by kind

    def _step_answer(self, q: Question, sop: Sop, steps: list[Step], margin: float) -> Answer:
        views = [self._step_view(sop, s) for s in steps]
        main = steps[0]
        return self._render(
            "answer_step", q.kind, sop, main.number, margin,
            buttons=[self._step_button(sop, s) for s in steps],
            steps=views, **self._head(sop),
        )

    def _next(self, q: Question, cand: Candidate, margin: float) -> Answer:
        sop = cand.sop
        start = self._from_step(q, cand)
        if start is None:
            if q.ordinal == -1:
                return self._step_answer(q, sop, [sop.steps[-1]], margin)
            return self._overview(q, cand, margin)
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

    def _total(self, q: Question, cand: Candidate, margin: float) -> Answer:
        sop = cand.sop
        first, last = self._range(q, cand)
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
                rows.append({"number": step.number, "duration": step.duration_text, "parsed": d})
            if step.number == last:
                break
        whole = not sop.steps or (first == sop.steps[0].number and last == sop.steps[-1].number)
        counted = [r for r in rows if r["parsed"] is not None]
        return self._render(
            "answer_total", "total_duration", sop, None, margin,
            total=total.format() if counted else None, rows=rows, whole=whole, first=first, last=last,
            missing=[r["number"] for r in rows if r["parsed"] is None], warnings=warnings[:3],
            qualifiers=[f"langkah {r['number']}: {r['duration']}" for r in counted if r["parsed"].qualifier],
            **self._head(sop),
        )

    def _range(self, q: Question, cand: Candidate) -> tuple[str | None, str | None]:
        """First and last step of the range the question names (the whole SOP by default)."""
        sop = cand.sop
        if not sop.steps:
            return None, None
        whole = (sop.steps[0].number, sop.steps[-1].number)
        if q.step_range and all(sop.has_step(n) for n in q.step_range):
            a, b = (sop.step(n) for n in q.step_range)
            ia, ib = sop.steps.index(a), sop.steps.index(b)
            return (a.number, b.number) if ia <= ib else (b.number, a.number)
        if q.range_words:
            ends: list[int] = []
            for words in q.range_words:
                scores, evidence = self._score_steps(cand, words, "total_duration")
                if evidence < STEP_EVIDENCE or not scores:
                    return whole
                ends.append(max(scores.items(), key=lambda kv: (kv[1], -kv[0]))[0])
            lo, hi = sorted(ends)
            return sop.steps[lo].number, sop.steps[hi].number
        return whole

    def _list(
        self, q: Question, sop: Sop, what: str, items: list[str], margin: float, first: dict[str, Any] | None = None
    ) -> Answer:
        return self._render(
            "answer_list", q.kind, sop, None, margin, what=what, items=items, first=first, **self._head(sop)
        )

    def _overview(self, q: Question, cand: Candidate, margin: float) -> Answer:
        sop = cand.sop
        matched = None
        if cand.evidence >= STEP_EVIDENCE and cand.steps:
            pos = max(cand.steps.items(), key=lambda kv: (kv[1], -kv[0]))[0]
            matched = self._step_view(sop, sop.steps[pos])
        roles = list(dict.fromkeys(self.catalog.roles.name(s.actor) for s in sop.steps))
        total = sop.total_duration() if sop.steps else None
        buttons = [self._step_button(sop, sop.step(matched["number"]))] if matched else []
        return self._render(
            "answer_sop", "which_sop", sop, matched["number"] if matched else None, margin,
            buttons=buttons, matched=matched, roles=roles, asked=q.kind,
            show_meta=bool(_META.search(q.joined)), dates=sop.dates, approved_by=sop.approved_by,
            first=self._step_view(sop, sop.steps[0]) if sop.steps else None,
            last=self._step_view(sop, sop.steps[-1]) if sop.steps else None,
            total=total.format() if total and not total.is_zero else None, **self._head(sop),
        )

    def _choices(self, q: Question, cands: list[Candidate], margin: float) -> Answer:
        options = [{"name": c.sop.name, **self._head(c.sop)} for c in cands]
        choices = tuple((c.sop.title[:60], "sop", c.sop.id) for c in cands)
        html = self.renderer.render("answer_choices", options=options)
        return Answer(html, to_plain(html), "choices", choices=choices, confidence=round(margin, 3))

    # ------------------------------------------------------------ live cases

    async def _answer_case(self, ref: str, cases: CaseLookup, viewer: Any) -> Answer:
        case = await cases.case_by_ref(ref)
        may_view = getattr(cases, "may_view", None)
        if case is not None and viewer is not None and may_view is not None and not may_view(viewer, case):
            case = None
        if case is None:
            return self._render("answer_case_missing", "case_missing", ref=ref, reason="not_found")
        wn = await cases.what_next(case.id)
        roles = self.catalog.roles
        current = [
            {
                "step": self._step_view(wn.sop, c.step),
                "holder": c.holder.name if c.holder else None,
                "acting_for": c.acting_for.name if c.acting_for else None,
                "since": c.instance.opened_at,
                "due": c.instance.due_at,
            }
            for c in wn.current
        ]
        following = [{"label": label, "step": self._step_view(wn.sop, s) if s else None} for label, s in wn.following]
        html = self.renderer.render(
            "answer_case", case=case, sop=wn.sop, current=current, following=following,
            role_names=roles, **self._head(wn.sop),
        )
        buttons: tuple[ButtonSpec, ...] = (("Lihat permohonan", "case", str(case.id)),)
        return Answer(html, to_plain(html), "case", wn.sop.id, current[0]["step"]["number"] if current else None,
                      buttons, confidence=1.0)

    # ------------------------------------------------------------ helpers

    def _head(self, sop: Sop) -> dict[str, Any]:
        inst = self.catalog.institutions.get(sop.institution)
        unit = inst.unit(sop.unit) if inst else None
        return {"sop_name": sop.name, "place": inst.name if inst else sop.institution,
                "unit": unit.name if unit else "", "sop_number": sop.number, "warning": sop.warning,
                "steps_missing": sop.steps_missing or not sop.steps, "step_count": len(sop.steps)}

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
        buttons: list[ButtonSpec] | None = None, **context: Any,
    ) -> Answer:
        html = self.renderer.render(template, kind=kind, **context)
        all_buttons: list[ButtonSpec] = [("Buka SOP", "sop", sop.id)] if sop else []
        all_buttons.extend(buttons or [])
        return Answer(
            html, to_plain(html), kind, sop.id if sop else None, step_no, tuple(all_buttons),
            confidence=round(max(0.0, min(1.0, margin)), 3) if sop else 0.0,
        )
