"""What officers say when they need a request SOP, in their words rather than the SOP's.

One short list per SOP that an OPD officer starts (the services of /ajukan). The phrases go into
the SOP's 'tags' field of the index, next to its curated keywords; together with the SOP's own
step texts and intake form they let a described situation ('mau datang langsung minta arahan
soal renja') find the SOP. SOP ids not in the catalog are ignored.
"""

from __future__ import annotations

SITUATIONS: dict[str, tuple[str, ...]] = {
    "ketapang-permintaan-informasi": (
        "minta data ke bappeda",
        "butuh data pembangunan daerah",
        "permintaan data secara tertulis dengan surat resmi",
        "kirim surat permintaan data",
        "data untuk bahan laporan atau kajian",
        "data statistik dan angka capaian pembangunan",
        "meminta informasi pembangunan daerah",
        "surat jawaban berisi data yang diminta",
    ),
    "ketapang-permintaan-konsultasi": (
        "datang langsung ke kantor bappeda untuk bertanya",
        "minta arahan dan petunjuk perencanaan",
        "konsultasi program dan kegiatan",
        "koordinasi dengan bidang di bappeda",
        "diskusi tatap muka soal renja",
        "tanya jawab dengan sub koordinator",
        "mengisi buku tamu lalu dilayani",
    ),
    "ketapang-fasilitasi-aplikasi": (
        "minta didampingi memakai aplikasi perencanaan",
        "kesulitan input usulan di aplikasi",
        "tidak bisa masuk atau login aplikasi",
        "aplikasi error atau gagal simpan",
        "bimbingan teknis operator aplikasi",
        "bantuan admin aplikasi sipd e-planning",
        "cara mengisi aplikasi perencanaan",
    ),
}
