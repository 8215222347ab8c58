"""Buttons as the domain describes them (label, action, ids); handlers turn them into Telegram keyboards."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    """A tap (action and ids, sent back to the bot), or with ``url`` a link; ``web_app`` opens it as a Mini App."""

    label: str
    action: str
    args: tuple[str | int, ...] = ()
    url: str | None = None
    web_app: bool = False


Keyboard = list[list[Button]]
