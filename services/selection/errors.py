"""selection's domain errors: each a stable code, a status and a message in both languages."""

from __future__ import annotations

from shared.errors import Conflict, DomainError, NotFound
from shared.i18n import Text


class BatchNotFound(NotFound):
    code = "batch_not_found"
    message = Text("Gelombang tidak ditemukan.", "Batch not found.")


class BatchNumberTaken(Conflict):
    code = "batch_number_taken"
    message = Text("Nomor gelombang {number} sudah dipakai.", "Batch number {number} is already used.")


class BatchState(Conflict):
    """The batch is not in the state the action needs."""

    code = "batch_state"
    message = Text(
        "Gelombang {number} berstatus {state}; tindakan ini memerlukan status {needed}.",
        "Batch {number} is {state}; this action needs it to be {needed}.",
    )


class BatchNotOpen(Conflict):
    code = "batch_not_open"
    message = Text(
        "Gelombang ini sedang tidak dibuka untuk pendaftaran.",
        "This batch is not open for applications.",
    )


class ProfileIncomplete(Conflict):
    code = "profile_incomplete"
    message = Text(
        "Lengkapi profil Anda (verifikasi NIK, data diri, foto KTP dan swafoto, nomor HP, pernyataan) sebelum "
        "bergabung ke gelombang.",
        "Complete your profile (NIK verification, personal data, KTP photo and selfie, phone number, "
        "declaration) before joining a batch.",
    )


class TestIncomplete(Conflict):
    __test__ = False  # not a pytest class
    code = "test_incomplete"
    message = Text(
        "Selesaikan tes motivasi dan kemampuan dasar sebelum bergabung ke gelombang.",
        "Finish the motivation and basic ability test before joining a batch.",
    )


class AlreadyRecipient(Conflict):
    code = "already_recipient"
    message = Text(
        "Anda sudah pernah terpilih sebagai penerima Kartu Prakerja, sehingga tidak dapat bergabung lagi.",
        "You have already been selected for a Kartu Prakerja, so you cannot join again.",
    )


class ApplicationPending(Conflict):
    code = "application_pending"
    message = Text(
        "Anda sudah terdaftar di Gelombang {number}. Tunggu pengumumannya sebelum bergabung ke gelombang lain.",
        "You have already joined batch {number}. Wait for its announcement before joining another batch.",
    )


class DecideInProgress(Conflict):
    code = "decide_exists"
    message = Text(
        "Seleksi gelombang ini sudah dijalankan (status: {state}).",
        "This batch's selection has already been run (state: {state}).",
    )


class ApproverIsDecider(Conflict):
    code = "approver_is_decider"
    message = Text(
        "Persetujuan pengumuman harus diberikan oleh petugas lain, bukan petugas yang menjalankan seleksi.",
        "The announcement must be approved by another ops user, not the one who ran the selection.",
    )


class AlreadyApproved(Conflict):
    code = "already_approved"
    message = Text("Pengumuman gelombang ini sudah disetujui.", "This batch's announcement is already approved.")


class ApprovalRequired(Conflict):
    code = "approval_required"
    message = Text(
        "Pengumuman memerlukan persetujuan petugas kedua terlebih dahulu.",
        "The announcement needs a second ops user's approval first.",
    )


class RunNotFound(NotFound):
    code = "selection_run_not_found"
    message = Text("Seleksi gelombang ini belum dijalankan.", "This batch's selection has not been run yet.")


class UnknownPolicy(DomainError):
    status = 422
    code = "unknown_policy"
    message = Text("Versi kebijakan seleksi {version} tidak dikenal.", "Unknown selection policy version {version}.")


class InvalidRules(DomainError):
    status = 422
    code = "invalid_rules"
    message = Text(
        "Aturan yang diminta tidak valid bersama aturan gelombang ini (misalnya usia minimal di atas usia maksimal).",
        "The requested rules are not valid together with the batch's (e.g. a minimum age above the maximum).",
    )


class ClosesInPast(DomainError):
    status = 422
    code = "closes_in_past"
    message = Text("Waktu tutup gelombang sudah lewat.", "The batch's closing time has already passed.")


class ListNotFound(NotFound):
    code = "exclusion_list_not_found"
    message = Text("Daftar pengecualian tidak ditemukan.", "Exclusion list not found.")


class ListRemoved(Conflict):
    code = "exclusion_list_removed"
    message = Text("Daftar pengecualian ini sudah tidak berlaku.", "This exclusion list is no longer in force.")


class ImportRefused(DomainError):
    """The CSV had bad rows; nothing was stored. `bad_lines` lists the first ones."""

    status = 422
    code = "exclusion_import_refused"
    message = Text(
        "Berkas ditolak: {bad_rows} baris tidak valid (baris pertama yang salah tercantum). Tidak ada data yang "
        "disimpan; perbaiki berkasnya lalu unggah ulang, atau unggah dengan on_bad_rows=skip.",
        "File refused: {bad_rows} invalid rows (the first ones are listed). Nothing was stored; fix the file and "
        "upload it again, or upload with on_bad_rows=skip.",
    )


class ImportEmpty(DomainError):
    status = 422
    code = "exclusion_import_empty"
    message = Text("Berkas tidak berisi satu NIK pun.", "The file holds no NIK.")


class ImportNotCsv(DomainError):
    status = 415
    code = "exclusion_import_media_type"
    message = Text(
        "Kirim berkas CSV sebagai isi permintaan (Content-Type: text/csv).",
        "Send the CSV file as the request body (Content-Type: text/csv).",
    )
