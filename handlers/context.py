"""The typed context every handler receives: the services, the renderer and the outbox's wake-up call.

PTB builds one context per update from ``ContextTypes(context=AlurContext, bot_data=BotData)``;
the transport fills ``BotData`` once when it builds the Application.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.qa.answers import Answerer
from bot.runtime import Services
from bot.text.render import Renderer
from bot.workflow.use_cases import Workflow
from handlers.keyboards import SopKeys


def _nothing() -> None:
    return None


@dataclass
class BotData:
    services: Services | None = None
    renderer: Renderer | None = None
    sop_keys: SopKeys | None = None
    answerer: Answerer | None = None
    kick_outbox: Callable[[], None] = _nothing
    """Wakes the outbox sender after a state change queued notifications (set by the transport)."""


class AlurContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    @property
    def services(self) -> Services:
        assert self.bot_data.services is not None, "the transport sets the services before polling"
        return self.bot_data.services

    @property
    def workflow(self) -> Workflow:
        return self.services.workflow

    @property
    def renderer(self) -> Renderer:
        assert self.bot_data.renderer is not None
        return self.bot_data.renderer

    @property
    def sop_keys(self) -> SopKeys:
        assert self.bot_data.sop_keys is not None
        return self.bot_data.sop_keys

    @property
    def answerer(self) -> Answerer:
        assert self.bot_data.answerer is not None
        return self.bot_data.answerer

    def kick_outbox(self) -> None:
        self.bot_data.kick_outbox()

    def text(self, template: str, /, **ctx: Any) -> str:
        """A template rendered as Telegram HTML."""
        return self.renderer.render(template, **ctx)

    def plain(self, template: str, /, **ctx: Any) -> str:
        """A template as plain text (for callback alerts, which show no HTML)."""
        return self.renderer.plain(template, **ctx)

    def error_text(self, code: str, **params: Any) -> str:
        return self.renderer.plain("error", code=code, params=params)

    @property
    def command_args(self) -> str:
        return " ".join(self.args or []).strip()
