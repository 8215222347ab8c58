"""Working-time calendar: hours, holidays, cuti bersama, add() and between()."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sop.calendar import CalendarError, HolidayBook, WorkCalendar, WorkSchedule
from bot.sop.durations import Duration, parse_duration

WIB = ZoneInfo("Asia/Jakarta")
CAL = WorkCalendar()


def wib(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=WIB)


def test_default_schedule_is_37_5_hours() -> None:
    assert CAL.schedule.minutes_per_week() == 37 * 60 + 30


def test_weekends_holidays_and_cuti_bersama_are_off() -> None:
    assert CAL.is_working_day(date(2026, 11, 23))  # Monday
    assert not CAL.is_working_day(date(2026, 11, 28))  # Saturday
    assert not CAL.is_working_day(date(2026, 8, 17))  # Hari Kemerdekaan
    assert not CAL.is_working_day(date(2026, 12, 24))  # cuti bersama Natal (data file)
    assert not CAL.is_working_day(date(2026, 12, 25))  # Natal
    assert CAL.holidays.name(date(2026, 12, 24)) == "Cuti Bersama Hari Raya Natal"


def test_half_hour_inside_the_morning() -> None:
    due = CAL.add(wib(2026, 11, 23, 9, 0), parse_duration("0,5 jam"))
    assert due == wib(2026, 11, 23, 9, 30).astimezone(UTC)


def test_minutes_skip_the_lunch_break_and_the_night() -> None:
    assert CAL.add(wib(2026, 11, 23, 11, 30), parse_duration("1 jam")) == wib(2026, 11, 23, 13, 30)
    assert CAL.add(wib(2026, 11, 23, 15, 30), parse_duration("1 jam")) == wib(2026, 11, 24, 8, 0)


def test_friday_has_a_longer_break() -> None:
    assert CAL.add(wib(2026, 11, 27, 11, 0), parse_duration("1 jam")) == wib(2026, 11, 27, 13, 30)


def test_start_outside_hours_begins_at_next_opening() -> None:
    assert CAL.add(wib(2026, 11, 28, 10, 0), parse_duration("30 menit")) == wib(2026, 11, 30, 8, 0)
    assert CAL.add(wib(2026, 11, 23, 6, 0), parse_duration("30 menit")) == wib(2026, 11, 23, 8, 0)


def test_deadline_crossing_a_national_holiday_and_cuti_bersama() -> None:
    # Wed 23 Dec 2026 10:00 + 1 hari: 24 (cuti bersama) and 25 (Natal) are off, 26-27 weekend.
    assert CAL.add(wib(2026, 12, 23, 10, 0), parse_duration("1 hari")) == wib(2026, 12, 28, 10, 0)


def test_days_keep_wall_time_and_stay_inside_working_hours() -> None:
    assert CAL.add(wib(2026, 11, 23, 10, 0), parse_duration("5 hari")) == wib(2026, 11, 30, 10, 0)
    # Thursday 16:00 (closing) + 1 hari → Friday 16:00 (Friday closes 16:30)
    assert CAL.add(wib(2026, 11, 26, 16, 0), parse_duration("1 hari")) == wib(2026, 11, 27, 16, 0)
    # Friday 16:15 + 1 hari → Monday closes at 16:00
    assert CAL.add(wib(2026, 11, 27, 16, 15), parse_duration("1 hari")) == wib(2026, 11, 30, 16, 0)


def test_week_is_five_working_days_and_month_is_calendar() -> None:
    assert CAL.add(wib(2026, 11, 23, 9), parse_duration("1 Minggu")) == wib(2026, 11, 30, 9)
    assert CAL.add(wib(2026, 1, 30, 9), parse_duration("1 bulan")) == wib(2026, 3, 2, 7, 30)  # 28 Feb is Sat


def test_between_counts_only_working_time() -> None:
    assert CAL.between(wib(2026, 11, 23, 7, 30), wib(2026, 11, 23, 16, 0)) == timedelta(hours=7, minutes=30)
    assert CAL.between(wib(2026, 11, 27, 15, 0), wib(2026, 11, 30, 8, 30)) == timedelta(hours=2, minutes=30)
    assert CAL.between(wib(2026, 11, 30), wib(2026, 11, 23)) == timedelta(0)


def test_other_time_zone_and_schedule() -> None:
    wita = WorkCalendar(WorkSchedule.parse("mon-fri 08:00-16:00"), tz="Asia/Makassar")
    assert wita.zone_label == "WITA"
    start = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Makassar"))
    assert wita.add(start, parse_duration("8 jam")) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_holiday_file_amendments(tmp_path: Path) -> None:
    f = tmp_path / "h.yaml"
    f.write_text(
        "years:\n  2026:\n    decree: SKB uji\n    cuti_bersama: []\n"
        "    added: [{date: 2026-11-25, name: Pilkada}]\n    removed: [2026-08-17]\n"
    )
    cal = WorkCalendar(holidays=HolidayBook.load(f))
    assert not cal.is_working_day(date(2026, 11, 25))
    assert cal.is_working_day(date(2026, 8, 17))
    assert cal.is_working_day(date(2026, 12, 24))  # the year's list is authoritative: no cuti bersama listed
    assert not cal.is_working_day(date(2027, 12, 24))  # other years fall back to the package


@pytest.mark.parametrize("spec", ["", "mon 16:00-08:00", "xyz 08:00-09:00", "mon 08:00-12:00,11:00-13:00"])
def test_bad_schedules(spec: str) -> None:
    with pytest.raises(CalendarError):
        WorkSchedule.parse(spec)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add(datetime(2026, 11, 23, 9), Duration(minutes=5))


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1), timezones=st.just(UTC)
)
minute_durations = st.integers(1, 20_000).map(lambda m: Duration(minutes=m))
any_durations = st.builds(
    Duration,
    minutes=st.integers(0, 3000),
    days=st.integers(0, 30),
    weeks=st.integers(0, 4),
    months=st.integers(0, 3),
)


@settings(max_examples=200, deadline=None)
@given(moments, any_durations)
def test_never_lands_outside_working_time(start: datetime, d: Duration) -> None:
    due = CAL.add(start, d)
    assert due >= start
    if not d.is_zero:
        assert CAL.within_working_time(due)


@settings(max_examples=200, deadline=None)
@given(moments, moments, any_durations)
def test_monotonic(a: datetime, b: datetime, d: Duration) -> None:
    lo, hi = sorted([a, b])
    assert CAL.add(lo, d) <= CAL.add(hi, d)


@settings(max_examples=200, deadline=None)
@given(moments, minute_durations, minute_durations)
def test_additive_for_working_minutes(start: datetime, d1: Duration, d2: Duration) -> None:
    assert CAL.add(CAL.add(start, d1), d2) == CAL.add(start, d1 + d2)


@settings(max_examples=200, deadline=None)
@given(moments, minute_durations)
def test_between_inverts_add(start: datetime, d: Duration) -> None:
    assert CAL.between(start, CAL.add(start, d)) == timedelta(minutes=d.minutes)


@settings(max_examples=100, deadline=None)
@given(moments, moments, moments)
def test_between_is_additive(a: datetime, b: datetime, c: datetime) -> None:
    x, y, z = sorted([a, b, c])
    assert CAL.between(x, y) + CAL.between(y, z) == CAL.between(x, z)
