"""A local Telegram Bot API look-alike and simulated people, for tests and the offline demo.

Usage::

    async with FakeBotApi() as api:
        app = (
            ApplicationBuilder().token(api.token)
            .base_url(api.base_url).base_file_url(api.base_file_url).build()
        )
        user = api.user(id=1001, first_name="Siti")
        await user.send("/start")
        reply = await user.next_message()

This package must not import ``telegram``: it speaks plain HTTP, like api.telegram.org.
"""

from .html_check import HtmlParseError, parse_html
from .records import (
    ApiError,
    CallbackAnswer,
    CallRecord,
    InjectedFault,
    LimitViolation,
    StoredFile,
    UploadedFile,
)
from .server import DEFAULT_TOKEN, FakeBotApi
from .users import ChatEvent, FakeChat, FakeGroup, FakeUser, InboxMessage

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "CallRecord",
    "CallbackAnswer",
    "ChatEvent",
    "FakeBotApi",
    "FakeChat",
    "FakeGroup",
    "FakeUser",
    "HtmlParseError",
    "InboxMessage",
    "InjectedFault",
    "LimitViolation",
    "StoredFile",
    "UploadedFile",
    "parse_html",
]
