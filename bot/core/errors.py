"""Refusals the domain reports to the edges: a code that selects the Indonesian message, and its details."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(f"{code}: {params}")
