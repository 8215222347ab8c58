"""Reading Bot API request parameters the way Telegram does.

A method's parameters may come in the query string, a JSON body (native values), an urlencoded
form or a multipart form (what python-telegram-bot sends: every value a string, nested objects such
as ``reply_markup`` JSON-encoded, uploaded files as file parts). :class:`Params` gives typed access
that works for all of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .records import ApiError, UploadedFile

__all__ = ["Params", "read_params"]


@dataclass
class Params:
    """Request parameters; values are native (JSON body) or strings (forms)."""

    raw: dict[str, Any] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, UploadedFile):
            raise ApiError(400, f"Bad Request: wrong type of the parameter {name}")
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, default: int | None = None, *, required: bool = False) -> int | None:
        value = self.raw.get(name)
        if value in (None, ""):
            if required:
                raise ApiError(400, f"Bad Request: {name} is empty")
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def number(self, name: str, default: float | None = None) -> float | None:
        value = self.raw.get(name)
        if value in (None, ""):
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1")

    def decoded(self, name: str, what: str | None = None) -> Any:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {what or name} JSON object") from None
        return value


async def read_params(request: web.Request) -> Params:
    """Parameters from the query string plus a JSON, urlencoded or multipart body."""
    raw: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return Params(raw)
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: JSON request body must be an object")
        raw.update(body)
    elif content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if part is None or not hasattr(part, "read") or part.name is None:
                continue
            data = await part.read(decode=False)  # type: ignore[union-attr]
            if part.filename is not None:  # type: ignore[union-attr]
                raw[part.name] = UploadedFile(
                    part.filename,  # type: ignore[union-attr]
                    part.headers.get("Content-Type", "application/octet-stream"),
                    bytes(data),
                )
            else:
                raw[part.name] = bytes(data).decode("utf-8")
    else:
        form = await request.post()
        for key, value in form.items():
            raw[key] = value if isinstance(value, str) else str(value)
    return Params(raw)
