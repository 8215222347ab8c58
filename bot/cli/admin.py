"""`alur init`, `alur people …`, `alur report sla` and `alur backup`: administration from the terminal.

Only `alur init` (and the first `alur run`) create a database; every other command refuses a
database file that does not exist, so a mistyped ALUR_DB is noticed instead of silently starting
an empty one.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import shlex
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

from bot import storage
from bot.cli.words import did_you_mean, domain_message
from bot.config import Settings
from bot.runtime import Services, open_services
from bot.sop.catalog import load_catalog
from bot.storage.db import Database, DatabaseError, DatabaseProblem
from bot.storage.dialect import Dialect
from bot.storage.records import Person
from bot.workflow.analytics import fold_sla, sla_report
from bot.workflow.errors import WorkflowError
from bot.workflow.people import PeopleError
from bot.workflow.people_file import Fault, PersonSpec, check_person, parse_people_file, parse_telegram

Command = Callable[[Services, argparse.Namespace], Awaitable[int]]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="buat basis data baru (ALUR_DB) dan terapkan berkas pegawai (ALUR_PEOPLE)")
    p.set_defaults(func=cmd_init)

    people = sub.add_parser("people", help="pegawai, peran, undangan, Plt/Plh")
    ps = people.add_subparsers(dest="people_command", required=True)

    p = ps.add_parser("list", help="daftar orang dan perannya (dan isi ALUR_PEOPLE yang belum diterapkan)")
    p.set_defaults(func=cmd_people_list)

    p = ps.add_parser("add", help="tambah pegawai")
    p.add_argument("--name", required=True)
    p.add_argument("--roles", required=True, help="id peran, dipisah koma (lihat sop_data/roles.yaml)")
    p.add_argument("--institution", required=True)
    p.add_argument("--unit", default=None)
    p.add_argument("--telegram", required=True, help="id Telegram (angka) atau @username (dengan @)")
    p.set_defaults(func=_run(people_add))

    p = ps.add_parser("remove", help="nonaktifkan seseorang (#id, id Telegram atau @username)")
    p.add_argument("ident")
    p.set_defaults(func=_run(people_remove))

    p = ps.add_parser("invite", help="buat tautan undangan /start untuk pegawai (baru, atau yang terdaftar "
                                     "dengan @username dan belum terhubung)")
    p.add_argument("ident", nargs="?", default=None,
                   help="pegawai yang sudah terdaftar (@username atau #id): tautan ini membuktikan akunnya")
    p.add_argument("--name")
    p.add_argument("--roles")
    p.add_argument("--institution")
    p.add_argument("--unit", default=None)
    p.set_defaults(func=_run(people_invite))

    p = ps.add_parser("act-for", help="tetapkan Plt/Plh: langkah orang yang berhalangan dialihkan")
    p.add_argument("absent", help="yang berhalangan (#id, id Telegram atau @username)")
    p.add_argument("acting", help="yang bertindak (Plt/Plh)")
    p.add_argument("--from", dest="start", required=True, type=_date, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, type=_date, metavar="YYYY-MM-DD")
    p.add_argument("--kind", choices=["plt", "plh"], default="plh")
    p.add_argument("--reason", default="")
    p.set_defaults(func=_run(people_act_for))

    report = sub.add_parser("report", help="laporan")
    rs = report.add_subparsers(dest="report_command", required=True)
    p = rs.add_parser("sla", help="waktu nyata vs waktu standar SOP per langkah")
    p.add_argument("--since", type=_date, default=None, metavar="YYYY-MM-DD")
    p.add_argument("--csv", type=Path, default=None)
    p.set_defaults(func=_run(report_sla))

    p = sub.add_parser("prune", help="terapkan masa simpan: hapus pesan terkirim & update lama, arsipkan event lama")
    p.add_argument("--days", type=int, default=None, help="masa simpan dalam hari (bawaan: ALUR_RETENTION_DAYS, 30)")
    p.add_argument("--no-archive", action="store_true", help="jangan pindahkan event kasus lama ke arsip")
    p.set_defaults(func=_run(prune))

    p = sub.add_parser("backup", help="salin database SQLite dengan aman (online backup; PostgreSQL: pg_dump)")
    p.add_argument("file", type=Path)
    p.set_defaults(func=_run(backup))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"tanggal {text!r} tidak terbaca; tulis YYYY-MM-DD, mis. 2026-12-01") from None


def _run(command: Command) -> Callable[[argparse.Namespace], int]:
    """Run a command against the existing database (never creating one)."""

    def runner(args: argparse.Namespace) -> int:
        async def go() -> int:
            services = await open_services(args.settings, sync_people=False, create_db=False)
            try:
                return await command(services, args)
            except (PeopleError, WorkflowError) as exc:
                _fail(domain_message(exc))
                return 1
            finally:
                await services.close()

        return asyncio.run(go())

    return runner


def _absolute(path: str | Path) -> Path:
    return Path(path).resolve()


def _fail(message: str) -> None:
    print(f"Gagal: {message}", file=sys.stderr)


# ---------------------------------------------------------------- init


def cmd_init(args: argparse.Namespace) -> int:
    settings: Settings = args.settings

    async def go() -> int:
        catalog = load_catalog(settings.sop_dir)
        if settings.people_file:  # a broken people file must not leave a new empty database behind
            parse_people_file(settings.people_file, catalog)
        services = await open_services(settings, catalog=catalog, sync_people=False, create_db=True)
        try:
            version = await services.db.schema_version()
            where = services.db.path if services.db.dialect == Dialect.POSTGRESQL else _absolute(services.db.path)
            if services.db.created:
                print(f"Basis data baru dibuat: {where} (skema versi {version}).")
            else:
                print(f"Basis data sudah ada: {where} (skema versi {version}); isinya tidak diubah.")
            if settings.people_file:
                counts = await services.people.sync_file(settings.people_file)
                waiting = await services.workflow.handover.assign_waiting()
                print(f"Berkas pegawai {settings.people_file} diterapkan: {counts['added']} ditambahkan, "
                      f"{counts['updated']} sudah ada (diselaraskan), {counts['deactivated']} dinonaktifkan"
                      + (f"; {len(waiting)} langkah yang menunggu kini diberikan." if waiting else "."))
            else:
                print("ALUR_PEOPLE belum diatur: tambahkan pegawai dengan `alur people add` atau atur ALUR_PEOPLE.")
            print("Berikutnya: `alur doctor` untuk pemeriksaan lengkap, lalu `alur run`.")
        finally:
            await services.close()
        return 0

    return asyncio.run(go())


# ---------------------------------------------------------------- people


def _row(ident: str, name: str, telegram: str, kind: str, where: str, roles: str, note: str = "") -> str:
    return f"{ident:<5} {name:<32} {telegram:<16} {kind:<12} {where:<22} {roles}{note}"


def _telegram(person: Person) -> str:
    return str(person.telegram_id) if person.telegram_id else (f"@{person.username}" if person.username else "-")


def cmd_people_list(args: argparse.Namespace) -> int:
    settings: Settings = args.settings

    async def go() -> int:
        catalog = load_catalog(settings.sop_dir)
        specs = parse_people_file(settings.people_file, catalog) if settings.people_file else None
        try:
            db = await Database.open(settings.db_path, create=False)
        except DatabaseError as exc:
            if exc.reason != DatabaseProblem.MISSING or specs is None:
                raise
            print(f"Basis data belum ada ({settings.db_path}). Isi berkas ALUR_PEOPLE={settings.people_file} "
                  "(diterapkan oleh `alur init` atau `alur run` yang pertama):")
            for spec in specs:
                print("  " + _spec_row(spec))
            print(f"\n{len(specs)} orang di berkas, 0 di basis data.")
            return 0
        try:
            everyone = await storage.people.people(db, active_only=False)
            print(f"Di basis data ({settings.db_path}):")
            if not everyone:
                print("  (belum ada orang)")
            for p in everyone:
                where = f"{p.institution or '-'}/{p.unit or '-'}"
                kind = "pegawai" if p.is_staff else "pemohon OPD"
                note = "" if p.active else " (nonaktif)"
                print("  " + _row(f"#{p.id}", p.name, _telegram(p), kind, where, ",".join(p.roles) or "-", note))
            if specs is not None:
                sources = {p.id: await storage.people.person_source(db, p.id) for p in everyone}
                _compare_with_file(settings.people_file, specs, everyone, sources)
        finally:
            await db.close()
        return 0

    return asyncio.run(go())


def _spec_row(spec: PersonSpec) -> str:
    ident = str(spec.telegram_id) if spec.telegram_id is not None else f"@{spec.username}"
    return _row("", spec.name, ident, "pegawai", f"{spec.institution}/{spec.unit or '-'}", ",".join(spec.roles))


def _compare_with_file(path: Path | None, specs: list[PersonSpec], everyone: list[Person],
                       sources: dict[int, str]) -> None:
    by_id = {p.telegram_id: p for p in everyone if p.telegram_id is not None}
    by_name = {p.username: p for p in everyone if p.username}
    new: list[PersonSpec] = []
    changed: list[tuple[PersonSpec, Person]] = []
    matched: set[int] = set()
    for spec in specs:
        person = by_id.get(spec.telegram_id) if spec.telegram_id is not None else by_name.get(spec.username)
        if person is None:
            new.append(spec)
            continue
        matched.add(person.id)
        if (set(person.roles) != set(spec.roles) or person.unit != spec.unit or person.name != spec.name
                or person.institution != spec.institution or not person.active):
            changed.append((spec, person))
    gone = [p for p in everyone if p.active and sources.get(p.id) == "file" and p.id not in matched]
    print(f"\nBerkas ALUR_PEOPLE={path}: {len(specs)} orang.")
    if not (new or changed or gone):
        print("  Semua sudah sama dengan basis data.")
        return
    print("  Belum diterapkan (diterapkan saat `alur run` atau `alur init` berikutnya):")
    for spec in new:
        print("    + baru      " + _spec_row(spec))
    for spec, person in changed:
        print(f"    ~ berubah   {_spec_row(spec)}  (kini #{person.id}: {','.join(person.roles) or '-'}"
              f"{'' if person.active else ', nonaktif'})")
    for person in gone:
        print(f"    - dihapus   #{person.id} {person.name} (tidak ada lagi di berkas; akan dinonaktifkan)")


def _reinvite_command(person: Person) -> str:
    """The `alur people invite` line that gives a deactivated person their roles back when they open it."""
    parts = ["alur people invite", "--name", shlex.quote(person.name), "--roles",
             shlex.quote(",".join(person.roles) or "<peran>"), "--institution",
             shlex.quote(person.institution or "<instansi>")]
    if person.unit:
        parts += ["--unit", shlex.quote(person.unit)]
    return " ".join(parts)


def _roles(text: str) -> list[str]:
    return [r.strip() for r in text.split(",") if r.strip()]


def _refuse(faults: list[Fault]) -> int:
    for fault in faults:
        _fail(f"{fault.message} — perbaiki: {fault.fix}")
    return 1


async def people_add(s: Services, args: argparse.Namespace) -> int:
    try:
        tg, username = parse_telegram(args.telegram)
    except ValueError as exc:
        return _refuse([exc.args[0]])
    roles = _roles(args.roles)
    faults = check_person(s.catalog, roles, args.institution, args.unit)
    if faults:
        return _refuse(faults)
    person = await s.people.add_staff(
        name=args.name, roles=roles, institution=args.institution, unit=args.unit, telegram_id=tg, username=username,
    )
    assigned = await s.workflow.handover.assign_waiting()
    print(f"Ditambahkan: #{person.id} {person.name} ({', '.join(person.roles)}); "
          f"{len(assigned)} langkah yang menunggu kini diberikan.")
    return 0


async def _find(s: Services, ident: str) -> Person | None:
    person = await s.people.find(ident)
    if person is None:
        everyone = await s.people.all(active_only=False)
        names = [f"@{p.username}" for p in everyone if p.username]
        names += [str(p.telegram_id) for p in everyone if p.telegram_id]
        names += [f"#{p.id}" for p in everyone]
        hint = did_you_mean(ident, names) if ident.startswith(("@", "#")) or ident.isdigit() else ""
        if not hint:
            hint = did_you_mean(ident, [f"#{p.id} {p.name}" for p in everyone])
        _fail(f"orang tidak ditemukan: {ident}{hint}. Tulis #id, id Telegram atau @username "
              "(lihat `alur people list`).")
    return person


async def people_remove(s: Services, args: argparse.Namespace) -> int:
    person = await _find(s, args.ident)
    if person is None:
        return 1
    if not person.active:
        print(f"#{person.id} {person.name} sudah nonaktif.")
        return 0
    await s.people.deactivate(person.id)
    moved = await s.workflow.handover.release_person(person.id)
    print(f"#{person.id} {person.name} dinonaktifkan; {len(moved)} langkah terbukanya dialihkan.")
    return 0


async def people_invite(s: Services, args: argparse.Namespace) -> int:
    if args.ident:
        person = await _find(s, args.ident)
        if person is None:
            return 1
        try:
            code = await s.people.invite_listed(person.id)
        except PeopleError as exc:
            _fail(f"{person.name}: " + {
                "already_bound": "akun Telegram-nya sudah terhubung; tidak perlu undangan.",
                "not_active_staff": "bukan pegawai aktif (tambahkan dulu lewat ALUR_PEOPLE atau `alur people add`).",
                "deactivated": "dinonaktifkan. Untuk mengaktifkannya kembali buat undangan baru dan kirim "
                               "tautannya kepadanya: " + _reinvite_command(person),
            }.get(exc.code, exc.code))
            return 1
        print(f"Undangan untuk #{person.id} {person.name}: kirim tautan ini kepadanya secara pribadi.")
    else:
        missing = [f"--{n}" for n in ("name", "roles", "institution") if not getattr(args, n)]
        if missing:
            _fail(f"tulis {', '.join(missing)} untuk pegawai baru, atau @username / #id pegawai yang sudah "
                  "terdaftar (lihat `alur people list`).")
            return 1
        roles = _roles(args.roles)
        faults = check_person(s.catalog, roles, args.institution, args.unit)
        if faults:
            return _refuse(faults)
        code = await s.people.create_invite(name=args.name, roles=roles, institution=args.institution,
                                            unit=args.unit)
    bot = s.settings.bot_username or "<username_bot>"
    print(f"Kode undangan: {code}\nTautan: https://t.me/{bot}?start={code}\n(berlaku sekali)")
    if not s.settings.bot_username:
        print("Atur ALUR_BOT_USERNAME agar tautan memuat username bot Anda.")
    return 0


async def people_act_for(s: Services, args: argparse.Namespace) -> int:
    absent = await _find(s, args.absent)
    acting = await _find(s, args.acting)
    if absent is None or acting is None:
        return 1
    if absent.id == acting.id:
        _fail("yang berhalangan dan yang bertindak adalah orang yang sama.")
        return 1
    if not acting.active or not acting.is_staff:
        _fail(f"{acting.name} bukan pegawai aktif, jadi tidak dapat menjadi Plt/Plh.")
        return 1
    if args.end < args.start:
        _fail(f"--to {args.end} lebih awal dari --from {args.start}.")
        return 1
    moved = await s.workflow.acting.act_for(absent.id, acting.id, args.start.isoformat(), args.end.isoformat(),
                                   kind=args.kind, reason=args.reason)
    label = args.kind.capitalize()
    print(f"{acting.name} menjadi {label} untuk {absent.name} {args.start}–{args.end}; "
          f"{len(moved)} langkah terbuka dialihkan.")
    return 0


# ---------------------------------------------------------------- report and backup


async def report_sla(s: Services, args: argparse.Namespace) -> int:
    since = datetime.combine(args.since, datetime.min.time(), tzinfo=UTC) if args.since else None
    await fold_sla(s.db, s.calendar, s.clock.now())
    rows = await sla_report(s.db.read, s.catalog, s.calendar, since=since)
    header = ["sop", "langkah", "pelaksana", "jumlah", "median_menit", "standar", "standar_menit", "tepat_waktu"]
    table = [
        [r.sop_id, r.step_no, r.role, r.count, f"{r.median_minutes:.0f}", r.standard_text,
         r.standard_minutes if r.standard_minutes is not None else "",
         f"{r.within_share:.0%}" if r.within_share is not None else "-"]
        for r in rows
    ]
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(table)
        print(f"{len(table)} baris ditulis ke {args.csv}")
        return 0
    if not table:
        print("Belum ada langkah yang selesai.")
        return 0
    widths = [max(len(str(x)) for x in col) for col in zip(header, *table, strict=False)]
    for row in [header, *table]:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))
    return 0


async def prune(s: Services, args: argparse.Namespace) -> int:
    days = args.days if args.days is not None else s.settings.retention_days
    if days < 1:
        print("--days harus minimal 1", file=sys.stderr)
        return 2
    before = await storage.retention.counts(s.db)
    done = await storage.retention.prune(s.db, s.clock.now(), days, archive=not args.no_archive)
    after = await storage.retention.counts(s.db)
    pacing = f", {done.pacing} baris jeda kirim (send_pacing) dihapus" if s.db.dialect == Dialect.POSTGRESQL else ""
    print(f"masa simpan {days} hari: {done.outbox} pesan outbox dihapus, {done.updates} update dihapus, "
          f"{done.events_archived} event dipindah ke arsip{pacing}")
    print("baris: " + ", ".join(f"{t} {before[t]} → {after[t]}" for t in before))
    return 0


async def backup(s: Services, args: argparse.Namespace) -> int:
    target: Path = args.file
    if s.db.dialect == Dialect.POSTGRESQL:
        _fail("`alur backup` menyalin berkas SQLite; untuk PostgreSQL pakai pg_dump, mis. "
              "`pg_dump -Fc -d alur -f alur.dump` (pulihkan dengan pg_restore).")
        return 1
    if _absolute(target) == _absolute(s.db.path):
        _fail("berkas cadangan tidak boleh sama dengan basis data yang dicadangkan.")
        return 1
    if not target.parent.is_dir():
        _fail(f"folder {target.parent} tidak ada.")
        return 1
    await s.db.backup(target)
    print(f"Cadangan {s.db.path} ditulis ke {target}.")
    return 0
