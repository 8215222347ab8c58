"""`alur people …`, `alur report sla` and `alur backup`: administration from the terminal."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from bot import storage
from bot.config import Settings
from bot.runtime import Services, open_services
from bot.workflow.analytics import fold_sla, sla_report
from bot.workflow.errors import WorkflowError
from bot.workflow.people import PeopleError


def register(sub: argparse._SubParsersAction) -> None:
    people = sub.add_parser("people", help="pegawai, peran, undangan, Plt/Plh")
    ps = people.add_subparsers(dest="people_command", required=True)

    p = ps.add_parser("list", help="daftar orang dan perannya")
    p.set_defaults(func=_run(people_list))

    p = ps.add_parser("add", help="tambah pegawai")
    p.add_argument("--name", required=True)
    p.add_argument("--roles", required=True, help="id peran, dipisah koma (lihat sop_data/roles.yaml)")
    p.add_argument("--institution", required=True)
    p.add_argument("--unit", default=None)
    p.add_argument("--telegram", required=True, help="id Telegram (angka) atau @username")
    p.set_defaults(func=_run(people_add))

    p = ps.add_parser("remove", help="nonaktifkan seseorang (#id, id Telegram atau @username)")
    p.add_argument("ident")
    p.set_defaults(func=_run(people_remove))

    p = ps.add_parser("invite", help="buat tautan undangan /start untuk pegawai")
    p.add_argument("--name", required=True)
    p.add_argument("--roles", required=True)
    p.add_argument("--institution", required=True)
    p.add_argument("--unit", default=None)
    p.set_defaults(func=_run(people_invite))

    p = ps.add_parser("act-for", help="tetapkan Plt/Plh: langkah orang yang berhalangan dialihkan")
    p.add_argument("absent", help="yang berhalangan (#id, id Telegram atau @username)")
    p.add_argument("acting", help="yang bertindak (Plt/Plh)")
    p.add_argument("--from", dest="start", required=True, type=date.fromisoformat)
    p.add_argument("--to", dest="end", required=True, type=date.fromisoformat)
    p.add_argument("--kind", choices=["plt", "plh"], default="plh")
    p.add_argument("--reason", default="")
    p.set_defaults(func=_run(people_act_for))

    report = sub.add_parser("report", help="laporan")
    rs = report.add_subparsers(dest="report_command", required=True)
    p = rs.add_parser("sla", help="waktu nyata vs waktu standar SOP per langkah")
    p.add_argument("--since", type=date.fromisoformat, default=None)
    p.add_argument("--csv", type=Path, default=None)
    p.set_defaults(func=_run(report_sla))

    p = sub.add_parser("prune", help="terapkan masa simpan: hapus pesan terkirim & update lama, arsipkan event lama")
    p.add_argument("--days", type=int, default=None, help="masa simpan dalam hari (bawaan: ALUR_RETENTION_DAYS, 30)")
    p.add_argument("--no-archive", action="store_true", help="jangan pindahkan event kasus lama ke arsip")
    p.set_defaults(func=_run(prune))

    p = sub.add_parser("backup", help="salin database dengan aman (SQLite online backup)")
    p.add_argument("file", type=Path)
    p.set_defaults(func=_run(backup))


def _run(coro_fn):  # type: ignore[no-untyped-def]
    def runner(args: argparse.Namespace) -> int:
        async def go() -> int:
            services = await open_services(Settings.from_env(), sync_people=False)
            try:
                return await coro_fn(services, args)
            except (PeopleError, WorkflowError) as exc:
                print(f"gagal: {exc.code} {exc.params or ''}", file=sys.stderr)
                return 1
            finally:
                await services.close()

        return asyncio.run(go())

    return runner


def _identity(text: str) -> tuple[int | None, str | None]:
    if text.lstrip("-").isdigit():
        return int(text), None
    return None, text.lstrip("@")


async def people_list(s: Services, args: argparse.Namespace) -> int:
    for p in await s.people.all(active_only=False):
        ident = p.telegram_id or (f"@{p.username}" if p.username else "-")
        state = "" if p.active else " (nonaktif)"
        where = f"{p.institution or '-'}/{p.unit or '-'}"
        print(f"#{p.id:<4} {p.name:<32} {ident!s:<14} {p.kind:<8} {where:<22} {','.join(p.roles)}{state}")
    return 0


async def people_add(s: Services, args: argparse.Namespace) -> int:
    tg, username = _identity(args.telegram)
    person = await s.people.add_staff(
        name=args.name, roles=[r.strip() for r in args.roles.split(",") if r.strip()],
        institution=args.institution, unit=args.unit, telegram_id=tg, username=username,
    )
    assigned = await s.workflow.handover.assign_waiting()
    roles = ", ".join(person.roles)
    print(f"ditambahkan #{person.id} {person.name} ({roles}); {len(assigned)} langkah yang menunggu kini diberikan")
    return 0


async def people_remove(s: Services, args: argparse.Namespace) -> int:
    person = await s.people.find(args.ident)
    if person is None:
        print(f"tidak ditemukan: {args.ident}", file=sys.stderr)
        return 1
    await s.people.deactivate(person.id)
    moved = await s.workflow.handover.release_person(person.id)
    print(f"#{person.id} {person.name} dinonaktifkan; {len(moved)} langkah terbukanya dialihkan")
    return 0


async def people_invite(s: Services, args: argparse.Namespace) -> int:
    code = await s.people.create_invite(
        name=args.name, roles=[r.strip() for r in args.roles.split(",") if r.strip()],
        institution=args.institution, unit=args.unit,
    )
    bot = s.settings.bot_username or "<username_bot>"
    print(f"Kode undangan: {code}\nTautan: https://t.me/{bot}?start={code}\n(berlaku sekali)")
    return 0


async def people_act_for(s: Services, args: argparse.Namespace) -> int:
    absent = await s.people.find(args.absent)
    acting = await s.people.find(args.acting)
    if absent is None or acting is None:
        print("orang tidak ditemukan", file=sys.stderr)
        return 1
    moved = await s.workflow.acting.act_for(absent.id, acting.id, args.start.isoformat(), args.end.isoformat(),
                                   kind=args.kind, reason=args.reason)
    print(f"{acting.name} bertindak sebagai {args.kind.upper()} untuk {absent.name} "
          f"{args.start}–{args.end}; {len(moved)} langkah terbuka dialihkan")
    return 0


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
    print(f"masa simpan {days} hari: {done.outbox} pesan outbox dihapus, {done.updates} update dihapus, "
          f"{done.events_archived} event dipindah ke arsip")
    print("baris: " + ", ".join(f"{t} {before[t]} → {after[t]}" for t in before))
    return 0


async def backup(s: Services, args: argparse.Namespace) -> int:
    await s.db.backup(args.file)
    print(f"cadangan ditulis ke {args.file}")
    return 0
