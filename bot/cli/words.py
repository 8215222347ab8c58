"""What the command line says when something is refused: Indonesian sentences, never machine codes."""

from __future__ import annotations

import difflib
import traceback
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.config import ConfigError
from bot.core.errors import DomainError
from bot.runtime import StartupError
from bot.sop.calendar import CalendarError
from bot.sop.catalog import CatalogError
from bot.storage.db import DatabaseError, DatabaseProblem
from bot.workflow.people_file import PeopleFileError

SHOWN_PROBLEMS = 10


@dataclass(frozen=True)
class Failure:
    """What to print (one line each) and the exit code."""

    lines: list[str]
    exit_code: int


def did_you_mean(word: str, choices: Iterable[str], limit: int = 3) -> str:
    """' (maksud Anda: kotim-rakordal?)' for near misses: ids containing the word first, then close spellings."""
    choices = list(dict.fromkeys(choices))
    key = word.lower().lstrip("@#")
    found = [c for c in choices if key and key in c.lower()]
    if not found:
        lowered = {c.lower(): c for c in choices}
        found = [lowered[c] for c in difflib.get_close_matches(word.lower(), list(lowered), n=limit, cutoff=0.6)]
    if not found and len(key) >= 4:
        found = [c for c, _score, _i in process.extract(key, choices, scorer=fuzz.partial_ratio, processor=str.lower,
                                                         score_cutoff=80, limit=limit)]
    if not found:
        return ""
    found = found[:limit]
    listed = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " atau " + found[-1]
    return f" (maksud Anda: {listed}?)"


DOMAIN_MESSAGES = {
    "unknown_role": "peran tidak dikenal: {roles}; id peran ada di sop_data/roles.yaml",
    "unknown_institution": "institusi tidak dikenal: {institution}",
    "unknown_unit": "unit tidak dikenal: {unit}",
    "identity_required": "isi --telegram dengan id angka atau @username",
    "already_registered": "orang ini sudah terdaftar ({who}); lihat `alur people list`",
    "person_not_found": "orang tidak ditemukan: {ident}",
    "bad_target": "yang dipilih tidak dapat menerima tugas ini (harus pegawai aktif dan orang yang berbeda)",
    "bad_dates": "tanggal selesai harus sama dengan atau setelah tanggal mulai",
    "already_staff": "akun ini sudah terdaftar sebagai pegawai",
    "case_not_found": "permohonan tidak ditemukan",
}


def domain_message(exc: DomainError) -> str:
    params = dict(exc.params)
    if "roles" in params:
        params["roles"] = ", ".join(params["roles"]) or "(kosong)"
    params.setdefault("who", f"@{params['username']}" if params.get("username") else params.get("telegram_id", ""))
    template = DOMAIN_MESSAGES.get(exc.code)
    if template is None:
        return f"tidak dapat dilakukan ({exc.code.replace('_', ' ')})"
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template.split(":")[0]


def database_message(exc: DatabaseError) -> str:
    detail = f" ({exc.detail})" if exc.detail else ""
    if exc.path.startswith("postgres"):
        return _postgres_message(exc, detail)
    if exc.reason == DatabaseProblem.MISSING:
        return (f"Basis data tidak ditemukan: {exc.path} (ALUR_DB). Periksa ALUR_DB; basis data baru dibuat oleh "
                "`alur init` atau oleh `alur run` yang pertama.")
    if exc.reason == DatabaseProblem.NOT_WRITABLE:
        return (f"Basis data {exc.path} tidak dapat ditulis{detail}: beri pengguna yang menjalankan Alur izin tulis "
                "pada berkas itu dan foldernya, atau arahkan ALUR_DB ke tempat yang dapat ditulis.")
    return f"Basis data {exc.path} tidak dapat dipakai{detail}: apakah ALUR_DB menunjuk ke berkas SQLite Alur?"


def _postgres_message(exc: DatabaseError, detail: str) -> str:
    if exc.reason == DatabaseProblem.MISSING:
        return (f"Basis data {exc.path} belum siap{detail}. Bila basis datanya belum ada, buat dulu (mis. "
                "`createdb -O alur alur`) atau beri pengguna ALUR_DB hak CREATEDB; `alur init` membuat tabelnya.")
    if exc.reason == DatabaseProblem.UNREACHABLE:
        return (f"Basis data {exc.path} tidak dapat dihubungi{detail}: periksa host, port, pengguna dan sandi di "
                "ALUR_DB, dan apakah server PostgreSQL berjalan dan menerima koneksi ini (pg_hba.conf).")
    if exc.reason == DatabaseProblem.NOT_WRITABLE:
        return (f"Basis data {exc.path} tidak dapat ditulis{detail}: jadikan pengguna ALUR_DB pemilik basis data "
                "(atau beri hak CREATE pada skemanya dan hak tulis pada tabelnya), dan pakai server utama, bukan "
                "replika baca.")
    return f"Basis data {exc.path} tidak dapat dipakai{detail}: apakah ALUR_DB menunjuk ke basis data Alur?"


def describe(exc: BaseException) -> Failure | None:
    """The words for a known failure; None for an unexpected one."""
    if isinstance(exc, ConfigError):
        return Failure([str(p) for p in exc.problems], 2)
    if isinstance(exc, PeopleFileError):
        lines = [str(p) for p in exc.problems[:SHOWN_PROBLEMS]]
        if len(exc.problems) > SHOWN_PROBLEMS:
            lines.append(f"… dan {len(exc.problems) - SHOWN_PROBLEMS} masalah lain di berkas pegawai "
                         "(tidak ada yang diterapkan)")
        return Failure(lines, 2)
    if isinstance(exc, CatalogError):
        n = len(exc.problems)
        lines = [f"Katalog SOP tidak valid ({n} masalah; perbaiki lalu periksa dengan `alur sop validate`):"]
        lines += [f"  {p}" for p in exc.problems[:SHOWN_PROBLEMS]]
        if n > SHOWN_PROBLEMS:
            lines.append(f"  … dan {n - SHOWN_PROBLEMS} lainnya")
        return Failure(lines, 2)
    if isinstance(exc, DatabaseError):
        return Failure([database_message(exc)], 2)
    if isinstance(exc, CalendarError):
        return Failure([f"Kalender kerja tidak terbaca: {exc}"], 2)
    if isinstance(exc, StartupError):
        return Failure([str(exc)], exc.exit_code)
    if isinstance(exc, DomainError):
        return Failure([f"Gagal: {domain_message(exc)}."], 1)
    return None


def unexpected(exc: BaseException, *, debug: bool, secret: str | None) -> Failure:
    """An error nobody foresaw: one line (the traceback only with --debug), with the token blanked out."""
    def clean(text: str) -> str:
        return text.replace(secret, "<token>") if secret else text

    if debug:
        return Failure([clean("".join(traceback.format_exception(exc))).rstrip()], 1)
    first = clean(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    return Failure([f"Kesalahan tak terduga: {type(exc).__name__}{': ' + first if first else ''}. "
                    "Jalankan lagi dengan --debug untuk jejak lengkapnya."], 1)
