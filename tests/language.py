"""What a Telegram user reads must be clean Indonesian: finds English words, seed line references and
curator notes in a text.

English is told from Indonesian by word frequency in each language (wordfreq): a word counts as English
when it is common in English and clearly rarer in Indonesian, so loanwords Indonesian officials use
every day (data, target, status, detail, draft, monitoring, laptop) pass while 'completed', 'the' or
'end' do not. Values stored in the database (state names, notice kinds, role ids) are English words
or identifiers a user must never see; they are flagged whatever their frequency.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment
from wordfreq import zipf_frequency

from bot.core import states
from bot.sop.catalog import load_catalog

ALLOWED = {
    # product and protocol names, abbreviations officials write
    "alur", "telegram", "pdf", "sop", "opd", "wib", "wita", "wit", "id", "ok", "hp", "whatsapp", "email",
    "sipd", "e", "planning", "bappeda", "kabid", "plh", "plt", "tu", "ukp", "atk",
    # SOP vocabulary of the Permenpan-RB format and printed SOP texts shown in the tests' stories
    "output", "handphone", "laptop", "internet", "register", "monev",
}
"""Words allowed although they look English: product names, abbreviations and SOP column names."""

STORED = {
    str(member.value)
    for enum in (states.CaseState, states.StepState, states.StepOutcome, states.OutboxState, states.NoticeKind,
                 states.EventType, states.AlarmKind, states.PromptKind, states.PersonKind, states.UpdateState)
    for member in enum
} - {"output", "intake", "escalated"}
"""Values stored in the database: a user reading one of these reads the machine's word."""

_WORD = re.compile(r"[A-Za-z][A-Za-z_]*")
_PATH_OR_FILE = re.compile(r"\S*/\S*|\S+\.(?:pdf|xlsx?|docx?|jpe?g|png|txt|yaml|sqlite3)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_REGISTER = re.compile(r"\b[A-Z]{2,5}-[A-Z0-9]{2,6}-\d{4}-\d{4}\b")

SEED_REFERENCES = [
    re.compile(r"\bbaris \d+", re.IGNORECASE),
    re.compile(r"\blines? \d+", re.IGNORECASE),
    re.compile(r"\b\d{3}_[0-9a-f]{16}(?:\.txt)?\b"),
    re.compile(r"\bseeds?/"),
    re.compile(r"berkas sumber", re.IGNORECASE),
]
"""References to the seed texts the SOPs were curated from."""

CURATOR_NOTES = [
    re.compile(r"\b[BKORST]\d{2}\b"),  # the curators' defect codes (T04, K11, O01, ...)
    re.compile(r"\bOCR\b"),
    re.compile(r"\btercetak\b", re.IGNORECASE),
    re.compile(r"\bdi sumber\b|dokumen sumber|\bsumber\)", re.IGNORECASE),
    re.compile(r"tidak tertulis", re.IGNORECASE),
    re.compile(r"\bdisimpulkan\b", re.IGNORECASE),
    re.compile(r"salah ketik", re.IGNORECASE),
    re.compile(r"disalin dari", re.IGNORECASE),
    re.compile(r"\(= ?\w"),
    re.compile(r"langkah sejajar", re.IGNORECASE),
    re.compile(r"\bproksi\b", re.IGNORECASE),
]
"""How the curators' notes read ("pelaksana tidak tertulis di sumber", "(label 'Ya' tercetak ..., K11)")."""

_SOP_IDS = {s.id for s in load_catalog()}


@dataclass(frozen=True)
class Finding:
    where: str
    what: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what} in {self.text[:160]!r}"


def is_english(word: str) -> bool:
    w = word.lower()
    if w in ALLOWED or len(w) < 3:
        return False
    if w in STORED or "_" in w:
        return True
    en, idn = zipf_frequency(w, "en"), zipf_frequency(w, "id")
    return en >= 3.0 and en - idn >= 1.0


def _visible(text: str) -> str:
    text = html.unescape(_TAG.sub(" ", text))
    text = _PATH_OR_FILE.sub(" ", text)
    return _REGISTER.sub(" ", text)


def english_words(text: str) -> list[str]:
    visible = _visible(text)
    for sop_id in _SOP_IDS:  # ids are named in a few admin lines; never English prose
        visible = visible.replace(sop_id, " ")
    return sorted({w for w in _WORD.findall(visible) if is_english(w)})


def problems(where: str, text: str) -> list[Finding]:
    found = [Finding(where, f"English word '{w}'", text) for w in english_words(text)]
    untagged = html.unescape(_TAG.sub(" ", text))
    for pattern in SEED_REFERENCES:
        found.extend(Finding(where, f"seed reference '{m.group(0)}'", text) for m in pattern.finditer(untagged))
    visible = _visible(text)
    for pattern in CURATOR_NOTES:
        found.extend(Finding(where, f"curator note '{m.group(0)}'", text) for m in pattern.finditer(visible))
    return found


def check_all(items: Iterable[tuple[str, str]]) -> list[Finding]:
    out: list[Finding] = []
    for where, text in items:
        out.extend(problems(where, text))
    return out


# ---- templates: the literal text of each template, not its code


def template_texts(folder: Path) -> list[tuple[str, str]]:
    """(template:line, text) for every piece of text a template writes: the literal text between tags and
    every string literal that is output, not compared, looked up or passed as a name."""
    env = Environment()
    out: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*.j2")):
        source = path.read_text(encoding="utf-8")
        tokens = list(env.lex(source))
        markup = path.name.endswith(".svg.j2")
        in_tag = False
        for i, (line, kind, value) in enumerate(tokens):
            where = f"{path.name}:{line}"
            if kind == "data" and markup:  # a picture: only what is drawn as text, not its tags and attributes
                value, in_tag = _outside_tags(value, in_tag)
                out.append((where, value))
            elif kind == "data":
                out.append((where, value))
            elif kind == "string" and not markup and _is_output_string(tokens, i):
                out.append((where, _strip_format(value[1:-1])))
    return out


def _outside_tags(text: str, in_tag: bool) -> tuple[str, bool]:
    """The characters of ``text`` outside markup tags; a tag may begin in an earlier piece of the template."""
    kept = []
    for ch in text:
        if ch == "<":
            in_tag = True
        elif ch == ">" and in_tag:
            in_tag = False
            kept.append(" ")
        elif not in_tag:
            kept.append(ch)
    return "".join(kept), in_tag


def _neighbour(tokens: list[tuple[int, str, str]], i: int, step: int) -> tuple[str, str]:
    j = i + step
    while 0 <= j < len(tokens) and tokens[j][1] == "whitespace":
        j += step
    return (tokens[j][1], tokens[j][2]) if 0 <= j < len(tokens) else ("", "")


def _is_output_string(tokens: list[tuple[int, str, str]], i: int) -> bool:
    value = tokens[i][2][1:-1]
    before, after = _neighbour(tokens, i, -1), _neighbour(tokens, i, 1)
    if value.endswith(".j2") or after == ("operator", ":"):  # an include, or a dict key (a code)
        return False
    if before in {("operator", "=="), ("operator", "!="), ("name", "in"), ("name", "is"), ("operator", "=")}:
        return False
    if before == ("operator", "("):  # the name of an attribute or key: selectattr("x"), get("x")
        j = i - 1
        while tokens[j][1] == "whitespace" or tokens[j][2] == "(":
            j -= 1
        return tokens[j][2] not in {"get", "startswith", "selectattr", "rejectattr", "map", "attr", "sort"}
    return True


def _strip_format(value: str) -> str:
    return re.sub(r"%[-0-9.]*[sdf%]", " ", value)
