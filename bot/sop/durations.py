"""Standard times ('Waktu') as printed in Indonesian SOPs, parsed into a typed duration.

Units and what they mean for a deadline:

* ``menit`` / ``jam`` — working time (only working hours count);
* ``hari`` — working days; ``minggu`` — five working days;
* ``bulan`` — calendar months; ``tahun`` — twelve calendar months.

The seeds are text extractions of scanned PDFs, so the parser also reads the OCR
damage seen there ('S hari' for '5 hari', '1 Hri', '2 hait', '1 buvlan') and a bare
number in a table that counts in one unit (the caller passes that unit and gets a
warning back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

UNIT_ALIASES: dict[str, str] = {
    "menit": "menit", "mnt": "menit", "min": "menit", "minute": "menit", "minutes": "menit",
    "jam": "jam", "jm": "jam", "j": "jam", "hour": "jam", "hours": "jam",
    "hari": "hari", "hr": "hari", "hri": "hari", "har": "hari", "day": "hari", "days": "hari",
    "minggu": "minggu", "mgg": "minggu", "mg": "minggu", "pekan": "minggu", "week": "minggu", "weeks": "minggu",
    "bulan": "bulan", "bln": "bulan", "month": "bulan", "months": "bulan",
    "tahun": "tahun", "thn": "tahun", "th": "tahun", "year": "tahun", "years": "tahun",
}
"""Unit spellings, including abbreviations used in SOP tables."""

OCR_UNIT_VARIANTS: dict[str, str] = {
    "hait": "hari", "harl": "hari", "hani": "hari", "bisii": "hari", "buvlan": "bulan", "bulau": "bulan",
    "jum": "jam", "menlt": "menit", "rnenit": "menit",
}
"""Unit words as OCR rendered them in the seed scans (each seen in ``shared/seeds``)."""

OCR_DIGITS: dict[str, str] = {"S": "5", "s": "5", "O": "0", "o": "0", "l": "1", "I": "1", "&": "6", "B": "8"}
"""Characters OCR confuses with digits, read as the digit when they stand where a number must be."""

_NUMBER = r"\d+(?:[.,]\d+)?"
_TOKEN = re.compile(rf"({_NUMBER}|(?<![A-Za-z])[SsOolIB&](?=\s))\s*([A-Za-z]+)")


class DurationError(ValueError):
    """A 'Waktu' string that cannot be read."""


@dataclass(frozen=True)
class Duration:
    """A standard time: working minutes, working days, weeks and calendar months, plus what was printed."""

    minutes: int = 0
    days: int = 0
    weeks: int = 0
    months: int = 0
    text: str = ""
    qualifier: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_zero(self) -> bool:
        return not (self.minutes or self.days or self.weeks or self.months)

    @property
    def working_days(self) -> int:
        """Whole working days, weeks counted as five."""
        return self.days + 5 * self.weeks

    def __add__(self, other: Duration) -> Duration:
        return Duration(
            minutes=self.minutes + other.minutes,
            days=self.days + other.days,
            weeks=self.weeks + other.weeks,
            months=self.months + other.months,
        )

    def approx_minutes(self, minutes_per_day: int = 450) -> int:
        """Rough size in working minutes, for ordering and summaries only (a month ~ 21 working days)."""
        days = self.working_days + 21 * self.months
        return self.minutes + days * minutes_per_day

    def format(self) -> str:
        """Indonesian rendering: minutes carried into hours ('4 jam 30 menit'), days kept as days."""
        parts: list[str] = []
        if self.months:
            parts.append(f"{self.months} bulan")
        if self.weeks:
            parts.append(f"{self.weeks} minggu")
        if self.days:
            parts.append(f"{self.days} hari")
        hours, minutes = divmod(self.minutes, 60)
        if hours:
            parts.append(f"{hours} jam")
        if minutes:
            parts.append(f"{minutes} menit")
        return " ".join(parts) if parts else "0 menit"

    def as_dict(self) -> dict[str, int]:
        return {"minutes": self.minutes, "days": self.days, "weeks": self.weeks, "months": self.months}


def _unit(word: str) -> str | None:
    w = word.lower()
    return UNIT_ALIASES.get(w) or OCR_UNIT_VARIANTS.get(w)


def _number(raw: str) -> float:
    return float(OCR_DIGITS.get(raw, raw).replace(",", "."))


def _add(acc: dict[str, float], value: float, unit: str) -> None:
    if unit == "menit":
        acc["minutes"] += value
    elif unit == "jam":
        acc["minutes"] += value * 60
    elif unit == "hari":
        acc["days"] += value
    elif unit == "minggu":
        acc["weeks"] += value
    elif unit == "bulan":
        acc["months"] += value
    elif unit == "tahun":
        acc["months"] += 12 * value


def parse_duration(text: str, *, default_unit: str | None = None, where: str = "") -> Duration:
    """Parse a printed 'Waktu' value.

    ``default_unit`` is the unit the surrounding table counts in; it is used, with a
    warning, for a bare number. ``where`` names the file and step for error messages.
    Fractions of days or weeks ('0,5 hari') become working minutes of a 7.5-hour day.
    """
    printed = " ".join(str(text).split())
    prefix = f"{where}: " if where else ""
    if not printed:
        raise DurationError(f"{prefix}waktu kosong")
    acc = {"minutes": 0.0, "days": 0.0, "weeks": 0.0, "months": 0.0}
    warnings: list[str] = []
    consumed_end = 0
    found = False
    for match in _TOKEN.finditer(printed):
        raw_number, word = match.group(1), match.group(2)
        unit = _unit(word)
        if unit is None:
            if found:
                break
            continue
        if raw_number in OCR_DIGITS:
            warnings.append(f"'{raw_number} {word}' dibaca sebagai '{OCR_DIGITS[raw_number]} {unit}' (OCR)")
        elif word.lower() in OCR_UNIT_VARIANTS:
            warnings.append(f"'{word}' dibaca sebagai '{unit}' (OCR)")
        _add(acc, _number(raw_number), unit)
        consumed_end = match.end()
        found = True
    if not found:
        bare = re.fullmatch(_NUMBER, printed)
        if bare and default_unit:
            unit = _unit(default_unit)
            if unit is None:
                raise DurationError(f"{prefix}satuan bawaan tidak dikenal: {default_unit!r}")
            _add(acc, _number(printed), unit)
            warnings.append(f"angka tanpa satuan '{printed}' dibaca sebagai '{printed} {unit}' (satuan dominan SOP)")
        else:
            raise DurationError(f"{prefix}waktu tidak terbaca: {printed!r}")
    qualifier = printed[consumed_end:].strip(" ,.;") if found else ""
    return _normalise(acc, printed, qualifier, tuple(warnings))


def _normalise(acc: dict[str, float], printed: str, qualifier: str, warnings: tuple[str, ...]) -> Duration:
    minutes = acc["minutes"]
    days, weeks, months = acc["days"], acc["weeks"], acc["months"]
    if weeks != int(weeks):
        days += (weeks - int(weeks)) * 5
        weeks = int(weeks)
    if days != int(days):
        minutes += (days - int(days)) * 450
        days = int(days)
    if months != int(months):
        raise DurationError(f"pecahan bulan tidak didukung: {printed!r}")
    return Duration(
        minutes=round(minutes),
        days=int(days),
        weeks=int(weeks),
        months=int(months),
        text=printed,
        qualifier=qualifier,
        warnings=warnings,
    )


def dominant_unit(texts: list[str]) -> str | None:
    """The unit most of a table's readable 'Waktu' values use (for bare numbers)."""
    counts: dict[str, int] = {}
    for text in texts:
        for match in _TOKEN.finditer(" ".join(str(text).split())):
            unit = _unit(match.group(2))
            if unit:
                counts[unit] = counts.get(unit, 0) + 1
    return max(counts, key=lambda u: counts[u]) if counts else None


def total(durations: list[Duration]) -> Duration:
    """Sum of printed durations, kept in their units (the way an SOP table is added up by hand)."""
    result = Duration()
    for d in durations:
        result = result + d
    return result
