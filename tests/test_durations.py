"""Durations as printed in the seed SOPs."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sop.durations import Duration, DurationError, dominant_unit, parse_duration, total


@pytest.mark.parametrize(
    ("text", "minutes", "days", "weeks", "months"),
    [
        ("0,5 jam", 30, 0, 0, 0),
        ("1 Jam", 60, 0, 0, 0),
        ("4 jam 30 menit", 270, 0, 0, 0),
        ("3 jam 45 menit", 225, 0, 0, 0),
        ("300 menit", 300, 0, 0, 0),
        ("10 Menit", 10, 0, 0, 0),
        ("180 jam", 10800, 0, 0, 0),
        ("1 Hari", 0, 1, 0, 0),
        ("1 Hri", 0, 1, 0, 0),
        ("2 hait", 0, 2, 0, 0),
        ("S hari", 0, 5, 0, 0),
        ("& bisii", 0, 6, 0, 0),
        ("4 Minggu", 0, 0, 4, 0),
        ("7 Minggu", 0, 0, 7, 0),
        ("8 bulan", 0, 0, 0, 8),
        ("1 buvlan", 0, 0, 0, 1),
        ("0,5 hari", 225, 0, 0, 0),
    ],
)
def test_printed_values(text: str, minutes: int, days: int, weeks: int, months: int) -> None:
    d = parse_duration(text)
    assert (d.minutes, d.days, d.weeks, d.months) == (minutes, days, weeks, months)
    assert d.text == text


def test_qualifier_kept() -> None:
    d = parse_duration("7 Hari setelah Penetapan")
    assert d.days == 7
    assert d.qualifier == "setelah Penetapan"


def test_ocr_readings_warn() -> None:
    assert parse_duration("S hari").warnings
    assert parse_duration("1 buvlan").warnings
    assert not parse_duration("5 hari").warnings


def test_bare_number_uses_dominant_unit_with_warning() -> None:
    d = parse_duration("3", default_unit="hari")
    assert d.days == 3
    assert "satuan" in d.warnings[0]


def test_bare_number_without_unit_is_an_error_naming_the_place() -> None:
    with pytest.raises(DurationError, match=r"003\.txt: langkah 9"):
        parse_duration("3", where="003.txt: langkah 9")


@pytest.mark.parametrize("text", ["", "segera", "abc def", "jam"])
def test_unreadable(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text, where="x.yaml: langkah 1")


def test_dominant_unit() -> None:
    assert dominant_unit(["2 hari", "21 hari", "3", "1 jam"]) == "hari"
    assert dominant_unit(["3"]) is None


def test_format_and_total_follow_the_table_convention() -> None:
    parts = [parse_duration(t) for t in ["2 jam", "5 jam", "4 jam 30 menit", "90 menit", "50 menit"]]
    assert total(parts).format() == "13 jam 50 menit"
    mixed = [parse_duration(t) for t in ["0,5 jam", "0,5 jam", "1 Jam", "1 jam", "1 hari", "1 jam"]]
    assert total(mixed).format() == "1 hari 4 jam"


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_minutes_round_trip(a: int, b: int) -> None:
    d = parse_duration(f"{a} menit") + parse_duration(f"{b} menit")
    assert d == Duration(minutes=a + b)
    assert parse_duration(d.format()).minutes == a + b
