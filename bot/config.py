"""Settings from the environment (and an optional .env file), with safe defaults."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from dotenv import load_dotenv

from bot.sop.calendar import DEFAULT_HOURS, DEFAULT_TZ, HolidayBook, WorkCalendar, WorkSchedule
from bot.sop.durations import parse_duration
from bot.workflow.policy import ReminderPolicy


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
    webhook_secret: str | None = None
    retention_days: int = 30
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
            retention = int(get("ALUR_RETENTION_DAYS", "30"))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        if retention < 1:
            raise ConfigError("ALUR_RETENTION_DAYS harus minimal 1")
        secret = get("ALUR_WEBHOOK_SECRET") or None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ConfigError("ALUR_WEBHOOK_SECRET: 16-256 karakter A-Z, a-z, 0-9, _ atau -")
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
            webhook_secret=secret,
            retention_days=retention,
        )
        settings.calendar()
        settings.policy()
        return settings

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
