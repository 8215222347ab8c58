"""Telegram Web App ``initData``: the signed user data a Mini App is opened with.

Telegram signs it with the bot token: ``secret = HMAC_SHA256(key="WebAppData", msg=token)`` and
``hash = hex(HMAC_SHA256(key=secret, msg=data_check_string))``, where the data-check string is every
received field except ``hash``, as ``key=value`` sorted by key and joined by newlines.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

MAX_AGE = timedelta(hours=1)
"""How old ``auth_date`` may be when the board is opened (the session then lasts its own time)."""
MAX_LENGTH = 4096


class InitDataError(ValueError):
    """initData that is malformed, not signed with our token, or too old."""


@dataclass(frozen=True)
class WebAppUser:
    id: int
    first_name: str
    username: str | None
    auth_date: datetime


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")


def validate(init_data: str, bot_token: str, now: datetime, max_age: timedelta = MAX_AGE) -> WebAppUser:
    """The Telegram user of a genuine, fresh initData; InitDataError otherwise."""
    if not init_data or len(init_data) > MAX_LENGTH:
        raise InitDataError("empty or too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise InitDataError("malformed") from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("repeated field")
    received = fields.get("hash", "")
    expected = hmac.new(_secret(bot_token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received.lower()):
        raise InitDataError("bad signature")
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), tz=now.tzinfo)
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError) as exc:
        raise InitDataError("missing auth_date or user") from exc
    if auth_date > now + timedelta(minutes=1):
        raise InitDataError("auth_date in the future")
    if now - auth_date > max_age:
        raise InitDataError("expired")
    return WebAppUser(user_id, str(user.get("first_name", "")), user.get("username"), auth_date)


def sign(fields: dict[str, str], bot_token: str) -> str:
    """initData as Telegram would send it (for tests, the demo and the benchmark)."""
    data = dict(fields)
    data["hash"] = hmac.new(_secret(bot_token), _check_string(data).encode(), hashlib.sha256).hexdigest()
    return urlencode(data)


def make_init_data(user_id: int, bot_token: str, auth_date: datetime, first_name: str = "Uji") -> str:
    user = json.dumps({"id": user_id, "first_name": first_name, "language_code": "id"}, separators=(",", ":"))
    return sign({"query_id": "AAH-test", "user": user, "auth_date": str(int(auth_date.timestamp()))}, bot_token)
