"""Text handling for question answering: normalisation, chat words, abbreviations, stemming, typos.

SOP texts and questions go through the same steps so that they meet as the same terms:
normalise (lower case, accents and look-alike letters folded, punctuation to spaces), rewrite
spelling variants, add long forms of abbreviations, drop stop words, stem with Sastrawi.
Questions additionally get chat words rewritten ('yg', 'brp', 'abis'), English words
translated, typos corrected against the vocabulary of the catalog (rapidfuzz) and
colloquial affixes undone ('ngedampingin' -> 'dampingi', 'nyerahin' -> 'serahi').

Stemming is slow compared to everything else, so stems and corrections are cached, in caches of
a fixed size (junk questions must not grow the process), and a question is analysed up to
``MAX_QUESTION_WORDS`` words with at most ``MAX_FUZZY`` typo look-ups: a pasted 4,000-character
text costs about what a long question costs.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz, process
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

from bot.qa.synonyms import (
    ABBREVIATIONS,
    CANONICAL,
    ENGLISH,
    ENGLISH_COMMON,
    FILLERS,
    INFORMAL,
    STOPWORDS,
    SYNONYMS,
)

_CONFUSABLES = str.maketrans(
    {"а": "a", "е": "e", "о": "o", "р": "r", "с": "c", "х": "x", "н": "n", "к": "k", "м": "m", "т": "t",
     "і": "i", "у": "y", "А": "A", "Е": "E", "О": "O", "Р": "R", "С": "C", "Н": "N", "К": "K", "М": "M"}
)
"""Cyrillic letters OCR put into Latin words ('Kuisiонер')."""

MIN_FUZZY_LENGTH = 6
MAX_FUZZY_LENGTH = 24
"""Longer 'words' are pasted junk (URLs, hashes), never a typo of an SOP word."""
MAX_FUZZY = 8
"""Typo look-ups per question; further unknown words stay as typed."""
MAX_QUESTION_WORDS = 60
"""Words of a question that are analysed (the longest question of the public sets has 29)."""
MAX_STEMS = 12
"""Words a question may send to the stemmer (0.1-2 ms each); the rest are used as typed."""
_AFFIXED = re.compile(r"^(?:di|ke|se|be|te|me|pe)|(?:i|an|kan|nya|lah|kah|pun|ku|mu)$")
"""A word Sastrawi could change: it starts with a prefix or ends with a suffix it removes."""
CACHE_SIZE = 20_000
"""Entries per word cache (stems, resolved words); the least recently used go first."""
FUZZY_CUTOFF = 85
"""rapidfuzz ratio a typo needs ('infromasi' 89, 'perlengkapn' 96; 'mengapa'/'mendapat' 80 is refused)."""

_UNTIL = re.compile(r"\bs\s*[./]\s*d\b\.?")
_REDUPLICATED = re.compile(r"\b([a-z]{3,})2(nya)?\b")
"""'alat2', 'usulan2': chat shorthand for 'alat-alat', 'usulan-usulan'."""
_NON_WORD = re.compile(r"[^0-9a-z]+")
_MAX_PHRASE = 3


def normalise(text: str) -> str:
    """Lower case ASCII words separated by single spaces ('s.d.' becomes 'sampai', '&' 'dan')."""
    text = unicodedata.normalize("NFKD", text.translate(_CONFUSABLES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _UNTIL.sub(" sampai ", text)
    text = _REDUPLICATED.sub(r"\1\2", text)
    text = text.replace("&", " dan ").replace("'s ", " ").replace("’s ", " ")
    return " ".join(_NON_WORD.sub(" ", text).split())


def _phrase_table(table: dict[str, str]) -> dict[tuple[str, ...], list[str]]:
    return {tuple(normalise(k).split()): normalise(v).split() for k, v in table.items() if normalise(k)}


_CANONICAL = _phrase_table(CANONICAL)
_ABBREVIATIONS = _phrase_table(ABBREVIATIONS)
_ENGLISH = _phrase_table(ENGLISH)
_SYNONYMS = _phrase_table(SYNONYMS)
_INFORMAL = {k: normalise(v).split() for k, v in INFORMAL.items()}


EXPANDED = "~"
"""Prefix of words a question gained from an abbreviation ('kaban' -> '~kepala ~badan')."""
EXPANSION_WEIGHT = 0.6
"""Weight of such words: the abbreviation itself, where a text uses it, is the sharper match."""


def rewrite(
    words: Sequence[str], table: dict[tuple[str, ...], list[str]], *, keep: bool, mark: str = ""
) -> list[str]:
    """Replace (or, with ``keep``, extend) the longest phrases of ``words`` found in ``table``.

    Words added by ``keep`` carry the prefix ``mark``.
    """
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
            key = tuple(words[i : i + size])
            if key in table:
                if keep:
                    out.extend(key)
                    out.extend(mark + w for w in table[key] if w not in key)
                else:
                    out.extend(table[key])
                i += size
                break
        else:
            out.append(words[i])
            i += 1
    return out


def _colloquial_forms(word: str) -> list[str]:
    """Standard spellings a colloquial word may stand for ('ngedampingin' -> 'dampingi', ...)."""
    stems = {word}
    for suffix, repl in (("nya", ""), ("in", "i"), ("in", "kan"), ("in", ""), ("an", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stems.add(word[: -len(suffix)] + repl)
    out: list[str] = []
    for w in stems:
        out.append(w)
        if w.startswith("nge") and len(w) > 5:
            out.append(w[3:])
        if w.startswith("ng") and len(w) > 4 and w[2] in "aiueo":
            out.extend([w[2:], "k" + w[2:]])
        if w.startswith("ny") and len(w) > 4 and w[2] in "aiueo":
            out.append("s" + w[2:])
        if w.startswith("n") and len(w) > 3 and w[1] in "aiueo":
            out.append("t" + w[1:])
        if w.startswith("m") and len(w) > 3 and w[1] in "aiueo":
            out.append("p" + w[1:])
        if w.startswith("di") and len(w) > 5:
            out.append(w[2:])
    return [w for w in dict.fromkeys(out) if w != word]


def _english_stems(word: str) -> list[str]:
    """Base forms of an inflected English word ('verifying' -> 'verify', 'validating' -> 'validate')."""
    out: list[str] = []
    for suffix, repl in (("ing", ""), ("ing", "e"), ("ied", "y"), ("ies", "y"), ("ed", ""), ("ed", "e"),
                         ("es", ""), ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.append(word[: -len(suffix)] + repl)
    return out


class BoundedCache(OrderedDict[str, "list[str] | str"]):
    """A dict that forgets its least recently used entries beyond ``size``."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        super().__init__()
        self.size = size

    def lookup(self, key: str) -> list[str] | str | None:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def store(self, key: str, value: list[str] | str) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class Analyzer:
    """Turns SOP texts and questions into stemmed terms; learns the catalog's vocabulary.

    Feed every SOP text through :meth:`document_terms` first (that builds the vocabulary),
    then call :meth:`freeze`; questions go through :meth:`question_words` and :meth:`terms`.
    """

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        # Sastrawi's own CachedStemmer keeps every word it ever saw: use the stemmer behind it, with our bounded cache
        self._stemmer = StemmerFactory().create_stemmer().delegatedStemmer
        self._stem_budget: int | None = None
        self._stems = BoundedCache()
        self._resolved = BoundedCache()
        self.vocabulary: set[str] = set()
        """Normalised surface words seen in SOP texts."""
        self.known_stems: set[str] = set()
        self._targets: set[str] = set(extra_words)
        """Words a typo may be corrected into besides the catalog's own words (question cue words)."""
        self._protected: set[str] = set(STOPWORDS) | FILLERS | set(extra_words) | ENGLISH_COMMON
        for table in (INFORMAL, CANONICAL, ABBREVIATIONS, ENGLISH, SYNONYMS):
            for key in table:
                self._protected.update(normalise(key).split())
        self._choices: dict[str, list[str]] = {}
        self._long_forms: list[tuple[str, set[str]]] = [
            (self.stem(key[0]), set(self.terms(value)))
            for key, value in _ABBREVIATIONS.items() if len(key) == 1 and len(value) > 1
        ]

    # ------------------------------------------------------------------ stemming

    def stem(self, word: str) -> str:
        cached = self._stems.lookup(word)
        if cached is None:
            if len(word) <= 3 or word.isdigit() or len(word) > 40 or not _AFFIXED.search(word):
                return word
            if self._stem_budget is not None:
                if self._stem_budget <= 0:
                    return word  # this question has used its share of the stemmer
                self._stem_budget -= 1
            cached = self._stemmer.stem_word(word) or word
            self._stems.store(word, cached)
        return str(cached)

    @property
    def cache_limit(self) -> int:
        return self._stems.size

    def cache_sizes(self) -> tuple[int, int]:
        """(stems, resolved words) currently cached."""
        return len(self._stems), len(self._resolved)

    # ------------------------------------------------------------------ SOP texts

    def document_words(self, text: str) -> list[str]:
        """Normalised words of an SOP text. Abbreviations are not expanded here: the question
        side adds both directions (long forms of its abbreviations, abbreviations of its long
        forms), which keeps SOP documents their true length for BM25."""
        return rewrite(normalise(text).split(), _CANONICAL, keep=False)

    def document_terms(self, text: str) -> list[str]:
        """Stemmed content terms of an SOP text (and remember its words for typo correction)."""
        words = self.document_words(text)
        self.vocabulary.update(w for w in words if not w.isdigit())
        terms = self.terms(words)
        self.known_stems.update(terms)
        return terms

    def title_terms(self, text: str) -> set[str]:
        """Stemmed terms of a title as written (abbreviations not expanded)."""
        return set(self.terms(rewrite(normalise(text).split(), _CANONICAL, keep=False)))

    def bigrams(self, words: Iterable[str]) -> set[tuple[str, str]]:
        """Pairs of consecutive content terms (stop words skipped, added long forms ignored)."""
        terms = self.terms(w for w in words if not w.startswith(EXPANDED))
        return set(itertools.pairwise(terms))

    def title_bigrams(self, text: str) -> set[tuple[str, str]]:
        return self.bigrams(rewrite(normalise(text).split(), _CANONICAL, keep=False))

    def contractions(self, terms: set[str]) -> set[str]:
        """Abbreviations whose every long-form term is among ``terms`` ('rencana kerja ...' -> 'rkpd')."""
        return {short for short, long in self._long_forms if long and long <= terms}

    def freeze(self) -> None:
        """Fix the vocabulary used to correct typos (call once every SOP text is in)."""
        self._choices = {}
        for w in sorted(self.vocabulary | self._targets):
            if len(w) >= 5 and not w.isdigit():
                self._choices.setdefault(w[0], []).append(w)
        self._resolved.clear()

    # ------------------------------------------------------------------ questions

    def question_words(self, text: str) -> list[str]:
        """Normalised words of a question: chat words rewritten, typos corrected, English translated."""
        words: list[str] = []
        budget = [MAX_FUZZY]
        self._stem_budget = MAX_STEMS
        for raw in normalise(text).split()[:MAX_QUESTION_WORDS]:
            words.extend(self.resolve(raw, budget))
        words = rewrite(words, _ENGLISH, keep=False)
        words = rewrite(words, _CANONICAL, keep=False)
        words = rewrite(words, _ABBREVIATIONS, keep=True, mark=EXPANDED)
        return rewrite(words, _SYNONYMS, keep=True, mark=EXPANDED)

    def resolve(self, word: str, budget: list[int] | None = None) -> list[str]:
        """One typed word as standard word(s): chat word, known word, colloquial form or typo fix.

        ``budget`` holds the typo look-ups the question may still spend (None: no limit).
        """
        cached = self._resolved.lookup(word)
        if cached is not None:
            return list(cached)
        fuzzy = budget is None or budget[0] > 0
        result, looked_up = self._resolve(word, fuzzy)
        if looked_up and budget is not None:
            budget[0] -= 1
        if fuzzy:
            self._resolved.store(word, result)
        return result

    def _resolve(self, word: str, fuzzy: bool = True) -> tuple[list[str], bool]:
        """The standard form(s) of a word, and whether a typo look-up was spent on it."""
        if word in _INFORMAL:
            return _INFORMAL[word], False
        if word.isdigit() or len(word) <= 3 or word in self.vocabulary or word in self._protected:
            return [word], False
        if len(word) > MAX_FUZZY_LENGTH:
            return [word], False
        if self.stem(word) in self.known_stems:
            return [word], False
        forms = _colloquial_forms(word)
        for form in forms:  # a spelling the catalog uses as it is, before asking the stemmer about any
            if form in self.vocabulary:
                return [form], False
        for form in forms:
            if self.stem(form) in self.known_stems:
                return [form], False
        for form in _english_stems(word):
            if (form,) in _ENGLISH or (form,) in _ABBREVIATIONS or form in self.vocabulary:
                return [form], False
        if not fuzzy:
            return [word], False
        choices = self._choices.get(word[0])
        if choices and len(word) >= MIN_FUZZY_LENGTH:
            # only longer words, only into words of the catalog (or cue words), same first letter:
            # English or everyday words must not turn into SOP words ('together' -> 'altogether')
            match = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            return ([match[0]] if match else [word]), True
        return [word], False

    def question_terms(self, words: Iterable[str]) -> dict[str, float]:
        """Stemmed terms of question words with their weight, plus abbreviations of spelled-out long forms.

        Words typed by the user weigh 1; words only added as the long form of an abbreviation
        weigh ``EXPANSION_WEIGHT``.
        """
        out: dict[str, float] = {}
        for word in words:
            weight = EXPANSION_WEIGHT if word.startswith(EXPANDED) else 1.0
            if (word,) in _ABBREVIATIONS and self.stem(word) not in self.known_stems:
                continue  # the SOP texts never use this abbreviation: its long form carries the meaning
            for term in self.terms([word.lstrip(EXPANDED)]):
                out[term] = max(out.get(term, 0.0), weight)
        for term in self.contractions({t for t, w in out.items() if w == 1.0}):
            if term in self.known_stems:
                out.setdefault(term, 1.0)
        return out

    def question_groups(self, words: Sequence[str]) -> list[tuple[set[str], set[str]]]:
        """Per typed word, its terms and the terms of the long forms and synonyms added after it.

        A typed word and what was added for it are alternatives: 'musrenbang' is matched by an SOP
        that says 'Musrenbang' or 'Musyawarah Perencanaan Pembangunan'.
        """
        groups: list[tuple[set[str], set[str]]] = []
        for word in words:
            if word.startswith(EXPANDED):
                if groups:
                    groups[-1][1].update(self.terms([word]))
                continue
            groups.append((set(self.terms([word])), set()))
        return [g for g in groups if g[0] or g[1]]

    def terms(self, words: Iterable[str]) -> list[str]:
        """Stemmed terms of already normalised words, stop words and single letters left out."""
        out = []
        for w in (w.lstrip(EXPANDED) for w in words):
            if w in STOPWORDS or w in FILLERS or w in ENGLISH_COMMON or (len(w) < 2 and not w.isdigit()):
                continue
            stem = self.stem(w)
            if stem not in STOPWORDS:  # 'diperlukan', 'tahapannya', 'dijumlahkan' are question words too
                out.append(stem)
        return out
