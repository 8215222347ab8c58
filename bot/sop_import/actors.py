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
    """A guess from the verb and the lanes: orders by the top, checks by the Kabid, the rest by the lowest.

    ``position`` is 'first', 'last' or ''; ``previous`` the actor of the step before.
    """
    staff = [r for r in lane_roles if r in roles and roles[r].kind == "staff"]
    words = normalise(text).split()
    verb = words[0] if words else ""
    if verb == "menerima" and position == "last" and "requester" in lane_roles:
        return "requester"
    if verb in _ORDER and position == "first":
        return next((r for r in ("kepala_badan", "kabid") if r in lane_roles), staff[0] if staff else "kabid")
    if any(w in words for w in _SIGN) and "kepala_badan" in lane_roles:
        return "kepala_badan"
    if verb in _CHECK and "kabid" in lane_roles:
        return "kepala_badan" if previous == "kabid" and "kepala_badan" in lane_roles else "kabid"
    if not staff:
        return "kabid"
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
