"""Settings: one object from the environment and .env, one line per bad value; working hours and holidays."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ApplicationBuilder

from bot.config import ACCEPTED, ConfigError, Settings
from bot.sop.calendar import DEFAULT_HOLIDAY_FILE, CalendarError, WorkCalendar, WorkSchedule
from bot.sop.catalog import DEFAULT_SOP_DIR
from bot.sop.durations import parse_duration
from sandbox.fake_bot_api.server import DEFAULT_TOKEN
from scheduler.tick import schedule_jobs

WIB = ZoneInfo("Asia/Jakarta")


def test_direct_construction_never_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ALUR_DIGEST_TIME=09:15\n", encoding="utf-8")
    monkeypatch.setenv("ALUR_TZ", "Asia/Jayapura")
    monkeypatch.setenv("ALUR_SOP_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", DEFAULT_TOKEN)
    direct = Settings(db_path=tmp_path / "t.sqlite3")
    assert direct.timezone == "Asia/Jakarta" and direct.sop_dir is None and direct.token is None
    assert direct.digest_time == time(7, 30)
    monkeypatch.delenv("ALUR_SOP_DIR")
    deployed = Settings.from_env()
    assert deployed.timezone == "Asia/Jayapura" and deployed.digest_time == time(9, 15)  # env, then .env
    assert deployed.token_value == DEFAULT_TOKEN


def test_environment_wins_over_dotenv_and_empty_means_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ALUR_DIGEST_TIME=09:15\nALUR_TZ=Asia/Makassar\nSOMETHING_ELSE=1\n",
                                   encoding="utf-8")
    monkeypatch.setenv("ALUR_DIGEST_TIME", "8.05")
    monkeypatch.setenv("ALUR_PEOPLE", "")
    s = Settings.from_env()
    assert s.digest_time == time(8, 5) and s.timezone == "Asia/Makassar" and s.people_file is None
    assert Settings.from_env(dotenv=False).timezone == "Asia/Jakarta"


def test_every_bad_value_is_one_line_naming_variable_value_and_what_is_accepted(tmp_path: Path) -> None:
    env = {"ALUR_TZ": "Asia/Jakata", "ALUR_DIGEST_TIME": "7:75", "ALUR_MAX_ATTEMPTS": "x",
           "ALUR_WORK_HOURS": "mon-fri 08:00-16", "ALUR_REMIND_FRACTION": "0", "ALUR_PEOPLE": str(tmp_path / "p.yml")}
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    problems = caught.value.problems
    assert sorted(p.variable for p in problems) == sorted(env)
    for problem in problems:
        line = str(problem)
        assert "\n" not in line and line.startswith(f"{problem.variable}={env[problem.variable]!r} tidak valid: ")
        assert f"Yang diterima: {ACCEPTED[problem.variable]}" in line
    tz = next(str(p) for p in problems if p.variable == "ALUR_TZ")
    assert "maksud Anda: Asia/Jakarta?" in tz
    assert "Traceback" not in str(caught.value) and "pydantic" not in str(caught.value)


def test_the_token_is_never_shown() -> None:
    token = "123456789:AASecretSecretSecretSecret"
    s = Settings.from_env({"TELEGRAM_BOT_TOKEN": f"  {token}\n"})
    assert s.token_value == token  # pasted with spaces: trimmed
    assert token not in repr(s) and token not in str(s)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": "secret words"})
    assert "secret words" not in str(caught.value) and "(disembunyikan)" in str(caught.value)


def test_base_url_gives_the_file_url_and_must_end_in_bot() -> None:
    s = Settings.from_env({"TELEGRAM_API_BASE_URL": "http://bothost:8081/bot/"})
    assert s.api_base_url == "http://bothost:8081/bot" and s.api_file_url == "http://bothost:8081/file/bot"
    with pytest.raises(ConfigError, match="TELEGRAM_API_BASE_URL"):
        Settings.from_env({"TELEGRAM_API_BASE_URL": "http://bothost:8081"})


def test_tick_interval_and_first_tick_are_settings() -> None:
    s = Settings.from_env({"ALUR_TICK_SECONDS": "30", "ALUR_TICK_FIRST": "0"})
    assert (s.tick_seconds, s.first_tick_seconds) == (30, 0)
    assert (Settings().tick_seconds, Settings().first_tick_seconds) == (60, 5)
    app = ApplicationBuilder().token(DEFAULT_TOKEN).build()
    schedule_jobs(app, interval=s.tick_seconds, first=s.first_tick_seconds)
    assert app.job_queue is not None
    (job,) = app.job_queue.scheduler.get_jobs()
    assert job.trigger.interval == timedelta(seconds=30)


def test_work_hours_accept_24_00_as_end_of_day() -> None:
    schedule = WorkSchedule.parse("mon-sun 00:00-24:00")
    assert schedule.minutes_per_week() == 7 * 24 * 60
    assert schedule.describe() == "Sen–Min 00:00–24:00"
    cal = WorkCalendar(schedule)
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=WIB)
    assert cal.between(monday, monday + timedelta(days=1)) == timedelta(hours=24)
    late = datetime(2026, 11, 23, 23, 30, tzinfo=WIB)
    assert cal.is_working_time(late)
    assert cal.add(late, parse_duration("1 jam")) == datetime(2026, 11, 24, 0, 30, tzinfo=WIB)
    evening = WorkCalendar(WorkSchedule.parse("mon-fri 08:00-12:00,18:00-24:00"))
    friday_late = datetime(2026, 11, 27, 23, 0, tzinfo=WIB)
    assert evening.add(friday_late, parse_duration("1 jam")) == datetime(2026, 11, 28, 0, 0, tzinfo=WIB)
    assert Settings.from_env({"ALUR_WORK_HOURS": "mon-fri 16:00-24:00"}).work_hours == "mon-fri 16:00-24:00"


@pytest.mark.parametrize("spec,words", [
    ("mon-fri 08:00-24:30", "pakai 00:00–24:00"),
    ("mon-fri 24:00-08:00", "pakai 00:00–23:59"),
    ("fri-mon 08:00-16:00", "terbalik"),
    ("senin 08:00-16:00", "tidak terbaca"),
    ("mon-fri 08:00-12:00,11:00-16:00", "tumpang tindih"),
    ("mon-fri 8-16", "HH:MM-HH:MM"),
])
def test_work_hours_errors_say_what_to_write(spec: str, words: str) -> None:
    with pytest.raises(CalendarError, match=words):
        WorkSchedule.parse(spec)


def _sop_copy_with_holiday(tmp_path: Path, day: str) -> Path:
    folder = tmp_path / "sop"
    shutil.copytree(DEFAULT_SOP_DIR, folder)
    (folder / "holidays.yaml").write_text(
        f"years:\n  2026:\n    cuti_bersama: []\n    added:\n      - {{date: {day}, name: Hari Jadi Kabupaten}}\n",
        encoding="utf-8")
    return folder


def test_holidays_yaml_in_the_sop_folder_is_used(tmp_path: Path) -> None:
    folder = _sop_copy_with_holiday(tmp_path, "2026-11-25")
    wednesday = date(2026, 11, 25)
    assert Settings().calendar().is_working_day(wednesday)
    local = Settings(sop_dir=folder)
    assert local.holiday_path == folder / "holidays.yaml"
    assert local.calendar().holidays.name(wednesday) == "Hari Jadi Kabupaten"
    explicit = Settings(sop_dir=folder, holidays_file=DEFAULT_HOLIDAY_FILE)  # ALUR_HOLIDAYS wins
    assert explicit.calendar().is_working_day(wednesday)
    (folder / "holidays.yaml").unlink()
    assert Settings(sop_dir=folder).holiday_path == DEFAULT_HOLIDAY_FILE


def test_a_broken_holiday_file_in_the_sop_folder_is_a_setting_error(tmp_path: Path) -> None:
    folder = _sop_copy_with_holiday(tmp_path, "2026-13-45")
    with pytest.raises(ConfigError) as caught:
        Settings(sop_dir=folder).calendar()
    (problem,) = caught.value.problems
    assert problem.variable == "ALUR_SOP_DIR" and "tanggal tidak valid" in str(problem)
