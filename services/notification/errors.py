"""notification's domain errors (rendered as problem+json)."""

from __future__ import annotations

from shared.errors import DomainError, NotFound
from shared.i18n import Text


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    message = Text("Notifikasi tidak ditemukan.", "Notification not found.")


class InvalidCursor(DomainError):
    status = 400
    code = "invalid_cursor"
    message = Text(
        "Parameter cursor tidak valid. Pakai nilai next_cursor dari halaman sebelumnya.",
        "The cursor is not valid. Use the next_cursor value of the previous page.",
    )
