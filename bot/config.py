"""Settings from the environment (and an optional .env file), with safe defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from dotenv import load_dotenv

from bot.sop.calendar import DEFAULT_HOURS, DEFAULT_TZ, HolidayBook, WorkCalendar, WorkSchedule
from bot.sop.durations import parse_duration
from bot.workflow.engine import ReminderPolicy


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    api_base_url: str | None = None
    api_file_url: str | None = None
    db_path: Path = Path("data/alur.sqlite3")
    sop_dir: Path | None = None
    people_file: Path | None = None
    holidays_file: Path | None = None
    timezone: str = DEFAULT_TZ
    work_hours: str = DEFAULT_HOURS
    digest_time: time = time(7, 30)
    remind_fraction: float = 0.75
    escalation_grace: str = "1 jam"
    max_attempts: int = 8
    bot_username: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    web_listen: str = "127.0.0.1"
    web_port: int | None = None
    web_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        if env is None:
            if dotenv:
                load_dotenv(override=False)
            env = dict(os.environ)
        get = env.get
        try:
            digest = _hhmm(get("ALUR_DIGEST_TIME", "07:30"))
            fraction = float(get("ALUR_REMIND_FRACTION", "0.75"))
            attempts = int(get("ALUR_MAX_ATTEMPTS", "8"))
            port = int(get("ALUR_WEBHOOK_PORT", "8443"))
            web_port = int(get("ALUR_WEB_PORT")) if get("ALUR_WEB_PORT") else None
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        if not 0 < fraction < 1:
            raise ConfigError("ALUR_REMIND_FRACTION harus di antara 0 dan 1")
        base = get("TELEGRAM_API_BASE_URL") or None
        settings = cls(
            token=get("TELEGRAM_BOT_TOKEN") or None,
            api_base_url=base,
            api_file_url=get("TELEGRAM_API_FILE_URL") or (base.replace("/bot", "/file/bot", 1) if base else None),
            db_path=Path(get("ALUR_DB", "data/alur.sqlite3")),
            sop_dir=Path(get("ALUR_SOP_DIR")) if get("ALUR_SOP_DIR") else None,
            people_file=Path(get("ALUR_PEOPLE")) if get("ALUR_PEOPLE") else None,
            holidays_file=Path(get("ALUR_HOLIDAYS")) if get("ALUR_HOLIDAYS") else None,
            timezone=get("ALUR_TZ", DEFAULT_TZ),
            work_hours=get("ALUR_WORK_HOURS", DEFAULT_HOURS),
            digest_time=digest,
            remind_fraction=fraction,
            escalation_grace=get("ALUR_ESCALATION_GRACE", "1 jam"),
            max_attempts=attempts,
            bot_username=get("ALUR_BOT_USERNAME", ""),
            webhook_listen=get("ALUR_WEBHOOK_LISTEN", "0.0.0.0"),
            webhook_port=port,
            web_listen=get("ALUR_WEB_LISTEN", "127.0.0.1"),
            web_port=web_port,
            web_url=(get("ALUR_WEB_URL") or "").rstrip("/") or None,
        )
        if settings.web_url and not settings.web_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ConfigError("ALUR_WEB_URL harus alamat https:// (Telegram membuka Mini App hanya lewat HTTPS)")
        settings.calendar()
        settings.policy()
        return settings

    @property
    def web_enabled(self) -> bool:
        """The board's web server runs when a port or a public URL is configured (port 0 = off)."""
        return (self.web_port is not None and self.web_port != 0) or (self.web_url is not None and self.web_port != 0)

    def calendar(self) -> WorkCalendar:
        try:
            return WorkCalendar(
                WorkSchedule.parse(self.work_hours), HolidayBook.load(self.holidays_file), tz=self.timezone
            )
        except Exception as exc:
            raise ConfigError(f"kalender kerja: {exc}") from exc

    def policy(self) -> ReminderPolicy:
        try:
            grace = parse_duration(self.escalation_grace)
        except ValueError as exc:
            raise ConfigError(f"ALUR_ESCALATION_GRACE: {exc}") from exc
        return ReminderPolicy(remind_fraction=self.remind_fraction, escalation_grace=grace)


def _hhmm(text: str) -> time:
    hh, _, mm = text.replace(".", ":").partition(":")
    return time(int(hh), int(mm or 0))
