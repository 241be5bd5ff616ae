"""Why an application was not selected: each reason a stable code and the sentence the applicant reads.

Exclusion-list categories map to reason codes here too: the applicant is told the category (e.g. civil
servant), never which ministry or agency sent the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.i18n import Locale, Text


@dataclass(frozen=True)
class Reason:
    code: str
    text: Text


def _r(code: str, id_: str, en: str) -> Reason:
    return Reason(code, Text(id_, en))


_NOT_ALLOWED = "yang tidak dapat menjadi penerima Kartu Prakerja."
_NOT_ALLOWED_EN = "who cannot receive a Kartu Prakerja."

# In the order reasons are listed to the applicant (and stored: the order is part of the run's result).
REASONS: tuple[Reason, ...] = (
    _r(
        "profile_incomplete",
        "Data profil Anda belum lengkap atau verifikasi NIK Anda tidak berlaku lagi.",
        "Your profile is not complete, or your NIK verification no longer stands.",
    ),
    _r(
        "test_incomplete",
        "Anda belum menyelesaikan tes motivasi dan kemampuan dasar.",
        "You have not finished the motivation and basic ability test.",
    ),
    _r(
        "kk_not_linked",
        "NIK Anda belum terhubung dengan Kartu Keluarga (KK). Hubungi Dukcapil (call center 1500-537) atau "
        "kantor Dukcapil terdekat.",
        "Your NIK is not linked to a family card (KK). Contact Dukcapil (call centre 1500-537) or the nearest "
        "Dukcapil office.",
    ),
    _r(
        "age_out_of_range",
        "Usia Anda pada saat gelombang ditutup di luar batas usia peserta ({min_age}-{max_age} tahun).",
        "Your age when the batch closed was outside the participant age range ({min_age}-{max_age} years).",
    ),
    _r(
        "student",
        "Anda tercatat sedang bersekolah atau kuliah.",
        "You are recorded as being in school or university.",
    ),
    _r(
        "earlier_recipient",
        "Anda sudah pernah menjadi penerima Kartu Prakerja.",
        "You have already received a Kartu Prakerja.",
    ),
    _r(
        "excluded_state_official",
        f"NIK Anda terdaftar sebagai Pejabat Negara, {_NOT_ALLOWED}",
        f"Your NIK is listed as a state official, {_NOT_ALLOWED_EN}",
    ),
    _r(
        "excluded_legislator",
        f"NIK Anda terdaftar sebagai Pimpinan atau Anggota DPR/DPRD, {_NOT_ALLOWED}",
        f"Your NIK is listed as a leader or member of the DPR/DPRD, {_NOT_ALLOWED_EN}",
    ),
    _r(
        "excluded_civil_servant",
        f"NIK Anda terdaftar sebagai Aparatur Sipil Negara (ASN), {_NOT_ALLOWED}",
        f"Your NIK is listed as a civil servant (ASN), {_NOT_ALLOWED_EN}",
    ),
    _r(
        "excluded_military",
        f"NIK Anda terdaftar sebagai Prajurit Tentara Nasional Indonesia (TNI), {_NOT_ALLOWED}",
        f"Your NIK is listed as a soldier of the Indonesian National Armed Forces (TNI), {_NOT_ALLOWED_EN}",
    ),
    _r(
        "excluded_police",
        f"NIK Anda terdaftar sebagai Anggota Kepolisian Negara Republik Indonesia (Polri), {_NOT_ALLOWED}",
        f"Your NIK is listed as a member of the Indonesian National Police (Polri), {_NOT_ALLOWED_EN}",
    ),
    _r(
        "excluded_village_official",
        f"NIK Anda terdaftar sebagai Kepala Desa atau perangkat desa, {_NOT_ALLOWED}",
        f"Your NIK is listed as a village head or village official, {_NOT_ALLOWED_EN}",
    ),
    _r(
        "excluded_soe_executive",
        f"NIK Anda terdaftar sebagai Direksi, Komisaris, atau Dewan Pengawas BUMN/BUMD, {_NOT_ALLOWED}",
        f"Your NIK is listed as a director, commissioner or supervisor of a BUMN/BUMD, {_NOT_ALLOWED_EN}",
    ),
    _r(
        "excluded_social_aid",
        "NIK Anda terdaftar sebagai penerima bantuan sosial Kementerian Sosial (DTKS).",
        "Your NIK is listed as receiving Ministry of Social Affairs social aid (DTKS).",
    ),
    _r(
        "excluded_wage_subsidy",
        "NIK Anda terdaftar sebagai penerima Bantuan Subsidi Upah (BSU).",
        "Your NIK is listed as receiving the wage subsidy (BSU).",
    ),
    _r(
        "excluded_micro_business_aid",
        "NIK Anda terdaftar sebagai penerima Banpres Produktif Usaha Mikro (BPUM).",
        "Your NIK is listed as receiving the micro-business productive aid (BPUM).",
    ),
    _r(
        "test_below_pass_mark",
        "Nilai tes motivasi dan kemampuan dasar Anda di bawah nilai minimal gelombang ini.",
        "Your motivation and basic ability test score is below this batch's pass mark.",
    ),
    _r(
        "kk_quota_reached",
        "Sudah ada {max_per_kk} penerima Kartu Prakerja dalam Kartu Keluarga (KK) Anda.",
        "Your family card (KK) already has {max_per_kk} Kartu Prakerja recipients.",
    ),
    _r(
        "quota_full",
        "Anda memenuhi syarat, tetapi belum terpilih karena kuota gelombang ini sudah terpenuhi. Silakan gabung "
        "kembali di gelombang berikutnya tanpa mengisi data lagi.",
        "You are eligible but were not chosen because this batch's quota is full. Join the next batch; you do "
        "not need to enter anything again.",
    ),
)

BY_CODE: dict[str, Reason] = {r.code: r for r in REASONS}
ORDER: dict[str, int] = {r.code: i for i, r in enumerate(REASONS)}

# Exclusion-list category -> the reason an applicant on it is given. `student` and `earlier_recipient`
# share their reason with the profile flag and with the service's own records.
CATEGORIES: dict[str, str] = {
    "state_official": "excluded_state_official",
    "legislator": "excluded_legislator",
    "civil_servant": "excluded_civil_servant",
    "military": "excluded_military",
    "police": "excluded_police",
    "village_official": "excluded_village_official",
    "soe_executive": "excluded_soe_executive",
    "social_aid": "excluded_social_aid",
    "wage_subsidy": "excluded_wage_subsidy",
    "micro_business_aid": "excluded_micro_business_aid",
    "earlier_recipient": "earlier_recipient",
    "student": "student",
}

CATEGORY_LABELS: dict[str, Text] = {
    "state_official": Text("Pejabat Negara", "State officials"),
    "legislator": Text("Pimpinan dan Anggota DPR/DPRD", "DPR/DPRD leaders and members"),
    "civil_servant": Text("Aparatur Sipil Negara (ASN)", "Civil servants (ASN)"),
    "military": Text("Prajurit TNI", "TNI soldiers"),
    "police": Text("Anggota Polri", "Polri members"),
    "village_official": Text("Kepala Desa dan perangkat desa", "Village heads and officials"),
    "soe_executive": Text("Direksi, Komisaris, dan Dewan Pengawas BUMN/BUMD", "BUMN/BUMD directors and boards"),
    "social_aid": Text("Penerima bansos Kemensos (DTKS)", "Social aid recipients (DTKS)"),
    "wage_subsidy": Text("Penerima Bantuan Subsidi Upah (BSU)", "Wage subsidy recipients (BSU)"),
    "micro_business_aid": Text("Penerima BPUM", "Micro-business aid recipients (BPUM)"),
    "earlier_recipient": Text("Penerima Kartu Prakerja sebelumnya", "Earlier Kartu Prakerja recipients"),
    "student": Text("Pelajar dan mahasiswa", "Students"),
}


def split_codes(stored: str) -> list[str]:
    """Reason codes as stored on a decision ('a,b,' or '') -> ['a', 'b']."""
    return [code for code in stored.split(",") if code]


def sentence(code: str, locale: Locale, params: dict[str, object]) -> str:
    """The sentence for a reason, with the batch's numbers (age range, KK cap) filled in."""
    reason = BY_CODE.get(code)
    if reason is None:
        return code
    return reason.text.format(**params).get(locale) if "{" in reason.text.id else reason.text.get(locale)
