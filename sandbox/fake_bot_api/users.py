"""Simulated people and chats for the fake Bot API.

A :class:`FakeUser` is a person talking to the bot in their private chat: they send text, files and
button taps (each becomes an update the bot polls), and they see what the bot sends them in
``user.inbox``, kept up to date with edits and deletions. A :class:`FakeGroup` is a group chat the
bot is a member of. Both share :class:`FakeChat`, which owns the inbox and the waiting helpers.

The waiting helpers never sleep on a fixed time: they wake up when the server records a change
and raise ``AssertionError`` with a dump of the chat's recent history when the timeout passes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .html_check import utf16_len
from .records import CallbackAnswer

if TYPE_CHECKING:
    from .server import FakeBotApi

__all__ = ["ChatEvent", "FakeChat", "FakeGroup", "FakeUser", "InboxMessage", "MessageRef"]

# Anything that identifies a message: an InboxMessage, a Telegram message dict, a PTB Message
# (anything with ``message_id`` and ``chat_id`` or ``chat.id``), or a bare message_id.
MessageRef = Any
ButtonMatcher = str | Callable[[dict[str, Any]], bool]


class InboxMessage(Mapping[str, Any]):
    """A message the bot sent, as the recipient sees it.

    Reads like the Telegram ``Message`` dict (``msg["text"]``) and has convenience properties
    (``msg.text``, ``msg.buttons``...). The objects in ``chat.inbox`` are live: an edit replaces
    ``raw`` in place, appends the previous version to ``history`` and bumps ``edits``. Waiting
    helpers return frozen snapshots (see :meth:`snapshot`), so what matched stays what you assert.
    """

    def __init__(
        self,
        api: FakeBotApi,
        raw: dict[str, Any],
        *,
        source_text: str | None = None,
        parse_mode: str | None = None,
        keyboard: dict[str, Any] | None = None,
    ) -> None:
        self._api = api
        self.raw = raw
        self.source_text = source_text  # text/caption exactly as the bot sent it (markup included)
        self.parse_mode = parse_mode
        self.keyboard = keyboard  # reply_markup as sent, including reply keyboards
        self.history: list[dict[str, Any]] = []
        self.deleted = False

    # Mapping protocol: behave like the raw Telegram dict
    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __repr__(self) -> str:
        extra = f" edits={self.edits}" if self.edits else ""
        extra += " deleted" if self.deleted else ""
        buttons = f" buttons={self.button_texts}" if self.button_texts else ""
        return f"<InboxMessage #{self.message_id} chat={self.chat_id}{extra} {self.text[:80]!r}{buttons}>"

    @property
    def message_id(self) -> int:
        return int(self.raw["message_id"])

    @property
    def chat_id(self) -> int:
        return int(self.raw["chat"]["id"])

    @property
    def text(self) -> str:
        """The plain text (or caption) after entity parsing; "" for media without caption."""
        return str(self.raw.get("text") or self.raw.get("caption") or "")

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.raw.get("entities") or self.raw.get("caption_entities") or [])

    @property
    def edits(self) -> int:
        return len(self.history)

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The inline keyboard markup as Telegram returns it (reply keyboards are not echoed)."""
        return self.raw.get("reply_markup")

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        markup = self.reply_markup or {}
        return [list(row) for row in markup.get("inline_keyboard", [])]

    @property
    def button_texts(self) -> list[str]:
        return [b.get("text", "") for row in self.buttons for b in row]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]

    @property
    def document(self) -> dict[str, Any] | None:
        return self.raw.get("document")

    @property
    def photo(self) -> list[dict[str, Any]] | None:
        return self.raw.get("photo")

    def download(self) -> bytes:
        """The bytes of the document (or largest photo) the bot sent in this message."""
        if self.document:
            return self._api.file_bytes(self.document["file_id"])
        if self.photo:
            return self._api.file_bytes(self.photo[-1]["file_id"])
        raise AssertionError(f"message #{self.message_id} has no document or photo")

    def snapshot(self) -> InboxMessage:
        """A frozen copy of the current version (same message_id, so taps still find it)."""
        snap = InboxMessage(
            self._api,
            copy.deepcopy(self.raw),
            source_text=self.source_text,
            parse_mode=self.parse_mode,
            keyboard=copy.deepcopy(self.keyboard),
        )
        snap.history = [copy.deepcopy(h) for h in self.history]
        snap.deleted = self.deleted
        return snap

    def describe(self) -> str:
        tag = "deleted " if self.deleted else ""
        tag += f"edited x{self.edits} " if self.edits else ""
        buttons = f"  buttons={self.button_texts}" if self.button_texts else ""
        doc = f"  document={self.document.get('file_name')!r}" if self.document else ""
        return f"#{self.message_id} {tag}{self.text[:200]!r}{buttons}{doc}"


@dataclass
class ChatEvent:
    """Something the bot did in a chat: ``kind`` is "message", "edit" or "delete"."""

    seq: int
    kind: str
    message: InboxMessage  # a snapshot taken when the event happened
    time: float


class FakeChat:
    """A chat as its participants see it: the bot's messages, their edits, and waiting helpers."""

    type: str = "private"

    def __init__(self, api: FakeBotApi, chat_id: int) -> None:
        self._api = api
        self.id = chat_id
        self.inbox: list[InboxMessage] = []  # bot messages still present, in sending order
        self.deleted: list[InboxMessage] = []
        self.events: list[ChatEvent] = []
        self.actions: list[str] = []  # sendChatAction values, in order
        self.reply_keyboard: dict[str, Any] | None = None  # current reply keyboard, if any
        self.menu_button: dict[str, Any] | None = None
        self._messages: dict[int, dict[str, Any]] = {}  # every message in the chat, by id
        self._bot_messages: dict[int, InboxMessage] = {}
        self._arrivals: list[InboxMessage] = []  # bot messages in arrival order (incl. deleted)
        self._next_message_id = 1
        self._cursor = 0  # index into _arrivals for next_message()
        self._action_event = 0  # index into events where the last action/mark happened

    # ----- identity ---------------------------------------------------------------------------
    def chat_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    # ----- reading ----------------------------------------------------------------------------
    @property
    def last(self) -> InboxMessage | None:
        """The bot's latest message still in the chat (live object)."""
        return self.inbox[-1] if self.inbox else None

    def message(self, ref: MessageRef) -> InboxMessage:
        """The live version of a bot message in this chat."""
        message_id = _message_id_of(ref)
        found = self._bot_messages.get(message_id)
        if found is None:
            raise AssertionError(f"no bot message #{message_id} in chat {self.id}\n{self.dump()}")
        return found

    def dump(self, last: int = 12) -> str:
        """A readable summary of the chat's latest events, for assertion messages."""
        lines = [f"chat {self.id} ({self.type}): {len(self.inbox)} bot message(s) in inbox"]
        for event in self.events[-last:]:
            lines.append(f"  [{event.kind:7}] {event.message.describe()}")
        if not self.events:
            lines.append("  (the bot has not sent anything to this chat)")
        return "\n".join(lines)

    # ----- waiting ----------------------------------------------------------------------------
    def mark(self) -> int:
        """Start waiting from now: later ``next_message``/``wait_for`` only see what follows.

        Returns a position usable as ``next_message(after=...)``.
        """
        self._cursor = len(self._arrivals)
        self._action_event = len(self.events)
        return self._cursor

    async def next_message(self, timeout: float = 5.0, *, after: int | None = None) -> InboxMessage:  # noqa: ASYNC109
        """The next new bot message not yet returned by ``next_message``.

        Counting starts after the last action of the user (send/tap...), the last ``mark()``, or
        the message last returned, whichever is latest; ``after=`` overrides with a ``mark()``
        position. Returns a snapshot of the message as it was sent.
        """
        if after is not None:
            self._cursor = after
        index = self._cursor

        def check() -> InboxMessage | None:
            return self._arrivals[index] if len(self._arrivals) > index else None

        found = await self._api._notifier.wait_for(check, timeout, key=self)
        if found is None:
            raise AssertionError(f"chat {self.id}: no new message from the bot within {timeout}s\n{self.dump()}")
        self._cursor = index + 1
        snapshot = self._first_snapshot(found)
        return snapshot

    def _first_snapshot(self, message: InboxMessage) -> InboxMessage:
        for event in self.events:
            if event.kind == "message" and event.message.message_id == message.message_id:
                return event.message
        return message.snapshot()

    async def wait_for(
        self,
        predicate: Callable[[InboxMessage], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        include_existing: bool = False,
    ) -> InboxMessage:
        """The first new message or edit (since the last action or mark) that satisfies predicate.

        With ``include_existing=True`` the current inbox is searched first (latest versions).
        Returns a snapshot of the matching version. A match on a new message also moves the
        ``next_message`` cursor past it.
        """
        if include_existing:
            for message in self.inbox:
                if predicate(message):
                    return message.snapshot()
        start = self._action_event
        position = [start]

        def check() -> ChatEvent | None:
            while position[0] < len(self.events):
                event = self.events[position[0]]
                position[0] += 1
                if event.kind != "delete" and predicate(event.message):
                    return event
            return None

        event = await self._api._notifier.wait_for(check, timeout, key=self)
        if event is None:
            raise AssertionError(
                f"chat {self.id}: no message/edit matching {_describe_predicate(predicate)} "
                f"within {timeout}s\n{self.dump()}"
            )
        if event.kind == "message":
            wanted = event.message.message_id
            arrival = next(  # from the newest: the match is almost always recent
                (i for i in range(len(self._arrivals) - 1, -1, -1) if self._arrivals[i].message_id == wanted),
                None,
            )
            if arrival is not None and arrival >= self._cursor:
                self._cursor = arrival + 1
        return event.message

    async def wait_for_text(
        self,
        substring: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        include_existing: bool = False,
    ) -> InboxMessage:
        """``wait_for`` a message or edit whose text/caption contains ``substring``."""

        def predicate(message: InboxMessage) -> bool:
            return substring in message.text

        predicate.__qualname__ = f"text containing {substring!r}"
        return await self.wait_for(predicate, timeout, include_existing=include_existing)

    # ----- server hooks (called by FakeBotApi) ------------------------------------------------
    def _new_message_id(self) -> int:
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def _store_incoming(self, raw: dict[str, Any]) -> None:
        self._messages[int(raw["message_id"])] = raw

    def _add_bot_message(self, message: InboxMessage) -> None:
        self._messages[message.message_id] = message.raw
        self._bot_messages[message.message_id] = message
        self.inbox.append(message)
        self._arrivals.append(message)
        self._event("message", message)

    def _edit_bot_message(self, message: InboxMessage, new_raw: dict[str, Any]) -> None:
        message.history.append(message.raw)
        message.raw = new_raw
        self._messages[message.message_id] = new_raw
        self._event("edit", message)

    def _delete_message(self, message_id: int) -> None:
        self._messages.pop(message_id, None)
        message = self._bot_messages.pop(message_id, None)
        if message is not None:
            message.deleted = True
            self.inbox = [m for m in self.inbox if m.message_id != message_id]
            self.deleted.append(message)
            self._event("delete", message)

    def _event(self, kind: str, message: InboxMessage) -> None:
        self.events.append(ChatEvent(len(self.events), kind, message.snapshot(), self._api.now()))
        self._api._emit(kind, self, message.raw)
        self._api._notifier.notify(self)
        self._api._notifier.notify()

    def _note_action(self) -> None:
        """A participant acted: replies are what follows."""
        self.mark()


class FakeGroup(FakeChat):
    """A group chat (created with ``api.create_group``) the bot is a member of."""

    def __init__(self, api: FakeBotApi, chat_id: int, title: str, *, supergroup: bool = False) -> None:
        super().__init__(api, chat_id)
        self.title = title
        self.type = "supergroup" if supergroup else "group"
        self.members: dict[int, FakeUser] = {}
        self.bot_is_member = True

    def chat_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "type": self.type}

    def add(self, *users: FakeUser) -> None:
        for user in users:
            self.members[user.id] = user


class FakeUser(FakeChat):
    """A person with a private chat with the bot (chat id == user id)."""

    def __init__(
        self,
        api: FakeBotApi,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
        started: bool = True,
    ) -> None:
        super().__init__(api, user_id)
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        # True once the user has talked to the bot: before that, Telegram answers 403 to sends.
        self.started = started
        self._blocked = False
        self.alerts: list[CallbackAnswer] = []  # answers to this user's callback queries
        self.sent: list[dict[str, Any]] = []  # messages this user sent (any chat)
        self.query_ids: list[str] = []

    def __repr__(self) -> str:
        return f"<FakeUser {self.id} {self.first_name!r}>"

    @property
    def blocked(self) -> bool:
        """While True, every send/edit to this chat answers 403 "bot was blocked by the user".

        Changing it queues the ``my_chat_member`` update Telegram sends (status "kicked" /
        "member"); the user sending anything unblocks the bot, as Telegram's "Restart" does.
        """
        return self._blocked

    @blocked.setter
    def blocked(self, value: bool) -> None:
        if bool(value) == self._blocked:
            return
        self._blocked = bool(value)
        self._api._my_chat_member(self, blocked=self._blocked)

    def user_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_dict(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "first_name": self.first_name, "type": "private"}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    # ----- acting -----------------------------------------------------------------------------
    def _where(self, chat: FakeChat | None) -> FakeChat:
        where = chat or self
        if isinstance(where, FakeGroup):
            where.add(self)
        return where

    def _base_message(self, where: FakeChat) -> dict[str, Any]:
        return {
            "message_id": where._new_message_id(),
            "from": self.user_dict(),
            "chat": where.chat_dict(),
            "date": self._api.date(),
        }

    def _deliver(self, where: FakeChat, message: dict[str, Any]) -> dict[str, Any]:
        if where is self:
            self.blocked = False
        self.started = True
        where._store_incoming(message)
        self.sent.append(message)
        where._note_action()
        if where is not self:
            self._note_action()
        self._api._emit("user_message", where, message)
        self._api._enqueue({"message": message})
        return message

    async def send(
        self, text: str, *, chat: FakeChat | None = None, reply_to: MessageRef | None = None
    ) -> dict[str, Any]:
        """Send a text message; a leading ``/command`` (also ``/start CODE``) gets its entity."""
        where = self._where(chat)
        message = self._base_message(where)
        message["text"] = text
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            replied = where._messages.get(_message_id_of(reply_to))
            if replied is not None:
                message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        return self._deliver(where, message)

    async def press(self, button_text: str, *, chat: FakeChat | None = None) -> dict[str, Any]:
        """Press a button of the current reply keyboard (sends its text as a message)."""
        where = chat or self
        keyboard = where.reply_keyboard
        texts = [
            b if isinstance(b, str) else b.get("text", "") for row in (keyboard or {}).get("keyboard", []) for b in row
        ]
        if button_text not in texts:
            raise AssertionError(
                f"{self!r}: no reply-keyboard button {button_text!r}; keyboard={texts}\n{where.dump()}"
            )
        if keyboard and keyboard.get("one_time_keyboard"):
            where.reply_keyboard = None
        return await self.send(button_text, chat=chat)

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        *,
        chat: FakeChat | None = None,
    ) -> dict[str, Any]:
        """Send a file; the bot can fetch it with getFile + the file download URL."""
        where = self._where(chat)
        stored = self._api._store_file(data, file_name=file_name, mime_type=mime_type, kind="documents")
        message = self._base_message(where)
        message["document"] = self._api._document_dict(stored)
        if caption is not None:
            message["caption"] = caption
        return self._deliver(where, message)

    async def send_photo(
        self,
        data: bytes,
        caption: str | None = None,
        *,
        file_name: str = "photo.jpg",
        chat: FakeChat | None = None,
    ) -> dict[str, Any]:
        """Send a photo (PNG/JPEG/GIF dimensions are read from the bytes, else 1x1)."""
        where = self._where(chat)
        stored = self._api._store_file(data, file_name=file_name, mime_type="image/jpeg", kind="photos")
        message = self._base_message(where)
        message["photo"] = self._api._photo_sizes(stored)
        if caption is not None:
            message["caption"] = caption
        return self._deliver(where, message)

    async def tap(self, message: MessageRef, button: ButtonMatcher, *, chat: FakeChat | None = None) -> str:
        """Tap an inline button of (the latest version of) a bot message; returns the query id.

        ``button`` is the exact button text, a substring matching exactly one button, or a
        predicate over the button dict (``{"text": ..., "callback_data": ...}``).
        """
        where = self._chat_of(message, chat)
        live = where.message(message)
        if live.deleted:
            raise AssertionError(f"{self!r}: message #{live.message_id} was deleted\n{where.dump()}")
        chosen = _find_button(live, button)
        if chosen is None:
            raise AssertionError(
                f"{self!r}: no button matching {button!r} in message #{live.message_id}; "
                f"buttons={live.button_texts}\n{where.dump()}"
            )
        if "callback_data" not in chosen:
            raise AssertionError(f"{self!r}: button {chosen.get('text')!r} has no callback_data: {chosen}")
        return self._api._callback_query(self, where, live.raw, chosen["callback_data"])

    async def tap_data(self, message: MessageRef, data: str, *, chat: FakeChat | None = None) -> str:
        """Send a callback query with arbitrary (possibly forged or stale) data for a message."""
        where = self._chat_of(message, chat)
        raw = where._messages.get(_message_id_of(message))
        if raw is None:
            raise AssertionError(f"{self!r}: no message #{_message_id_of(message)} in chat {where.id}")
        return self._api._callback_query(self, where, raw, data)

    def _chat_of(self, message: MessageRef, chat: FakeChat | None) -> FakeChat:
        if chat is not None:
            return chat
        chat_id = _chat_id_of(message)
        if chat_id is None or chat_id == self.id:
            return self
        return self._api.chat(chat_id)

    async def wait_answer(self, query_id: str, timeout: float = 5.0) -> CallbackAnswer:  # noqa: ASYNC109
        """Wait until the bot answers the callback query (answerCallbackQuery)."""

        def check() -> CallbackAnswer | None:
            return next((a for a in self.alerts if a.query_id == query_id), None)

        answer = await self._api._notifier.wait_for(check, timeout, key=("alerts", self.id))
        if answer is None:
            raise AssertionError(f"{self!r}: callback query {query_id} not answered within {timeout}s\n{self.dump()}")
        return answer


# ----- helpers ---------------------------------------------------------------------------------
def _message_id_of(ref: MessageRef) -> int:
    if isinstance(ref, int):
        return ref
    if isinstance(ref, Mapping):
        return int(ref["message_id"])
    message_id = getattr(ref, "message_id", None)
    if message_id is None:
        raise TypeError(f"cannot tell the message_id of {ref!r}")
    return int(message_id)


def _chat_id_of(ref: MessageRef) -> int | None:
    if isinstance(ref, int):
        return None
    if isinstance(ref, Mapping):
        chat = ref.get("chat")
        return int(chat["id"]) if chat else None
    chat_id = getattr(ref, "chat_id", None)
    if chat_id is None:
        chat = getattr(ref, "chat", None)
        chat_id = getattr(chat, "id", None)
    return int(chat_id) if chat_id is not None else None


def _find_button(message: InboxMessage, matcher: ButtonMatcher) -> dict[str, Any] | None:
    buttons = [b for row in message.buttons for b in row]
    if callable(matcher):
        return next((b for b in buttons if matcher(b)), None)
    exact = [b for b in buttons if b.get("text") == matcher]
    if exact:
        return exact[0]
    partial = [b for b in buttons if matcher in b.get("text", "")]
    return partial[0] if len(partial) == 1 else None


def _command_entities(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/") or len(text) < 2:
        return []
    token = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(token)}]


def _describe_predicate(predicate: Callable[..., Any]) -> str:
    name = getattr(predicate, "__qualname__", repr(predicate))
    return name if "<lambda>" not in name else "the predicate"
