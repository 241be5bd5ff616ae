"""Logging masks personal data; language negotiation; problem+json for framework errors."""

from __future__ import annotations

import json
import logging

import pytest

from shared.i18n import negotiate
from shared.logging import JsonFormatter, mask, request_id_var


@pytest.mark.parametrize(
    ("raw", "hidden"),
    [
        ("login siti.nurhaliza@example.com failed", "siti.nurhaliza"),
        ("nik 3276011705910001 verified", "3276011705910001"),
        ("otp to +6281234567890", "81234567890"),
        ("otp to 081234567890", "081234567890"),
        ("kk=3276012503060001;", "3276012503060001"),
    ],
)
def test_mask_hides_personal_data(raw, hidden):
    assert hidden not in mask(raw)


def test_mask_keeps_ordinary_text_and_short_numbers():
    assert mask("batch 12 has 600000 places") == "batch 12 has 600000 places"


def test_json_log_line_has_request_id_and_masks():
    formatter = JsonFormatter()
    token = request_id_var.set("req-123")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent to %s", ("budi@example.com",), None)
        line = json.loads(formatter.format(record))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "req-123"
    assert "budi@" not in line["message"] and line["level"] == "INFO"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "id"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("id-ID,en;q=0.8", "id"),
        ("fr, en;q=0.5", "en"),
        ("de", "id"),
        ("en;q=0.2, id;q=0.8", "id"),
        ("en;q=abc", "id"),
        ("", "id"),
    ],
)
def test_language_negotiation(header, expected):
    assert negotiate(header) == expected
