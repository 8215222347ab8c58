"""The Permenpan-RB flowchart of an SOP as geometry: a table with one row per step, a column per
Pelaksana where the step's symbol sits, and the Mutu Baku columns beside it.

Pure: an SOP, the role names and (for a live case) the marks go in, boxes, lines and text come out.
The SVG template draws exactly this; the tests check it (no symbol overlaps another, every step
is drawn, every line of text fits its cell, no connector runs through a symbol it does not join).

Connectors are routed so that they never cross a row's symbol: every row holds one symbol, the
normal flow runs down from a symbol's bottom to the next row's top through the gap between rows,
a branch back to an earlier step leaves the symbol's left side and runs up a channel at the left
edge of the Pelaksana area, a branch forward past the next row runs down a channel at the right
edge, and a branch that ends the SOP early ends in a small terminator in the neighbouring lane.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.sop.model import END, Lane, Sop, Step
from bot.sop.roles import RoleBook
from bot.text.flowchart.fonts import text_width, wrap

Kind = Literal["start", "end", "activity", "decision", "terminal"]
State = Literal["done", "current"] | None

MARGIN = 16.0
BODY = 12.0
SMALL = 10.5
HEAD = 11.5
TITLE = 17.0
LINE = 1.32
PAD = 6.0
COLS = {"no": 34.0, "text": 250.0, "req": 140.0, "time": 78.0, "out": 150.0, "note": 124.0}
LANE_W = 96.0
CHANNEL = 12.0
BADGE_R = 7.0
SYMBOL_W = 72.0
SYMBOL_H = 32.0
DIAMOND_W = 80.0
DIAMOND_H = 46.0
TERMINAL_W = 56.0
TERMINAL_H = 24.0
LABEL_W = 150.0


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def x2(self) -> float:
        return self.x + self.w

    @property
    def y2(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def intersects(self, other: Box, gap: float = 0.0) -> bool:
        return (self.x < other.x2 + gap and other.x < self.x2 + gap
                and self.y < other.y2 + gap and other.y < self.y2 + gap)

    def contains(self, other: Box) -> bool:
        return (self.x <= other.x + 0.01 and other.x2 <= self.x2 + 0.01
                and self.y <= other.y + 0.01 and other.y2 <= self.y2 + 0.01)


@dataclass(frozen=True)
class Marks:
    """A live case on the chart: steps finished, steps open now, and a short note per step."""

    done: frozenset[str] = frozenset()
    current: frozenset[str] = frozenset()
    notes: dict[str, str] = field(default_factory=dict)
    caption: str = ""

    def state(self, step_no: str) -> State:
        if step_no in self.current:
            return "current"
        if step_no in self.done:
            return "done"
        return None

    def key(self) -> str:
        return "|".join([",".join(sorted(self.done)), ",".join(sorted(self.current)),
                         ";".join(f"{k}={v}" for k, v in sorted(self.notes.items())), self.caption])


@dataclass(frozen=True)
class TextBlock:
    """Lines of text; ``x`` is the anchor (left, middle or right edge), ``y`` the top of the first line."""

    lines: tuple[str, ...]
    x: float
    y: float
    size: float = BODY
    bold: bool = False
    anchor: Literal["start", "middle", "end"] = "start"
    fill: str = "#111111"
    italic: bool = False

    @property
    def line_height(self) -> float:
        return self.size * LINE

    @property
    def box(self) -> Box:
        w = max((text_width(t, self.size, self.bold) for t in self.lines), default=0.0)
        left = {"start": self.x, "middle": self.x - w / 2, "end": self.x - w}[self.anchor]
        return Box(left, self.y, w, self.line_height * len(self.lines))

    def baselines(self) -> list[tuple[float, str]]:
        return [(self.y + self.size + i * self.line_height, t) for i, t in enumerate(self.lines)]


@dataclass(frozen=True)
class Cell:
    box: Box
    text: TextBlock | None = None
    fill: str | None = None


@dataclass(frozen=True)
class Symbol:
    step: str
    kind: Kind
    box: Box
    lane: int
    inferred: bool
    state: State
    label: str

    @property
    def badge(self) -> tuple[float, float] | None:
        """Where the tick of a finished step sits: a rectangle's corner, a diamond's upper-right edge."""
        if self.state != "done":
            return None
        if self.kind == "decision":
            return (self.box.cx + self.box.w / 4 + 2, self.box.y + self.box.h / 4 - 2)
        return (self.box.x2 - 2, self.box.y + 2)

    @property
    def extent(self) -> Box:
        """The symbol with its tick badge."""
        if self.badge is None:
            return self.box
        bx, by = self.badge
        r = BADGE_R
        x, y = min(self.box.x, bx - r), min(self.box.y, by - r)
        return Box(x, y, max(self.box.x2, bx + r) - x, max(self.box.y2, by + r) - y)


@dataclass(frozen=True)
class Connector:
    source: str
    target: str
    kind: Literal["next", "back", "skip", "end"]
    points: tuple[tuple[float, float], ...]
    label: TextBlock | None = None


@dataclass
class Flowchart:
    width: float
    height: float
    title: list[TextBlock]
    cells: list[Cell]
    rows: list[tuple[str, Box]]
    symbols: list[Symbol]
    connectors: list[Connector]
    legend: list[TextBlock]
    bands: list[tuple[Box, str]]
    step_texts: dict[str, TextBlock]
    grid: Box | None = None
    lanes: list[tuple[str, Box]] = field(default_factory=list)

    def symbol(self, step_no: str) -> Symbol:
        return next(s for s in self.symbols if s.step == step_no and s.kind != "terminal")


# ---------------------------------------------------------------- helpers


def lanes_of(sop: Sop, roles: RoleBook) -> list[Lane]:
    """The SOP's printed lanes, plus a lane for any actor none of them names (in order of first step)."""
    lanes = list(sop.lanes)
    known = {lane.role for lane in lanes}
    for step in sop.steps:
        if step.actor not in known:
            lanes.append(Lane(label=roles.name(step.actor), role=step.actor))
            known.add(step.actor)
    return lanes


def short_label(label: str) -> str:
    return label.split("→")[0].strip() or label.strip()


def branch_labels(step: Step) -> dict[str, str]:
    """One label per branch target: the words before '→'; the full words where two targets share them."""
    if not step.decision:
        return {}
    by_target: dict[str, list[str]] = {}
    for b in step.decision.branches:
        by_target.setdefault(b.target, []).append(b.label)
    shorts = {t: sorted({short_label(x) for x in labels}) for t, labels in by_target.items()}
    flat = [" / ".join(s) for s in shorts.values()]
    out = {}
    for target, labels in by_target.items():
        text = " / ".join(shorts[target])
        if flat.count(text) > 1:
            text = " / ".join(dict.fromkeys(x.replace("→", "–") for x in labels))
        out[target] = text
    return out


def _kind(sop: Sop, index: int, step: Step) -> Kind:
    if step.decision:
        return "decision"
    if index == 0:
        return "start"
    if step.end or sop.successors(step) == [END]:
        return "end"
    return "activity"


def _text(lines: list[str], x: float, y: float, **kw: object) -> TextBlock:
    return TextBlock(tuple(lines), x, y, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- layout


def layout(sop: Sop, roles: RoleBook, marks: Marks | None = None, institution: str = "") -> Flowchart:
    """The whole chart's geometry."""
    marks = marks or Marks()
    lanes = lanes_of(sop, roles)
    lane_of_role: dict[str, int] = {}
    for i, lane in enumerate(lanes):
        lane_of_role.setdefault(lane.role, i)
    steps = sop.steps
    row_of = {s.number: i for i, s in enumerate(steps)}

    # -- the connectors' plan (before widths: the channels take room)
    edges: list[tuple[str, str, Literal["next", "back", "skip", "end"], str]] = []
    for i, step in enumerate(steps):
        labels = branch_labels(step)
        seen: set[str] = set()
        for target in sop.successors(step):
            if target in seen:
                continue
            seen.add(target)
            label = labels.get(target, "")
            if target == END:
                if step.decision:
                    edges.append((step.number, END, "end", label))
                continue
            j = row_of[target]
            kind: Literal["next", "back", "skip"] = "next" if j == i + 1 else "back" if j <= i else "skip"
            edges.append((step.number, target, kind, label))
    back = sorted((e for e in edges if e[2] == "back"), key=lambda e: row_of[e[0]] - row_of[e[1]])
    skip = sorted((e for e in edges if e[2] == "skip"), key=lambda e: row_of[e[1]] - row_of[e[0]])
    gutter_l = CHANNEL * (len(back) + 1)
    gutter_r = CHANNEL * (len(skip) + 1) + 4

    n_lanes = max(len(lanes), 1)
    lanes_w = gutter_l + n_lanes * LANE_W + gutter_r
    x = MARGIN
    col: dict[str, tuple[float, float]] = {}
    for key, w in [("no", COLS["no"]), ("text", COLS["text"]), ("lanes", lanes_w), ("req", COLS["req"]),
                   ("time", COLS["time"]), ("out", COLS["out"]), ("note", COLS["note"])]:
        col[key] = (x, w)
        x += w
    width = x + MARGIN
    lane_x0 = col["lanes"][0] + gutter_l

    def lane_box_x(i: int) -> tuple[float, float]:
        return lane_x0 + i * LANE_W, LANE_W

    # -- title block
    title: list[TextBlock] = []
    y = MARGIN
    heading = _text(["STANDAR OPERASIONAL PROSEDUR"], width / 2, y, size=HEAD, bold=True, anchor="middle",
                    fill="#555555")
    title.append(heading)
    y += heading.box.h + 2
    name_lines = wrap(sop.name.upper(), width - 2 * MARGIN, TITLE, bold=True)
    name = _text(name_lines, width / 2, y, size=TITLE, bold=True, anchor="middle")
    title.append(name)
    y += name.box.h + 2
    meta = [f"Nomor SOP: {sop.number or '—'}"]
    if institution:
        meta.append(institution)
    info = _text(wrap("   ·   ".join(meta), width - 2 * MARGIN, BODY), width / 2, y, size=BODY, anchor="middle",
                 fill="#333333")
    title.append(info)
    y += info.box.h + 2
    if marks.caption:
        cap = _text(wrap(marks.caption, width - 2 * MARGIN, BODY, bold=True), width / 2, y, size=BODY, bold=True,
                    anchor="middle", fill="#b34700")
        title.append(cap)
        y += cap.box.h + 2
    y += 8

    # -- table header: two rows
    cells: list[Cell] = []
    head_fill = "#dfe7f2"
    top = y
    h1 = HEAD * LINE + 2 * PAD
    lane_labels = [wrap(lane.label, LANE_W - 2 * PAD, SMALL, bold=True, max_lines=4) for lane in lanes]
    h2 = max([len(lines) for lines in lane_labels] + [1]) * SMALL * LINE + 2 * PAD
    mb_head = wrap("Kelengkapan", COLS["req"] - 2 * PAD, HEAD, bold=True)
    h2 = max(h2, len(mb_head) * HEAD * LINE + 2 * PAD)

    def head(box: Box, label: str, size: float = HEAD) -> Cell:
        lines = wrap(label, box.w - 2 * PAD, size, bold=True)
        block = _text(lines, box.cx, box.cy - len(lines) * size * LINE / 2, size=size, bold=True, anchor="middle")
        return Cell(box, block, head_fill)

    for key, label in [("no", "No"), ("text", "Kegiatan"), ("note", "Keterangan")]:
        cx, cw = col[key]
        cells.append(head(Box(cx, top, cw, h1 + h2), label))
    cells.append(head(Box(col["lanes"][0], top, lanes_w, h1), "Pelaksana"))
    mx = col["req"][0]
    mw = col["req"][1] + col["time"][1] + col["out"][1]
    cells.append(head(Box(mx, top, mw, h1), "Mutu Baku"))
    lane_boxes: list[tuple[str, Box]] = []
    for i, lines in enumerate(lane_labels):
        lx, lw = lane_box_x(i)
        if i == 0:
            lx, lw = col["lanes"][0], lw + gutter_l
        if i == n_lanes - 1:
            lw += gutter_r
        box = Box(lx, top + h1, lw, h2)
        block = _text(lines, box.cx, box.cy - len(lines) * SMALL * LINE / 2, size=SMALL, bold=True, anchor="middle")
        cells.append(Cell(box, block, head_fill))
        lane_boxes.append((lanes[i].label, box))
    for key, label in [("req", "Kelengkapan"), ("time", "Waktu"), ("out", "Output")]:
        cx, cw = col[key]
        cells.append(head(Box(cx, top + h1, cw, h2), label))
    y = top + h1 + h2

    # -- step rows
    rows: list[tuple[str, Box]] = []
    symbols: list[Symbol] = []
    step_texts: dict[str, TextBlock] = {}
    bands: list[tuple[Box, str]] = []
    label_h = SMALL * LINE
    edge_labels = {(s, t): lab for s, t, _, lab in edges}
    for i, step in enumerate(steps):
        kind = _kind(sop, i, step)
        state = marks.state(step.number)
        inferred = step.actor_source == "inferred"
        texts: dict[str, list[str]] = {
            "text": wrap(step.text, COLS["text"] - 2 * PAD, BODY),
            "req": wrap(", ".join(step.requirements) or "—", COLS["req"] - 2 * PAD, BODY),
            "time": wrap(step.duration_text or "—", COLS["time"] - 2 * PAD, BODY),
            "out": wrap(", ".join(step.outputs) or "—", COLS["out"] - 2 * PAD, BODY),
        }
        note_parts = []
        if inferred:
            note_parts.append("* Pelaksana disimpulkan")
        if marks.notes.get(step.number):
            note_parts.append(marks.notes[step.number])
        note_lines: list[str] = []
        for part in note_parts:
            note_lines.extend(wrap(part, COLS["note"] - 2 * PAD, SMALL))
        text_h = max(len(v) for v in texts.values()) * BODY * LINE
        text_h = max(text_h, len(note_lines) * SMALL * LINE)
        sym_w, sym_h = (DIAMOND_W, DIAMOND_H) if kind == "decision" else (SYMBOL_W, SYMBOL_H)
        need = sym_h + 2 * 14
        if kind == "decision":
            label_lines = max((len(_label_lines(lab)) for (s, _), lab in edge_labels.items()
                               if s == step.number and lab), default=1)
            block = label_lines * label_h + 8
            need = max(need, sym_h + 2 * block, TERMINAL_H + 2 * (block + 4))
        row_h = max(text_h + 2 * PAD, need)
        row = Box(col["no"][0], y, width - 2 * MARGIN, row_h)
        rows.append((step.number, row))
        if state == "current":
            bands.append((row, "#fff4cc"))
        no_fill = "#e3f4e1" if state == "done" else "#ffe08a" if state == "current" else None
        cells.append(Cell(Box(col["no"][0], y, COLS["no"], row_h),
                          _text([step.number], col["no"][0] + COLS["no"] / 2, y + PAD, bold=True, anchor="middle"),
                          no_fill))
        for key in ("text", "req", "time", "out"):
            cx, cw = col[key]
            anchor: Literal["start", "middle"] = "middle" if key == "time" else "start"
            tx = cx + cw / 2 if anchor == "middle" else cx + PAD
            block = _text(texts[key], tx, y + PAD, anchor=anchor)
            if key == "text":
                step_texts[step.number] = block
            cells.append(Cell(Box(cx, y, cw, row_h), block))
        nx, nw = col["note"]
        cells.append(Cell(Box(nx, y, nw, row_h),
                          _text(note_lines, nx + PAD, y + PAD, size=SMALL, fill="#6b4a00") if note_lines else None))
        cells.append(Cell(Box(col["lanes"][0], y, lanes_w, row_h)))
        lane = lane_of_role.get(step.actor, 0)
        lx, lw = lane_box_x(lane)
        box = Box(lx + (lw - sym_w) / 2, y + (row_h - sym_h) / 2, sym_w, sym_h)
        label = step.number + ("*" if inferred else "")
        symbols.append(Symbol(step.number, kind, box, lane, inferred, state, label))
        y += row_h
    if not steps:
        row_h = BODY * LINE * 2 + 2 * PAD
        msg = "Tabel langkah tidak ada di dokumen sumber; SOP ini belum dapat dijalankan."
        cells.append(Cell(Box(col["no"][0], y, width - 2 * MARGIN, row_h),
                          _text(wrap(msg, width - 4 * MARGIN, BODY, bold=True), width / 2, y + PAD, bold=True,
                                anchor="middle", fill="#8a1c1c")))
        y += row_h
    grid = Box(MARGIN, top, width - 2 * MARGIN, y - top)

    # -- connectors
    sym = {s.step: s for s in symbols}
    row_box = dict(rows)
    connectors: list[Connector] = []
    exits_used: dict[str, set[str]] = {}
    back_x = {(e[0], e[1]): col["lanes"][0] + gutter_l - CHANNEL * (k + 1) for k, e in enumerate(back)}
    skip_x = {(e[0], e[1]): lane_x0 + n_lanes * LANE_W + CHANNEL * (k + 1) + 4 for k, e in enumerate(skip)}
    for source, target, kind, lab in edges:
        s = sym[source]
        sb = s.box
        used = exits_used.setdefault(source, set())
        if kind == "next":
            t = sym[target].box
            gap_y = row_box[source].y2
            pts = [(sb.cx, sb.y2)]
            if abs(sb.cx - t.cx) > 0.5:
                pts += [(sb.cx, gap_y), (t.cx, gap_y)]
            pts.append((t.cx, t.y))
            used.add("bottom")
            text = None
            if lab:
                lines = _label_lines(lab)
                text = _text(lines, sb.cx + 4, sb.y2 + 2, size=SMALL, fill="#1f4e8c", italic=True)
            connectors.append(Connector(source, target, "next", tuple(pts), text))
        elif kind == "back":
            t = sym[target].box
            cx = back_x[(source, target)]
            pts = [(sb.x, sb.cy), (cx, sb.cy), (cx, t.cy), (t.x, t.cy)]
            used.add("left")
            text = _side_label(lab, sb.x - 4, sb.cy, "end") if lab else None
            connectors.append(Connector(source, target, "back", tuple(pts), text))
        elif kind == "skip":
            t = sym[target].box
            cx = skip_x[(source, target)]
            pts = [(sb.x2, sb.cy), (cx, sb.cy), (cx, t.cy), (t.x2, t.cy)]
            used.add("right")
            text = _side_label(lab, sb.x2 + 4, sb.cy, "start") if lab else None
            connectors.append(Connector(source, target, "skip", tuple(pts), text))
    for source, _target, kind, lab in edges:
        if kind != "end":
            continue
        s = sym[source]
        used = exits_used.setdefault(source, set())
        right_ok = s.lane + 1 < n_lanes and "right" not in used
        side = "right" if right_ok or (s.lane == 0 or "left" in used) else "left"
        lane = s.lane + 1 if side == "right" else s.lane - 1
        lane = min(max(lane, 0), n_lanes - 1)
        lx, lw = lane_box_x(lane)
        if lane == s.lane:  # a one-lane SOP: the terminator goes into the right channel's room
            lx = s.box.x2 + 8
            lw = TERMINAL_W + 8
        tb = Box(lx + (lw - TERMINAL_W) / 2, s.box.cy - TERMINAL_H / 2, TERMINAL_W, TERMINAL_H)
        symbols.append(Symbol(f"{source}→selesai", "terminal", tb, lane, False, None, "Selesai"))
        used.add(side)
        if side == "right":
            pts = ((s.box.x2, s.box.cy), (tb.x, tb.cy))
            text = _side_label(lab, s.box.x2 + 4, tb.y - 2, "start") if lab else None
        else:
            pts = ((s.box.x, s.box.cy), (tb.x2, tb.cy))
            text = _side_label(lab, s.box.x - 4, tb.y - 2, "end") if lab else None
        connectors.append(Connector(source, END, "end", pts, text))

    # -- legend
    legend: list[TextBlock] = []
    y += 10
    items = ["Simbol: kapsul = mulai/selesai, persegi = kegiatan, belah ketupat = keputusan, panah = arah alur."]
    if any(s.inferred for s in symbols):
        items.append("* Pelaksana disimpulkan dari urutan langkah (tanda pelaksana hilang di dokumen sumber); "
                     "simbolnya bergaris putus-putus.")
    if marks.done or marks.current:
        items.append("✓ hijau = langkah selesai; kuning = langkah yang sedang berjalan.")
    for item in items:
        block = _text(wrap(item, width - 2 * MARGIN, SMALL), MARGIN, y, size=SMALL, fill="#444444")
        legend.append(block)
        y += block.box.h + 2
    height = y + MARGIN
    return Flowchart(width, height, title, cells, rows, symbols, connectors, legend, bands, step_texts, grid,
                     lane_boxes)


def _label_lines(label: str) -> list[str]:
    return wrap(label, LABEL_W, SMALL, max_lines=3)


def _side_label(label: str, x: float, bottom: float, anchor: Literal["start", "end"]) -> TextBlock:
    lines = _label_lines(label)
    return _text(lines, x, bottom - 3 - len(lines) * SMALL * LINE, size=SMALL, anchor=anchor, fill="#1f4e8c",
                 italic=True)
