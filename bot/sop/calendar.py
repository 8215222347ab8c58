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
        """Read 'mon-thu 07:30-12:00,13:00-16:00; fri 07:30-11:30,13:00-16:30'.

        Days are ``mon tue wed thu fri sat sun``, alone or as a range (``mon-fri``); each day gets
        one or more ``HH:MM-HH:MM`` intervals (breaks are the gaps between them). ``24:00`` is the
        end of the day; a day not named is a day off. A later part overrides an earlier one for the
        days they share, so ``mon-sun 00:00-24:00; sat-sun 08:00-12:00`` works.
        """
        hours: dict[int, tuple[Interval, ...]] = {}
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            m = re.fullmatch(r"([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(.+)", part.lower())
            if not m or m.group(1) not in _DAYS or (m.group(2) and m.group(2) not in _DAYS):
                raise CalendarError(f"bagian {part!r} tidak terbaca: tulis hari (mon … sun, atau rentang mon-fri) "
                                    "lalu jam, mis. 'mon-fri 08:00-16:00'")
            first = _DAYS.index(m.group(1))
            last = _DAYS.index(m.group(2)) if m.group(2) else first
            if last < first:
                raise CalendarError(f"rentang hari {m.group(1)}-{m.group(2)} terbalik: tulis dari Senin ke Minggu, "
                                    "mis. 'mon-fri'")
            intervals = tuple(_interval(x) for x in m.group(3).split(","))
            for a, b in pairwise(intervals):
                if _clock_minutes(b[0]) < _end_minutes(a[1]):
                    raise CalendarError(f"jam kerja tumpang tindih atau tidak berurutan di {part!r}")
            for day in range(first, last + 1):
                hours[day] = intervals
        if not hours:
            raise CalendarError("jadwal kerja kosong: tulis mis. 'mon-fri 08:00-16:00'")
        return cls(hours)

    def minutes_per_week(self) -> int:
        return sum(_minutes(a, b) for ivs in self.hours.values() for a, b in ivs)

    def describe(self) -> str:
        """The schedule in Indonesian day names, consecutive days with the same hours grouped."""
        names = ["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"]
        parts: list[str] = []
        day = 0
        while day < 7:
            ivs = self.hours.get(day)
            end = day
            while end + 1 < 7 and self.hours.get(end + 1) == ivs:
                end += 1
            if ivs:
                days = names[day] if end == day else f"{names[day]}–{names[end]}"
                hours = ", ".join(f"{a:%H:%M}–{'24:00' if b == END_OF_DAY else f'{b:%H:%M}'}" for a, b in ivs)
                parts.append(f"{days} {hours}")
            day = end + 1
        return "; ".join(parts)


END_OF_DAY = time(0, 0)
"""An interval ending at ``24:00`` is stored with this end (midnight of the next day)."""


def _interval(text: str) -> Interval:
    m = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})\s*", text)
    if not m:
        raise CalendarError(f"rentang jam {text.strip()!r} tidak terbaca: tulis HH:MM-HH:MM, mis. 07:30-12:00")
    a = _clock(int(m.group(1)), int(m.group(2)), text, end=False)
    b = _clock(int(m.group(3)), int(m.group(4)), text, end=True)
    if _end_minutes(b) <= _clock_minutes(a):
        raise CalendarError(f"di {text.strip()!r} jam selesai harus setelah jam mulai")
    return a, b


def _clock(hour: int, minute: int, text: str, *, end: bool) -> time:
    if end and (hour, minute) == (24, 0):
        return END_OF_DAY
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        limit = "00:00–24:00" if end else "00:00–23:59"
        raise CalendarError(f"jam {hour:02d}:{minute:02d} di {text.strip()!r} tidak ada: pakai {limit}")
    return time(hour, minute)


def _clock_minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _end_minutes(t: time) -> int:
    return 24 * 60 if t == END_OF_DAY else _clock_minutes(t)


def _minutes(a: time, b: time) -> int:
    return _end_minutes(b) - _clock_minutes(a)


def holiday_file(explicit: Path | None = None, sop_dir: Path | None = None) -> Path:
    """The holiday file in use: ``ALUR_HOLIDAYS``, else ``holidays.yaml`` in the SOP folder, else the packaged one."""
    if explicit is not None:
        return explicit
    if sop_dir is not None and (sop_dir / "holidays.yaml").is_file():
        return sop_dir / "holidays.yaml"
    return DEFAULT_HOLIDAY_FILE


@dataclass
class HolidayBook:
    """National holidays (from `holidays`), cuti bersama and amendments (from the data file)."""

    cuti_bersama: dict[int, dict[date, str]] = field(default_factory=dict)
    added: dict[date, str] = field(default_factory=dict)
    removed: set[date] = field(default_factory=set)
    decrees: dict[int, str] = field(default_factory=dict)

    source: Path | None = None

    @classmethod
    def load(cls, path: Path | str | None = None) -> HolidayBook:
        file = Path(path) if path else DEFAULT_HOLIDAY_FILE
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise CalendarError(f"{file}: tidak terbaca ({exc.strerror or exc})") from exc
        except yaml.YAMLError as exc:
            raise CalendarError(f"{file}: YAML tidak valid: {' '.join(str(exc).split())}") from exc
        except ValueError as exc:  # PyYAML reads 2026-13-45 as a date and fails
            raise CalendarError(f"{file}: tanggal tidak valid ({exc})") from exc
        book = cls(source=file)
        if not isinstance(data, dict) or not isinstance(data.get("years") or {}, dict):
            raise CalendarError(f"{file}: bukan berkas libur (harus berisi bagian 'years:' per tahun)")
        try:
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
        except CalendarError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise CalendarError(f"{file}: entri tidak sesuai format 'years: {{2026: {{cuti_bersama: [{{date: …, "
                                f"name: …}}]}}}}' (bagian yang salah: {exc})") from exc
        return book

    def days_off(self, year: int) -> dict[date, str]:
        """Every holiday and cuti bersama of a year (what ``name`` would report), by date."""
        days: dict[date, str] = {}
        day = date(year, 1, 1)
        while day.year == year:
            found = self.name(day)
            if found is not None:
                days[day] = found
            day += timedelta(days=1)
        return days

    def listed(self, year: int) -> bool:
        """Whether the file lists the year's cuti bersama (else the package's list is used)."""
        return year in self.cuti_bersama

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
                next_day = day + timedelta(days=1)
                cached = tuple(
                    (datetime.combine(day, a, self.tz),
                     datetime.combine(next_day if b == END_OF_DAY else day, b, self.tz))
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
        day = t.date()
        return any(s <= t <= e for d in (day, day - timedelta(days=1)) for s, e in self.intervals(d))

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
