"""Working time: office hours per weekday, Indonesian holidays and cuti bersama, one time zone.

Standard times in SOPs are working time, so a deadline is ``calendar.add(start, duration)``
and a step's real time is ``calendar.between(opened, completed)``. Results are aware
datetimes in UTC (what the database stores); the zone only decides what a working day
and a working hour are.

* minutes and hours consume working hours only (a result exactly at closing time stays there);
* days and weeks move to the same wall-clock time that many working days later, kept inside
  that day's working hours;
* months are calendar months, then moved to the next working moment if needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import yaml

from bot.sop.durations import Duration

DEFAULT_TZ = "Asia/Jakarta"
DEFAULT_HOURS = "mon-thu 07:30-12:00,13:00-16:00; fri 07:30-11:30,13:00-16:30"
"""A common regional-government schedule: 37.5 hours a week, Friday prayers break (Perpres 21/2023)."""

DEFAULT_HOLIDAY_FILE = Path(__file__).resolve().parents[2] / "sop_data" / "holidays.yaml"
ZONE_NAMES = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_MAX_DAYS_SCANNED = 3660


class CalendarError(ValueError):
    """A schedule or holiday file that cannot be read."""


Interval = tuple[time, time]


@dataclass(frozen=True)
class WorkSchedule:
    """Working intervals per weekday (0 = Monday)."""

    hours: dict[int, tuple[Interval, ...]]

    @classmethod
    def parse(cls, spec: str) -> WorkSchedule:
        """Read 'mon-thu 07:30-12:00,13:00-16:00; fri 07:30-11:30,13:00-16:30'."""
        hours: dict[int, tuple[Interval, ...]] = {}
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            m = re.fullmatch(r"([a-z]{3})(?:-([a-z]{3}))?\s+(.+)", part.lower())
            if not m or m.group(1) not in _DAYS or (m.group(2) and m.group(2) not in _DAYS):
                raise CalendarError(f"jadwal kerja tidak terbaca: {part!r}")
            first = _DAYS.index(m.group(1))
            last = _DAYS.index(m.group(2)) if m.group(2) else first
            intervals = tuple(_interval(x) for x in m.group(3).split(","))
            for a, b in pairwise(intervals):
                if b[0] < a[1]:
                    raise CalendarError(f"jam kerja tumpang tindih: {part!r}")
            for day in range(first, last + 1):
                hours[day] = intervals
        if not hours:
            raise CalendarError("jadwal kerja kosong")
        return cls(hours)

    def minutes_per_week(self) -> int:
        return sum(_minutes(a, b) for ivs in self.hours.values() for a, b in ivs)


def _interval(text: str) -> Interval:
    m = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})\s*", text)
    if not m:
        raise CalendarError(f"rentang jam tidak terbaca: {text!r}")
    a = time(int(m.group(1)), int(m.group(2)))
    b = time(int(m.group(3)), int(m.group(4)))
    if b <= a:
        raise CalendarError(f"jam selesai harus setelah jam mulai: {text!r}")
    return a, b


def _minutes(a: time, b: time) -> int:
    return (b.hour * 60 + b.minute) - (a.hour * 60 + a.minute)


@dataclass
class HolidayBook:
    """National holidays (from `holidays`), cuti bersama and amendments (from the data file)."""

    cuti_bersama: dict[int, dict[date, str]] = field(default_factory=dict)
    added: dict[date, str] = field(default_factory=dict)
    removed: set[date] = field(default_factory=set)
    decrees: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | str | None = None) -> HolidayBook:
        file = Path(path) if path else DEFAULT_HOLIDAY_FILE
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise CalendarError(f"{file}: tidak terbaca: {exc}") from exc
        book = cls()
        for year, entry in (data.get("years") or {}).items():
            entry = entry or {}
            book.decrees[int(year)] = " ".join(str(entry.get("decree", "")).split())
            book.cuti_bersama[int(year)] = {
                _date(item["date"], file): str(item.get("name", "Cuti Bersama"))
                for item in entry.get("cuti_bersama") or []
            }
            for item in entry.get("added") or []:
                book.added[_date(item["date"], file)] = str(item.get("name", "Libur"))
            for item in entry.get("removed") or []:
                book.removed.add(_date(item["date"] if isinstance(item, dict) else item, file))
        return book

    def name(self, day: date) -> str | None:
        """The holiday's name if the day is a holiday or cuti bersama, else None."""
        if day in self.removed:
            return None
        if day in self.added:
            return self.added[day]
        public = _public(day.year)
        if day in public:
            return public[day]
        listed = self.cuti_bersama.get(day.year)
        if listed is not None:
            return listed.get(day)
        return _government(day.year).get(day)


@lru_cache(maxsize=64)
def _public(year: int) -> dict[date, str]:
    return dict(holidays_lib.country_holidays("ID", years=year, language="id").items())


@lru_cache(maxsize=64)
def _government(year: int) -> dict[date, str]:
    return dict(
        holidays_lib.country_holidays("ID", years=year, categories=("government",), language="id").items()
    )


def _date(value: object, file: Path) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CalendarError(f"{file}: tanggal tidak valid: {value!r}") from exc


class WorkCalendar:
    """Working days and hours of one deployment."""

    def __init__(
        self,
        schedule: WorkSchedule | None = None,
        holidays: HolidayBook | None = None,
        tz: str = DEFAULT_TZ,
    ) -> None:
        self.schedule = schedule or WorkSchedule.parse(DEFAULT_HOURS)
        self.holidays = holidays if holidays is not None else HolidayBook.load()
        self.tz_name = tz
        self.tz = ZoneInfo(tz)
        self._day_cache: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    @property
    def zone_label(self) -> str:
        return ZONE_NAMES.get(self.tz_name, self.tz_name)

    # -- days and intervals

    def is_working_day(self, day: date) -> bool:
        return bool(self.schedule.hours.get(day.weekday())) and self.holidays.name(day) is None

    def intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's working intervals as aware local datetimes (empty on days off)."""
        cached = self._day_cache.get(day)
        if cached is None:
            if self.is_working_day(day):
                cached = tuple(
                    (datetime.combine(day, a, self.tz), datetime.combine(day, b, self.tz))
                    for a, b in self.schedule.hours[day.weekday()]
                )
            else:
                cached = ()
            if len(self._day_cache) > 20000:
                self._day_cache.clear()
            self._day_cache[day] = cached
        return cached

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        for _ in range(_MAX_DAYS_SCANNED):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise CalendarError("tidak ada hari kerja dalam 10 tahun ke depan")

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("waktu harus memiliki zona waktu (aware datetime)")
        return moment.astimezone(self.tz)

    def is_working_time(self, moment: datetime) -> bool:
        """Inside a working interval (start inclusive, end exclusive)."""
        t = self.local(moment)
        return any(s <= t < e for s, e in self.intervals(t.date()))

    def within_working_time(self, moment: datetime) -> bool:
        """Inside or at the closing edge of a working interval (where a deadline may fall)."""
        t = self.local(moment)
        return any(s <= t <= e for s, e in self.intervals(t.date()))

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself during working time, else the start of the next working interval."""
        t = self.local(moment)
        day = t.date()
        for _ in range(_MAX_DAYS_SCANNED):
            for s, e in self.intervals(day):
                if t < e:
                    return max(s, t).astimezone(UTC)
            day += timedelta(days=1)
        raise CalendarError("tidak ada jam kerja dalam 10 tahun ke depan")

    def day_start(self, day: date) -> datetime | None:
        ivs = self.intervals(day)
        return ivs[0][0].astimezone(UTC) if ivs else None

    # -- arithmetic

    def add(self, start: datetime, duration: Duration) -> datetime:
        """The moment ``duration`` of working time after ``start`` (UTC)."""
        t = self.local(start)
        if duration.is_zero:
            return t.astimezone(UTC)
        if duration.months:
            t = _add_months(t, duration.months)
        if duration.working_days:
            t = self._add_days(t, duration.working_days)
        if duration.minutes:
            t = self._add_minutes(t, duration.minutes)
        if not self.within_working_time(t):
            t = self.local(self.next_working_moment(t))
        return t.astimezone(UTC)

    def _add_days(self, t: datetime, days: int) -> datetime:
        if not self.within_working_time(t):
            t = self.local(self.next_working_moment(t))
        day = t.date()
        for _ in range(days):
            day = self.next_working_day(day)
        candidate = datetime.combine(day, t.time().replace(tzinfo=None), self.tz)
        ivs = self.intervals(day)
        if candidate <= ivs[0][0]:
            return ivs[0][0]
        previous_end = ivs[0][0]
        for s, e in ivs:
            if candidate < s:
                return previous_end
            if candidate <= e:
                return candidate
            previous_end = e
        return previous_end

    def _add_minutes(self, t: datetime, minutes: int) -> datetime:
        remaining = timedelta(minutes=minutes)
        day = t.date()
        for _ in range(_MAX_DAYS_SCANNED):
            for s, e in self.intervals(day):
                if e <= t:
                    continue
                begin = max(s, t)
                available = e - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise CalendarError("durasi terlalu panjang untuk kalender kerja")

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from ``a`` to ``b`` (zero when ``b`` is not after ``a``)."""
        la, lb = self.local(a), self.local(b)
        if lb <= la:
            return timedelta(0)
        total = timedelta(0)
        day = la.date()
        while day <= lb.date():
            for s, e in self.intervals(day):
                lo, hi = max(s, la), min(e, lb)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def working_minutes(self, a: datetime, b: datetime) -> int:
        return int(self.between(a, b).total_seconds() // 60)


def _add_months(t: datetime, months: int) -> datetime:
    month_index = t.month - 1 + months
    year, month = t.year + month_index // 12, month_index % 12 + 1
    last_day = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return t.replace(year=year, month=month, day=min(t.day, last_day))
