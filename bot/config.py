"""Settings: one validated object, read from the environment (and an optional .env file) by every command.

``Settings.from_env()`` is what the `alur` command uses: environment variables first, then a
``.env`` file in the working directory, then the defaults. Constructing ``Settings(db_path=...)``
directly (tests, the demo, the benchmarks) reads nothing from the environment, so a developer's
own ``ALUR_*`` variables cannot leak into a test.

A bad value raises ``ConfigError`` with one ``ConfigProblem`` per variable: the variable, the value
as given and what is accepted (the token's value is never repeated).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import time
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field, InstanceOf, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.sop.calendar import (
    DEFAULT_HOURS,
    DEFAULT_TZ,
    CalendarError,
    HolidayBook,
    WorkCalendar,
    WorkSchedule,
    holiday_file,
)
from bot.sop.durations import parse_duration
from bot.storage.dialect import PostgresUrl, UnknownTarget, hide_password, parse_target
from bot.workflow.policy import ReminderPolicy

DEFAULT_DB = Path("data/alur.sqlite3")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

ACCEPTED: dict[str, str] = {
    "TELEGRAM_BOT_TOKEN": "token dari @BotFather, bentuknya 123456789:AAH… (angka, titik dua, lalu huruf/angka)",
    "TELEGRAM_API_BASE_URL": "URL http(s) yang berakhir dengan /bot, mis. https://api.telegram.org/bot "
                             "atau http://127.0.0.1:8081/bot",
    "TELEGRAM_API_FILE_URL": "URL http(s) yang berakhir dengan /file/bot, mis. http://127.0.0.1:8081/file/bot",
    "ALUR_DB": "path berkas SQLite, mis. /var/lib/alur/alur.sqlite3 (foldernya harus ada atau dapat dibuat), "
               "atau URL PostgreSQL, mis. postgresql://alur:sandi@db.example.go.id:5432/alur",
    "ALUR_PEOPLE": "path berkas YAML daftar pegawai yang ada, mis. /etc/alur/people.yaml",
    "ALUR_SOP_DIR": "folder SOP yang ada, berisi roles.yaml, institutions.yaml, opd.yaml dan satu YAML per SOP",
    "ALUR_HOLIDAYS": "path berkas YAML libur/cuti bersama yang ada (format seperti sop_data/holidays.yaml)",
    "ALUR_TZ": "nama zona waktu IANA: Asia/Jakarta (WIB), Asia/Makassar (WITA) atau Asia/Jayapura (WIT)",
    "ALUR_WORK_HOURS": "hari lalu jam, dipisah titik koma, mis. 'mon-thu 07:30-12:00,13:00-16:00; "
                       "fri 07:30-11:30,13:00-16:30' (hari: mon tue wed thu fri sat sun; 24:00 = akhir hari)",
    "ALUR_DIGEST_TIME": "jam HH:MM antara 00:00 dan 23:59, mis. 07:30",
    "ALUR_REMIND_FRACTION": "angka desimal di antara 0 dan 1, mis. 0.75",
    "ALUR_ESCALATION_GRACE": "durasi kerja seperti di SOP, mis. '30 menit', '1 jam', '1 hari'",
    "ALUR_MAX_ATTEMPTS": "bilangan bulat 1 atau lebih, mis. 8",
    "ALUR_BOT_USERNAME": "username bot tanpa @, 5–32 huruf/angka/garis bawah, berakhir dengan 'bot'",
    "ALUR_WEBHOOK_LISTEN": "alamat IP atau nama host untuk mendengarkan, mis. 0.0.0.0 atau 127.0.0.1",
    "ALUR_WEBHOOK_PORT": "nomor port 1–65535, mis. 8443",
    "ALUR_TICK_SECONDS": "detik antar-detak penjadwal, 1–3600, mis. 60",
    "ALUR_TICK_FIRST": "detik sebelum detak pertama setelah mulai, 0–3600, mis. 5",
    "ALUR_LOG_LEVEL": "salah satu dari DEBUG, INFO, WARNING, ERROR",
    "ALUR_WEB_URL": "alamat https:// publik papan pengawas, mis. https://alur.example.go.id/papan "
                    "(http:// hanya untuk 127.0.0.1 atau localhost)",
    "ALUR_WEB_LISTEN": "alamat IP atau nama host untuk server papan, mis. 127.0.0.1",
    "ALUR_WEB_PORT": "nomor port 1–65535 untuk server papan, mis. 8080; 0 mematikan papan",
    "ALUR_WEBHOOK_SECRET": "16–256 karakter A-Z, a-z, 0-9, _ atau - (kosongkan agar dibuat otomatis)",
    "ALUR_RETENTION_DAYS": "bilangan bulat hari, 1–3650, mis. 30",
    "ALUR_WORKERS": "jumlah proses `alur run` yang berbagi satu PostgreSQL, 1–64, mis. 3 (lebih dari 1 perlu "
                    "ALUR_DB=postgresql://…)",
}
"""What each variable accepts, shown with every bad value (the README's configuration table says the same)."""

_SECRET = frozenset({"TELEGRAM_BOT_TOKEN", "ALUR_WEBHOOK_SECRET"})
_READ_ENVIRONMENT: ContextVar[bool] = ContextVar("alur_read_environment", default=False)


@dataclass(frozen=True)
class ConfigProblem:
    variable: str
    value: object
    reason: str

    @property
    def accepted(self) -> str:
        return ACCEPTED.get(self.variable, "")

    def __str__(self) -> str:
        shown = "(disembunyikan)" if self.variable in _SECRET else repr(_plain(self.value))
        accepted = f" Yang diterima: {self.accepted}." if self.accepted else ""
        return f"{self.variable}={shown} tidak valid: {self.reason}.{accepted}"


class ConfigError(ValueError):
    """One or more settings with a bad value; ``str()`` is one line per problem."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _plain(value: object) -> object:
    if isinstance(value, SecretStr):
        return "(disembunyikan)"
    if isinstance(value, Path | PostgresUrl):
        return str(value)
    if isinstance(value, str):
        return hide_password(value)  # never repeat a database password, whatever the URL's scheme
    return value


def _bad(reason: str) -> PydanticCustomError:
    return PydanticCustomError("alur_setting", reason)


class Settings(BaseSettings):
    """Everything a deployment configures; field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    api_base_url: str | None = Field(None, validation_alias="TELEGRAM_API_BASE_URL")
    api_file_url: str | None = Field(None, validation_alias="TELEGRAM_API_FILE_URL")
    db_path: Path | InstanceOf[PostgresUrl] = Field(DEFAULT_DB, validation_alias="ALUR_DB")
    """The SQLite file, or the PostgreSQL database (``postgresql://…``; printing it hides the password)."""
    sop_dir: Path | None = Field(None, validation_alias="ALUR_SOP_DIR")
    people_file: Path | None = Field(None, validation_alias="ALUR_PEOPLE")
    holidays_file: Path | None = Field(None, validation_alias="ALUR_HOLIDAYS")
    timezone: str = Field(DEFAULT_TZ, validation_alias="ALUR_TZ")
    work_hours: str = Field(DEFAULT_HOURS, validation_alias="ALUR_WORK_HOURS")
    digest_time: time = Field(time(7, 30), validation_alias="ALUR_DIGEST_TIME")
    remind_fraction: float = Field(0.75, validation_alias="ALUR_REMIND_FRACTION")
    escalation_grace: str = Field("1 jam", validation_alias="ALUR_ESCALATION_GRACE")
    max_attempts: int = Field(8, validation_alias="ALUR_MAX_ATTEMPTS")
    bot_username: str = Field("", validation_alias="ALUR_BOT_USERNAME")
    webhook_listen: str = Field("0.0.0.0", validation_alias="ALUR_WEBHOOK_LISTEN")
    webhook_port: int = Field(8443, validation_alias="ALUR_WEBHOOK_PORT")
    tick_seconds: float = Field(60.0, validation_alias="ALUR_TICK_SECONDS")
    """How often the scheduler wakes (reminder sweep, digest round, pruning)."""
    first_tick_seconds: float = Field(5.0, validation_alias="ALUR_TICK_FIRST")
    """Delay of the first tick after start (lets the bot answer waiting updates first)."""
    log_level: str = Field("INFO", validation_alias="ALUR_LOG_LEVEL")
    web_url: str | None = Field(None, validation_alias="ALUR_WEB_URL")
    """The supervisors' board's public address (what Telegram opens); enables the board's buttons."""
    web_listen: str = Field("127.0.0.1", validation_alias="ALUR_WEB_LISTEN")
    web_port: int | None = Field(None, validation_alias="ALUR_WEB_PORT")
    """The board's server port (8080 when only ALUR_WEB_URL is set); 0 turns the board off."""
    webhook_secret: SecretStr | None = Field(None, validation_alias="ALUR_WEBHOOK_SECRET")
    """The webhook's secret token; generated once and kept in the database when not set."""
    retention_days: int = Field(30, validation_alias="ALUR_RETENTION_DAYS")
    workers: int = Field(1, validation_alias="ALUR_WORKERS")
    """How many `alur run` processes share the (PostgreSQL) database; more than one turns on their
    coordination (scheduler/cluster.py) and splits Telegram's overall send budget between them."""
    """How long sent notices, handled updates and closed cases' events stay in the hot tables."""

    # ------------------------------------------------------------------ sources

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Direct construction uses only the given values; ``from_env`` adds the environment and .env."""
        if _READ_ENVIRONMENT.get():
            return init_settings, env_settings, dotenv_settings
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        """The deployment's settings: ``env`` (default: the process environment), then ``.env``, then defaults."""
        try:
            if env is not None:
                given = {k.upper(): v for k, v in env.items() if k.upper() in ACCEPTED and v != ""}
                return cls(**given)
            with _reading_environment():
                return cls(_env_file=".env" if dotenv else None)  # type: ignore[call-arg]
        except ValidationError as exc:
            raise ConfigError([_problem(e) for e in exc.errors()]) from None

    # ------------------------------------------------------------------ validation

    @field_validator("token", mode="before")
    @classmethod
    def _token(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", v):
                raise _bad("bentuk token tidak dikenali")
        return v

    @field_validator("api_base_url", mode="before")
    @classmethod
    def _base_url(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().rstrip("/")
            if not re.match(r"https?://[^/\s]+", v):
                raise _bad("bukan URL http:// atau https://")
            if not v.endswith("/bot") and "{token}" not in v:
                raise _bad("token ditempelkan langsung di belakang URL ini, jadi URL harus berakhir dengan /bot")
        return v

    @field_validator("api_file_url", mode="before")
    @classmethod
    def _file_url(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().rstrip("/")
            if not re.match(r"https?://[^/\s]+", v):
                raise _bad("bukan URL http:// atau https://")
        return v

    @field_validator("db_path", mode="before")
    @classmethod
    def _db_target(cls, v: Any) -> Any:
        """``postgresql://…`` selects PostgreSQL; ``sqlite:///path`` or a plain path keeps SQLite."""
        if isinstance(v, str):
            try:
                v = parse_target(v)
            except UnknownTarget as exc:
                raise _bad(str(exc)) from None
        if isinstance(v, PostgresUrl) and (problem := v.problem()) is not None:
            raise _bad(problem)
        return v

    @field_validator("db_path")
    @classmethod
    def _db_path(cls, v: Path | PostgresUrl) -> Path | PostgresUrl:
        if isinstance(v, PostgresUrl):
            return v
        if v.is_dir():
            raise _bad("ini sebuah folder, bukan berkas")
        parent = v.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if parent.exists() and not parent.is_dir():
            raise _bad(f"{parent} adalah berkas, bukan folder")
        return v

    @field_validator("sop_dir")
    @classmethod
    def _sop_dir(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_dir():
            raise _bad("folder tidak ada" if not v.exists() else "bukan folder")
        return v

    @field_validator("people_file", "holidays_file")
    @classmethod
    def _existing_file(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise _bad("berkas tidak ada" if not v.exists() else "bukan berkas")
        return v

    @field_validator("holidays_file")
    @classmethod
    def _holidays(cls, v: Path | None) -> Path | None:
        if v is not None:
            try:
                HolidayBook.load(v)
            except CalendarError as exc:
                raise _bad(str(exc)) from None
        return v

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        v = v.strip()
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            close = difflib.get_close_matches(v, _zone_names(), n=1, cutoff=0.6)
            hint = f" (maksud Anda: {close[0]}?)" if close else ""
            raise _bad(f"zona waktu tidak dikenal{hint}") from None
        return v

    @field_validator("work_hours")
    @classmethod
    def _work_hours(cls, v: str) -> str:
        try:
            WorkSchedule.parse(v)
        except CalendarError as exc:
            raise _bad(str(exc)) from None
        return v

    @field_validator("digest_time", mode="before")
    @classmethod
    def _digest_time(cls, v: Any) -> Any:
        if isinstance(v, str):
            m = re.fullmatch(r"\s*(\d{1,2})(?:[:.](\d{2}))?\s*", v)
            if not m:
                raise _bad("bukan jam HH:MM")
            hour, minute = int(m.group(1)), int(m.group(2) or 0)
            if not (0 <= hour <= 23 and 0 <= minute <= 59):
                raise _bad(f"jam {hour:02d}:{minute:02d} tidak ada")
            return time(hour, minute)
        return v

    @field_validator("remind_fraction")
    @classmethod
    def _fraction(cls, v: float) -> float:
        if not 0 < v < 1:
            raise _bad("harus lebih dari 0 dan kurang dari 1")
        return v

    @field_validator("escalation_grace")
    @classmethod
    def _grace(cls, v: str) -> str:
        try:
            parse_duration(v)
        except ValueError as exc:
            raise _bad(f"durasi tidak terbaca ({exc})") from None
        return v

    @field_validator("max_attempts")
    @classmethod
    def _attempts(cls, v: int) -> int:
        if v < 1:
            raise _bad("paling sedikit 1")
        return v

    @field_validator("bot_username", mode="before")
    @classmethod
    def _bot_username(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().removeprefix("@")
            if v and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", v):
                raise _bad("bukan username Telegram")
        return v

    @field_validator("webhook_listen", "web_listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        v = v.strip()
        if not re.fullmatch(r"[A-Za-z0-9.:\-\[\]]+", v):
            raise _bad("bukan alamat IP atau nama host")
        return v

    @field_validator("webhook_port")
    @classmethod
    def _port(cls, v: int) -> int:
        if not 1 <= v <= 65535:
            raise _bad("di luar 1–65535")
        return v

    @field_validator("web_port")
    @classmethod
    def _web_port(cls, v: int | None) -> int | None:
        if v is not None and not 0 <= v <= 65535:
            raise _bad("di luar 0–65535")
        return v

    @field_validator("web_url", mode="before")
    @classmethod
    def _web_url(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().rstrip("/")
            if not re.match(r"(https://[^/\s]+|http://(127\.0\.0\.1|localhost)([:/]|$))", v):
                raise _bad("Telegram membuka Mini App hanya lewat https://")
        return v

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", v):
                raise _bad("harus 16–256 karakter A-Z, a-z, 0-9, _ atau -")
        return v

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        if not 1 <= v <= 3650:
            raise _bad("di luar 1–3650 hari")
        return v

    @field_validator("workers")
    @classmethod
    def _workers(cls, v: int) -> int:
        if not 1 <= v <= 64:
            raise _bad("di luar 1–64")
        return v

    @field_validator("tick_seconds")
    @classmethod
    def _tick(cls, v: float) -> float:
        if not 1 <= v <= 3600:
            raise _bad("di luar 1–3600 detik")
        return v

    @field_validator("first_tick_seconds")
    @classmethod
    def _first_tick(cls, v: float) -> float:
        if not 0 <= v <= 3600:
            raise _bad("di luar 0–3600 detik")
        return v

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().upper()
            if v not in LOG_LEVELS:
                raise _bad("tingkat log tidak dikenal")
        return v

    @model_validator(mode="after")
    def _derived(self) -> Settings:
        if self.api_base_url and not self.api_file_url and self.api_base_url.endswith("/bot"):
            object.__setattr__(self, "api_file_url", self.api_base_url[: -len("/bot")] + "/file/bot")
        return self

    # ------------------------------------------------------------------ derived objects

    @property
    def token_value(self) -> str | None:
        """The token itself, for the Bot API client only (never log or print it)."""
        return self.token.get_secret_value() if self.token else None

    @property
    def uses_postgres(self) -> bool:
        return isinstance(self.db_path, PostgresUrl)

    @property
    def holiday_path(self) -> Path:
        """The holiday file in use: ALUR_HOLIDAYS, else holidays.yaml in ALUR_SOP_DIR, else the packaged one."""
        return holiday_file(self.holidays_file, self.sop_dir)

    @property
    def web_enabled(self) -> bool:
        """The board's web server runs when a port or a public URL is configured (port 0 = off)."""
        return self.web_port != 0 and (self.web_port is not None or self.web_url is not None)

    def calendar(self) -> WorkCalendar:
        try:
            return WorkCalendar(WorkSchedule.parse(self.work_hours), HolidayBook.load(self.holiday_path),
                                tz=self.timezone)
        except CalendarError as exc:
            variable = "ALUR_HOLIDAYS" if self.holidays_file else "ALUR_SOP_DIR"
            raise ConfigError([ConfigProblem(variable, self.holiday_path, str(exc))]) from exc

    def policy(self) -> ReminderPolicy:
        return ReminderPolicy(remind_fraction=self.remind_fraction,
                              escalation_grace=parse_duration(self.escalation_grace))


@contextmanager
def _reading_environment() -> Iterator[None]:
    token = _READ_ENVIRONMENT.set(True)
    try:
        yield
    finally:
        _READ_ENVIRONMENT.reset(token)


_BUILTIN_REASONS = {
    "int_parsing": "bukan bilangan bulat",
    "int_from_float": "bukan bilangan bulat",
    "float_parsing": "bukan angka (pakai titik untuk desimal)",
    "time_parsing": "bukan jam HH:MM",
    "path_type": "bukan path berkas",
    "string_type": "bukan teks",
}


def _problem(error: Any) -> ConfigProblem:
    loc = error.get("loc") or ("?",)
    variable = _ALIASES.get(str(loc[0]), str(loc[0]))
    reason = error["msg"] if error["type"].startswith("alur_") else _BUILTIN_REASONS.get(error["type"], error["msg"])
    return ConfigProblem(variable, error.get("input"), reason)


_ALIASES = {name: str(field.validation_alias) for name, field in Settings.model_fields.items()}


@cache
def _zone_names() -> list[str]:
    return sorted(available_timezones())
