"""`alur sop …`: list, show, validate and import SOP definitions from the terminal."""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import sys
from pathlib import Path

from bot.cli.words import did_you_mean
from bot.sop.catalog import DEFAULT_SOP_DIR, Catalog, load_catalog, missing_folder, read_catalog
from bot.sop.model import END, Sop


def register(sub: argparse._SubParsersAction) -> None:
    sop = sub.add_parser("sop", help="katalog SOP: list, show, validate, import")
    sop_sub = sop.add_subparsers(dest="sop_command", required=True)

    p = sop_sub.add_parser("list", help="daftar SOP")
    p.add_argument("--json", action="store_true")
    p.add_argument("--dir", type=Path, default=None, help="folder SOP (default: ALUR_SOP_DIR, lalu sop_data bawaan)")
    p.set_defaults(func=cmd_list)

    p = sop_sub.add_parser("show", help="satu SOP")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.add_argument("--dir", type=Path, default=None, help="folder SOP (default: ALUR_SOP_DIR, lalu sop_data bawaan)")
    p.set_defaults(func=cmd_show)

    p = sop_sub.add_parser("validate", help="periksa seluruh katalog")
    p.add_argument("dir", nargs="?", type=Path, default=None,
                   help="folder SOP (default: ALUR_SOP_DIR, lalu sop_data bawaan)")
    p.set_defaults(func=cmd_validate)

    p = sop_sub.add_parser("draw", help="bagan alir SOP (PNG/SVG), dengan posisi sebuah permohonan bila --case")
    p.add_argument("id")
    p.add_argument("--case", default=None, metavar="NOMOR", help="nomor register (atau nomor basis data) permohonan")
    p.add_argument("--out", type=Path, required=True, metavar="BERKAS", help="berkas .png atau .svg")
    p.add_argument("--dir", type=Path, default=None)
    p.set_defaults(func=cmd_draw)

    p = sop_sub.add_parser("import", help="ubah berkas teks SOP menjadi draf YAML")
    p.add_argument("file", type=Path)
    p.add_argument("--out", type=Path, default=None, help="folder tujuan draf (default: cetak ke layar)")
    p.add_argument("--institution", default=None)
    p.set_defaults(func=cmd_import)


def _catalog(directory: Path | None) -> Catalog:
    return load_catalog(directory)


def cmd_list(args: argparse.Namespace) -> int:
    catalog = _catalog(args.dir)
    if args.json:
        rows = [
            {
                "id": s.id,
                "name": s.name,
                "institution": s.institution,
                "unit": s.unit,
                "steps": len(s.steps),
                "starters": s.starters,
                "source": s.source.model_dump(),
                "hash": s.content_hash,
            }
            for s in catalog
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    width = max(len(s.id) for s in catalog) if len(catalog) else 10
    for s in catalog:
        print(f"{s.id:<{width}}  {len(s.steps):>3} langkah  {s.institution:<11}  {s.name}")
    print(f"\n{len(catalog)} SOP")
    return 0


def _printed_lines(pad: str, printed: dict[str, object]) -> list[str]:
    """'tercetak' lines: what the source prints where users read a correction."""
    labels = {"text": "uraian", "requirements": "kelengkapan", "outputs": "output", "duration_text": "waktu",
              "note": "keterangan", "name": "nama", "approved_by": "disahkan", "dates": "tanggal",
              "legal_basis": "dasar hukum", "qualifications": "kualifikasi", "related": "keterkaitan",
              "records": "pencatatan", "warning": "peringatan"}
    lines = []
    for key, value in printed.items():
        if isinstance(value, dict):
            words = {"made": "dibuat", "revised": "revisi", "effective": "efektif"}
            value = ", ".join(f"{words.get(k, k)} {v}" for k, v in value.items() if v)
        elif isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        lines.append(f"{pad}✎ tercetak ({labels.get(key, key)}): {value}")
    return lines


def render_table(sop: Sop, catalog: Catalog) -> str:
    """The SOP for an admin: the steps as users read them, and under each what the source prints where the
    text was corrected (✎), the Keterangan (ℹ), the curators' notes (✱) and the source defects (⚠)."""
    inst = catalog.institutions.get(sop.institution)
    lines = [
        sop.name,
        f"Institusi : {inst.name if inst else sop.institution}",
        f"Nomor SOP : {sop.number or '-'}",
        f"Sumber    : {sop.source.file}:{sop.source.line}",
        f"Dimulai   : {', '.join(catalog.roles.name(r) for r in sop.starters)}",
    ]
    if sop.printed is not None:
        lines.extend(_printed_lines("", sop.printed.model_dump(exclude_none=True)))
    lines.append("")
    header = f"{'No':>4}  {'Pelaksana':<26} {'Waktu':<16} Uraian"
    lines.append(header)
    lines.append("-" * len(header))
    pad = f"{'':>4}  {'':<26} {'':<16} "
    for step in sop.steps:
        actor = catalog.roles.name(step.actor) + ("*" if step.actor_source == "inferred" else "")
        lines.append(f"{step.number:>4}  {actor:<26} {(step.duration_text or '-'):<16} {step.text}")
        if step.outputs:
            lines.append(f"{pad}→ {', '.join(step.outputs)}")
        if step.decision:
            for b in step.decision.branches:
                target = "selesai" if b.target == END else f"ke langkah {b.target}"
                lines.append(f"{pad}◇ {b.label} ({target})")
        if step.printed is not None:
            lines.extend(_printed_lines(pad, step.printed.model_dump(exclude_none=True)))
        if step.note:
            lines.append(f"{pad}ℹ keterangan: {step.note}")
        lines.extend(f"{pad}✱ catatan kurator: {n}" for n in step.curator_notes)
        lines.extend(f"{pad}⚠ {w}" for w in step.warnings)
    if sop.steps_missing:
        lines.append("(tabel langkah tidak ada di dokumen sumber)")
    lines.append("")
    lines.append("* pelaksana disimpulkan (tanda pelaksana hilang di sumber)")
    lines.append("✎ teks tercetak di sumber; pengguna membaca koreksinya · ✱ catatan kurator · ⚠ cacat sumber")
    if sop.notes:
        lines.append("")
        lines.append("Catatan kurator:")
        lines.extend(f"- {n}" for n in sop.notes)
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    catalog = _catalog(args.dir)
    sop = catalog.get(args.id)
    if sop is None:
        hint = did_you_mean(args.id, [s.id for s in catalog])
        print(f"SOP tidak ditemukan: {args.id}{hint}. Daftar id: `alur sop list`.", file=sys.stderr)
        return 1
    if args.json:
        data = sop.model_dump(mode="json")
        for step, raw in zip(sop.steps, data["steps"], strict=True):
            duration = sop.duration(step)
            raw["duration"] = duration.as_dict() if duration else None
        data["content_hash"] = sop.content_hash
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(render_table(sop, catalog))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    folder = args.dir or DEFAULT_SOP_DIR
    if not folder.is_dir():
        print(missing_folder(folder), file=sys.stderr)
        return 2
    catalog, problems = read_catalog(args.dir)
    for problem in problems:
        print(problem)
    if problems:
        print(f"\n{len(problems)} masalah", file=sys.stderr)
        return 1
    steps = sum(len(s.steps) for s in catalog)
    print(f"OK: {len(catalog)} SOP, {steps} langkah, {len(catalog.roles.roles)} peran ({args.dir or DEFAULT_SOP_DIR})")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from bot.sop_import import import_file

    try:
        result = import_file(args.file, institution=args.institution)
    except (OSError, UnicodeDecodeError) as exc:
        print(_unreadable(args.file, exc), file=sys.stderr)
        return 2
    if not result.drafts:
        print(
            f"Tidak ada SOP di {args.file}: tidak ditemukan kepala SOP (Nomor/Nama SOP) maupun tabel langkah.",
            file=sys.stderr,
        )
        return 1
    for note in result.report:
        print(f"! {note}", file=sys.stderr)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, text in result.drafts.items():
            (args.out / f"{name}.yaml").write_text(text, encoding="utf-8")
        print(f"{len(result.drafts)} draf ditulis ke {args.out}")
    else:
        for text in result.drafts.values():
            print("---")
            print(text)
    return 0


def _unreadable(path: Path, exc: OSError | UnicodeDecodeError) -> str:
    """One line for the admin saying why the file could not be read."""
    if isinstance(exc, UnicodeDecodeError):
        return f"Berkas bukan teks UTF-8: {path} (impor membaca hasil ekstraksi teks, bukan PDF atau Word)."
    if isinstance(exc, FileNotFoundError):
        return f"Berkas tidak ditemukan: {path}"
    if isinstance(exc, IsADirectoryError):
        return f"{path} adalah folder, bukan berkas teks."
    if isinstance(exc, PermissionError):
        return f"Berkas tidak boleh dibaca (izin ditolak): {path}"
    code = errno.errorcode.get(exc.errno or 0, "")
    return f"Berkas tidak dapat dibaca: {path}" + (f" ({code})" if code else "")


def cmd_draw(args: argparse.Namespace) -> int:
    suffix = args.out.suffix.lower()
    if suffix not in (".png", ".svg"):
        print("Berkas keluaran harus berakhiran .png atau .svg", file=sys.stderr)
        return 2
    fmt = "png" if suffix == ".png" else "svg"
    if args.case:
        return asyncio.run(_draw_case(args, fmt))
    from bot.text.flowchart import draw

    catalog = _catalog(args.dir)
    sop = catalog.get(args.id)
    if sop is None:
        hint = did_you_mean(args.id, [s.id for s in catalog])
        print(f"SOP tidak ditemukan: {args.id}{hint}. Daftar id: `alur sop list`.", file=sys.stderr)
        return 1
    inst = catalog.institutions.get(sop.institution)
    data = draw(sop, catalog.roles, fmt, institution=inst.name if inst else sop.institution)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"{args.out} ({len(data):,} bita)")
    return 0


async def _draw_case(args: argparse.Namespace, fmt: str) -> int:
    from bot.runtime import open_services

    settings = args.settings
    if args.dir:
        settings = settings.model_copy(update={"sop_dir": args.dir})
    services = await open_services(settings, sync_people=False, create_db=False)
    try:
        case = await services.workflow.queries.case_by_ref(args.case)
        if case is None:
            print(f"Permohonan tidak ditemukan: {args.case}", file=sys.stderr)
            return 1
        if case.sop_id != args.id:
            print(f"Permohonan {case.register_no} memakai SOP {case.sop_id}, bukan {args.id}", file=sys.stderr)
            return 1
        data = await services.pictures.case_chart(case, "png" if fmt == "png" else "svg")
    finally:
        await services.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"{args.out} ({len(data):,} bita)")
    return 0
