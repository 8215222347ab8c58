"""Accounting of Telegram's flood limits for bots.

Telegram documents (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
about one message per second in a single chat (short bursts tolerated), at most 20 messages per
minute in a group, and about 30 messages per second overall. Only sending new messages counts;
edits, callback answers and chat actions do not. The windows are sliding: a message at ``t``
counts against every later message sent before ``t + window``.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict, deque
from dataclasses import dataclass

__all__ = ["MESSAGE_METHODS", "FloodLimits", "Rule"]

# Methods that send a new message and therefore count against the limits.
MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendAudio",
        "sendVideo",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
    }
)


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` messages in any window of ``window`` seconds."""

    limit: int
    window: float


@dataclass
class Breach:
    rule: str
    count: int
    limit: int
    window: float
    retry_after: int


class FloodLimits:
    """Sliding-window counters per chat and overall. ``None`` disables a rule."""

    def __init__(
        self,
        per_chat: Rule | None = Rule(1, 1.0),
        group: Rule | None = Rule(20, 60.0),
        overall: Rule | None = Rule(30, 1.0),
    ) -> None:
        self.per_chat = per_chat
        self.group = group
        self.overall = overall
        self._by_chat: dict[int, deque[float]] = defaultdict(deque)
        self._all: deque[float] = deque()

    def check(self, chat_id: int, is_group: bool, now: float) -> list[Breach]:
        """The rules one more message to ``chat_id`` at ``now`` would break."""
        breaches = []
        chat_rule = self.group if is_group else self.per_chat
        if chat_rule is not None:
            breach = _breach("group" if is_group else "per_chat", chat_rule, self._by_chat[chat_id], now)
            if breach:
                breaches.append(breach)
        if self.overall is not None:
            breach = _breach("global", self.overall, self._all, now)
            if breach:
                breaches.append(breach)
        return breaches

    def record(self, chat_id: int, now: float) -> None:
        horizon = now - max((r.window for r in (self.per_chat, self.group, self.overall) if r), default=0)
        for times in (self._by_chat[chat_id], self._all):
            if times and now < times[-1]:
                bisect.insort(times, now)  # a clock that stepped back: the windows stay sorted
            else:
                times.append(now)
            while times and times[0] <= horizon:
                times.popleft()

    def reset(self) -> None:
        self._by_chat.clear()
        self._all.clear()


def _breach(name: str, rule: Rule, times: deque[float], now: float) -> Breach | None:
    """``times`` is sorted (``record``), so the messages inside the window are its newest ones: counted
    from the right, the cost is the window's size, not the history's (a minute of it for groups)."""
    edge = now - rule.window
    recent = 0
    for t in reversed(times):
        if t <= edge:
            break
        recent += 1
    count = recent + 1
    if count <= rule.limit:
        return None
    # the send becomes legal once enough of the recent messages left the window
    oldest_blocking = times[len(times) - rule.limit]
    retry_after = max(1, math.ceil(oldest_blocking + rule.window - now))
    return Breach(name, count, rule.limit, rule.window, retry_after)
