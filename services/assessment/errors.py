"""assessment's domain errors: each a stable code, a status and a message in both languages."""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import DomainError
from shared.i18n import Locale, Text


class ProfileIncomplete(DomainError):
    status = 409
    code = "profile_incomplete"
    message = Text(
        "Lengkapi profil Anda terlebih dahulu (data diri, foto KTP, nomor HP dan pernyataan) sebelum mengikuti tes.",
        "Complete your profile first (personal data, KTP photo, phone number and declaration) before taking the test.",
    )


class AlreadyTaken(DomainError):
    status = 409
    code = "already_taken"
    message = Text(
        "Anda sudah menyelesaikan tes. Tes hanya dapat diikuti satu kali.",
        "You have already finished the test. It can be taken only once.",
    )


class TestFinished(DomainError):
    __test__ = False  # not a pytest class
    status = 409
    code = "test_finished"
    message = Text("Tes Anda sudah selesai.", "Your test is already finished.")


class DeadlinePassed(DomainError):
    status = 409
    code = "deadline_passed"
    message = Text(
        "Waktu tes sudah habis. Jawaban yang tersimpan sebelum batas waktu tetap dinilai.",
        "The time for the test is up. Answers saved before the deadline still count.",
    )


class NoSession(DomainError):
    status = 404
    code = "session_not_found"
    message = Text(
        "Anda belum memulai tes. Mulai tes terlebih dahulu.", "You have not started the test yet. Start it first."
    )


class NoActiveBank(DomainError):
    status = 503
    code = "test_unavailable"
    message = Text(
        "Tes belum dapat diikuti saat ini. Silakan coba lagi nanti.",
        "The test cannot be taken right now. Please try again later.",
    )


class BankNotFound(DomainError):
    status = 404
    code = "bank_version_not_found"
    message = Text("Versi bank soal tidak ditemukan.", "The question bank version does not exist.")


class BankVersionExists(DomainError):
    status = 409
    code = "bank_version_exists"
    message = Text(
        "Versi bank soal ini sudah ada dengan isi yang berbeda. Versi tidak dapat diubah; pakai nomor versi baru.",
        "This question bank version already exists with different content. Versions cannot change; use a new one.",
    )


@dataclass(frozen=True)
class AnswerProblem:
    field: str
    code: str
    text: Text


class AnswersInvalid(DomainError):
    """Some answers do not fit the session; the problems are listed per field and nothing is saved."""

    status = 422
    code = "validation_failed"
    message = Text("Ada jawaban yang belum benar. Periksa kembali.", "Some answers are not valid. Please check them.")

    def __init__(self, problems: list[AnswerProblem]) -> None:
        super().__init__()
        self.problems = problems

    def localize(self, locale: Locale) -> AnswersInvalid:
        """Field messages in the caller's language (the shared handler renders `extra` as it is)."""
        self.extra = {
            "errors": [{"field": p.field, "code": p.code, "message": p.text.get(locale)} for p in self.problems]
        }
        return self
