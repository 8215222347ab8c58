"""The dialect layer: what ALUR_DB names, SQLite's SQL made PostgreSQL's, SQLite-only SQL refused, passwords hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings
from bot.storage.dialect import (
    Dialect,
    NotPortable,
    PostgresUrl,
    dialect_of,
    parse_target,
    postgres_sql,
    with_returning_id,
)


@pytest.mark.parametrize(("given", "expected"), [
    ("data/alur.sqlite3", Path("data/alur.sqlite3")),
    ("/var/lib/alur/alur.sqlite3", Path("/var/lib/alur/alur.sqlite3")),
    ("sqlite:///data/alur.sqlite3", Path("data/alur.sqlite3")),  # three slashes: relative, as in SQLAlchemy
    ("sqlite:////var/lib/alur/alur.sqlite3", Path("/var/lib/alur/alur.sqlite3")),
    ("  data/x.db ", Path("data/x.db")),
])
def test_files_keep_sqlite(given: str, expected: Path) -> None:
    assert parse_target(given) == expected
    assert dialect_of(given) == Dialect.SQLITE


@pytest.mark.parametrize("url", [
    "postgresql://alur:geheim@db.example.go.id:5432/alur",
    "postgres://alur@localhost/alur",
    "POSTGRESQL://alur@localhost/alur",
    "postgresql:///alur?host=/run/postgresql",
])
def test_postgres_urls_select_postgresql(url: str) -> None:
    target = parse_target(url)
    assert isinstance(target, PostgresUrl) and target.url == url
    assert dialect_of(url) == Dialect.POSTGRESQL


def test_the_password_never_shows() -> None:
    url = PostgresUrl("postgresql://alur:geheim%21@db.example.go.id:5432/alur?sslmode=require")
    shown = f"{url} {url!r} {[url]}"
    assert "geheim" not in shown
    assert str(url) == "postgresql://alur:***@db.example.go.id:5432/alur?sslmode=require"
    assert url.database == "alur" and url.problem() is None
    assert url.with_database("postgres").database == "postgres" and "geheim" in url.with_database("postgres").url


@pytest.mark.parametrize(("url", "words"), [
    ("postgresql://db.example.go.id/", "nama basis data"),
    ("postgresql://db.example.go.id:54x2/alur", "tidak terbaca"),
    ("postgresql://db.example.go.id/alur/extra", "nama basis data"),
])
def test_bad_urls_are_told(url: str, words: str) -> None:
    assert words in (PostgresUrl(url).problem() or "")


def test_alur_db_setting_takes_both_and_hides_the_password_in_problems() -> None:
    pg = Settings.from_env({"ALUR_DB": "postgresql://alur:geheim@localhost/alur"}, dotenv=False)
    assert pg.uses_postgres and isinstance(pg.db_path, PostgresUrl) and "geheim" not in str(pg.db_path)
    lite = Settings.from_env({"ALUR_DB": "sqlite:///data/a.sqlite3"}, dotenv=False)
    assert not lite.uses_postgres and lite.db_path == Path("data/a.sqlite3")
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"ALUR_DB": "postgresql://alur:geheim@localhost:99999x/"}, dotenv=False)
    assert "ALUR_DB" in str(caught.value) and "geheim" not in str(caught.value)


@pytest.mark.parametrize(("sqlite", "postgres"), [
    ("SELECT * FROM cases WHERE id = ?", "SELECT * FROM cases WHERE id = $1"),
    ("UPDATE t SET a = ?, b = ? WHERE id = ? AND state = 'open'",
     "UPDATE t SET a = $1, b = $2 WHERE id = $3 AND state = 'open'"),
    # a question mark inside a literal, a quoted identifier or a comment is not a placeholder
    ("SELECT '?' AS q, \"we?rd\" FROM t WHERE a = ? -- why?\nAND b = ?",
     "SELECT '?' AS q, \"we?rd\" FROM t WHERE a = $1 -- why?\nAND b = $2"),
    ("SELECT 'it''s ?' WHERE x = ?", "SELECT 'it''s ?' WHERE x = $1"),
    # SQLite's planner hint goes; PostgreSQL plans by its statistics
    ("SELECT * FROM step_instances INDEXED BY step_instances_alarm WHERE state = 'open' AND next_alarm_at <= ?",
     "SELECT * FROM step_instances WHERE state = 'open' AND next_alarm_at <= $1"),
    ("SELECT * FROM t NOT INDEXED WHERE a = ?", "SELECT * FROM t WHERE a = $1"),
    # null-safe comparison with a parameter
    ("UPDATE s SET a = ? WHERE id = ? AND next_alarm_at IS ?",
     "UPDATE s SET a = $1 WHERE id = $2 AND next_alarm_at IS NOT DISTINCT FROM $3"),
    ("SELECT 1 WHERE a IS NOT ? AND b IS NULL AND c IS NOT NULL",
     "SELECT 1 WHERE a IS DISTINCT FROM $1 AND b IS NULL AND c IS NOT NULL"),
    # portable forms pass unchanged
    ("INSERT INTO d (a) VALUES (?) ON CONFLICT DO NOTHING", "INSERT INTO d (a) VALUES ($1) ON CONFLICT DO NOTHING"),
    ("INSERT INTO r (p, y, last) VALUES (?, ?, 1) ON CONFLICT (p, y) DO UPDATE SET last = r.last + 1",
     "INSERT INTO r (p, y, last) VALUES ($1, $2, 1) ON CONFLICT (p, y) DO UPDATE SET last = r.last + 1"),
])
def test_sqlite_sql_made_postgres(sqlite: str, postgres: str) -> None:
    assert postgres_sql(sqlite) == postgres


@pytest.mark.parametrize(("sql", "advice"), [
    ("INSERT OR IGNORE INTO d (a) VALUES (?)", "ON CONFLICT"),
    ("insert or replace into d (a) values (?)", "ON CONFLICT"),
    ("REPLACE INTO d (a) VALUES (?)", "ON CONFLICT"),
    ("SELECT * FROM cases WHERE register_no = ? COLLATE NOCASE", "UPPER"),
    ("SELECT julianday(completed_at) - julianday(opened_at) FROM s", "ISO-8601"),
    ("SELECT strftime('%Y', created_at) FROM cases", "ISO-8601"),
    ("SELECT IFNULL(a, 0) FROM t", "COALESCE"),
    ("SELECT group_concat(DISTINCT role) FROM person_roles", "join in Python"),
    ("SELECT group_concat(role, ';') FROM person_roles", "join in Python"),
    ("SELECT last_insert_rowid()", "Tx.insert"),
    ("PRAGMA foreign_keys", "SQLite-only"),
])
def test_sqlite_only_sql_is_refused_with_the_portable_spelling(sql: str, advice: str) -> None:
    with pytest.raises(NotPortable, match=advice):
        postgres_sql(sql)


def test_sqlite_only_words_inside_literals_are_fine() -> None:
    assert postgres_sql("SELECT 'INSERT OR IGNORE' WHERE a = ?") == "SELECT 'INSERT OR IGNORE' WHERE a = $1"


def test_group_concat_of_a_column_becomes_string_agg() -> None:
    sql = "SELECT '[' || group_concat(d.taken) || ']' AS taken FROM sla_daily d WHERE d.day > ?"
    expected = "SELECT '[' || string_agg(d.taken, ',') || ']' AS taken FROM sla_daily d WHERE d.day > $1"
    assert postgres_sql(sql) == expected


def test_returning_id_is_appended() -> None:
    assert with_returning_id("INSERT INTO t (a) VALUES ($1);") == "INSERT INTO t (a) VALUES ($1) RETURNING id"
