"""Per-field BM25 over the catalog: one document per SOP, one per step.

An SOP document has one field per part of the SOP: its name, its tags (curated keywords and
situation phrases), its unit, the text of all its steps, their inputs and outputs, the intake
form, and each metadata field (Dasar Hukum, Kualifikasi, Keterkaitan, Peralatan, Peringatan,
Pencatatan). Each field is scored with BM25 on its own and the field scores are added with
weights chosen by the kind of question (``FIELD_WEIGHTS``): a question about the legal basis
leans on the Dasar Hukum field, one about a situation on the steps and the intake form.

A step document has the step text, its outputs, requirements, role, note and, for a decision,
its question and branch labels. Steps are scored
twice: over all steps of the catalog (which SOP has a step like this) and over the steps of one
SOP (which of its steps is meant; a word in every step of that SOP does not pick a step).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.qa.situations import SITUATIONS
from bot.qa.synonyms import AGENCY_WORDS, GENERIC_INSTITUTION_WORDS, INSTITUTION_ALIASES
from bot.qa.text import Analyzer, normalise
from bot.sop.catalog import Catalog
from bot.sop.model import Sop, Step

K1 = 1.2
B = 0.75
SOP_K1 = 0.6
"""SOP documents are long and repeat their title in every step: a term saturates early, so what counts is
which of the question's terms an SOP has, not how often it repeats them."""

SOP_FIELDS = ("name", "tags", "unit", "steps", "io", "intake", "legal_basis", "qualifications", "related_sop",
              "equipment", "warning", "records")
STEP_FIELDS = ("text", "outputs", "requirements", "role", "note", "decision")

FIELD_WEIGHTS: dict[str, float] = {
    "name": 3.0, "tags": 2.0, "unit": 0.5, "steps": 1.0, "io": 0.6, "intake": 0.8,
    "legal_basis": 0.2, "qualifications": 0.2, "related_sop": 0.1, "equipment": 0.2, "warning": 0.3, "records": 0.2,
}
"""How much each SOP field counts when choosing the SOP, before the kind of question adjusts it."""
FIELD_WEIGHTS_BY_KIND: dict[str, dict[str, float]] = {
    "legal_basis": {"legal_basis": 1.0, "steps": 0.5, "io": 0.3},
    "qualifications": {"qualifications": 1.0, "steps": 0.5, "io": 0.3},
    "records": {"records": 1.0, "steps": 0.5, "io": 0.3},
    "warning": {"warning": 1.0, "steps": 0.5, "io": 0.3},
    "related_sop": {"steps": 0.5, "io": 0.3},
    "requirements": {"equipment": 0.6, "io": 0.8},
    "output": {"io": 0.8},
}
"""The field a kind of question is answered from also helps to find the SOP; for a question about one field
of the SOP as a whole, the words of its steps say less."""

STEP_WEIGHTS: dict[str, float] = {
    "text": 1.0, "outputs": 0.5, "requirements": 0.3, "role": 0.3, "note": 0.2, "decision": 0.3,
}
STEP_WEIGHTS_BY_KIND: dict[str, dict[str, float]] = {
    "next_step": {"outputs": 0.8},
    "who_handles": {"outputs": 0.6, "role": 0.0, "decision": 0.0},
}
"""A 'who' question names the activity, not the role (and a decision's branches name other people's
steps); 'after X' often names X's output."""

UNKNOWN_SHARE = 0.5
"""How much a typed word no SOP uses counts against the share of the question an SOP explains."""

_OCR_FIX = re.compile(r"'([^']{3,40})'\s*=\s*([A-Za-z][A-Za-z ]{2,40}?)(?=[,.;)]|\s*\(|$)")
"""'Rantuan' = Bantuan — corrections the curators wrote into step warnings."""


@dataclass
class _Field:
    postings: dict[str, dict[int, int]] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)
    avg: float = 1.0


class Bm25:
    """BM25 over documents made of named fields, with one IDF for the whole collection."""

    def __init__(self, docs: list[Mapping[str, list[str]]], k1: float = K1) -> None:
        self.k1 = k1
        self.size = len(docs)
        self.fields: dict[str, _Field] = {}
        df: Counter[str] = Counter()
        names = {name for doc in docs for name in doc}
        for name in names:
            self.fields[name] = _Field(lengths=[0] * self.size)
        for i, doc in enumerate(docs):
            seen: set[str] = set()
            for name, terms in doc.items():
                fld = self.fields[name]
                fld.lengths[i] = len(terms)
                for term, tf in Counter(terms).items():
                    fld.postings.setdefault(term, {})[i] = tf
                seen.update(terms)
            df.update(seen)
        for fld in self.fields.values():
            filled = [n for n in fld.lengths if n]
            fld.avg = sum(filled) / len(filled) if filled else 1.0
        self.df = df
        self.idf: dict[str, float] = {t: self._idf(n) for t, n in df.items()}

    def _idf(self, n: int) -> float:
        return math.log(1 + (self.size - n + 0.5) / (n + 0.5))

    @property
    def unseen_idf(self) -> float:
        """The IDF a term no document has would get (the rarest possible)."""
        return self._idf(0)

    def score(self, terms: Mapping[str, float], weights: Mapping[str, float]) -> dict[int, float]:
        """Weighted sum of per-field BM25 scores for every document matching a term (terms map to their weight)."""
        scores: dict[int, float] = {}
        for term, boost in terms.items():
            idf = self.idf.get(term)
            if idf is None or not boost:
                continue
            idf *= boost
            for name, weight in weights.items():
                fld = self.fields.get(name)
                if fld is None or not weight:
                    continue
                for doc, tf in fld.postings.get(term, {}).items():
                    norm = K1 * (1 - B + B * fld.lengths[doc] / fld.avg)
                    scores[doc] = scores.get(doc, 0.0) + weight * idf * tf * (K1 + 1) / (tf + norm)
        return scores

    def score_bm25f(self, terms: Mapping[str, float], weights: Mapping[str, float]) -> dict[int, float]:
        """BM25F: per term, the field frequencies are weighted and length-normalised first, then saturated once.

        A term found in the name and again in every step counts about as much as a term found in the
        name only; what adds up is the number (and rarity) of the question's terms a document has.
        """
        scores: dict[int, float] = {}
        for term, boost in terms.items():
            idf = self.idf.get(term)
            if idf is None or not boost:
                continue
            pseudo: dict[int, float] = {}
            for name, weight in weights.items():
                fld = self.fields.get(name)
                if fld is None or not weight:
                    continue
                for doc, tf in fld.postings.get(term, {}).items():
                    norm = 1 - B + B * fld.lengths[doc] / fld.avg
                    pseudo[doc] = pseudo.get(doc, 0.0) + weight * tf / norm
            for doc, tf in pseudo.items():
                scores[doc] = scores.get(doc, 0.0) + boost * idf * tf * (self.k1 + 1) / (tf + self.k1)
        return scores

    def has(self, doc: int, term: str) -> bool:
        return any(doc in f.postings.get(term, {}) for f in self.fields.values())


@dataclass(frozen=True)
class StepRef:
    sop_id: str
    number: str
    position: int


def _ocr_fixes(step: Step) -> str:
    """Corrected words the curators noted in a step's warnings ('Rantuan' = Bantuan -> 'Bantuan')."""
    return " ".join(m.group(2) for w in step.warnings for m in _OCR_FIX.finditer(w))


def _decision(step: Step) -> str:
    """A decision step's question and branch labels ('Disetujui → ...', 'Tidak sesuai → ...')."""
    if step.decision is None:
        return ""
    return " ; ".join([step.decision.question, *(b.label for b in step.decision.branches)])


def weights_for(kind: str) -> dict[str, float]:
    return {**FIELD_WEIGHTS, **FIELD_WEIGHTS_BY_KIND.get(kind, {})}


def step_weights_for(kind: str) -> dict[str, float]:
    return {**STEP_WEIGHTS, **STEP_WEIGHTS_BY_KIND.get(kind, {})}


class CatalogIndex:
    """Terms and BM25 postings of every SOP and step of a catalog, built once."""

    def __init__(self, catalog: Catalog, analyzer: Analyzer | None = None) -> None:
        self.catalog = catalog
        self.analyzer = analyzer or Analyzer()
        a = self.analyzer
        self.sops: list[Sop] = list(catalog)
        self.position = {s.id: i for i, s in enumerate(self.sops)}
        self.steps: list[StepRef] = []
        self.place_words: dict[str, set[str]] = self._place_words(catalog)
        sop_docs: list[dict[str, list[str]]] = []
        step_docs: list[dict[str, list[str]]] = []
        self.name_terms: dict[str, list[set[str]]] = {}
        self.name_pairs: dict[str, list[set[tuple[str, str]]]] = {}
        self.steps_of: dict[str, list[int]] = {}
        for sop in self.sops:
            inst = catalog.institutions.get(sop.institution)
            unit = inst.unit(sop.unit) if inst else None
            names = [t for t in dict.fromkeys([sop.name, sop.short_name]) if t]
            self.name_terms[sop.id] = [a.title_terms(t) for t in names]
            self.name_pairs[sop.id] = [a.title_bigrams(t) for t in names]
            sop_docs.append({
                "name": a.document_terms(" ; ".join(names)),
                "tags": a.document_terms(" ; ".join([*sop.keywords, *SITUATIONS.get(sop.id, ())])),
                "unit": a.document_terms(unit.name if unit else ""),
                "steps": a.document_terms(" ; ".join(f"{s.text} {_ocr_fixes(s)} {_decision(s)}" for s in sop.steps)),
                "io": a.document_terms(" ; ".join(x for s in sop.steps for x in [*s.requirements, *s.outputs])),
                "intake": a.document_terms(" ; ".join(f"{f.label} {f.help}" for f in sop.intake)),
                "legal_basis": a.document_terms(" ".join(sop.legal_basis)),
                "qualifications": a.document_terms(" ".join(sop.qualifications)),
                "related_sop": a.document_terms(" ".join(r.text for r in sop.related)),
                "equipment": a.document_terms(" ".join(sop.equipment)),
                "warning": a.document_terms(sop.warning),
                "records": a.document_terms(" ".join(sop.records)),
            })
            for pos, step in enumerate(sop.steps):
                self.steps_of.setdefault(sop.id, []).append(len(self.steps))
                self.steps.append(StepRef(sop.id, step.number, pos))
                step_docs.append({
                    "text": a.document_terms(f"{step.text} {_ocr_fixes(step)}"),
                    "outputs": a.document_terms(" ; ".join(step.outputs)),
                    "requirements": a.document_terms(" ; ".join(step.requirements)),
                    "role": a.document_terms(catalog.roles.name(step.actor)),
                    "note": a.document_terms(step.note),
                    "decision": a.document_terms(_decision(step)),
                })
        a.freeze()
        self.sop_bm25 = Bm25(sop_docs, k1=SOP_K1)
        self.step_bm25 = Bm25(step_docs)
        self.local: dict[str, Bm25] = {
            sop_id: Bm25([step_docs[i] for i in positions]) for sop_id, positions in self.steps_of.items()
        }
        """Per SOP, BM25 over its own steps: a word in every step of the SOP does not pick a step."""
        self.name_words: dict[str, set[str]] = {k: set().union(*v) for k, v in self.name_terms.items()}
        name_df = Counter(t for words in self.name_words.values() for t in words)
        self.name_idf: dict[str, float] = {
            t: math.log(1 + (len(self.sops) - n + 0.5) / (n + 0.5)) for t, n in name_df.items()
        }
        """How rare a word is among SOP names: 'kewilayahan' tells names apart, 'perencanaan' does not."""
        self.place_terms: set[str] = {a.stem(w) for ws in self.place_words.values() for w in ws} | {
            a.stem(w) for w in AGENCY_WORDS
        }

    # ------------------------------------------------------------ institutions

    @staticmethod
    def _place_words(catalog: Catalog) -> dict[str, set[str]]:
        """Words that name one institution: its distinctive name words plus the alias table."""
        counts: Counter[str] = Counter()
        words: dict[str, set[str]] = {}
        for inst in catalog.institutions.values():
            ws = set(normalise(inst.name).split()) - GENERIC_INSTITUTION_WORDS
            words[inst.id] = ws
            counts.update(ws)
        out: dict[str, set[str]] = {}
        for inst_id, ws in words.items():
            own = {w for w in ws if counts[w] == 1 and len(w) > 3}
            out[inst_id] = own | {inst_id} | set(INSTITUTION_ALIASES.get(inst_id, []))
        return out

    def institutions_named(self, words: Iterable[str]) -> set[str]:
        present = set(words)
        return {inst for inst, ws in self.place_words.items() if ws & present}

    # ------------------------------------------------------------ SOPs

    def score_sops(self, terms: Mapping[str, float], weights: Mapping[str, float]) -> dict[str, float]:
        return {self.sops[i].id: s for i, s in self.sop_bm25.score_bm25f(terms, weights).items()}

    def name_match(self, sop_id: str, terms: Mapping[str, float], pairs: set[tuple[str, str]]) -> float:
        """How well the question names this SOP: the F1 between the SOP's name and the question, over
        words and pairs of adjacent words, IDF-weighted (best of name and short name).

        Recall (how much of the name the question repeats) tells '... Bidang Kewilayahan' from
        '... Bidang Pemerintahan, Pembangunan Manusia, ...'; precision (how much of the question
        the name accounts for) keeps a title that only shares the expanded 'RKPD' from winning;
        word pairs tell 'Penyusunan Dokumen ... Bidang Infrastruktur' from 'Sinergisitas ... Bidang
        Infrastruktur', whose single words barely differ. Words weigh how rare they are among SOP
        names (a question word no name has counts as the rarest), a pair the mean of its two words.
        """
        idf = self.name_idf
        rare = math.log(1 + (len(self.sops) + 0.5) / 0.5)
        typed = {t for t, w in terms.items() if w >= 1.0 and t in self.sop_bm25.idf}

        def weight(token: str | tuple[str, str]) -> float:
            if isinstance(token, tuple):
                return (idf.get(token[0], rare) + idf.get(token[1], rare)) / 2
            return idf.get(token, rare)

        asked = sum(weight(t) for t in typed) + sum(weight(p) for p in pairs)
        best = 0.0
        for name, name_pairs in zip(self.name_terms.get(sop_id, []), self.name_pairs.get(sop_id, []), strict=True):
            total = sum(weight(t) for t in name) + sum(weight(p) for p in name_pairs)
            shared = sum(weight(t) * terms[t] for t in name if t in terms) + sum(weight(p) for p in name_pairs & pairs)
            typed_shared = sum(weight(t) for t in name & typed) + sum(weight(p) for p in name_pairs & pairs)
            if total and asked and shared:
                recall, precision = shared / total, typed_shared / asked
                best = max(best, 2 * recall * precision / (recall + precision))
        return best

    def matched_share(self, sop_id: str, groups: Sequence[tuple[set[str], set[str]]]) -> float:
        """IDF-weighted share of the question's words the SOP has (in any field or step).

        A word counts as found when the SOP has it or one of its long forms or synonyms; it weighs
        the IDF of its rarest known form. Typed words the catalog never uses count half, with the
        highest IDF: a question about 'harga cabai' that shares one word with an SOP is not about
        that SOP, while a real question may well carry a few words no SOP has ('lewat WA atau telpon').
        """
        pos = self.position[sop_id]
        idf = self.sop_bm25.idf
        found = total = 0.0
        for typed, added in groups:
            known = [t for t in typed | added if t in idf]
            if not known:
                if typed:
                    total += UNKNOWN_SHARE * self.sop_bm25.unseen_idf
                continue
            mass = max(idf[t] for t in known)
            total += mass
            if any(self.sop_bm25.has(pos, t) for t in known):
                found += mass
        return found / total if total else 0.0

    # ------------------------------------------------------------ steps

    def best_steps(
        self, terms: Mapping[str, float], weights: Mapping[str, float], name_share: float
    ) -> dict[str, float]:
        """Per SOP, the BM25F score of its best matching step (IDF over every step of the catalog).

        Words of the SOP's own name count ``name_share`` in its steps: a step that repeats the
        SOP's title is no extra evidence that the question describes one of its activities.
        """
        per_step: dict[int, float] = {}
        for term, weight in terms.items():
            for i, s in self.step_bm25.score_bm25f({term: weight}, weights).items():
                if term in self.name_words[self.steps[i].sop_id]:
                    s *= name_share
                per_step[i] = per_step.get(i, 0.0) + s
        best: dict[str, float] = {}
        for i, s in per_step.items():
            sop_id = self.steps[i].sop_id
            best[sop_id] = max(best.get(sop_id, 0.0), s)
        return best

    def score_steps_of(self, sop_id: str, terms: Mapping[str, float], weights: Mapping[str, float]) -> dict[int, float]:
        """BM25F scores of one SOP's steps by position in ``sop.steps`` (IDF over that SOP's steps)."""
        local = self.local.get(sop_id)
        return local.score_bm25f(terms, weights) if local else {}

    def local_idf(self, sop_id: str, term: str) -> float:
        local = self.local.get(sop_id)
        return local.idf.get(term, 0.0) if local else 0.0
