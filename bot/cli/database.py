"""`alur migrate` and `alur db copy`: the schema of ALUR_DB, and moving an agency's database to PostgreSQL.

`alur migrate` applies what is pending to the existing database (SQLite or PostgreSQL) and says
what it applied; `--check` only says what it would apply (exit code 1 when something is pending).
It never creates a database: that is `alur init`.

`alur db copy --from SRC --to DST` copies every table of an Alur database into an empty one
(usually SQLite → PostgreSQL; the other way works too), in one transaction of the target, then
compares the row counts of every table and lets new ids continue after the copied ones.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import Settings
from bot.storage import transfer
from bot.storage.db import Database, migrations
from bot.storage.dialect import Dialect, PostgresUrl, UnknownTarget, hide_password, parse_target


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="terapkan migrasi skema yang tertunda pada basis data (ALUR_DB)")
    p.add_argument("--check", action="store_true", help="hanya tampilkan yang tertunda (kode keluar 1 bila ada)")
    p.set_defaults(func=cmd_migrate)

    db = sub.add_parser("db", help="basis data: salin ke backend lain")
    ds = db.add_subparsers(dest="db_command", required=True)
    p = ds.add_parser("copy", help="salin seluruh basis data Alur ke basis data kosong (mis. SQLite → PostgreSQL)")
    p.add_argument("--from", dest="source", required=True, metavar="SUMBER",
                   help="sqlite:///path/alur.sqlite3 (atau path berkas) atau postgresql://…")
    p.add_argument("--to", dest="target", required=True, metavar="TUJUAN",
                   help="postgresql://pengguna:sandi@host:5432/alur (atau sqlite:///path baru)")
    p.set_defaults(func=cmd_db_copy)


def _kind(db: Database) -> str:
    return "PostgreSQL" if db.dialect == Dialect.POSTGRESQL else "SQLite"


def _names(pending: list[tuple[int, str]]) -> str:
    return ", ".join(f"{v:04d}_{n}" for v, n in pending)


# ---------------------------------------------------------------- migrate


def cmd_migrate(args: argparse.Namespace) -> int:
    settings: Settings = args.settings

    async def go() -> int:
        db = await Database.open(settings.db_path, create=False, migrate=False)
        try:
            latest = migrations(db.dialect)[-1][0]
            version = await db.schema_version()
            where = f"Basis data {_kind(db)} {db.path}"
            if version > latest:
                print(f"{where}: skema versi {version}, lebih baru dari Alur ini ({latest}). Pasang versi Alur "
                      "yang membuat basis data ini.", file=sys.stderr)
                return 1
            pending = await db.pending_migrations()
            if not pending:
                print(f"{where}: skema versi {version}, terbaru; tidak ada migrasi tertunda.")
                return 0
            if args.check:
                print(f"{where}: skema versi {version}; {len(pending)} migrasi tertunda: {_names(pending)}. "
                      "Terapkan dengan `alur migrate` (atau otomatis oleh `alur run`).")
                return 1
            print(f"{where}: skema versi {version}; menerapkan {len(pending)} migrasi …")
            applied = await db.migrate()
            names = dict(pending)
            for v in applied:
                print(f"  ✓ {v:04d}_{names.get(v, '?')}")
            print(f"Skema sekarang versi {await db.schema_version()} (terbaru).")
        finally:
            await db.close()
        return 0

    return asyncio.run(go())


# ---------------------------------------------------------------- db copy


def cmd_db_copy(args: argparse.Namespace) -> int:
    try:
        source_at, target_at = parse_target(args.source), parse_target(args.target)
    except UnknownTarget as exc:
        bad = args.source if _is_unknown(args.source) else args.target
        print(f"{hide_password(bad)}: {exc}.", file=sys.stderr)
        return 2
    for given, where in ((args.source, source_at), (args.target, target_at)):
        if isinstance(where, PostgresUrl) and (problem := where.problem()) is not None:
            print(f"{where}: {problem}.", file=sys.stderr)
            return 2
        if isinstance(where, Path) and where.is_dir():
            print(f"{given}: ini sebuah folder, bukan berkas SQLite.", file=sys.stderr)
            return 2
    if isinstance(source_at, Path) and not source_at.exists():
        print(f"--from {source_at}: berkas SQLite sumber tidak ditemukan; periksa path-nya (salinan tidak membuat "
              "sumber baru).", file=sys.stderr)
        return 2
    if _same(source_at, target_at):
        print("Sumber dan tujuan sama; pilih basis data tujuan yang lain.", file=sys.stderr)
        return 2
    if isinstance(target_at, Path) and target_at.exists():
        print(f"Berkas tujuan {target_at} sudah ada; salinan hanya ke basis data baru/kosong.", file=sys.stderr)
        return 2
    return asyncio.run(_copy(source_at, target_at))


def _is_unknown(given: str) -> bool:
    try:
        parse_target(given)
    except UnknownTarget:
        return True
    return False


def _same(a: Path | PostgresUrl, b: Path | PostgresUrl) -> bool:
    if isinstance(a, Path) and isinstance(b, Path):
        return a.resolve() == b.resolve()
    if isinstance(a, PostgresUrl) and isinstance(b, PostgresUrl):
        pa, pb = a.parts, b.parts
        return (pa.hostname, pa.port, a.database, pa.query) == (pb.hostname, pb.port, b.database, pb.query)
    return False


async def _copy(source_at: Path | PostgresUrl, target_at: Path | PostgresUrl) -> int:
    source = await Database.open(source_at, create=False, migrate=False)
    try:
        pending = await source.pending_migrations()
        if pending:
            print(f"Sumber {source.path} belum pada skema terbaru ({len(pending)} migrasi tertunda: "
                  f"{_names(pending)}). Jalankan dulu: ALUR_DB=<sumber> alur migrate", file=sys.stderr)
            return 1
        present = await transfer.tables_present(source)
        unknown = sorted(present - {t.name for t in transfer.TABLES} - {"schema_migrations", "sqlite_sequence"}
                         - set(transfer.TRANSIENT))
        if unknown:
            print(f"Sumber {source.path} berisi tabel yang tidak dikenal Alur ini: {', '.join(unknown)}. "
                  "Salinan dibatalkan; pasang versi Alur yang membuat basis data ini.", file=sys.stderr)
            return 1
        target = await Database.open(target_at, create=True, migrate=True)
        try:
            if await source.schema_version() != await target.schema_version():
                print(f"Skema sumber (versi {await source.schema_version()}) dan tujuan (versi "
                      f"{await target.schema_version()}) berbeda; salinan dibatalkan.", file=sys.stderr)
                return 1
            filled = [t.name for t in transfer.TABLES if await transfer.count(target, t.name)]
            if filled:
                print(f"Tujuan {target.path} tidak kosong (berisi: {', '.join(filled)}); salinan hanya ke basis "
                      "data kosong. Tidak ada yang diubah.", file=sys.stderr)
                return 1
            for table in transfer.TABLES:
                want, have = await transfer.columns(source, table.name), await transfer.columns(target, table.name)
                if set(want) != set(have):
                    print(f"Kolom tabel {table.name} berbeda antara sumber dan tujuan; salinan dibatalkan.",
                          file=sys.stderr)
                    return 1
            print(f"Menyalin {_kind(source)} {source.path} → {_kind(target)} {target.path} …", flush=True)
            counts = await transfer.copy_all(source, target)
        finally:
            await target.close()
    finally:
        await source.close()
    width = max(len(name) for name in counts)
    bad = [name for name, (a, b) in counts.items() if a != b]
    for name, (a, b) in counts.items():
        print(f"  {'✓' if a == b else '✗'} {name:<{width}}  {a:>8} → {b:>8}")
    total = sum(a for a, _ in counts.values())
    if bad:
        print(f"Jumlah baris berbeda pada: {', '.join(bad)}. Periksa tujuan sebelum dipakai.", file=sys.stderr)
        return 1
    print(f"Selesai: {total} baris di {len(counts)} tabel, jumlah per tabel sama; nomor id baru melanjutkan "
          f"yang tersalin. Arahkan ALUR_DB ke {target_at} lalu `alur doctor`.")
    return 0
