"""Actor guessing: who performs a step (from its text, its output or the Pelaksana lanes), and which
institution and unit a text belongs to."""

from __future__ import annotations

import re

from bot.sop.institutions import Institution
from bot.sop.roles import RoleBook, normalise

_LEAD_WORDS = {"bapak", "ibu", "disposisi", "masing", "seluruh", "para"}
_SIGN = ("menandatangani", "mengesahkan", "menetapkan")
_CHECK = ("memeriksa", "mengoreksi", "mencermati", "memaraf", "membaca")
_ORDER = ("menugaskan", "mengugaskan", "memerintahkan")
_UNIT_STOP = {"bidang", "bagian", "dan", "sub", "daerah"}


def _role_at(words: list[str], roles: RoleBook) -> str | None:
    """The role named by the longest alias at the start of the words."""
    for k in range(min(7, len(words)), 0, -1):
        role = roles.resolve(" ".join(words[:k]))
        if role:
            return role
    return None


def subject_role(text: str, roles: RoleBook) -> str | None:
    """The role in subject position ('Kabid mengidentifikasi …', 'Disposisi Bapak Bupati …')."""
    words = normalise(text).split()
    while words and words[0] in _LEAD_WORDS:
        words = words[1:]
    return _role_at(words, roles)


def agent_role(text: str, roles: RoleBook) -> str | None:
    """The agent of a nominal activity: '... penilaian presentasi dan wawancara oleh tim penilai ...'.

    Not the agent of a passive verb ('untuk ditandatangani oleh Kepala Badan', 'dipimpin oleh ...'):
    that one acts in another step or inside a sub-clause.
    """
    words = normalise(text).split()
    for i, word in enumerate(words[1:], start=1):
        if word == "oleh" and not words[i - 1].startswith("di") and "untuk" not in words[max(0, i - 3) : i]:
            role = _role_at(words[i + 1 :], roles)
            if role:
                return role
    return None


def output_role(output: str, roles: RoleBook) -> str | None:
    """An output that names its maker: 'Disposisi Kabid P2MPSDA kepada …'."""
    words = normalise(output).split()
    return _role_at(words[1:], roles) if words[:1] == ["disposisi"] else None


def lane_guess(text: str, lane_roles: list[str], roles: RoleBook, position: str, previous: str | None) -> str:
    """A guess from the verb and the lanes: orders by a head, signatures by the institution head, checks by
    the unit head (or the institution head after it), the rest by the lowest staff lane.

    The heads are the roles marked ``import_head`` in roles.yaml. ``position`` is 'first', 'last' or '';
    ``previous`` the actor of the step before.
    """
    staff = [r for r in lane_roles if r in roles and roles[r].kind == "staff"]
    top = [r for r in roles.import_heads("institution") if r in lane_roles]
    unit = [r for r in roles.import_heads("unit") if r in lane_roles]
    fallback = next(iter(roles.import_heads("unit")), "?")
    words = normalise(text).split()
    verb = words[0] if words else ""
    if verb == "menerima" and position == "last" and "requester" in lane_roles:
        return "requester"
    if verb in _ORDER and position == "first":
        return next(iter(top + unit), staff[0] if staff else fallback)
    if any(w in words for w in _SIGN) and top:
        return top[0]
    if verb in _CHECK and unit:
        return top[0] if previous in unit and top else unit[0]
    if not staff:
        return fallback
    return max(staff, key=lambda r: len(roles.supervisors(r)))


def guess_institution(text: str, institutions: dict[str, Institution]) -> str | None:
    """The institution whose region name the text mentions most often, if any."""
    low = text.lower()
    scores = {}
    for inst in institutions.values():
        region = re.split(r"\b(?:Kabupaten|Kota)\b", inst.name)[-1].strip().lower()
        scores[inst.id] = low.count(region) if region else 0
    best = max(scores, key=lambda k: scores[k], default=None)
    return best if best and scores[best] else None


def guess_unit(inst: Institution, label: str, name: str, text: str) -> str | None:
    """The unit from the 'BIDANG …' line, an acronym of a unit, or the words after 'Bidang' in the title."""
    if len(inst.units) == 1:
        return inst.units[0].id

    def best(words: set[str]) -> str | None:
        scored = [(len(words & (set(normalise(u.name).split()) - _UNIT_STOP)), u.id) for u in inst.units]
        scored.sort(reverse=True)
        if scored and scored[0][0] and (len(scored) == 1 or scored[0][0] > scored[1][0]):
            return scored[0][1]
        return None

    if label and (unit := best(set(normalise(label).split()))):
        return unit
    for u in inst.units:
        acronym = re.search(r"\(([A-Z0-9]+)\)", u.name)
        if acronym and acronym.group(1).lower() in normalise(f"{name} {text}").split():
            return u.id
    m = re.search(r"\bbidang\s+(.*)$", normalise(name))
    return best(set(m.group(1).split())) if m else None
