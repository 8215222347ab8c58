"""The Bot API methods of the fake server and the checks Telegram applies to them.

:class:`BotApiMethods` is a mixin of :class:`~.server.FakeBotApi`: each ``_m_<methodName>`` takes the
request :class:`~.params.Params` and returns the ``result`` or raises :class:`~.records.ApiError`
with Telegram's status and wording. State (chats, files, queries...) lives on the server.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .html_check import HtmlParseError, parse_html, strip_formatted
from .limits import MESSAGE_METHODS, FloodLimits
from .params import Params
from .records import ApiError, CallbackAnswer, LimitViolation, StoredFile, UploadedFile
from .users import FakeChat, FakeGroup, FakeUser, InboxMessage

if TYPE_CHECKING:
    from .server import _Query

__all__ = ["METHOD_NAMES", "BotApiMethods", "scope_key"]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class BotApiMethods:
    """Bot API method implementations; attributes below are set up by ``FakeBotApi.__init__``."""

    _chats: dict[int, FakeChat]
    _files: dict[str, StoredFile]
    _files_by_path: dict[str, StoredFile]
    _file_counter: itertools.count[int]
    _queries: dict[str, _Query]
    _commands: dict[tuple[str, str], list[dict[str, str]]]
    _webhook: dict[str, Any] | None

    def _webhook_changed(self) -> None: ...
    _updates: list[Any]
    limits: FloodLimits
    enforce_limits: bool
    limit_violations: list[LimitViolation]
    sent_messages: list[InboxMessage]
    answers: list[CallbackAnswer]
    bot_settings: dict[Any, Any]
    html_strict: bool
    callback_query_ttl: float
    bot_user: dict[str, Any]
    now: Callable[[], float]
    date: Callable[[], int]
    _emit: Callable[[str, FakeChat, Any], None]

    # ----- files ----------------------------------------------------------------------------------
    def _store_file(self, data: bytes, *, file_name: str | None, mime_type: str | None, kind: str) -> StoredFile:
        n = next(self._file_counter)
        digest = hashlib.sha256(data).hexdigest()
        unique = "AgAD" + digest[:12]
        prefix = "AgACAgUAAxkBAAI" if kind == "photos" else "BQACAgUAAxkBAAI"
        file_id = f"{prefix}{n:06d}{digest[:20]}"
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        elif kind == "photos":
            ext = ".jpg"
        width = height = None
        if kind == "photos":
            width, height = _image_size(data) or (1, 1)
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{kind}/file_{n}{ext}",
            width=width,
            height=height,
        )
        self._files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _document_dict(stored: StoredFile) -> dict[str, Any]:
        doc: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.file_name:
            doc["file_name"] = stored.file_name
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        doc["file_size"] = stored.file_size
        return doc

    @staticmethod
    def _photo_sizes(stored: StoredFile) -> list[dict[str, Any]]:
        return [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": stored.width or 1,
                "height": stored.height or 1,
                "file_size": stored.file_size,
            }
        ]

    # ----- checks shared by the methods -----------------------------------------------------------
    def _target_chat(self, params: Params, *, for_sending: bool = True) -> FakeChat:
        raw = params.raw.get("chat_id")
        if raw in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat: FakeChat | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            name = raw[1:].lower()
            chat = next(
                (c for c in self._chats.values() if isinstance(c, FakeUser) and (c.username or "").lower() == name),
                None,
            )
        else:
            try:
                chat = self._chats.get(int(raw))
            except (TypeError, ValueError):
                chat = None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if for_sending:
            self._check_can_write(chat)
        return chat

    @staticmethod
    def _check_can_write(chat: FakeChat) -> None:
        if isinstance(chat, FakeUser):
            if chat.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif isinstance(chat, FakeGroup) and not chat.bot_is_member:
            raise ApiError(403, "Forbidden: bot is not a member of the group chat")

    def _check_limits(self, chat: FakeChat, method: str) -> None:
        if method not in MESSAGE_METHODS:
            return
        now = self.now()
        breaches = self.limits.check(chat.id, isinstance(chat, FakeGroup), now)
        for breach in breaches:
            self.limit_violations.append(
                LimitViolation(
                    breach.rule,
                    chat.id,
                    method,
                    now,
                    breach.count,
                    breach.limit,
                    breach.window,
                    enforced=self.enforce_limits,
                )
            )
        if breaches and self.enforce_limits:
            retry_after = max(b.retry_after for b in breaches)
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        self.limits.record(chat.id, now)

    def _formatted(
        self, params: Params, field_name: str, *, caption: bool
    ) -> tuple[str | None, list[dict[str, Any]], str | None]:
        """Text (or caption) after parse_mode, its entities, and the source text as sent."""
        source = params.text(field_name)
        if source is None or source == "":
            if caption:
                return None, [], None
            raise ApiError(400, "Bad Request: message text is empty")
        entities_key = "caption_entities" if caption else "entities"
        mode = (params.text("parse_mode") or "").lower()
        if mode == "html":
            try:
                text, entities = parse_html(source, strict=self.html_strict)
            except HtmlParseError as err:
                raise ApiError(400, f"Bad Request: can't parse entities: {err}") from None
        elif mode in ("", "markdown", "markdownv2"):
            # MarkdownV2 is not validated: the text is kept as sent, without entities
            text = source
            entities = (params.decoded(entities_key, "entities") or []) if mode == "" else []
            if not isinstance(entities, list) or not all(
                isinstance(e, dict) and isinstance(e.get("offset"), int) and isinstance(e.get("length"), int)
                for e in entities
            ):
                raise ApiError(400, "Bad Request: can't parse entities JSON object")
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        text, entities = strip_formatted(text, entities)
        if not text:
            if caption:
                return None, [], source
            raise ApiError(400, "Bad Request: message text is empty")
        if caption and len(text) > MAX_CAPTION_LENGTH:
            raise ApiError(400, "Bad Request: message caption is too long")
        if not caption and len(text) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return text, entities, source

    @staticmethod
    def _markup(params: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        markup = params.decoded("reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            _validate_inline_keyboard(markup["inline_keyboard"])
            return markup
        if inline_only:
            raise ApiError(400, "Bad Request: can't parse inline keyboard markup JSON object")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
            for row in rows:
                for button in row:
                    text = button if isinstance(button, str) else (button or {}).get("text")
                    if not text:
                        raise ApiError(400, "Bad Request: keyboard button text is empty")
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")

    def _new_bot_message(
        self,
        chat: FakeChat,
        params: Params,
        content: dict[str, Any],
        *,
        source: str | None,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "message_id": chat._new_message_id(),
            "from": self.bot_user,
            "chat": chat.chat_dict(),
            "date": self.date(),
        }
        reply_to = self._reply_target(chat, params)
        if reply_to is not None:
            raw["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        raw.update(content)
        if markup is not None and "inline_keyboard" in markup:
            raw["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        message = InboxMessage(self, raw, source_text=source, parse_mode=params.text("parse_mode"), keyboard=markup)
        chat._add_bot_message(message)
        self.sent_messages.append(message)
        return json.loads(json.dumps(raw))

    @staticmethod
    def _reply_target(chat: FakeChat, params: Params) -> dict[str, Any] | None:
        reply = params.decoded("reply_parameters")
        message_id = None
        allow_missing = params.flag("allow_sending_without_reply")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        elif params.has("reply_to_message_id"):
            message_id = params.integer("reply_to_message_id")
        if message_id is None:
            return None
        target = chat._messages.get(int(message_id))
        if target is None and not allow_missing:
            raise ApiError(400, "Bad Request: message to be replied not found")
        return target

    def _editable(self, params: Params) -> tuple[FakeChat, InboxMessage]:
        if params.has("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._target_chat(params)
        message_id = params.integer("message_id", required=True)
        assert message_id is not None
        message = chat._bot_messages.get(message_id)
        if message is None:
            if message_id in chat._messages:
                raise ApiError(400, "Bad Request: message can't be edited")
            raise ApiError(400, "Bad Request: message to edit not found")
        return chat, message

    def _apply_edit(self, chat: FakeChat, message: InboxMessage, new_raw: dict[str, Any]) -> dict[str, Any]:
        new_raw["edit_date"] = self.date()
        chat._edit_bot_message(message, new_raw)
        return json.loads(json.dumps(new_raw))

    # ----- Bot API methods ------------------------------------------------------------------------
    def _m_getMe(self, params: Params) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_getUpdates(self, params: Params) -> Any:  # dispatched to _get_updates (needs request)
        raise AssertionError("unreachable")

    def _m_setWebhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        if not url:
            self._webhook = None
            return True
        if not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook = {"url": url, "secret_token": params.text("secret_token")}
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self._webhook_changed()
        return True

    def _m_deleteWebhook(self, params: Params) -> bool:
        self._webhook = None
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_getWebhookInfo(self, params: Params) -> dict[str, Any]:
        return {
            "url": (self._webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _m_setMyCommands(self, params: Params) -> bool:
        commands = params.decoded("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not (1 <= len(name) <= 32) or not all(ch.islower() or ch.isdigit() or ch == "_" for ch in name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(description) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = (self._scope_of(params), params.text("language_code") or "")
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    def _m_getMyCommands(self, params: Params) -> list[dict[str, str]]:
        key = (self._scope_of(params), params.text("language_code") or "")
        return [dict(c) for c in self._commands.get(key, [])]

    def _m_deleteMyCommands(self, params: Params) -> bool:
        self._commands.pop((self._scope_of(params), params.text("language_code") or ""), None)
        return True

    @staticmethod
    def _scope_of(params: Params) -> str:
        scope = params.decoded("scope")
        if scope is None:
            return "default"
        if not isinstance(scope, dict):
            raise ApiError(400, "Bad Request: can't parse BotCommandScope")
        return scope_key(scope)

    def _m_setMyDescription(self, params: Params) -> bool:
        self.bot_settings[("description", params.text("language_code") or "")] = params.text("description")
        return True

    def _m_setMyShortDescription(self, params: Params) -> bool:
        key = ("short_description", params.text("language_code") or "")
        self.bot_settings[key] = params.text("short_description")
        return True

    def _m_setMyName(self, params: Params) -> bool:
        self.bot_settings[("name", params.text("language_code") or "")] = params.text("name")
        return True

    def _m_sendMessage(self, params: Params) -> dict[str, Any]:
        chat = self._target_chat(params)
        text, entities, source = self._formatted(params, "text", caption=False)
        markup = self._markup(params)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        self._check_limits(chat, "sendMessage")
        return self._new_bot_message(chat, params, content, source=source, markup=markup)

    def _send_media(self, params: Params, method: str, field_name: str) -> dict[str, Any]:
        chat = self._target_chat(params)
        stored = self._input_file(params, field_name)
        caption, caption_entities, source = self._formatted(params, "caption", caption=True)
        markup = self._markup(params)
        content: dict[str, Any] = {}
        if field_name == "photo":
            content["photo"] = self._photo_sizes(stored)
        else:
            content["document"] = self._document_dict(stored)
        if caption:
            content["caption"] = caption
            if caption_entities:
                content["caption_entities"] = caption_entities
        self._check_limits(chat, method)
        return self._new_bot_message(chat, params, content, source=source, markup=markup)

    def _m_sendDocument(self, params: Params) -> dict[str, Any]:
        return self._send_media(params, "sendDocument", "document")

    def _m_sendPhoto(self, params: Params) -> dict[str, Any]:
        return self._send_media(params, "sendPhoto", "photo")

    def _input_file(self, params: Params, field_name: str) -> StoredFile:
        value = params.raw.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.raw.get(value[len("attach://") :])
        if isinstance(value, UploadedFile):
            if not value.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if field_name == "photo":
                if _image_size(value.data) is None:
                    raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
                return self._store_file(value.data, file_name=None, mime_type=None, kind="photos")
            return self._store_file(
                value.data, file_name=value.filename, mime_type=value.content_type, kind="documents"
            )
        if isinstance(value, str) and value:
            stored = self._files.get(value)
            if stored is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            return stored
        raise ApiError(400, f"Bad Request: there is no {field_name} in the request")

    def _m_getFile(self, params: Params) -> dict[str, Any]:
        file_id = params.text("file_id") or ""
        stored = self._files.get(file_id)
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def _m_editMessageText(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable(params)
        if "text" not in message.raw:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities, source = self._formatted(params, "text", caption=False)
        markup = self._markup(params, inline_only=True)
        new_markup = {"inline_keyboard": markup["inline_keyboard"]} if markup else None
        if (
            text == message.raw.get("text")
            and entities == (message.raw.get("entities") or [])
            and new_markup == message.raw.get("reply_markup")
        ):
            raise ApiError(400, _NOT_MODIFIED)
        new_raw = {k: v for k, v in message.raw.items() if k not in ("text", "entities", "reply_markup")}
        new_raw["text"] = text
        if entities:
            new_raw["entities"] = entities
        if new_markup:
            new_raw["reply_markup"] = new_markup
        message.source_text = source
        message.parse_mode = params.text("parse_mode")
        return self._apply_edit(chat, message, new_raw)

    def _m_editMessageCaption(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable(params)
        if "text" in message.raw:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities, source = self._formatted(params, "caption", caption=True)
        markup = self._markup(params, inline_only=True)
        new_markup = {"inline_keyboard": markup["inline_keyboard"]} if markup else None
        if (
            caption == message.raw.get("caption")
            and entities == (message.raw.get("caption_entities") or [])
            and new_markup == message.raw.get("reply_markup")
        ):
            raise ApiError(400, _NOT_MODIFIED)
        drop = ("caption", "caption_entities", "reply_markup")
        new_raw = {k: v for k, v in message.raw.items() if k not in drop}
        if caption:
            new_raw["caption"] = caption
            if entities:
                new_raw["caption_entities"] = entities
        if new_markup:
            new_raw["reply_markup"] = new_markup
        message.source_text = source
        return self._apply_edit(chat, message, new_raw)

    def _m_editMessageReplyMarkup(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable(params)
        markup = self._markup(params, inline_only=True)
        new_markup = {"inline_keyboard": markup["inline_keyboard"]} if markup else None
        if new_markup == message.raw.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        new_raw = {k: v for k, v in message.raw.items() if k != "reply_markup"}
        if new_markup:
            new_raw["reply_markup"] = new_markup
        return self._apply_edit(chat, message, new_raw)

    def _m_deleteMessage(self, params: Params) -> bool:
        chat = self._target_chat(params, for_sending=False)
        message_id = params.integer("message_id", required=True)
        if message_id not in chat._messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        chat._delete_message(int(message_id or 0))
        return True

    def _m_answerCallbackQuery(self, params: Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        query = self._queries.get(query_id)
        now = self.now()
        if query is None or query.answered or now - query.created > self.callback_query_ttl:
            raise ApiError(400, _QUERY_TOO_OLD)
        text = params.text("text")
        if text is not None and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        query.answered = True
        answer = CallbackAnswer(
            query_id=query_id,
            text=text,
            show_alert=params.flag("show_alert"),
            url=params.text("url"),
            cache_time=params.integer("cache_time"),
            time=now,
        )
        query.user.alerts.append(answer)
        self._notifier.notify(("alerts", query.user.id))
        self.answers.append(answer)
        if query.chat_id is not None and query.chat_id in self._chats:
            self._emit("answer", self._chats[query.chat_id], answer)
        return True

    def _m_sendChatAction(self, params: Params) -> bool:
        chat = self._target_chat(params)
        action = params.text("action") or ""
        if action not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        chat.actions.append(action)
        return True

    def _m_setChatMenuButton(self, params: Params) -> bool:
        button = params.decoded("menu_button") or {"type": "default"}
        if params.has("chat_id"):
            self._target_chat(params, for_sending=False).menu_button = button
        else:
            self.bot_settings["menu_button"] = button
        return True

    def _m_getChatMenuButton(self, params: Params) -> dict[str, Any]:
        if params.has("chat_id"):
            button = self._target_chat(params, for_sending=False).menu_button
            if button is not None:
                return button
        return self.bot_settings.get("menu_button", {"type": "commands"})

    def _m_getChat(self, params: Params) -> dict[str, Any]:
        chat = self._target_chat(params, for_sending=False)
        return {
            **chat.chat_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _m_close(self, params: Params) -> bool:
        return True

    def _m_logOut(self, params: Params) -> bool:
        return True


METHOD_NAMES = (
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "sendMessage",
    "sendDocument",
    "sendPhoto",
    "getFile",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "sendChatAction",
    "setChatMenuButton",
    "getChatMenuButton",
    "getChat",
    "close",
    "logOut",
)


# ----- helpers ---------------------------------------------------------------------------------------
def scope_key(scope: dict[str, Any]) -> str:
    kind = scope.get("type")
    if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        return str(kind)
    if kind in ("chat", "chat_administrators"):
        return f"{kind}:{scope.get('chat_id')}"
    if kind == "chat_member":
        return f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
    raise ApiError(400, "Bad Request: unsupported bot command scope type")


def _validate_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(400, "Bad Request: can't parse inline keyboard markup JSON object")
    if sum(len(r) for r in rows) > 100:
        raise ApiError(400, "Bad Request: too many inline keyboard buttons")
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: object expected")
            if not button.get("text"):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text is empty")
            actions = [a for a in _INLINE_BUTTON_ACTIONS if a in button]
            if not actions:
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "web_app" in button:
                app = button["web_app"]
                if not isinstance(app, dict) or not str(app.get("url", "")).startswith("https://"):
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
            if "url" in button:
                url = str(button["url"])
                if not url.startswith(("http://", "https://", "tg://")) or len(url) < 8:
                    raise ApiError(400, f"Bad Request: inline keyboard button URL '{url}' is invalid")


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF or JPEG image, or None when it is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
    return None
