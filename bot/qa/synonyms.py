"""Word tables for question answering: informal spellings, abbreviations, English, stop words.

All keys are in the normalised form of ``bot.qa_text.normalise`` (lower case, punctuation
turned into spaces). Values are plain Indonesian words; they are stemmed like everything else.

* ``INFORMAL`` rewrites one chat word (typed short or colloquially) into standard words —
  it *replaces* the word.
* ``ABBREVIATIONS`` adds the long form of an abbreviation next to it, on both sides (SOP text
  and question), so 'kaban' finds 'Kepala Badan' and 'Kepala Badan' finds 'kaban'.
* ``ENGLISH`` adds Indonesian words for English ones (questions only); multi-word keys win
  over single words ('legal basis' before 'basis').
* ``SYNONYMS`` adds the SOP's words next to everyday words for the same thing ('kontraktor' ->
  'jasa konstruksi', 'kucuran dana' -> 'bantuan keuangan'); questions only, weighed like the
  long forms of abbreviations. It is what lets a described situation meet the SOP's vocabulary.
"""

from __future__ import annotations

INFORMAL: dict[str, str] = {
    # chat spellings and short forms
    "yg": "yang", "dgn": "dengan", "dg": "dengan", "utk": "untuk", "tuk": "untuk", "u": "untuk",
    "gak": "tidak", "ga": "tidak", "gk": "tidak", "nggak": "tidak", "ngga": "tidak", "enggak": "tidak",
    "engga": "tidak", "tdk": "tidak", "ndak": "tidak", "kagak": "tidak", "nda": "tidak",
    "brp": "berapa", "brapa": "berapa", "berapakah": "berapa", "brpa": "berapa",
    "sdh": "sudah", "udah": "sudah", "udh": "sudah", "dah": "sudah", "blm": "belum", "blom": "belum",
    "abis": "setelah", "habis": "setelah", "sd": "sampai", "sampe": "sampai", "smp": "sampai",
    "kelar": "selesai", "beres": "selesai", "hrs": "harus",
    "gimana": "bagaimana", "gmn": "bagaimana", "bgmn": "bagaimana", "bagaimanakah": "bagaimana",
    "kalo": "kalau", "klo": "kalau", "kl": "kalau", "klau": "kalau",
    "aja": "saja", "aj": "saja", "doang": "saja",
    "krn": "karena", "karna": "karena", "dr": "dari", "sm": "sama", "ama": "sama",
    "trus": "lalu", "terus": "lalu", "trs": "lalu", "tsb": "tersebut", "ttg": "tentang",
    "jd": "jadi", "sy": "saya", "aku": "saya", "gw": "saya", "gue": "saya", "kmi": "kami",
    "lg": "lagi", "dt": "data", "bs": "bisa", "bsa": "bisa", "dpt": "dapat", "dapet": "dapat",
    "sapa": "siapa", "siapakah": "siapa", "apakah": "apa", "apaan": "apa", "pa": "",
    "manakah": "mana", "nya": "",
    "pengen": "ingin", "pingin": "ingin", "mo": "mau", "kudu": "harus", "mesti": "harus", "musti": "harus",
    "bikin": "membuat", "dibikin": "dibuat", "bikinnya": "membuat",
    "ngasih": "memberi", "dikasih": "diberi", "kasih": "beri",
    "nerima": "menerima", "nyerahin": "menyerahkan", "diserahin": "diserahkan",
    "ngajuin": "mengajukan", "diajuin": "diajukan", "ngisi": "mengisi", "ngurus": "mengurus",
    "disiapin": "disiapkan", "siapin": "siapkan", "nyiapin": "menyiapkan",
    "dikirim": "dikirim", "ngirim": "mengirim", "nandatanganin": "menandatangani",
    "ttd": "tandatangan",
    "tlp": "telepon", "telpon": "telepon", "telp": "telepon", "wa": "whatsapp",
    "pegang": "memegang", "megang": "memegang", "nanganin": "menangani", "ditanganin": "ditangani",
    "lbh": "lebih", "bgt": "sekali", "skrg": "sekarang", "sekarang": "sekarang", "mksd": "maksud",
    "dll": "", "dsb": "", "pak": "", "bu": "", "bapak": "", "ibu": "", "mas": "", "mbak": "", "min": "",
    "kerjain": "kerjakan", "ngerjain": "mengerjakan", "dikerjain": "dikerjakan", "beresin": "selesaikan",
    "nyelesain": "menyelesaikan", "nyelesein": "menyelesaikan", "diberesin": "diselesaikan",
    "ngumpulin": "mengumpulkan", "dikumpulin": "dikumpulkan", "nanya": "bertanya", "nanya2": "bertanya",
    "ngadain": "mengadakan", "diadain": "diadakan",
    "dong": "", "sih": "", "deh": "", "nih": "", "tuh": "", "kok": "", "ya": "", "yah": "",
    "nah": "", "lho": "", "loh": "", "kah": "", "hehe": "", "tolong": "", "mohon": "mohon",
}
"""Chat words replaced by standard words ('' drops the word); questions only."""

CANONICAL: dict[str, str] = {
    "draft": "draf", "kuisioner": "kuesioner", "sinergitas": "sinergisitas", "sinegritas": "sinergisitas",
    "sinersitas": "sinergisitas", "propinsi": "provinsi", "analisa": "analisis", "monitor": "monitoring",
    "tanda tangan": "tandatangan", "tandatangani": "tandatangan", "ditandatangani": "tandatangan",
    "ditandatangan": "tandatangan", "menandatangani": "tandatangan", "penandatanganan": "tandatangan",
    "ditanda tangani": "tandatangan", "ditanda tangan": "tandatangan", "menanda tangani": "tandatangan",
    "ditandatanganinya": "tandatangan", "tanda tangani": "tandatangan",
    "menindaklanjuti": "tindaklanjut", "ditindaklanjuti": "tindaklanjut", "tindak lanjut": "tindaklanjut",
    "tindak lanjuti": "tindaklanjut", "tindaklanjuti": "tindaklanjut", "mengugaskan": "menugaskan",
    "ijin": "izin", "resiko": "risiko", "kuesioner": "kuesioner", "narasumber": "nara sumber",
    "pertanggungjawaban": "pertanggung jawaban", "walikota": "wali kota",
    "mengecek": "cek", "dicek": "cek", "pengecekan": "cek", "ngecek": "cek", "check": "cek",
}
"""Spelling variants and compounds written one way on both sides (SOP text and question)."""

ABBREVIATIONS: dict[str, str] = {
    # offices and positions
    "kaban": "kepala badan", "kabid": "kepala bidang", "sekban": "sekretaris badan",
    "sekda": "sekretaris daerah", "kasubid": "kepala sub bidang", "kasubbid": "kepala sub bidang",
    "kasubag": "kepala sub bagian", "kasubbag": "kepala sub bagian", "kabag": "kepala bagian",
    "subkoor": "sub koordinator", "subkor": "sub koordinator",
    "tu": "tata usaha", "ukp": "unit kerja pelayanan", "jfp": "jabatan fungsional perencana",
    "opd": "organisasi perangkat daerah", "sopd": "satuan organisasi perangkat daerah",
    "skpd": "satuan kerja perangkat daerah", "pd": "perangkat daerah",
    "pemkab": "pemerintah kabupaten", "pemkot": "pemerintah kota",
    "pemda": "pemerintah daerah", "kab": "kabupaten", "kel": "kelurahan", "kec": "kecamatan",
    "bkd": "badan keuangan daerah", "tapd": "tim anggaran pemerintah daerah",
    "litbang": "penelitian pengembangan", "kemendagri": "kementerian dalam negeri",
    "p2mpsda": "pemerintahan pembangunan manusia perekonomian sda",
    "p2epd": "perencanaan pengendalian evaluasi pembangunan daerah",
    "perstradal": "perencanaan strategis pengendalian",
    "pokja": "kelompok kerja", "kesra": "kesejahteraan rakyat", "sda": "sumber daya alam",
    "sdm": "sumber daya manusia",
    # meetings and activities
    "rakordal": "rapat koordinasi pengendalian", "rakor": "rapat koordinasi",
    "monev": "monitoring evaluasi", "bankeu": "bantuan keuangan", "bant keu": "bantuan keuangan",
    "sarpras": "sarana prasarana", "musrenbang": "musyawarah perencanaan pembangunan",
    "forgab": "forum gabungan", "krenova": "kreasi inovasi", "tepra": "evaluasi pengawasan realisasi anggaran",
    "verval": "verifikasi validasi", "konsul": "konsultasi",
    # documents and regulations
    "perbup": "peraturan bupati", "perda": "peraturan daerah", "perwali": "peraturan wali kota",
    "perwal": "peraturan wali kota", "permendagri": "peraturan menteri dalam negeri",
    "kepmendagri": "keputusan menteri dalam negeri", "pp": "peraturan pemerintah",
    "uu": "undang undang", "keppres": "keputusan presiden", "sk": "surat keputusan",
    "se": "surat edaran", "ba": "berita acara", "nodin": "nota dinas", "dok": "dokumen",
    "rkpd": "rencana kerja pemerintah daerah", "rkp": "rencana kerja pemerintah",
    "rpjmd": "rencana pembangunan jangka menengah daerah", "rpjpd": "rencana pembangunan jangka panjang daerah",
    "renja": "rencana kerja", "renstra": "rencana strategis", "ranwal": "rancangan awal",
    "dpa": "dokumen pelaksanaan anggaran",
    "apbd": "anggaran pendapatan belanja daerah", "apbdes": "anggaran pendapatan belanja desa",
    "kua": "kebijakan umum anggaran", "ppas": "prioritas plafon anggaran sementara",
    "sipd": "sistem informasi pemerintahan daerah", "kak": "kerangka acuan kerja", "tor": "kerangka acuan kerja",
    "juknis": "petunjuk teknis", "juklak": "petunjuk pelaksanaan", "atk": "alat tulis kantor",
    "lcd": "proyektor", "pc": "komputer", "hp": "handphone", "ponsel": "handphone",
    "iga": "innovative government award", "lkpj": "laporan keterangan pertanggungjawaban",
    "ssk": "strategi sanitasi", "pok": "petunjuk operasional kegiatan", "rd": "research design",
    "e planning": "aplikasi perencanaan",
}
"""Abbreviation -> long form, added next to the abbreviation in SOP texts and questions."""

SYNONYMS: dict[str, str] = {
    # competitions and innovation
    "kompetisi": "lomba", "sayembara": "lomba", "perlombaan": "lomba", "gagasan": "inovasi kreasi",
    "ide": "inovasi kreasi", "karya": "kreasi inovasi", "terobosan": "inovasi", "piagam": "penghargaan",
    "hadiah": "penghargaan", "juara": "pemenang", "juri": "tim penilai",
    # money for villages
    "dana": "bantuan keuangan", "kucuran": "bantuan", "hibah": "bantuan keuangan", "duit": "bantuan keuangan",
    "kades": "kepala desa",
    # construction
    "kontraktor": "jasa konstruksi", "pemborong": "jasa konstruksi", "pengarahan": "pembinaan",
    "penyuluhan": "pembinaan", "pembekalan": "pembinaan", "pelatihan": "pembinaan", "bimtek": "pembinaan",
    "proyek": "kegiatan pembangunan fisik", "jembatan": "fisik", "gedung": "fisik",
    # research
    "studi": "penelitian kajian", "riset": "penelitian", "survei": "penelitian",
    # documents and data
    "dibukukan": "buku", "pembukuan": "buku", "digandakan": "menggandakan", "diperbanyak": "menggandakan",
    "dicetak": "mencetak", "angka": "data", "statistik": "data", "rekap": "rekapitulasi",
    "merekap": "rekapitulasi", "mengumpulkan": "menghimpun", "dikumpulkan": "dihimpun",
    # asking Bappeda
    "arahan": "konsultasi", "diskusi": "konsultasi koordinasi",
    "didampingi": "pendampingan", "dampingi": "pendampingan", "bimbingan": "pendampingan",
    "login": "aplikasi", "akun": "aplikasi", "error": "aplikasi",
    # people and meetings
    "warga": "masyarakat", "stakeholder": "pemangku kepentingan", "penyerapan": "realisasi",
    "serapan": "realisasi penyerapan",
}
"""Everyday word -> the SOPs' word for it, added next to the word in questions."""

ENGLISH: dict[str, str] = {
    # question words and kinds
    "who": "siapa", "whom": "siapa", "whose": "siapa", "which": "mana", "what": "apa", "when": "kapan",
    "how long": "berapa lama", "how many days": "berapa hari", "how many hours": "berapa jam",
    "how many minutes": "berapa menit", "how much time": "berapa lama", "how": "bagaimana",
    "next": "selanjutnya", "after": "setelah", "afterwards": "setelah", "then": "lalu",
    "following": "berikutnya", "subsequent": "berikutnya", "before": "sebelum",
    "step": "langkah", "steps": "langkah", "stage": "tahap", "stages": "tahapan", "phase": "tahap",
    "first step": "langkah pertama", "last step": "langkah terakhir", "final step": "langkah terakhir",
    "second step": "langkah kedua", "third step": "langkah ketiga", "next step": "langkah selanjutnya",
    "first stage": "tahap pertama", "last stage": "tahap terakhir", "final stage": "tahap terakhir",
    "last": "terakhir", "final": "terakhir", "first": "pertama", "second": "kedua", "third": "ketiga",
    "fourth": "keempat", "fifth": "kelima",
    "time": "waktu", "duration": "waktu", "take": "makan", "takes": "makan", "long": "lama",
    "allotted": "dijatah", "allocated": "dialokasikan", "standard time": "waktu standar",
    "total": "total", "overall": "total", "altogether": "total", "sum": "total", "whole": "seluruh",
    "output": "output", "outputs": "output", "result": "hasil", "results": "hasil", "produce": "menghasilkan",
    "produces": "menghasilkan", "produced": "dihasilkan", "deliverable": "output",
    "requirement": "persyaratan", "requirements": "persyaratan", "prerequisite": "persyaratan",
    "prerequisites": "persyaratan", "need": "perlu", "needs": "perlu", "needed": "diperlukan",
    "required": "diperlukan", "prepare": "menyiapkan", "prepared": "disiapkan", "bring": "bawa",
    "equipment": "peralatan", "tools": "peralatan", "supplies": "perlengkapan",
    "legal basis": "dasar hukum", "legal bases": "dasar hukum", "legal grounds": "dasar hukum",
    "basis": "dasar", "cited": "dasar hukum", "regulation": "peraturan", "regulations": "peraturan",
    "law": "undang undang", "laws": "undang undang", "decree": "keputusan", "number": "nomor", "year": "tahun",
    "regent regulation": "peraturan bupati", "regent": "bupati", "regents": "bupati", "mayor": "wali kota",
    "governor": "gubernur", "minister": "menteri", "home affairs": "dalam negeri", "president": "presiden",
    "government regulation": "peraturan pemerintah", "regional regulation": "peraturan daerah",
    "warning": "peringatan", "warnings": "peringatan", "risk": "risiko", "risks": "risiko",
    "consequence": "akibat", "consequences": "akibat", "what happens": "akibat", "happens": "terjadi",
    "not carried out": "tidak dilaksanakan", "not done": "tidak dilaksanakan",
    "not followed": "tidak dilaksanakan", "not implemented": "tidak dilaksanakan", "skipped": "tidak dilaksanakan",
    "related": "terkait", "linked": "terkait", "connected": "terkait", "relation": "keterkaitan",
    "procedure": "prosedur", "procedures": "prosedur", "process": "proses", "processes": "memproses",
    "cover": "mengatur", "covers": "mengatur", "governs": "mengatur", "applies": "berlaku", "title": "judul",
    "called": "judul", "named": "judul", "name": "nama",
    # people and offices
    "head": "kepala", "chief": "kepala", "agency": "badan", "board": "badan", "division": "bidang",
    "department": "bidang", "section": "bagian", "subdivision": "sub bidang", "secretary": "sekretaris",
    "regional secretary": "sekretaris daerah", "staff": "staf", "officer": "petugas", "clerk": "petugas",
    "coordinator": "koordinator", "sub coordinator": "sub koordinator", "planner": "perencana",
    "functional": "fungsional", "researcher": "peneliti", "engineer": "perekayasa", "admin": "admin",
    "administrator": "admin", "applicant": "pemohon", "requester": "pemohon", "team": "tim",
    "committee": "panitia", "jury": "tim penilai", "judges": "tim penilai", "assessor": "asesor",
    "speaker": "narasumber", "speakers": "narasumber", "participants": "peserta", "participant": "peserta",
    "winner": "pemenang", "winners": "pemenang", "office": "kantor", "agencies": "perangkat daerah",
    "stakeholders": "pemangku kepentingan", "village": "desa", "villages": "desa", "district": "kabupaten",
    "regency": "kabupaten", "city": "kota", "province": "provinsi", "subdistrict": "kecamatan",
    # things and actions
    "request": "permintaan", "requests": "permintaan", "letter": "surat", "letters": "surat",
    "request letter": "surat permintaan", "written": "tertulis", "writing": "tertulis",
    "data": "data", "information": "informasi", "regional": "daerah", "development": "pembangunan",
    "planning": "perencanaan", "plan": "rencana", "plans": "rencana", "work plan": "rencana kerja",
    "application": "aplikasi", "app": "aplikasi", "software": "aplikasi", "assistance": "pendampingan",
    "assist": "mendampingi", "accompany": "mendampingi", "facilitation": "fasilitasi",
    "consultation": "konsultasi", "consult": "konsultasi", "coordination": "koordinasi",
    "meeting": "rapat", "meetings": "rapat", "invitation": "undangan", "invitations": "undangan",
    "report": "laporan", "reports": "laporan", "reporting": "pelaporan", "competition": "lomba",
    "contest": "lomba", "innovation": "inovasi", "creativity": "kreasi", "creation": "kreasi",
    "research": "penelitian", "study": "kajian", "studies": "kajian", "seminar": "seminar", "journal": "jurnal",
    "financial aid": "bantuan keuangan", "financial assistance": "bantuan keuangan", "aid": "bantuan",
    "grant": "bantuan", "facilities": "sarana prasarana", "infrastructure": "infrastruktur",
    "construction": "konstruksi", "services": "jasa", "association": "asosiasi", "associations": "asosiasi",
    "guidance": "pembinaan", "coaching": "pembinaan", "training": "pembinaan",
    "monitoring": "monitoring", "evaluation": "evaluasi", "control": "pengendalian",
    "sign": "menandatangani", "signs": "menandatangani", "signed": "ditandatangani", "signing": "penandatanganan",
    "signature": "tandatangan", "draft": "draf", "drafts": "draf", "verify": "verifikasi", "validate": "validasi",
    "verifies": "memverifikasi", "verification": "verifikasi", "validation": "validasi", "proposal": "usulan",
    "proposals": "usulan", "recap": "rekap", "recapitulation": "rekapitulasi", "book": "buku",
    "physical": "fisik", "budget": "anggaran", "realization": "realisasi", "spending": "belanja",
    "award": "penghargaan", "prize": "hadiah", "deliver": "menyerahkan", "delivers": "menyerahkan",
    "hand over": "menyerahkan", "hands over": "menyerahkan", "handed": "diserahkan", "receive": "menerima",
    "receives": "menerima", "received": "diterima", "record": "mencatat", "records": "mencatat",
    "log": "mencatat", "guest book": "buku tamu", "register": "register", "answer": "jawaban",
    "reply": "jawaban", "response": "respon", "enactment": "penetapan", "stipulation": "penetapan",
    "determination": "penetapan", "approval": "persetujuan", "approve": "menyetujui", "permit": "izin",
    "disbursement": "pencairan", "socialization": "sosialisasi", "dissemination": "sosialisasi",
    "document": "dokumen", "documents": "dokumen", "government": "pemerintah", "carried out": "dilaksanakan",
    "carry out": "melaksanakan", "conduct": "melaksanakan", "conducts": "melaksanakan", "held": "dilaksanakan",
    "hold": "melaksanakan", "lead": "memimpin", "leads": "memimpin", "led": "dipimpin", "chaired": "dipimpin",
    "chairs": "memimpin", "assign": "menugaskan", "assigns": "menugaskan", "disposition": "disposisi",
    "instruction": "disposisi", "identify": "mengidentifikasi", "identifies": "mengidentifikasi",
    "collect": "mengumpulkan", "collects": "mengumpulkan", "compile": "menyusun", "compiles": "menyusun",
    "prepares": "menyusun", "preparation": "penyusunan", "drafting": "penyusunan", "analyse": "menganalisis",
    "analyze": "menganalisis", "analysis": "analisis", "classify": "klasifikasi", "classification": "klasifikasi",
    "input": "input", "enter": "input", "archive": "arsip", "archives": "arsip", "store": "menyimpan",
    "stores": "menyimpan", "print": "mencetak", "copy": "menggandakan", "copies": "menggandakan",
    "distribute": "mendistribusikan", "distributes": "mendistribusikan", "distribution": "distribusi",
    "send": "mengirim", "sends": "mengirim", "schedule": "jadwal", "room": "ruang", "venue": "tempat",
    "materials": "materi", "material": "materi", "minutes": "notulen", "attendance": "daftar hadir",
    "questionnaire": "kuesioner", "instrument": "instrumen", "form": "form", "forum": "forum",
    "joint forum": "forum gabungan", "public consultation": "konsultasi publik", "initial draft": "rancangan awal",
    "final draft": "rancangan akhir", "priority": "prioritas", "program": "program", "activity": "kegiatan",
    "activities": "kegiatan", "village proposals": "usulan desa", "performance": "kinerja",
    "correct": "mengoreksi", "corrects": "mengoreksi", "check": "memeriksa", "checks": "memeriksa",
    "review": "memeriksa", "reviews": "memeriksa", "initial": "paraf", "initials": "paraf",
    "responsible": "bertanggung jawab", "in charge": "bertanggung jawab", "handled": "ditangani",
    "handles": "menangani", "handle": "menangani", "must": "harus", "should": "harus", "approved": "disetujui",
    "issue": "menerbitkan", "provided": "diberikan", "read": "membaca", "requires": "memerlukan",
    "service": "layanan", "years": "tahun", "what follows": "selanjutnya", "follows": "berikutnya",
    "deliberation": "musyawarah", "development planning deliberation": "musyawarah perencanaan pembangunan",
    "presidential": "presiden", "presidential decree": "keputusan presiden", "stated": "", "drawn": "",
    "listed": "", "mentioned": "", "says": "", "judge": "menilai", "judging": "penilaian",
    "assessment": "penilaian", "assess": "menilai",
    "qualification": "kualifikasi", "qualifications": "kualifikasi", "qualified": "kualifikasi",
    "skills": "kemampuan", "skill": "kemampuan", "competence": "kompetensi", "competencies": "kompetensi",
    "competency": "kompetensi", "record keeping": "pencatatan", "recordkeeping": "pencatatan",
    "records kept": "pencatatan", "data recording": "pencatatan",
    "coordinate": "koordinasi", "coordinating": "koordinasi", "coordinates": "koordinasi", "sector": "bidang",
    "sectors": "bidang", "require": "memerlukan", "run": "menjalankan", "runs": "menjalankan",
    "running": "menjalankan",
    "evaluate": "evaluasi", "interview": "wawancara", "interviews": "wawancara", "presentation": "presentasi",
    "written request": "permintaan tertulis", "via": "melalui", "phone": "telepon", "whatsapp": "whatsapp",
    "give": "memberikan", "gives": "memberikan", "given": "diberikan", "provide": "memberikan",
    "provides": "memberikan", "note": "mencatat", "notes": "mencatat", "noted": "dicatat", "write": "menulis",
    "sheet": "lembar", "coordination sheet": "lembar koordinasi", "group": "kelompok", "groups": "kelompok",
    "session": "sidang", "sessions": "sidang", "group session": "sidang kelompok",
    "group sessions": "sidang kelompok", "panel": "sidang kelompok", "chair": "memimpin",
    "actually": "", "exactly": "", "really": "", "done": "dilaksanakan", "finished": "selesai",
    "completed": "selesai", "complete": "selesai", "issued": "keluar", "ready": "selesai",
    "guest": "tamu", "fill": "mengisi", "fills": "mengisi", "filled": "diisi", "input data": "input data",
}
"""English question words -> Indonesian (questions only)."""

STOPWORDS: frozenset[str] = frozenset(
    """
    yang di ke dari dan atau itu ini tentang soal mengenai perihal apa apakah siapa berapa mana bagaimana kapan dimana
    untuk dengan pada dalam oleh sama saja juga ada adalah ialah jadi akan sudah belum bisa dapat
    nya kah lah pun tersebut tsb para sebagai secara agar supaya bila jika kalau apabila maka karena
    saya kami kita kamu anda dia mereka kalian kita beliau sih dong deh kok ya tidak bukan jangan
    nanti sekarang lagi mau ingin harus perlu boleh langsung sendiri khusus biasanya biasa sih
    lalu kemudian setelah sesudah sebelum selanjutnya berikutnya terakhir pertama
    sop prosedur standar operasional langkah tahap tahapan tahapannya step proses alur apa saja
    total totalnya ditotal dijumlahkan jumlah keseluruhan seluruh semua semuanya
    lama waktu waktunya waktu lamanya durasi berapa menit jam hari minggu bulan tahun
    dijatah jatah dialokasikan alokasi makan memakan kira kira sekitar
    judul judulnya nama namanya output outputnya keluaran keluarannya hasilnya
    kelengkapan kelengkapannya persyaratan persyaratannya syarat syaratnya prasyarat
    nomor no
    keterkaitan keterkaitannya terkait berkaitan
    peringatan peringatannya akibat akibatnya risiko resiko risikonya konsekuensi dampak dampaknya
    siapakah pejabat petugasnya pegang memegang menangani ditangani tangani urus mengurus
    cara caranya gimana bagaimanakah mekanisme
    the a an of in on at for to is are was were be been do does did this that these those it its
    what which who whom how when where why according sop's and or by with from as if not
    according any all there their they we our us you your i me my please tell
    """.split()
)
"""Words that carry no content for retrieval (question words, time units, kind words); also as stems."""

FILLERS: frozenset[str] = frozenset(
    """
    buat pas menurut bunyinya bunyi isinya sebutin sebutkan jelaskan jelasin kasih tau tahu info halo hai
    selamat pagi siang sore malam terima makasih permisi maaf kayak misal misalnya gitu begitu emang memang
    sebenarnya bener benar tanya nanya bertanya mohon tolong bantuannya dll dsb dst kak
    """.split()
)
"""Chat words that carry no content, dropped as typed (their stems may be content: 'membuat', 'isi')."""

ENGLISH_COMMON: frozenset[str] = frozenset(
    """
    about above according across actually after again against all allowed almost along already also although always
    am among an and another any anyone anything are around as ask asked at away back be because been before being
    below between both but by can cannot could did do does doing done down during each either else enough even
    ever every exactly few for from further get gets given go goes going got had has have having he her here him
    his how however if in include includes including instead into is it its itself just keep kind know least less
    let like likely made make makes many may maybe me might more most much must my need never no nor not now of off
    often on once one only or other others otherwise our out over own part per perhaps please possible rather
    really same say says see seem should since so some someone something sometimes still such sure take taken than
    that the their them themselves then there therefore these they thing things this those though through thus to
    together too toward under unless until up upon us use used uses using usually very want was way we well were
    what whatever when where whether which while who whom whose why will with within without would yes yet you your
    reason right list lists show shows explain mention stated say tell
    """.split()
)
"""Everyday English words, kept as they are (and so never 'corrected' into an Indonesian word)."""

INSTITUTION_ALIASES: dict[str, list[str]] = {
    "kotim": ["kotim", "sampit", "kotawaringin", "bappelitbangda"],
    "ketapang": ["ketapang"],
    "bogor": ["bogor", "bapperida"],
    "karanganyar": ["karanganyar"],
}
"""Words in a question that point at one institution (besides its distinctive name words)."""

AGENCY_WORDS: frozenset[str] = frozenset("bappeda bappelitbangda bapperida setda pemkab pemkot".split())
"""Agency names that say where, not what: left out when choosing a step."""

GENERIC_INSTITUTION_WORDS: frozenset[str] = frozenset(
    "kabupaten kota provinsi badan daerah bappeda setda sekretariat timur barat utara selatan".split()
)
"""Name words too common to identify an institution on their own."""

ORDINALS: dict[str, int] = {
    "pertama": 1, "kesatu": 1, "kedua": 2, "ketiga": 3, "keempat": 4, "kelima": 5, "keenam": 6,
    "ketujuh": 7, "kedelapan": 8, "kesembilan": 9, "kesepuluh": 10, "kesebelas": 11, "keduabelas": 12,
}
"""Indonesian ordinal words -> step position."""
