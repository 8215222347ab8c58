"""`alur doctor`: the checklist an admin runs before going live and after every change.

Each check prints ✓ or ✗ with what it found; every ✗ says what to do. The command changes
nothing (the database is opened without migrating or creating it) and exits 1 when any check
fails. The Bot API checks use the configured base URL, so they work against a self-hosted
server or the test server too.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import storage
from bot.cli.words import database_message
from bot.config import ConfigError, Settings
from bot.core.clock import SystemClock
from bot.core.states import Role
from bot.sop.agencies import load_agencies
from bot.sop.calendar import CalendarError, WorkCalendar
from bot.sop.catalog import DEFAULT_SOP_DIR, Catalog, read_catalog
from bot.storage.db import Database, DatabaseError, DatabaseProblem, migrations
from bot.storage.dialect import PostgresUrl
from bot.storage.records import Person
from bot.text.render import Renderer
from bot.workflow.people_file import ADMIN, PeopleFileError, PersonSpec, parse_people_file

SHOWN = 8


@dataclass
class Check:
    ok: bool
    title: str
    details: list[str] = field(default_factory=list)
    fix: str = ""

    def lines(self) -> list[str]:
        out = [f"{'✓' if self.ok else '✗'} {self.title}"]
        out += [f"    {line}" for line in self.details]
        if not self.ok and self.fix:
            out.append(f"    → {self.fix}")
        return out


@dataclass(frozen=True)
class Holder:
    """Someone who holds roles (from the people file or the database)."""

    name: str
    roles: tuple[str, ...]
    institution: str | None
    unit: str | None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="pemeriksaan sebelum go-live: pengaturan, basis data, pekerja, katalog, "
                                      "pegawai, kalender, libur, token, webhook")
    p.add_argument("--offline", action="store_true", help="lewati pemeriksaan ke server Bot API (getMe, webhook)")
    p.set_defaults(func=cmd_doctor, reads_settings=False)


def cmd_doctor(args: argparse.Namespace) -> int:
    return asyncio.run(doctor(offline=args.offline))


async def doctor(*, offline: bool = False) -> int:
    print("Alur doctor — pemeriksaan sebelum go-live")
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        for problem in exc.problems:
            _show(Check(False, f"Pengaturan {problem.variable}", [str(problem)],
                        f"perbaiki {problem.variable} di lingkungan atau di .env, lalu jalankan `alur doctor` lagi"))
        print(f"\n{len(exc.problems)} pengaturan tidak valid; pemeriksaan lain menunggu sampai pengaturan benar.")
        return 1
    checks: list[Check] = [_settings_check(settings)]
    _show(checks[-1])
    catalog, check = _catalog_check(settings)
    checks.append(check)
    _show(check)
    specs, check = _people_file_check(settings, catalog)
    checks.append(check)
    _show(check)
    db_people, check = await _database_check(settings)
    checks.append(check)
    _show(check)
    checks.append(await _workers_check(settings, database_ok=check.ok))
    _show(checks[-1])
    if catalog is not None and (specs is not None or settings.people_file is None):
        checks.append(_roles_check(catalog, specs, db_people, settings))
        _show(checks[-1])
    calendar, check = _calendar_check(settings)
    checks.append(check)
    _show(check)
    if calendar is not None:
        checks.append(_holidays_check(settings, calendar))
        _show(checks[-1])
    if not offline:
        for check in await _bot_api_checks(settings):
            checks.append(check)
            _show(check)
    failed = sum(not c.ok for c in checks)
    if failed:
        print(f"\n{failed} dari {len(checks)} pemeriksaan gagal (✗). Perbaiki yang ditandai →, lalu jalankan "
              "`alur doctor` lagi.")
        return 1
    print(f"\nSemua {len(checks)} pemeriksaan lulus. Siap: `alur run`"
          + (" (pemeriksaan Bot API dilewati: --offline)." if offline else "."))
    return 0


def _show(check: Check) -> None:
    print("\n".join(check.lines()), flush=True)


# ---------------------------------------------------------------- the checks


def _settings_check(settings: Settings) -> Check:
    details = [
        f"ALUR_DB={settings.db_path}",
        f"ALUR_SOP_DIR={settings.sop_dir or f'(bawaan) {DEFAULT_SOP_DIR}'}",
        f"ALUR_PEOPLE={settings.people_file or '(tidak diatur)'}",
        f"TELEGRAM_BOT_TOKEN={'(diatur, disembunyikan)' if settings.token else '(tidak diatur)'}",
        f"TELEGRAM_API_BASE_URL={settings.api_base_url or '(bawaan) https://api.telegram.org/bot'}",
        f"ALUR_DIGEST_TIME={settings.digest_time:%H:%M}, pengingat pada {settings.remind_fraction:.0%} waktu standar, "
        f"eskalasi {settings.escalation_grace} setelah jatuh tempo",
        f"detak penjadwal tiap {settings.tick_seconds:g} detik (pertama {settings.first_tick_seconds:g} detik "
        "setelah mulai)",
    ]
    return Check(True, "Pengaturan terbaca dan valid", details)


def _catalog_check(settings: Settings) -> tuple[Catalog | None, Check]:
    folder = settings.sop_dir or DEFAULT_SOP_DIR
    catalog, found = read_catalog(settings.sop_dir)
    problems = [str(p) for p in found]
    try:
        agencies = load_agencies(settings.sop_dir)
    except Exception as exc:  # any unreadable opd.yaml is reported, whatever its fault
        problems.append(f"opd.yaml: tidak terbaca: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        agencies = {}
    if problems:
        details = problems[:SHOWN]
        if len(problems) > SHOWN:
            details.append(f"… dan {len(problems) - SHOWN} masalah lain")
        return None, Check(False, f"Katalog SOP di {folder}: {len(problems)} masalah", details,
                           "perbaiki berkas yang disebut; `alur sop validate` menampilkan daftar lengkap")
    steps = sum(len(s.steps) for s in catalog)
    return catalog, Check(True, f"Katalog SOP di {folder}: {len(catalog)} SOP, {steps} langkah, "
                                f"{len(catalog.roles.roles)} peran, {len(agencies)} OPD pemohon")


def _people_file_check(settings: Settings, catalog: Catalog | None) -> tuple[list[PersonSpec] | None, Check]:
    path = settings.people_file
    if path is None:
        return None, Check(True, "Berkas pegawai: ALUR_PEOPLE tidak diatur (pegawai hanya dari `alur people add` "
                                 "dan undangan)")
    if catalog is None:
        return None, Check(False, f"Berkas pegawai {path}: belum dapat diperiksa", [],
                           "perbaiki katalog SOP dulu (peran dan unit berasal dari sana)")
    try:
        specs = parse_people_file(path, catalog)
    except PeopleFileError as exc:
        details = [str(p) for p in exc.problems[:SHOWN]]
        if len(exc.problems) > SHOWN:
            details.append(f"… dan {len(exc.problems) - SHOWN} masalah lain")
        return None, Check(False, f"Berkas pegawai {path}: {len(exc.problems)} masalah (tidak ada yang diterapkan)",
                           details, "perbaiki entri yang disebut (contoh lengkap: sop_data/demo_people.yaml)")
    return specs, Check(True, f"Berkas pegawai {path}: {len(specs)} orang, valid")


async def _database_check(settings: Settings) -> tuple[list[Person] | None, Check]:
    if isinstance(settings.db_path, PostgresUrl):
        return await _postgres_check(settings.db_path)
    path = settings.db_path
    try:
        db = await Database.open(path, create=False, migrate=False)
    except DatabaseError as exc:
        if exc.reason == DatabaseProblem.MISSING:
            return None, Check(False, f"Basis data {path}: belum ada", [],
                               "jalankan `alur init` (membuat basis data dan menerapkan ALUR_PEOPLE); bila basis "
                               "data seharusnya sudah ada, periksa ALUR_DB")
        return None, Check(False, f"Basis data {path}: tidak dapat dipakai", [database_message(exc)],
                           "beri pengguna yang menjalankan Alur izin tulis pada berkas dan foldernya")
    problem = await db.write_problem()
    if problem is not None:
        await db.close()
        return None, Check(False, f"Basis data {path}: tidak dapat ditulis ({problem})", [],
                           "beri pengguna yang menjalankan Alur izin tulis pada berkas dan foldernya "
                           f"({path.parent})")
    return await _schema_check(db, f"Basis data {path}", "arahkan ALUR_DB ke basis data Alur, atau ke path baru "
                                                          "lalu jalankan `alur init`")


async def _postgres_check(url: PostgresUrl) -> tuple[list[Person] | None, Check]:
    title = f"Basis data PostgreSQL {url}"
    try:
        db = await Database.open(url, create=False, migrate=False)
    except DatabaseError as exc:
        if exc.reason == DatabaseProblem.MISSING:
            return None, Check(False, f"{title}: belum siap ({exc.detail})", [],
                               "jalankan `alur init` (membuat tabel dan menerapkan ALUR_PEOPLE; membuat basis "
                               "datanya juga bila pengguna punya hak CREATEDB, selain itu `createdb -O alur alur` "
                               "dulu)")
        if exc.reason == DatabaseProblem.UNREACHABLE:
            return None, Check(False, f"{title}: tidak dapat dihubungi", [exc.detail],
                               "periksa host, port, pengguna dan sandi di ALUR_DB, dan apakah server PostgreSQL "
                               "berjalan dan menerima koneksi ini (pg_hba.conf)")
        return None, Check(False, f"{title}: tidak dapat dipakai", [database_message(exc)],
                           "arahkan ALUR_DB ke basis data Alur")
    problem = await db.write_problem()
    if problem is not None:
        await db.close()
        return None, Check(False, f"{title}: tidak dapat ditulis ({problem})", [],
                           "jadikan pengguna ALUR_DB pemilik basis data (`ALTER DATABASE … OWNER TO …`) dan "
                           "pakai server utama, bukan replika baca")
    return await _schema_check(db, title, "arahkan ALUR_DB ke basis data Alur, atau ke basis data kosong lalu "
                                          "jalankan `alur init`")


async def _schema_check(db: Database, title: str, not_alur_fix: str) -> tuple[list[Person] | None, Check]:
    """The schema version and what the database holds (closes ``db``)."""
    path = title.removeprefix("Basis data ")
    try:
        try:
            version = await db.schema_version()
        except Exception:
            return None, Check(False, f"Basis data {path}: bukan basis data Alur (tidak ada tabel migrasi)", [],
                               not_alur_fix)
        latest = migrations(db.dialect)[-1][0]
        people = await storage.people.people(db, active_only=False)
        cases = await storage.cases.cases(db, state="open")
        if version > latest:
            return people, Check(False, f"Basis data {path}: skema versi {version}, lebih baru dari Alur ini "
                                        f"({latest})", [], "pasang versi Alur yang membuat basis data ini")
        schema = ("terbaru" if version == latest
                  else f"{latest - version} migrasi tertunda: `alur migrate`, atau otomatis oleh `alur run`")
        return people, Check(True, f"Basis data {path}: dapat ditulis, skema versi {version} ({schema}), "
                                   f"{sum(p.active for p in people)} orang aktif, {len(cases)} permohonan berjalan")
    finally:
        await db.close()


ROLE_WORDS = {Role.RECEIVER: "penerima update", Role.TICK: "detak penjadwal", Role.SENDER: "pengirim outbox"}
CLAIMS_SHOWN_SECONDS = 600


async def _workers_check(settings: Settings, *, database_ok: bool) -> Check:
    """ALUR_WORKERS against the backend; on PostgreSQL who runs, who holds which role, what waits."""
    n = settings.workers
    if not settings.uses_postgres:
        if n > 1:
            return Check(False, f"Pekerja: ALUR_WORKERS={n}, tetapi SQLite hanya untuk satu proses", [
                "`alur run` menolak mulai dengan pengaturan ini"],
                "atur ALUR_WORKERS=1, atau pindahkan basis data ke PostgreSQL (`alur db copy`, lihat README "
                "*Scale out*) agar beberapa pekerja dapat berbagi satu basis data")
        details = await _waiting_details(settings) if database_ok else []
        return Check(True, "Pekerja: ALUR_WORKERS=1, satu proses pada SQLite", details)
    title = f"Pekerja: ALUR_WORKERS={n} pada PostgreSQL"
    if not database_ok:
        return Check(True, f"{title} (keadaan pekerja belum dapat dibaca: lihat pemeriksaan basis data)")
    try:
        db = await Database.open(settings.db_path, create=False, migrate=False)
        try:
            live = await storage.workers.live_workers(db)
            claimers = await storage.workers.recent_claimers(db, CLAIMS_SHOWN_SECONDS)
            waiting = await storage.workers.waiting_updates(db, db.dialect)
        finally:
            await db.close()
    except Exception as exc:  # a schema before the workers' migration, or a user who may not read pg_locks
        return Check(True, f"{title} (keadaan pekerja belum dapat dibaca)", [str(exc).splitlines()[0]])
    renderer = Renderer(settings.timezone)
    details = [f"{len(live)} pekerja berjalan sekarang (sesi kepemimpinan `{storage.workers.LEADER_APPLICATION}` "
               "di basis data ini)" + (":" if live else "; wajar bila `alur run` belum dijalankan")]
    for i, worker in enumerate(live, 1):
        where = f"dari {worker.address}" if worker.address else "lewat soket lokal"
        roles = ", ".join(ROLE_WORDS[r] for r in worker.roles) or "tanpa peran terpilih (siaga)"
        details.append(f"  pekerja {i}: sesi {worker.pid} {where}, tersambung sejak {renderer.when(worker.since)}; "
                       f"peran: {roles}")
    held = {role for worker in live for role in worker.roles}
    free = [ROLE_WORDS[r] for r in Role if r not in held]
    if live and free:
        details.append(f"Peran tanpa pemegang: {', '.join(free)} (diambil pekerja dalam sekitar satu detik; "
                       "penerima update tetap kosong pada mode webhook, karena tiap pekerja menerima sendiri)")
    if claimers:
        details.append(f"Mengklaim update dalam {CLAIMS_SHOWN_SECONDS // 60} menit terakhir: " + "; ".join(
            f"{c.worker} ({c.holding} update disewa)" for c in claimers))
    details.append(_waiting_line(waiting, shared=True))
    if n == 1 and len(live) > 1:
        return Check(False, f"Pekerja: ALUR_WORKERS=1, tetapi {len(live)} proses Alur berjalan pada basis data ini",
                     details, f"atur ALUR_WORKERS={len(live)} (jumlah yang dijalankan) di setiap pekerja agar "
                              "mereka berbagi update per chat, atau hentikan proses yang berlebih")
    if len(live) > n:
        details.append(f"Lebih banyak pekerja ({len(live)}) daripada ALUR_WORKERS={n}: samakan pengaturannya "
                       "(misalnya sisa penerapan sebelumnya)")
    return Check(True, title, details)


async def _waiting_details(settings: Settings) -> list[str]:
    try:
        db = await Database.open(settings.db_path, create=False, migrate=False)
        try:
            return [_waiting_line(await storage.workers.waiting_updates(db, db.dialect), shared=False)]
        finally:
            await db.close()
    except Exception as exc:  # an old schema: nothing to say about waiting updates
        return [f"update menunggu belum dapat dibaca ({str(exc).splitlines()[0]})"]


def _waiting_line(waiting: storage.workers.WaitingUpdates, *, shared: bool) -> str:
    if not waiting.waiting:
        return "Update menunggu ditangani: tidak ada"
    age = (SystemClock().now() - waiting.oldest).total_seconds() if waiting.oldest else 0.0
    claims = f" ({waiting.leased} sedang diklaim pekerja, {waiting.unclaimed} belum diklaim)" if shared else ""
    return f"Update menunggu ditangani: {waiting.waiting}{claims}; yang tertua menunggu {_age(age)}"


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{max(0, round(seconds))} detik"
    if seconds < 7200:
        return f"{round(seconds / 60)} menit"
    return f"{round(seconds / 3600)} jam"


def _holders(specs: list[PersonSpec] | None, db_people: list[Person] | None) -> list[Holder]:
    holders = [Holder(s.name, s.roles, s.institution, s.unit) for s in specs or []]
    listed = {s.telegram_id for s in specs or [] if s.telegram_id} | {s.username for s in specs or [] if s.username}
    for p in db_people or []:
        if not p.active or not p.is_staff:
            continue
        if specs is not None and (p.telegram_id in listed or p.username in listed):
            continue
        holders.append(Holder(p.name, p.roles, p.institution, p.unit))
    return holders


def _roles_check(catalog: Catalog, specs: list[PersonSpec] | None, db_people: list[Person] | None,
                 settings: Settings) -> Check:
    holders = _holders(specs, db_people)
    if not holders:
        return Check(False, "Peran: belum ada pegawai sama sekali", [],
                     "atur ALUR_PEOPLE ke berkas pegawai (contoh: sop_data/demo_people.yaml) lalu `alur init`, "
                     "atau tambahkan dengan `alur people add`")
    roles = catalog.roles
    details: list[str] = []
    staffed = {h.institution for h in holders}
    for inst_id, inst in catalog.institutions.items():
        if inst_id not in staffed:
            continue
        details.append(f"{inst.name}:")
        needed = _needed_roles(catalog, inst_id)
        for role_id, unit in sorted(needed, key=lambda ru: (ru[0], ru[1] or "")):
            label = roles.name(role_id) + (f" ({_unit_name(catalog, inst_id, unit)})" if unit else "")
            names = [h.name for h in holders if _holds(h, role_id, inst_id, unit)]
            role = roles.roles.get(role_id)
            if not names and role is not None and role.kind == "external":
                proxies = [(proxy, [h.name for h in holders if _holds(h, proxy, inst_id, unit)])
                           for proxy in role.proxy]
                held = next(((proxy, n) for proxy, n in proxies if n), None)
                if held:
                    details.append(f"  {label}: dicatat oleh {roles.name(held[0])} — {', '.join(held[1])}")
                    continue
            if names:
                details.append(f"  {label}: {', '.join(names)}")
            else:
                details.append(f"  {label}: BELUM ADA PEMEGANG — langkahnya ditandai tanpa pemegang dan "
                               "pimpinan diberi tahu")
        admins = [h.name for h in holders if ADMIN in h.roles and h.institution == inst_id]
        details.append("  Admin sistem: " + (", ".join(admins) if admins
                                             else "BELUM ADA (pesan tak terkirim hanya terlihat di log)"))
    idle = [f"{inst.name} ({sum(1 for s in catalog if s.institution == i)} SOP)"
            for i, inst in catalog.institutions.items() if i not in staffed]
    if idle:
        details.append(f"Institusi tanpa pegawai (SOP-nya tidak dipakai): {', '.join(idle)}")
    source = "berkas pegawai" + (" dan basis data" if db_people else "") if specs is not None else "basis data"
    return Check(True, f"Peran: {len(holders)} pegawai ({source}); pemegang tiap peran yang dipakai SOP:", details)


def _needed_roles(catalog: Catalog, institution: str) -> set[tuple[str, str | None]]:
    needed: set[tuple[str, str | None]] = set()
    for sop in catalog:
        if sop.institution != institution or sop.steps_missing:
            continue
        for step in sop.steps:
            role = catalog.roles.roles.get(step.actor)
            if role is None or role.kind == "requester":
                continue
            needed.add((role.id, sop.unit if role.scope == "unit" else None))
    return needed


def _holds(holder: Holder, role_id: str, institution: str, unit: str | None) -> bool:
    return role_id in holder.roles and holder.institution == institution and (unit is None or holder.unit == unit)


def _unit_name(catalog: Catalog, institution: str, unit: str) -> str:
    found = catalog.institutions[institution].unit(unit)
    return found.name if found else unit


def _calendar_check(settings: Settings) -> tuple[WorkCalendar | None, Check]:
    try:
        calendar = settings.calendar()
    except (ConfigError, CalendarError) as exc:
        return None, Check(False, "Kalender kerja tidak terbaca", [str(exc)],
                           "perbaiki ALUR_WORK_HOURS / berkas libur yang disebut")
    renderer = Renderer(settings.timezone)
    now = SystemClock().now()
    schedule = calendar.schedule
    hours = schedule.minutes_per_week() / 60
    state = "jam kerja" if calendar.is_working_time(now) else "di luar jam kerja"
    starts = list(_next_starts(calendar, now, 3))
    digest = _next_digest(calendar, now, settings)
    details = [
        f"Zona waktu {settings.timezone} ({calendar.zone_label}); sekarang {renderer.when(now)} — {state}",
        f"Jam kerja: {schedule.describe()} ({f'{hours:g}'.replace('.', ',')} jam/minggu)",
        "Jam kerja berikutnya mulai: " + "; ".join(renderer.when(s) for s in starts),
        f"Ringkasan harian berikutnya: {renderer.when(digest) if digest else '-'}",
    ]
    if hours == 0:
        return calendar, Check(False, "Kalender kerja: tidak ada jam kerja", details, "periksa ALUR_WORK_HOURS")
    return calendar, Check(True, "Kalender kerja", details)


def _next_starts(calendar: WorkCalendar, now: datetime, count: int) -> Iterable[datetime]:
    day = now.astimezone(calendar.tz).date()
    found = 0
    for _ in range(60):
        for start, _end in calendar.intervals(day):
            if start > now:
                yield start
                found += 1
                if found == count:
                    return
        day += timedelta(days=1)


def _next_digest(calendar: WorkCalendar, now: datetime, settings: Settings) -> datetime | None:
    day = now.astimezone(calendar.tz).date()
    for _ in range(60):
        if calendar.is_working_day(day):
            moment = datetime.combine(day, settings.digest_time, calendar.tz)
            if moment > now:
                return moment
        day += timedelta(days=1)
    return None


def _holidays_check(settings: Settings, calendar: WorkCalendar) -> Check:
    book = calendar.holidays
    year = SystemClock().now().astimezone(calendar.tz).year
    details = [f"Berkas libur: {book.source or settings.holiday_path}"]
    ok = True
    for y in (year, year + 1):
        days = book.days_off(y)
        cuti = book.cuti_bersama.get(y, {})
        if not days:
            ok = False
            details.append(f"{y}: tidak ada hari libur sama sekali")
            continue
        if book.listed(y):
            decree = (book.decrees.get(y) or "tanpa dasar hukum").split(". ")[0]
            source = f"{len(cuti)} cuti bersama dari berkas ({decree[:100]}{'…' if len(decree) > 100 else ''})"
        else:
            source = "cuti bersama dari paket holidays (tambahkan tahun ini ke berkas libur saat SKB terbit)"
        weekdays = sum(1 for d in days if calendar.schedule.hours.get(d.weekday()))
        details.append(f"{y}: {len(days)} hari libur ({weekdays} jatuh pada hari kerja); {source}")
    return Check(ok, f"Hari libur {year} dan {year + 1}", details,
                 "periksa berkas libur (ALUR_HOLIDAYS atau holidays.yaml di ALUR_SOP_DIR)")


async def _bot_api_checks(settings: Settings) -> list[Check]:
    from scheduler.preflight import BotApiUnreachable, TokenRejected, base_url, check_bot_api

    where = base_url(settings)
    if not settings.token:
        return [Check(False, "Token bot: TELEGRAM_BOT_TOKEN belum diatur", [],
                      "buat bot di @BotFather (/newbot) dan salin tokennya ke TELEGRAM_BOT_TOKEN (di lingkungan "
                      "atau .env); tanpa token `alur run` hanya menjalankan demo")]
    try:
        identity, webhook = await check_bot_api(settings, webhook=True)
    except TokenRejected as exc:
        return [Check(False, f"Token bot ditolak oleh {where} (getMe)", [str(exc)],
                      "salin ulang token dari @BotFather (/mybots → API Token) ke TELEGRAM_BOT_TOKEN")]
    except BotApiUnreachable as exc:
        return [Check(False, f"Server Bot API {where} tidak terjangkau", [str(exc)],
                      "periksa jaringan/proxy server ini dan TELEGRAM_API_BASE_URL")]
    checks = [Check(True, f"Token bot diterima oleh {where}: @{identity.username} (id {identity.id}, "
                          f"\"{identity.first_name}\")")]
    if settings.bot_username and settings.bot_username.lower() != identity.username.lower():
        checks.append(Check(False, f"ALUR_BOT_USERNAME={settings.bot_username} tidak sama dengan bot ini "
                                   f"(@{identity.username})", [],
                            f"atur ALUR_BOT_USERNAME={identity.username} agar tautan undangan benar"))
    assert webhook is not None
    if not webhook.url:
        checks.append(Check(True, "Webhook: tidak ada; `alur run` memakai long polling "
                                  f"({webhook.pending_updates} pembaruan menunggu)"))
    elif webhook.last_error:
        when = f" pada {webhook.last_error_at:%Y-%m-%d %H:%M} UTC" if webhook.last_error_at else ""
        checks.append(Check(False, f"Webhook {webhook.url}: galat terakhir{when}: {webhook.last_error}",
                            [f"{webhook.pending_updates} pembaruan menunggu"],
                            "periksa proxy TLS di depan `alur run --webhook` dan ALUR_WEBHOOK_PORT; "
                            "`alur run` tanpa --webhook menghapus webhook dan memakai long polling"))
    else:
        checks.append(Check(True, f"Webhook: {webhook.url} ({webhook.pending_updates} pembaruan menunggu); "
                                  "jalankan `alur run --webhook` dengan URL yang sama"))
    return checks
