"""Telegram-style parsing of ``parse_mode="HTML"`` text.

The parser follows the rules of Telegram's own HTML parser (tdlib ``parse_html``): the set of
supported tags, the required nesting, the error messages and the entities produced. It returns the
plain text and the message entities (offsets in UTF-16 code units, as the Bot API reports them), so
that messages stored by the fake server look exactly like the ones Telegram would send back.

One deliberate difference: with ``strict=True`` (the default used by the fake server) an ``&`` that
does not start one of the supported entities (``&lt; &gt; &amp; &quot;`` or a numeric one) is an
error. Telegram itself shows such text literally, which hides a missing ``html.escape`` until the
day the interpolated value contains a ``<``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["HtmlParseError", "parse_html", "strip_formatted", "utf16_len"]

_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_TAG_TO_TYPE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "a": "text_link",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\n\r\x0b\x0c"


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(err)`` is Telegram's wording."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    argument: str
    start: int  # code-point offset into the plain text
    byte_offset: int
    extra: dict[str, Any] = field(default_factory=dict)


def _decode_entity(text: str, pos: int, strict: bool) -> tuple[str, int] | None:
    """Decode the HTML entity at ``text[pos] == '&'``; return (char, next position) or None.

    Like tdlib: numeric (decimal / hex) and the four named entities; the ``;`` is optional in
    lenient mode but required in strict mode.
    """
    n = len(text)
    end = pos + 1
    value = 0
    if end < n and text[end] == "#":
        end += 1
        digits_start = end
        if end < n and text[end] in "xX":
            end += 1
            digits_start = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            while end < n and text[end].isascii() and text[end].isdigit():
                value = value * 10 + int(text[end])
                end += 1
                if value >= 0x10FFFF:
                    return None
        if end == digits_start or value == 0 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        char = _NAMED_ENTITIES[name]
    if end < n and text[end] == ";":
        return char, end + 1
    if strict:
        return None
    return char, end


def _byte_offset(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8"))


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into ``(plain_text, entities)`` or raise :class:`HtmlParseError`."""
    out: list[str] = []
    out_len = 0  # code points emitted so far
    stack: list[_Open] = []
    spans: list[tuple[int, int, _Open]] = []  # (start, end) in code points
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i, strict)
            if decoded is not None:
                out.append(decoded[0])
                out_len += 1
                i = decoded[1]
                continue
            if strict:
                raise HtmlParseError(
                    f'Unsupported HTML entity or unescaped "&" at byte offset {_byte_offset(text, i)} (use &amp;)'
                )
        if c != "<":
            out.append(c)
            out_len += 1
            i += 1
            continue

        begin = i
        i += 1
        if i < n and text[i] != "/":
            # start tag
            while i < n and text[i] not in _SPACES and text[i] != ">":
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _SUPPORTED_TAGS:
                raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}')
            argument = ""
            while True:
                while i < n and text[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}')
                if text[i] == ">":
                    i += 1
                    break
                attr_start = i
                while i < n and text[i] not in _SPACES and text[i] not in "=>":
                    i += 1
                attr_name = text[attr_start:i]
                if not attr_name:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                while i < n and text[i] in _SPACES:
                    i += 1
                if i >= n or text[i] != "=":
                    if tag == "blockquote" and attr_name == "expandable":
                        argument = "1"
                        continue
                    raise HtmlParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                        f"at byte offset {_byte_offset(text, begin)}"
                    )
                i += 1
                while i < n and text[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}')
                if text[i] not in "'\"":
                    token_start = i
                    while i < n and (text[i].isascii() and (text[i].isalnum() or text[i] in ".-")):
                        i += 1
                    value = text[token_start:i].lower()
                    if i >= n or (text[i] not in _SPACES and text[i] != ">"):
                        raise HtmlParseError(
                            f"Unexpected end of name token at byte offset {_byte_offset(text, token_start)}"
                        )
                else:
                    quote = text[i]
                    string_start = i
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_entity(text, i, False)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if i >= n:
                        raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(text, string_start)}")
                    i += 1
                    value = "".join(chars)
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr_name == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}'
                )
            stack.append(_Open(tag, argument, out_len, _byte_offset(text, begin)))
            continue

        # end tag
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        i += 1  # skip "/"
        name_start = i
        while i < n and text[i] not in _SPACES and text[i] != ">":
            i += 1
        end_name = text[name_start:i]
        while i < n and text[i] in _SPACES:
            i += 1
        if i >= n or text[i] != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        i += 1
        top = stack[-1]
        if end_name and end_name.lower() != top.tag:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{top.tag}>", found "</{end_name}>"'
            )
        stack.pop()
        if top.tag == "tg-emoji" and not (top.argument.isascii() and top.argument.isdigit()):
            raise HtmlParseError("Invalid custom emoji identifier specified")
        spans.append((top.start, out_len, top))

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')

    plain = "".join(out)
    return plain, _build_entities(plain, spans)


def _build_entities(plain: str, spans: list[tuple[int, int, _Open]]) -> list[dict[str, Any]]:
    # a <code class="language-x"> directly inside a <pre> gives the pre its language
    pre_ranges = {(s, e): op for s, e, op in spans if op.tag == "pre"}
    entities: list[dict[str, Any]] = []
    for start, end, op in spans:
        if end <= start:
            continue
        if op.tag == "code" and (start, end) in pre_ranges:
            if op.argument:
                pre_ranges[(start, end)].extra["language"] = op.argument
            continue
        etype = _TAG_TO_TYPE[op.tag]
        entity: dict[str, Any] = {"type": etype}
        if op.tag == "a":
            entity["url"] = op.argument or plain[start:end]
        elif op.tag == "tg-emoji":
            entity["custom_emoji_id"] = op.argument
        elif op.tag == "blockquote" and op.argument:
            entity["type"] = "expandable_blockquote"
        entity["_start"], entity["_end"], entity["_op"] = start, end, op
        entities.append(entity)
    result: list[dict[str, Any]] = []
    for entity in entities:
        start, end, op = entity.pop("_start"), entity.pop("_end"), entity.pop("_op")
        if op.tag == "pre" and "language" in op.extra:
            entity["language"] = op.extra["language"]
        offset = utf16_len(plain[:start])
        result.append({"offset": offset, "length": utf16_len(plain[start:end]), **entity})
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return result


def strip_formatted(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace as Telegram does, moving and clipping the entities."""
    stripped_left = text.lstrip(_SPACES)
    shift = utf16_len(text) - utf16_len(stripped_left)
    stripped = stripped_left.rstrip(_SPACES)
    total = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result
