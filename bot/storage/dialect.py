"""The thin dialect layer: which database a target names, and the storage modules' SQL made fit for PostgreSQL.

The storage modules write one SQL text for both backends, in the form SQLite runs as it is (SQLite
3.24 or newer): ``?`` placeholders, ``INSERT … ON CONFLICT … DO NOTHING / DO UPDATE SET x = excluded.x``,
``UPPER(a) = UPPER(?)`` for case-insensitive matches, JSON kept as text, times as ISO-8601 text.
For PostgreSQL ``postgres_sql`` rewrites the few things SQLite spells its own way:

- ``?`` placeholders become ``$1``, ``$2``, … (never inside quotes or comments);
- ``INDEXED BY name`` and ``NOT INDEXED`` (SQLite's planner hints) are dropped: PostgreSQL plans by statistics;
- ``x IS ?`` / ``x IS NOT ?`` (null-safe comparison) become ``IS NOT DISTINCT FROM`` / ``IS DISTINCT FROM``;
- ``group_concat(column)`` (comma-separated) becomes ``string_agg(column, ',')``; any other form is refused.

Everything else SQLite-only is refused with ``NotPortable`` naming the portable spelling, so a
query written for SQLite alone fails on its first run against PostgreSQL in the test suite instead
of misbehaving in production. New rows' ids and "inserted or skipped" are read by ``Tx.insert`` and
``Tx.insert_or_skip`` (``RETURNING id`` on PostgreSQL, ``lastrowid`` on SQLite), never by SQL in a module.
"""

from __future__ import annotations

import difflib
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit


class Dialect(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


POSTGRES_SCHEMES = ("postgresql", "postgres")


class NotPortable(ValueError):
    """SQL that only SQLite understands, used where it has to run on PostgreSQL too."""


class PostgresUrl:
    """A ``postgresql://`` URL; ``str()`` hides the password, so it can be printed and logged as it is."""

    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        self.url = url.strip()

    @property
    def parts(self) -> SplitResult:
        return urlsplit(self.url)

    @property
    def database(self) -> str:
        return unquote(self.parts.path.lstrip("/"))

    def with_database(self, name: str) -> PostgresUrl:
        """The same server and credentials, another database (e.g. ``postgres`` to create this one)."""
        p = self.parts
        return PostgresUrl(urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment)))

    def problem(self) -> str | None:
        """What is wrong with the URL (in Indonesian, for the settings check), or None."""
        try:
            p = self.parts
            p.port  # noqa: B018 - parsing the port raises for a non-number
        except ValueError as exc:
            return f"URL tidak terbaca ({exc})"
        if p.scheme not in POSTGRES_SCHEMES:
            return "URL basis data harus diawali postgresql://"
        if not self.database or "/" in self.database:
            return "sebutkan nama basis data di akhir URL, mis. postgresql://alur@localhost/alur"
        return None

    def __str__(self) -> str:
        p = self.parts
        if p.password is None:
            return self.url
        host = p.netloc.rsplit("@", 1)[-1]
        return urlunsplit((p.scheme, f"{p.username or ''}:***@{host}", p.path, p.query, p.fragment))

    def __repr__(self) -> str:
        return f"PostgresUrl({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PostgresUrl) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)


Target = str | Path | PostgresUrl
"""What ALUR_DB names: an SQLite file (a path, or ``sqlite:///path``) or a PostgreSQL database (its URL)."""


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/")
"""A URL's scheme (two letters or more, so ``C:/`` would stay a path), followed by at least one slash."""


class UnknownTarget(ValueError):
    """A database given as a URL whose scheme is neither PostgreSQL's nor ``sqlite:///``.

    Such a value used to become a relative SQLite path (``postgress://u:pw@host/db`` → a folder
    ``postgress:`` with the password in its name, and an empty database); it is refused instead.
    ``str()`` is the reason in Indonesian, for the settings check and ``alur db copy``."""

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        if scheme.lower() == "sqlite":
            reason = ("URL SQLite ditulis sqlite:///path/relatif atau sqlite:////path/absolut "
                      "(tiga atau empat garis miring)")
        else:
            close = difflib.get_close_matches(scheme.lower(), [*POSTGRES_SCHEMES, "sqlite"], n=1, cutoff=0.6)
            suggestion = ""
            if close:
                suggestion = " (maksud Anda: sqlite:///?)" if close[0] == "sqlite" else " (maksud Anda: postgresql://?)"
            reason = (f"jenis basis data '{scheme}://' tidak dikenal{suggestion}; yang dikenal hanya postgresql:// "
                      "(atau postgres://), sqlite:/// dan path berkas SQLite")
        super().__init__(reason)


def parse_target(value: Target) -> Path | PostgresUrl:
    """A path for SQLite (``sqlite:///x`` or a plain path), a ``PostgresUrl`` for ``postgresql://…``.

    Raises ``UnknownTarget`` for any other URL (``mysql://…``, a misspelt ``postgress://…``, ``sqlite:/x``)."""
    if isinstance(value, PostgresUrl | Path):
        return value
    text = value.strip()
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else ""
    if scheme in POSTGRES_SCHEMES and "://" in text:
        return PostgresUrl(text)
    if scheme == "sqlite" and "://" in text:
        rest = text.split("://", 1)[1]
        return Path(rest[1:] if rest.startswith("/") else rest)  # sqlite:///relative, sqlite:////absolute
    if scheme:
        raise UnknownTarget(match.group(1) if match else scheme)
    return Path(text)


def hide_password(text: str) -> str:
    """Any URL with the password of its user part replaced by ``***`` (other text unchanged)."""
    if "://" not in text:
        return text
    try:
        p = urlsplit(text.strip())
        password = p.password
    except ValueError:
        return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", text)
    if password is None:
        return text
    host = p.netloc.rsplit("@", 1)[-1]
    return urlunsplit((p.scheme, f"{p.username or ''}:***@{host}", p.path, p.query, p.fragment))


def dialect_of(value: Target) -> Dialect:
    return Dialect.POSTGRESQL if isinstance(parse_target(value), PostgresUrl) else Dialect.SQLITE


# ---------------------------------------------------------------- SQL for PostgreSQL

_CODE_OR_QUOTED = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*)""")
_HINT = re.compile(r"\s+(?:INDEXED\s+BY\s+\w+|NOT\s+INDEXED)\b", re.IGNORECASE)
_IS_PARAM = re.compile(r"\bIS\s+(NOT\s+)?\?", re.IGNORECASE)
_GROUP_CONCAT = re.compile(r"\bgroup_concat\s*\(\s*([\w.]+)\s*\)", re.IGNORECASE)

_SQLITE_ONLY: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bINSERT\s+OR\s+(IGNORE|REPLACE|ABORT|FAIL|ROLLBACK)\b", re.I),
     "INSERT OR … is SQLite-only: write INSERT … ON CONFLICT (…) DO NOTHING / DO UPDATE SET …"),
    (re.compile(r"^\s*REPLACE\s+INTO\b", re.I), "REPLACE INTO is SQLite-only: write INSERT … ON CONFLICT … DO UPDATE"),
    (re.compile(r"\bCOLLATE\s+NOCASE\b", re.I), "COLLATE NOCASE is SQLite-only: compare UPPER(a) = UPPER(?)"),
    (re.compile(r"\b(julianday|strftime|unixepoch|datetime)\s*\(", re.I),
     "SQLite date functions: compare the ISO-8601 text, or compute the time in Python"),
    (re.compile(r"\bifnull\s*\(", re.I), "IFNULL is SQLite-only: write COALESCE"),
    (re.compile(r"\bgroup_concat\s*\(", re.I),
     "GROUP_CONCAT is SQLite-only beyond group_concat(column): fetch the rows and join in Python"),
    (re.compile(r"\biif\s*\(", re.I), "IIF is SQLite-only: write CASE WHEN … THEN … ELSE … END"),
    (re.compile(r"\blast_insert_rowid\s*\(", re.I), "use Tx.insert (RETURNING id on PostgreSQL)"),
    (re.compile(r"^\s*PRAGMA\b", re.I), "PRAGMA is SQLite-only"),
    (re.compile(r"\bGLOB\b", re.I), "GLOB is SQLite-only: write LIKE"),
]


@lru_cache(maxsize=4096)
def postgres_sql(sql: str) -> str:
    """The statement as PostgreSQL takes it (see the module docstring); raises ``NotPortable``."""
    pieces = _CODE_OR_QUOTED.split(sql)
    out: list[str] = []
    number = 0
    for i, piece in enumerate(pieces):
        if i % 2:  # a quoted literal, a quoted identifier or a comment: left as it is
            out.append(piece)
            continue
        piece = _GROUP_CONCAT.sub(r"string_agg(\1, ',')", piece)
        for pattern, advice in _SQLITE_ONLY:
            if pattern.search(piece):
                raise NotPortable(f"{advice}: {sql}")
        piece = _HINT.sub("", piece)
        piece = _IS_PARAM.sub(lambda m: "IS DISTINCT FROM ?" if m.group(1) else "IS NOT DISTINCT FROM ?", piece)
        parts = piece.split("?")
        for j, part in enumerate(parts):
            if j:
                number += 1
                out.append(f"${number}")
            out.append(part)
    return "".join(out)


def with_returning_id(sql: str) -> str:
    """An INSERT that also returns the new row's id (PostgreSQL has no lastrowid)."""
    return sql.rstrip().rstrip(";") + " RETURNING id"
