"""profile's domain errors: each a stable code, a status and a message in both languages."""

from __future__ import annotations

from collections.abc import Sequence

from shared.errors import Conflict, DomainError, NotFound, ServiceUnavailable
from shared.i18n import Locale, Text
from shared.nik import Issue


class FieldRulesFailed(DomainError):
    """Rules on several fields: `code` is the first failure's, `errors` lists every failing field."""

    status = 422
    code = "validation_failed"
    message = Text("Ada isian yang belum benar. Periksa kembali.", "Some fields are not valid. Please check them.")

    def __init__(self, issues: Sequence[Issue], locale: Locale) -> None:
        first = issues[0]
        super().__init__(
            first.text,
            extra={"errors": [{"field": i.field, "code": i.code, "message": i.text.get(locale)} for i in issues]},
        )
        self.code = first.code  # type: ignore[misc]


class NikInvalid(FieldRulesFailed):
    """Documents the NIK structure codes in OpenAPI."""

    code = "nik_not_16_digits | nik_region_unknown | nik_birth_date_invalid | nik_birth_date_mismatch | nik_serial_zero | kk_invalid | birth_date_in_future"  # noqa: E501
    message = Text("NIK, KK atau tanggal lahir tidak sesuai strukturnya.", "The NIK, KK or birth date is malformed.")


class AddressInvalid(FieldRulesFailed):
    code = "province_unknown | regency_unknown | district_unknown | village_unknown | regency_not_in_province | district_not_in_regency | village_not_in_district | postal_code_mismatch"  # noqa: E501
    message = Text("Alamat tidak sesuai data wilayah Kemendagri.", "The address does not match Kemendagri's regions.")


class RegistryUnavailable(ServiceUnavailable):
    code = "registry_unavailable"
    message = Text(
        "Layanan data kependudukan (Dukcapil) sedang tidak dapat dihubungi. Data Anda tidak ditolak; "
        "silakan coba lagi dalam {retry_after} detik.",
        "The civil registry (Dukcapil) cannot be reached right now. Your data was not rejected; "
        "please try again in {retry_after} seconds.",
    )

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            extra={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)}, retry_after=retry_after
        )


class AccountNotReady(ServiceUnavailable):
    code = "account_not_ready"
    message = Text(
        "Akun Anda masih disiapkan. Silakan coba lagi dalam beberapa detik.",
        "Your account is still being set up. Please try again in a few seconds.",
    )

    def __init__(self) -> None:
        super().__init__(extra={"retry_after": 5}, headers={"Retry-After": "5"})


class NikNotFound(DomainError):
    status = 422
    code = "nik_not_found"
    message = Text(
        "NIK tidak ditemukan di data Dukcapil. Periksa kembali NIK sesuai KTP Anda; jika sudah benar, hubungi "
        "Dukcapil (call center {call_centre}) atau kantor Dukcapil terdekat.",
        "The NIK is not in the civil registry (Dukcapil). Check the NIK on your KTP; if it is right, contact "
        "Dukcapil (call centre {call_centre}) or the nearest Dukcapil office.",
    )


class BirthDateMismatch(DomainError):
    status = 422
    code = "birth_date_mismatch"
    message = Text(
        "Tanggal lahir tidak sesuai dengan data Dukcapil untuk NIK ini. Periksa kembali tanggal lahir sesuai KTP.",
        "The birth date does not match the civil registry's record for this NIK. Check it against your KTP.",
    )


class NameMismatch(DomainError):
    status = 422
    code = "name_mismatch"
    message = Text(
        "Nama akun Anda tidak sama dengan nama di data Dukcapil untuk NIK ini. Nama akun harus persis seperti di "
        "KTP. Pastikan NIK yang Anda masukkan adalah NIK Anda sendiri.",
        "Your account name is not the name the civil registry holds for this NIK. The account name must be "
        "exactly as on the KTP. Make sure the NIK you entered is your own.",
    )


class NikDeceased(DomainError):
    status = 422
    code = "nik_deceased"
    message = Text(
        "Menurut data Dukcapil, pemilik NIK ini telah meninggal dunia. Jika data ini keliru, hubungi Dukcapil "
        "(call center {call_centre}) atau kantor Dukcapil terdekat.",
        "According to the civil registry, the holder of this NIK has died. If that is wrong, contact Dukcapil "
        "(call centre {call_centre}) or the nearest Dukcapil office.",
    )


class NikNotLinkedToKk(DomainError):
    status = 422
    code = "nik_not_linked_to_kk"
    message = Text(
        "NIK Anda belum terhubung dengan Kartu Keluarga (KK) di data Dukcapil. Hubungi call center Dukcapil "
        "{call_centre} atau datang ke kantor Dukcapil terdekat untuk memperbaikinya, lalu coba lagi.",
        "Your NIK is not linked to a family card (KK) in the civil registry. Call the Dukcapil call centre "
        "{call_centre} or visit the nearest Dukcapil office to fix it, then try again.",
    )


class KkMismatch(DomainError):
    status = 422
    code = "kk_mismatch"
    message = Text(
        "Nomor KK tidak sesuai dengan data Dukcapil untuk NIK ini. Periksa kembali nomor di Kartu Keluarga Anda "
        "atau kosongkan isian KK.",
        "The KK number does not match the civil registry's record for this NIK. Check your family card or leave "
        "the KK empty.",
    )


class NikAlreadyRegistered(Conflict):
    code = "nik_already_registered"
    message = Text(
        "NIK ini sudah terverifikasi di akun lain. Jika ini NIK Anda, ajukan klaim NIK dari akun Anda "
        "(unggah foto KTP dan swafoto dengan KTP, lalu ajukan klaim); petugas akan memeriksanya.",
        "This NIK is already verified on another account. If it is yours, open a NIK claim from your account "
        "(upload your KTP photo and a selfie holding it, then file the claim); staff will review it.",
    )


class IdentityLocked(Conflict):
    code = "identity_already_verified"
    message = Text(
        "Akun ini sudah terverifikasi dengan NIK lain; NIK tidak dapat diganti.",
        "This account is already verified with another NIK; the NIK cannot be changed.",
    )


class PhoneInvalid(DomainError):
    status = 422
    code = "phone_invalid"
    message = Text(
        "Nomor telepon tidak valid. Masukkan nomor ponsel Indonesia, misalnya 0812 3456 7890.",
        "The phone number is not valid. Enter an Indonesian mobile number, e.g. 0812 3456 7890.",
    )


class PhoneNotIndonesian(DomainError):
    status = 422
    code = "phone_not_indonesian"
    message = Text(
        "Hanya nomor ponsel Indonesia (+62) yang dapat dipakai.", "Only Indonesian (+62) mobile numbers can be used."
    )


class PhoneNotMobile(DomainError):
    status = 422
    code = "phone_not_mobile"
    message = Text(
        "Nomor ini bukan nomor ponsel (telepon rumah/kantor tidak dapat menerima SMS). Masukkan nomor ponsel.",
        "This is not a mobile number (landlines cannot receive SMS). Enter a mobile number.",
    )


class PhoneTaken(Conflict):
    code = "phone_already_registered"
    message = Text(
        "Nomor ponsel ini sudah terverifikasi di akun lain. Gunakan nomor lain.",
        "This mobile number is already verified on another account. Use another number.",
    )


class OtpNotRequested(Conflict):
    code = "otp_not_requested"
    message = Text(
        "Belum ada kode OTP yang aktif. Minta kode baru terlebih dahulu.",
        "There is no active code. Ask for a new one first.",
    )


class OtpExpired(DomainError):
    status = 410
    code = "otp_expired"
    message = Text(
        "Kode OTP sudah kedaluwarsa (berlaku {minutes} menit). Minta kode baru.",
        "The code has expired (valid for {minutes} minutes). Ask for a new one.",
    )


class OtpWrong(DomainError):
    status = 422
    code = "otp_invalid"
    message = Text("Kode OTP salah. Sisa percobaan: {remaining}.", "The code is wrong. Attempts left: {remaining}.")


class OtpLocked(DomainError):
    status = 410
    code = "otp_attempts_exhausted"
    message = Text(
        "Terlalu banyak kode salah; kode ini tidak berlaku lagi. Minta kode baru.",
        "Too many wrong codes; this code no longer works. Ask for a new one.",
    )


class DocumentMissing(NotFound):
    code = "document_not_found"
    message = Text("Foto belum diunggah.", "The photo has not been uploaded.")


class ImageInvalid(DomainError):
    """Raised with the image check's own code: image_type_unsupported, image_corrupt, image_too_small, ..."""

    status = 422
    code = "image_type_unsupported | image_corrupt | image_too_many_pixels | image_too_small | image_too_dark | image_blank"  # noqa: E501
    message = Text("Foto tidak dapat diterima.", "The photo cannot be accepted.")

    def __init__(self, code: str, text: Text, status: int) -> None:
        super().__init__(text)
        self.code = code  # type: ignore[misc]
        self.status = status  # type: ignore[misc]


class DeclarationOutdated(Conflict):
    code = "declaration_version_outdated"
    message = Text(
        "Teks pernyataan sudah diperbarui (versi {current}). Baca ulang pernyataan lalu setujui lagi.",
        "The declaration text has changed (version {current}). Read it again and accept it.",
    )


class DeclarationContradictsProfile(Conflict):
    code = "declaration_contradicts_profile"
    message = Text(
        "Data diri Anda menyatakan sedang sekolah atau kuliah, sedangkan pernyataan menyatakan tidak. Perbaiki "
        "data diri jika keliru; yang sedang sekolah atau kuliah tidak dapat mengikuti program ini.",
        "Your personal data says you are in school or university, the declaration says you are not. Correct your "
        "data if it is wrong; people in school or university cannot join the programme.",
    )


class ClaimNeedsDocuments(Conflict):
    code = "claim_documents_required"
    message = Text(
        "Unggah foto KTP dan swafoto dengan KTP terlebih dahulu; keduanya menjadi bukti klaim Anda.",
        "Upload your KTP photo and a selfie holding the KTP first; they are the evidence of your claim.",
    )


class ClaimNotNeeded(Conflict):
    code = "claim_not_needed"
    message = Text(
        "NIK ini tidak terdaftar di akun lain, jadi tidak perlu klaim. Verifikasi NIK langsung dari profil Anda.",
        "This NIK is not held by another account, so no claim is needed. Verify it from your profile.",
    )


class ClaimAlreadyOpen(Conflict):
    code = "claim_already_open"
    message = Text(
        "Anda sudah mengajukan klaim untuk NIK ini; tunggu keputusan petugas.",
        "You have already filed a claim for this NIK; wait for staff to decide.",
    )


class ClaimNotFound(NotFound):
    code = "claim_not_found"
    message = Text("Klaim tidak ditemukan.", "Claim not found.")


class ClaimDecided(Conflict):
    code = "claim_already_decided"
    message = Text("Klaim ini sudah diputuskan.", "This claim has already been decided.")


class ProfileNotFound(NotFound):
    code = "profile_not_found"
    message = Text("Profil tidak ditemukan.", "Profile not found.")
