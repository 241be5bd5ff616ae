"""Pure rules: the back-off schedule, expiry, page cursors, address normalisation."""

from __future__ import annotations

import base64
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notification import errors
from services.notification.config import NotificationSettings
from services.notification.models import Delivery
from services.notification.service import (
    InvalidRequest,
    decode_cursor,
    encode_cursor,
    is_expired,
    mask_recipient,
    normalize_email,
    normalize_phone,
    retry_delay,
)

NOW = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def _settings(**overrides) -> NotificationSettings:
    return NotificationSettings(**{"retry_base_s": 30.0, "retry_max_s": 3600.0, "retry_jitter": 0.0, **overrides})


def test_backoff_doubles_from_the_base_and_is_capped():
    s = _settings()
    assert [retry_delay(n, s) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_backoff_survives_absurd_attempt_counts():
    assert retry_delay(10_000, _settings()) == 3600


def test_default_schedule_gives_up_after_about_an_hour():
    s = NotificationSettings(retry_jitter=0.0)
    waits = [retry_delay(n, s) for n in range(1, s.max_attempts)]
    assert s.max_attempts == 8
    assert waits[0] == 30
    assert 3000 < sum(waits) < 4 * 3600


@given(attempt=st.integers(min_value=1, max_value=40), seed=st.integers(min_value=0, max_value=2**32))
def test_jitter_only_shortens_the_wait_by_at_most_its_fraction(attempt, seed):
    s = _settings(retry_jitter=0.25)
    exact = retry_delay(attempt, _settings())
    jittered = retry_delay(attempt, s, random.Random(seed))
    assert exact * 0.75 <= jittered <= exact


def _delivery(expires_at: datetime | None) -> Delivery:
    return Delivery(id=uuid.uuid4(), expires_at=expires_at)


def test_expiry():
    assert not is_expired(_delivery(None), NOW)
    assert not is_expired(_delivery(NOW + timedelta(seconds=1)), NOW)
    assert is_expired(_delivery(NOW), NOW)
    assert is_expired(_delivery(NOW - timedelta(minutes=5)), NOW)


def test_cursor_round_trip_and_garbage():
    row_id = uuid.uuid4()
    assert decode_cursor(encode_cursor(NOW, row_id)) == (NOW, row_id)
    assert decode_cursor(None) is None
    out_of_range = base64.urlsafe_b64encode(f"0001-01-01T00:00:00+01:00|{row_id}".encode()).decode()
    for bad in ("", "not-base64!", "Zm9v", encode_cursor(NOW, row_id)[:-4], out_of_range):
        with pytest.raises(errors.InvalidCursor):
            decode_cursor(bad)


def test_phone_numbers_become_e164():
    assert normalize_phone("081234567890") == "+6281234567890"
    assert normalize_phone("+62 812-3456-7890") == "+6281234567890"
    for bad in (None, "", "12", "hello"):
        with pytest.raises(InvalidRequest):
            normalize_phone(bad)


def test_email_addresses_are_checked():
    assert normalize_email(" Siti@Example.COM ") == "Siti@example.com"
    for bad in (None, "", "not-an-address", "a@b"):
        with pytest.raises(InvalidRequest):
            normalize_email(bad)


def test_recipients_are_masked_whatever_their_shape():
    assert mask_recipient("email", "siti.nurhaliza@example.com") == "s***@example.com"
    assert mask_recipient("email", '"odd@local"@example.com') == '"***@example.com'
    assert mask_recipient("sms", "+6281234567890") == "+6281*******90"
    assert mask_recipient("sms", "+6591234567") == "+6591****67"  # not only Indonesian numbers
