"""What a question asks, decided before any retrieval: its kind, whose data it is about, the
steps and step ranges it names, what it rules out.

The kind is decided by weighted cue patterns over the question's normalised words (after
chat words, typos and English are rewritten, so 'brp lama', 'how long' and 'berapa lama' look
alike): the strongest cue wins, ties go to the more specific kind. Cue phrases are then
blanked out of the words used for retrieval, so 'dasar hukum' or 'siapa' do not pull SOPs that
happen to contain those words.

Two personal intents come before any SOP search: questions about the asker's own requests
('permohonan saya sudah sampai mana', 'data saya kapan jadi') and about the asker's own open
steps ('tugas saya apa saja'). They are answered from live data, never from the catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from bot.qa.synonyms import ORDINALS

Kind = Literal[
    "which_sop", "who_handles", "next_step", "duration", "requirements", "output",
    "total_duration", "legal_basis", "related_sop", "warning", "qualifications", "records",
]
KINDS: tuple[Kind, ...] = (
    "which_sop", "who_handles", "next_step", "duration", "requirements", "output",
    "total_duration", "legal_basis", "related_sop", "warning", "qualifications", "records",
)
STEP_KINDS: frozenset[str] = frozenset({"who_handles", "next_step", "duration", "requirements", "output"})
FIELD_KINDS: frozenset[str] = frozenset({"legal_basis", "related_sop", "warning", "qualifications", "records"})
"""Kinds answered by one field of the SOP as a whole."""
Personal = Literal["my_cases", "my_tasks"]

CUES: list[tuple[Kind, str, float]] = [
    # total time of the whole SOP or of a range of steps
    ("total_duration", r"\b(total\w*|ditotal|dijumlah\w*|jumlah(kan)? waktu|keseluruhan|akumulasi|kumulatif)\b", 3.0),
    ("total_duration", r"\b(semua|seluruh) (langkah|tahap\w*|proses)\b", 1.5),
    ("total_duration", r"\b(sampai selesai|semuanya selesai|selesai semua|semuanya|seluruhnya)\b", 2.6),
    ("total_duration", r"\bdari\b.{3,80}\b(sampai|hingga|ke)\b.{0,60}\b(berapa|lama|waktu)\b", 1.5),
    ("total_duration", r"\b(langkah|tahap) \d+ (sampai|hingga|ke|dan) (langkah |tahap )?\d+\b", 2.0),
    # standard time of one step
    ("duration", r"\bberapa (lama|hari|jam|menit|minggu|bulan|waktu)\b", 2.5),
    ("duration", r"\b(lama(nya)?|durasi|tenggat|deadline|jatah waktu|dijatah( waktu)?|dialokasikan( waktu)?"
                 r"|makan waktu|memakan waktu|waktu standar|standar waktu|batas waktu)\b", 2.0),
    ("duration", r"\b(waktu(nya)?|dikerjakan dalam)\b", 1.0),
    # who
    ("who_handles", r"\bsiapa\b", 4.0),
    ("who_handles", r"\b(pejabat|bagian|bidang|unit|jabatan|petugas|pelaksana|pihak) (mana|apa)\b", 3.5),
    ("who_handles", r"\b(yang )?(bertanggung jawab|penanggung jawab|memegang|pegang|menangani|mengerjakan"
                    r"|pelaksana(nya)?)\b", 1.5),
    # what comes next
    ("next_step", r"\b(selanjutnya|berikutnya|lalu apa|next|langkah lanjut\w*)\b", 4.5),
    ("next_step", r"\b(setelah(nya)?|sesudah(nya)?|kemudian)\b", 2.6),
    ("next_step", r"\b(tahap|langkah) (lanjut\w*|setelah\w*)\b", 1.0),
    ("next_step", r"\b(diikuti|disusul|dilanjutkan|lanjut(nya|annya)?|menyusul|urutan berikut\w*)\b", 2.4),
    ("next_step", r"\b(sebelum(nya)?|sebelum itu|langkah sebelum\w*|before)\b", 2.4),
    # what is needed
    ("requirements", r"\b(kelengkapan\w*|persyaratan\w*|syarat\w*|prasyarat|dibutuhkan|butuh\w*|diperlukan"
                     r"|perlu (apa|disiapkan|dibawa)|bawa apa|dokumen apa|bahan apa|berkas apa|inputnya|input apa)\b",
     2.5),
    ("requirements", r"\b(disiapkan|siapkan|menyiapkan|dibawa)\b", 2.2),
    ("requirements", r"\b(peralatan\w*|perlengkapan\w*|alat\w* (apa|yang)|sarana (apa|kerja))\b", 3.0),
    ("requirements", r"\b(harus (bagaimana|apa)|boleh\b.{0,40}\btidak|apa harus|wajib|bisa lewat|boleh lewat)\b", 1.5),
    # what a step (or the whole SOP) produces
    ("output", r"\b(output\w*|keluaran\w*|menghasilkan|dihasilkan|hasil(nya)? (apa|dari|berupa)"
               r"|(apa|berupa apa) hasil(nya)?|hasilnya|hasil akhir\w*|produk(nya)?|jadinya apa"
               r"|(dapat|menerima|terima|memperoleh) apa)\b", 3.0),
    # legal basis
    ("legal_basis", r"\b(dasar hukum\w*|landasan hukum|payung hukum|acuan hukum|regulasi\w*|dasar peraturan"
                    r"|peraturan (apa|mana)|aturan (apa|mana)|nomor berapa|no berapa)\b", 3.5),
    ("legal_basis", r"\b(landasan|acuan|rujukan|aturan\w*|regulasi)\b", 2.4),
    ("legal_basis", r"\b(perbup|perda|permendagri|peraturan|undang undang|uu|keputusan menteri|perwali)\b", 1.0),
    # related SOPs
    ("related_sop", r"\b(keterkaitan\w*|terkait (dengan |sama |ke )?(sop|apa)|sop (lain )?(yang )?terkait"
                    r"|berkaitan (dengan|sama|ke)|berhubungan (dengan|sama)|hubungan(nya)? (dengan|sama)|sop lain"
                    r"|kaitan\w*|nyambung\w*|tersambung)\b", 3.5),
    ("related_sop", r"\bterkait\b", 0.5),
    # warnings (Peringatan; Ketapang prints it as HIMBAUAN)
    ("warning", r"\b(peringatan\w*|himbauan\w*|imbauan\w*|akibat\w*|berakibat|risiko\w*|konsekuensi\w*|dampak\w*"
                r"|bahaya\w*|sanksi|apa yang terjadi|terjadi apa|kalau tidak|jika tidak|apabila tidak|bila tidak)\b",
     3.2),
    ("warning", r"\btidak (dijalankan|dilaksanakan|dilakukan|diikuti|dipatuhi|sesuai sop)\b", 1.5),
    # who may carry it out (Kualifikasi Pelaksana)
    ("qualifications", r"\b(kualifikasi\w*|kompetensi\w*|keahlian\w*|keterampilan\w*|kecakapan\w*"
                       r"|harus (menguasai|memahami|punya kemampuan|mampu|paham)|menguasai apa|dikuasai|kuasai"
                       r"|(minimal|syarat|latar belakang) pendidikan\w*|pendidikan\w* (minimal|terakhir))\b", 4.0),
    ("qualifications", r"\b(kemampuan\w*|skill\w*|syarat (pelaksana|petugas|pegawai|staf))\b", 2.0),
    # what is recorded (Pencatatan dan Pendataan)
    ("records", r"\b(pencatatan\w*|pendataan\w*|didata|apa yang dicatat|yang dicatat apa)\b", 4.5),
    # which procedure
    ("which_sop", r"\b(sop (yang )?(mana|apa)|sop nya apa|ikut sop|pakai sop|masuk sop|judul\w*|nama sop"
                  r"|prosedur(nya)? (apa|mana|bagaimana)|bagaimana (cara\w*|prosedur\w*|alur\w*|mekanisme\w*)"
                  r"|cara(nya)?|alur(nya)?|mekanisme\w*|punya sop|ada sop|mengatur|berlaku|mana (sop|prosedur))\b",
     2.5),
    ("which_sop", r"\b(sop|prosedur)\b", 0.3),
]
_CUES = [(kind, re.compile(pattern), weight) for kind, pattern, weight in CUES]
MAX_BLANK = 32
FIRST_PERSON = frozenset({"saya", "kami", "kita", "i", "we", "our", "my", "us"})
BLANK_WEIGHT = 2.5
"""Cue phrases at least this strong are question words, left out of retrieval whatever the kind."""

_PRIORITY: dict[str, int] = {k: i for i, k in enumerate(
    ["total_duration", "qualifications", "records", "warning", "legal_basis", "related_sop", "output",
     "who_handles", "next_step", "requirements", "duration", "which_sop"]
)}
"""Tie-break between kinds with equal cue weight (the more specific kind first)."""

_DOCUMENT = re.compile(
    r"\b(disahkan|pengesahan|mengesahkan|yang mengesahkan|tanggal (?:pembuatan|dibuat|revisi|efektif|berlaku)"
    r"|tgl \w+|mulai berlaku|berlaku (?:sejak|mulai)|efektif|revisi|nomor sop|no sop|approved|effective)\b"
)
"""Questions about the SOP document itself: who approved it, its dates, its number."""

CUE_WORDS: frozenset[str] = frozenset(
    w for pattern in [*(p for _, p, _ in CUES), _DOCUMENT.pattern] for w in re.findall(r"[a-z]{4,}", pattern)
)
"""Words the cues are written with (protected from typo 'correction')."""

_STEP_WORD = r"(?:langkah|tahap|tahapan|step|kegiatan|baris|urutan|poin|butir)"
_STEP_REF = re.compile(rf"\b{_STEP_WORD} (?:ke |nomor |no )?(\d{{1,2}})\b")
_STEP_RANGE = re.compile(
    rf"\b{_STEP_WORD} (?:ke |nomor |no )?(\d{{1,2}}) (?:sampai(?: dengan)?|hingga|ke|dan|to|until) "
    rf"(?:{_STEP_WORD} )?(?:ke |nomor |no )?(\d{{1,2}})\b"
)
_ORDINAL = re.compile(
    rf"\b{_STEP_WORD}\w* (?:yang )?(?:paling )?({'|'.join(ORDINALS)}|terakhir|akhir)(?:nya)?\b"
)
_LAST = re.compile(r"\b(paling akhir|(?:output|hasil|keluaran|produk) (?:akhir|terakhir)\w*|ujung\w*)\b")
_UNITS = re.compile(r"\b\d+(?: \d+)? (?:menit|jam|hari|minggu|bulan|tahun)\b")
_FROM_TO = re.compile(r"\b(?:dari|mulai) (.{3,120}?) (?:sampai(?: dengan)?|hingga) (.{3,160})$")
_AFTER = re.compile(r"\b(?:setelah|sesudah|selesai) (.{3,200})$")
_BEFORE = re.compile(r"\bsebelum (.{3,200})$")
_NEXT_WORDS = re.compile(r"\b(setelah|sesudah|selanjutnya|berikutnya|next|lalu apa|kemudian)\b")
_ALL_OUTPUTS = re.compile(
    r"\b(semua|seluruh|all|daftar|urutan) (output|keluaran|hasil|dokumen)\w*"
    r"|\b(output|keluaran)\w*\b.*\b(berurutan|secara urut|urut urutan|tiap langkah|setiap langkah|per langkah"
    r"|dari awal sampai akhir)\b"
)
_EQUIPMENT = re.compile(r"\b(peralatan\w*|perlengkapan\w*|alat\w* (apa|yang)|sarana (apa|kerja))\b")

_WHO_CLAUSES = [
    re.compile(r"\bsiapa (?:sih |ya |saja )?yang ((?:\S+ ){0,9}\S+)"),
    re.compile(r"\byang ((?:(?!yang\b)\S+ ){1,10}?)(?:itu |nanti |ini )*siapa\b"),
    re.compile(r"((?:\S+ ){0,4}di\w+) (?:oleh |sama |sm )?siapa\b"),
    re.compile(r"\bsiapa (?!(?:sebelum|setelah|sesudah|di|ke|dari|untuk|pada|dalam|kalau|jika|nanti|ya|sih|saja)\b)"
               r"((?:\S+ ){0,9}\S+)"),
]
"""The clause a 'who' question asks about: 'siapa yang X', 'yang X siapa', 'diX oleh siapa', 'siapa X' (English)."""

# ---------------------------------------------------------------- personal intents

_MINE = r"(?:saya|kami|aku|ku|kita)"
_CASE_NOUN = (r"(?:permohonan|pengajuan|ajuan|permintaan|request|berkas|surat|data|usulan|tiket|urusan|layanan"
              r"|konsultasi|fasilitasi)")
_MY_CASE = re.compile(rf"\b{_CASE_NOUN}(?:nya)?(?: \w+)?? {_MINE}\b|\b(?:my|our) (?:\w+ )?"
                      rf"(?:request|application|case|letter|{_CASE_NOUN})s?\b")
_STATUS = re.compile(
    r"\b(sampai mana|sudah sampai|sampai (?:di ?mana|tahap apa)|kapan (?:selesai|jadi|keluar|dibalas|dijawab"
    r"|diproses|ada jawaban|beres)|status\w*|progres\w*|perkembangan\w*|posisi\w*|sudah diproses"
    r"|belum (?:ada )?(?:kabar|jawaban|selesai|diproses|dijawab)|where is|how far)\b"
)
_MY_TASKS = re.compile(
    rf"\b(?:tugas|pekerjaan|kerjaan|tanggungan|antrian|antrean|disposisi|task)(?:nya)? (?:untuk |buat )?{_MINE}\b"
    rf"|\b(?:harus|perlu|mesti) {_MINE} (?:kerjakan|selesaikan|tangani|lakukan|proses|urus)\b"
    rf"|\b{_MINE} (?:harus|perlu|mesti) (?:mengerjakan|menyelesaikan|melakukan) apa\b"
    r"|\bmy (?:tasks?|work|queue|to do)\b"
)
PERSONAL_KINDS: frozenset[str] = frozenset({"which_sop", "next_step", "duration", "total_duration", "who_handles"})
"""Kinds a question about 'permohonan saya' may have and still be about the asker's own request
('apa selanjutnya untuk permohonan saya', 'berapa lama lagi data saya'); 'kalau mau minta data
saya harus apa' (requirements) is a question about the SOP."""

_NEGATION = re.compile(
    r"\b(?:bukan|selain|kecuali|other than|rather than|not the)\s+(?:(?:yang|yg|the|sop|one)\s+)*"
    r"([^,.;:()!?\n]{2,80})",
    re.IGNORECASE,
)
"""'(bukan yg sinergisitas)', 'selain penyusunan dokumen': what the question rules out."""

_CONDITIONAL = re.compile(r"\b(kalau|jika|bila|apabila|seandainya|andaikan|if|bisa|boleh|mungkin)\b")

REGISTER_NO = re.compile(r"\b([A-Za-z]{2,5}-[A-Za-z0-9]{2,8}-\d{4}-\d{1,6})\b")
_CASE_NO = re.compile(
    r"(?:\b(?:permohonan|pengajuan|kasus|tiket|perkara|register|registrasi|case|request|berkas)\s*"
    r"(?:no\.?|nomor|#)?\s*#?(\d{1,7})\b)|(?:#(\d{1,7})\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Question:
    """A parsed question."""

    text: str
    words: list[str]
    kind: Kind
    scores: dict[str, float]
    retrieval_words: list[str]
    step_numbers: list[str] = field(default_factory=list)
    step_range: tuple[str, str] | None = None
    ordinal: int | None = None
    """Position asked for: 1 = first step, -1 = last step, n = n-th step."""
    equipment: bool = False
    """The question asks for the SOP's equipment (peralatan/perlengkapan), not a step's inputs."""
    all_outputs: bool = False
    """'semua output ...': every output of the SOP in order, not one step's."""
    range_words: tuple[list[str], list[str]] | None = None
    """'dari X sampai Y': retrieval words naming the first and the last step of a range."""
    after_words: list[str] = field(default_factory=list)
    """Retrieval words after 'setelah ...', describing the step the question starts from."""
    previous: bool = False
    """'Sebelum X, apa?': the question asks for the step(s) before the one ``after_words`` describe."""
    focus_words: list[str] = field(default_factory=list)
    """Retrieval words of the clause a 'who' question is about ('... yang menyerahkan ke pemohon siapa')."""
    personal: Personal | None = None
    """About the asker's own requests or open steps (answered from live data)."""
    status: bool = False
    """Asks where something stands ('sudah sampai mana', 'kapan jadi')."""
    negated: list[str] = field(default_factory=list)
    """Raw phrases the question rules out ('bukan yg sinergisitas' -> 'sinergisitas')."""
    document: bool = False
    """Asks about the SOP document: who approved it, its dates or number."""
    conditional: bool = False
    """'kalau ditolak', 'jika tidak sesuai': may be about the branches of a decision."""

    @property
    def first_person(self) -> bool:
        """Asked by the requester about themselves ('apa yang perlu saya siapkan', 'we')."""
        return bool(FIRST_PERSON & set(self.words))

    @property
    def joined(self) -> str:
        return " ".join(self.words)


def case_reference(text: str) -> str | None:
    """A register number ('KTP-INFO-2026-0007') or request number ('permohonan 12', '#12') in a question."""
    m = REGISTER_NO.search(text)
    if m:
        return m.group(1).upper()
    m = _CASE_NO.search(text)
    if m:
        return m.group(1) or m.group(2)
    return None


def negations(text: str) -> list[str]:
    """The phrases a question rules out, as typed."""
    return [m.group(1).strip() for m in _NEGATION.finditer(text)]


def parse(text: str, words: list[str]) -> Question:
    """Decide the kind, the personal intent and the step references of a question given its normalised words."""
    joined = " ".join(words)
    scores: dict[str, float] = {}
    blank = list(joined)
    spans: list[tuple[str, float, int, int]] = []
    matched: dict[str, list[float]] = {}
    for cue_kind, pattern, weight in _CUES:
        found = [(cue_kind, weight, m.start(), m.end()) for m in pattern.finditer(joined)]
        if found:
            matched.setdefault(cue_kind, []).append(weight)
            spans.extend(found)
    for cue_kind, weights in matched.items():
        # the strongest cue decides; further cues of the same kind only confirm it a little
        scores[cue_kind] = max(weights) + 0.2 * (sum(weights) - max(weights))
    step_range = None
    numbers: list[str] = []
    m = _STEP_RANGE.search(joined)
    if m:
        step_range = (m.group(1), m.group(2))
    for m in _STEP_REF.finditer(joined):
        numbers.append(m.group(1))
        for i in range(m.start(), m.end()):
            blank[i] = " "
    for m in _UNITS.finditer(joined):
        for i in range(m.start(), m.end()):
            blank[i] = " "
    ordinal = None
    m = _ORDINAL.search(joined)
    if m:
        ordinal = ORDINALS.get(m.group(1), -1)
    elif _LAST.search(joined):
        ordinal = -1
    kind = _decide(scores)
    if kind == "who_handles" and "next_step" in scores and not _who_clause(joined):
        kind = "next_step"  # 'abis diparaf kabid, lanjut ke siapa?': who comes next, not who does a named step
    if kind == "duration" and (step_range or _FROM_TO.search(joined) or len(set(numbers)) >= 2):
        kind = "total_duration"  # 'berapa lama dari X sampai Y' asks for a sum
    for cue_kind, weight, start, end in spans:
        if end - start > MAX_BLANK:
            continue  # a pattern spanning a clause ('dari X sampai Y berapa') keeps its content words
        if cue_kind == kind or weight >= BLANK_WEIGHT:
            for i in range(start, end):
                blank[i] = " "
    personal: Personal | None = None
    typed = " ".join(w for w in words if not w.startswith("~"))  # as typed, without added long forms
    status = bool(_STATUS.search(typed))
    if _MY_TASKS.search(typed):
        personal = "my_tasks"
    elif _MY_CASE.search(typed) and (kind in PERSONAL_KINDS or status):
        personal = "my_cases"
    for pattern in (_STATUS, _MY_CASE, _MY_TASKS) if (personal or status) else ():
        for m in pattern.finditer(joined):
            for i in range(m.start(), m.end()):
                blank[i] = " "
    document = False
    for m in _DOCUMENT.finditer(joined):
        document = True
        for i in range(m.start(), m.end()):
            blank[i] = " "
    kept = "".join(blank)
    range_words = None
    m = _FROM_TO.search(joined)
    if m:
        range_words = (kept[m.start(1) : m.end(1)].split(), kept[m.start(2) : m.end(2)].split())
    after_words: list[str] = []
    previous = False
    m = _AFTER.search(joined)
    if m:
        after_words = kept[m.start(1) :].split()
    elif kind == "next_step" and not _NEXT_WORDS.search(joined):
        m = _BEFORE.search(joined)
        if m:
            previous = True
            after_words = kept[m.start(1) :].split()
    focus_words: list[str] = []
    if kind == "who_handles":
        for pattern in _WHO_CLAUSES:
            m = pattern.search(joined)
            if m:
                focus_words = kept[m.start(1) : m.end(1)].split()
                break
    return Question(
        text=text,
        words=words,
        kind=kind,
        scores=scores,
        retrieval_words=kept.split(),
        step_numbers=numbers,
        step_range=step_range,
        ordinal=ordinal,
        equipment=bool(_EQUIPMENT.search(joined)),
        all_outputs=bool(_ALL_OUTPUTS.search(joined)),
        range_words=range_words,
        after_words=after_words,
        previous=previous,
        focus_words=focus_words,
        personal=personal,
        status=status,
        negated=negations(text),
        document=document,
        conditional=bool(_CONDITIONAL.search(joined)),
    )


def _who_clause(joined: str) -> str | None:
    """The clause a 'who' question is about, as matched (None when it names no activity)."""
    for pattern in _WHO_CLAUSES:
        m = pattern.search(joined)
        if m and m.group(1).strip():
            return m.group(1)
    return None


def _decide(scores: dict[str, float]) -> Kind:
    if not scores:
        return "which_sop"
    best = max(scores.values())
    tied = [k for k, s in scores.items() if s == best]
    tied.sort(key=lambda k: _PRIORITY[k])
    return tied[0]  # type: ignore[return-value]
