"""A small BM25 index over the catalog: one document per SOP and one per step.

Each document has named fields (title, keywords, step text, outputs, ...). A field is scored
with BM25 on its own and the field scores are added with weights the caller chooses per
question, so a question about outputs can lean on the step text while a question about
what comes after a document leans on outputs. Postings are built once; scoring ~200 step
documents for a ten-term question takes well under a millisecond.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.qa.synonyms import AGENCY_WORDS, GENERIC_INSTITUTION_WORDS, INSTITUTION_ALIASES
from bot.qa.text import Analyzer, normalise
from bot.sop.catalog import Catalog
from bot.sop.model import Sop, Step

K1 = 1.2
B = 0.75
_OCR_FIX = re.compile(r"'([^']{3,40})'\s*=\s*([A-Za-z][A-Za-z ]{2,40}?)(?=[,.;)]|\s*\(|$)")
"""'Rantuan' = Bantuan — corrections the curators wrote into step warnings."""


@dataclass
class _Field:
    postings: dict[str, dict[int, int]] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)
    avg: float = 1.0


class Bm25:
    """BM25 over documents made of named fields, with one IDF for the whole collection."""

    def __init__(self, docs: list[Mapping[str, list[str]]]) -> None:
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
        self.idf: dict[str, float] = {
            t: math.log(1 + (self.size - n + 0.5) / (n + 0.5)) for t, n in df.items()
        }

    def score(self, terms: Iterable[str] | Mapping[str, float], weights: Mapping[str, float]) -> dict[int, float]:
        """Weighted sum of per-field BM25 scores for every document matching a term.

        ``terms`` counts each distinct term once, or maps terms to their weight in the question.
        """
        scores: dict[int, float] = {}
        boosts = terms if isinstance(terms, Mapping) else dict.fromkeys(terms, 1.0)
        for term, boost in boosts.items():
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


@dataclass(frozen=True)
class StepRef:
    sop_id: str
    number: str
    position: int


def _ocr_fixes(step: Step) -> str:
    """Corrected words the curators noted in a step's warnings ('Rantuan' = Bantuan -> 'Bantuan')."""
    return " ".join(m.group(2) for w in step.warnings for m in _OCR_FIX.finditer(w))


class CatalogIndex:
    """Terms and BM25 postings of every SOP and step of a catalog, built once."""

    SOP_FIELDS = ("title", "keywords", "place", "unit", "meta", "legal", "related", "equipment", "warning")
    STEP_FIELDS = ("text", "outputs", "requirements", "role", "note", "handover")

    def __init__(self, catalog: Catalog, analyzer: Analyzer | None = None) -> None:
        self.catalog = catalog
        self.analyzer = analyzer or Analyzer()
        a = self.analyzer
        self.sops: list[Sop] = list(catalog)
        self.steps: list[StepRef] = []
        self.step_text_terms: list[set[str]] = []
        self.step_text_pairs: list[set[tuple[str, str]]] = []
        sop_docs: list[dict[str, list[str]]] = []
        step_docs: list[dict[str, list[str]]] = []
        self.title_terms: dict[str, list[set[str]]] = {}
        self.title_pairs: dict[str, list[set[tuple[str, str]]]] = {}
        self.place_words: dict[str, set[str]] = self._place_words(catalog)
        for sop in self.sops:
            inst = catalog.institutions.get(sop.institution)
            unit = inst.unit(sop.unit) if inst else None
            place = " ".join([sop.institution, *(self.place_words.get(sop.institution, ())), inst.name if inst else ""])
            sop_docs.append({
                "title": a.document_terms(f"{sop.name} {sop.short_name}"),
                "keywords": a.document_terms(" ; ".join(sop.keywords)),
                "place": a.document_terms(place),
                "unit": a.document_terms(unit.name if unit else ""),
                "meta": a.document_terms(" ".join([*sop.qualifications, *sop.records, *sop.notes])),
                "legal": a.document_terms(" ".join(sop.legal_basis)),
                "related": a.document_terms(" ".join(r.text for r in sop.related)),
                "equipment": a.document_terms(" ".join(sop.equipment)),
                "warning": a.document_terms(sop.warning),
            })
            titles = [t for t in dict.fromkeys([sop.name, sop.short_name]) if t]
            self.title_terms[sop.id] = [a.title_terms(t) for t in titles]
            self.title_pairs[sop.id] = [a.title_bigrams(t) for t in titles]
            for pos, step in enumerate(sop.steps):
                self.steps.append(StepRef(sop.id, step.number, pos))
                after = sop.next_step(step) if not step.decision else None
                self.step_text_terms.append(set(a.document_terms(step.text)))
                self.step_text_pairs.append(a.bigrams(a.document_words(step.text)))
                step_docs.append({
                    "text": a.document_terms(step.text),
                    "outputs": a.document_terms(" ; ".join(step.outputs)),
                    "requirements": a.document_terms(" ; ".join(step.requirements)),
                    "role": a.document_terms(catalog.roles.name(step.actor)),
                    "note": a.document_terms(f"{step.note} {_ocr_fixes(step)}"),
                    "handover": a.document_terms(" ; ".join(after.requirements)) if after else [],
                })
        a.freeze()
        self.sop_bm25 = Bm25(sop_docs)
        self.step_bm25 = Bm25(step_docs)
        self.sop_position = {s.id: i for i, s in enumerate(self.sops)}
        self.title_words: dict[str, set[str]] = {k: set().union(*v) for k, v in self.title_terms.items()}
        self.steps_of: dict[str, list[int]] = {}
        for i, ref in enumerate(self.steps):
            self.steps_of.setdefault(ref.sop_id, []).append(i)
        self.local: dict[str, Bm25] = {
            sop_id: Bm25([step_docs[i] for i in positions]) for sop_id, positions in self.steps_of.items()
        }
        """Per SOP, BM25 over its own steps: a word in every step of the SOP does not pick a step."""
        self.place_terms: set[str] = {
            a.stem(w) for ws in self.place_words.values() for w in ws
        } | {a.stem(w) for w in AGENCY_WORDS}

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

    def title_coverage(self, sop_id: str, terms: set[str]) -> float:
        """IDF-weighted share of the SOP's title terms that the question contains (best of name/short name)."""
        best = 0.0
        idf = self.sop_bm25.idf
        for title in self.title_terms.get(sop_id, []):
            total = sum(idf.get(t, 0.0) for t in title)
            if total:
                best = max(best, sum(idf.get(t, 0.0) for t in title & terms) / total)
        return best

    def matched_share(self, sop_id: str, terms: Mapping[str, float]) -> float:
        """IDF-weighted share of the question's terms found anywhere in the SOP (fields or steps).

        Terms the catalog never uses count with a high IDF: a question about 'harga cabai' that
        happens to share one word with an SOP is not about that SOP.
        """
        pos = self.sop_position[sop_id]
        steps = set(self.steps_of.get(sop_id, []))
        unknown = math.log(1 + (self.step_bm25.size - 0.5) / 1.5)
        found = total = 0.0
        for term, weight in terms.items():
            known = term in self.step_bm25.idf or term in self.sop_bm25.idf
            if not known and weight < 1.0:
                continue  # an unknown long form the question only gained from an abbreviation
            idf = self.step_bm25.idf.get(term, self.sop_bm25.idf.get(term, unknown)) * weight
            total += idf
            in_sop = any(pos in f.postings.get(term, {}) for f in self.sop_bm25.fields.values())
            if in_sop or any(steps & f.postings.get(term, {}).keys() for f in self.step_bm25.fields.values()):
                found += idf
        return found / total if total else 0.0

    def title_phrase(self, sop_id: str, pairs: set[tuple[str, str]]) -> float:
        """Share of the title's consecutive word pairs found in the question (best of name/short name):
        tells 'Koordinasi Penyusunan Dokumen ... Bidang Pemerintahan' from '... Sinergisitas ... Bidang
        Pemerintahan, Pembangunan Manusia, ...' where single words barely differ."""
        return max((len(t & pairs) / len(t) for t in self.title_pairs.get(sop_id, []) if t), default=0.0)

    def score_sops(self, terms: list[str], weights: Mapping[str, float]) -> dict[str, float]:
        return {self.sops[i].id: s for i, s in self.sop_bm25.score(terms, weights).items()}

    def score_steps(self, terms: list[str], weights: Mapping[str, float]) -> dict[int, float]:
        return self.step_bm25.score(terms, weights)

    def score_steps_of(
        self, sop_id: str, terms: Iterable[str] | Mapping[str, float], weights: Mapping[str, float]
    ) -> dict[int, float]:
        """Scores of one SOP's steps by position in ``sop.steps`` (IDF over that SOP's steps)."""
        local = self.local.get(sop_id)
        return local.score(terms, weights) if local else {}

    def best_step_coverage(
        self, step_scores: Mapping[int, float], terms: set[str], pairs: set[tuple[str, str]]
    ) -> dict[str, tuple[float, float]]:
        """Per SOP, the largest share of one step's text the question repeats: (IDF-weighted words, word pairs)."""
        idf = self.step_bm25.idf
        out: dict[str, tuple[float, float]] = {}
        for i in step_scores:
            text = self.step_text_terms[i]
            if len(text) < 2:
                continue
            total = sum(idf.get(t, 0.0) for t in text)
            if total:
                share = sum(idf.get(t, 0.0) for t in text & terms) / total
                text_pairs = self.step_text_pairs[i]
                pair_share = len(text_pairs & pairs) / len(text_pairs) if text_pairs else 0.0
                sop_id = self.steps[i].sop_id
                best = out.get(sop_id, (0.0, 0.0))
                out[sop_id] = (max(best[0], share), max(best[1], pair_share))
        return out

    def step_coverage(self, sop_id: str, terms: set[str]) -> dict[int, float]:
        """Per step of an SOP, the IDF-weighted share of its text that the question repeats."""
        local = self.local.get(sop_id)
        if local is None:
            return {}
        out: dict[int, float] = {}
        for pos, i in enumerate(self.steps_of[sop_id]):
            text = self.step_text_terms[i]
            if len(text) < 2:
                continue
            total = sum(local.idf.get(t, 0.0) for t in text)
            if total:
                out[pos] = sum(local.idf.get(t, 0.0) for t in text & terms) / total
        return out
