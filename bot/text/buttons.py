"""Buttons as the domain describes them (label, action, ids); handlers turn them into Telegram keyboards."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    args: tuple[str | int, ...] = ()


Keyboard = list[list[Button]]
