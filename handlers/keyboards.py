"""Callback data codec and inline keyboards.

``callback_data`` carries only a short action code and ids (≤ 64 bytes); whoever taps, the
server re-checks what that person may do. SOP ids travel as short stable keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.sop.catalog import Catalog
from bot.text.buttons import Button, Keyboard

ACTIONS: dict[str, str] = {
    "done": "d",
    "branch": "b",
    "reassign": "r",
    "reassign_to": "rt",
    "attach": "a",
    "detail": "i",
    "done_without_output": "dn",
    "sop": "s",
    "sop_page": "sp",
    "step": "st",
    "case": "c",
    "cancel_case": "cx",
    "region": "rg",
    "agency": "ag",
    "intake_start": "n",
    "intake_skip": "isk",
    "intake_cancel": "ix",
    "intake_confirm": "iok",
    "intake_restart": "ire",
    "intake_resume": "irs",
    "reason": "rr",
    "sop_list": "sl",
    "tasks": "tk",
    "intake_choice": "ic",
    "history": "h",
    "whatnext": "wn",
    "noop": "z",
    "total": "tt",
    "sop_chart": "sc",
    "case_chart": "cc",
    "board_link": "bl",
    "task_page": "tp",
    "task_card": "tc",
}
CODES = {code: action for action, code in ACTIONS.items()}
MAX_BYTES = 64


@dataclass(frozen=True)
class Tap:
    action: str
    args: tuple[str, ...]

    def int_arg(self, i: int) -> int | None:
        try:
            value = self.args[i]
        except IndexError:
            return None
        return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None

    def str_arg(self, i: int) -> str | None:
        return self.args[i] if i < len(self.args) else None


def encode(action: str, *args: str | int) -> str:
    data = ":".join([ACTIONS[action], *(str(a) for a in args)])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def decode(data: str | None) -> Tap | None:
    """The tap's action and arguments, or None for anything that is not ours."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    code, *args = data.split(":")
    action = CODES.get(code)
    if action is None or any(not a or len(a) > 24 for a in args):
        return None
    return Tap(action, tuple(args))


def sop_key(sop_id: str) -> str:
    return hashlib.sha1(sop_id.encode()).hexdigest()[:8]


class SopKeys:
    """Short keys of SOP ids for callback data, resolved against the catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self._by_key = {sop_key(s.id): s.id for s in catalog}

    def resolve(self, key: str | None) -> str | None:
        return self._by_key.get(key or "")


def _arg(action: str, arg: str | int) -> str | int:
    sop_actions = ("sop", "sop_page", "step", "intake_start", "sop_chart")
    if action in sop_actions and isinstance(arg, str) and not arg.isdigit():
        return sop_key(arg)
    return arg


def button(b: Button) -> InlineKeyboardButton:
    if b.url:
        return InlineKeyboardButton(b.label, web_app=WebAppInfo(b.url)) if b.web_app else InlineKeyboardButton(
            b.label, url=b.url)
    return InlineKeyboardButton(b.label, callback_data=encode(b.action, *(_arg(b.action, a) for a in b.args)))


def markup(rows: Keyboard | Sequence[Sequence[Button]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[button(b) for b in row] for row in rows if row])


def grid(buttons: Iterable[Button], per_row: int = 2) -> Keyboard:
    items = list(buttons)
    return [items[i : i + per_row] for i in range(0, len(items), per_row)]
