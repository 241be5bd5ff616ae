"""The dispatcher against a real SMTP server and the SMS sink: send, retry with back-off, expire, give up."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from services.notification.dispatcher import Dispatcher
from services.notification.senders import EmailSender, SendError
from shared.dev.smtp import MaildirSMTP
from shared.testing.plugin import eventually
from tests.notification.conftest import deliveries, outbox_events, requested, sms_lines


def _otp(clock, *, valid_s: float = 300, phone: str = "081234567890"):
    return requested(
        template="phone_otp",
        channels=["sms"],
        phone=phone,
        params={"code": "482913", "valid_minutes": 5},
        expires_at=clock.now + timedelta(seconds=valid_s),
    )


async def test_dispatcher_sends_the_confirmation_email(parts, smtp_server, settings):
    settings.smtp_port = smtp_server.port
    account = uuid.uuid4()
    await parts.consumer.handle(requested(account))
    assert await parts.dispatcher.dispatch_once() == 1

    [mail] = smtp_server.messages()
    assert mail["To"] == "siti.nurhaliza@example.com"
    assert mail["From"] == "Kartu Prakerja <no-reply@prakerja.id>"
    assert mail["Subject"] == "Konfirmasi alamat e-mail akun Kartu Prakerja Anda"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    link = "http://localhost:3000/konfirmasi-email?token=tok-123"
    assert link in text and "tok-123" in text and "Halo Siti Nurhaliza," in text
    assert f'href="{link}"' in html

    [d] = await deliveries(parts.db)
    assert d.status == "sent" and d.attempts == 1 and d.sent_at is not None
    assert d.body_text is None and d.body_html is None and d.subject is None  # the token does not linger
    assert mail["X-Prakerja-Delivery"] == str(d.id)
    [ev] = await outbox_events(parts.db)
    assert ev["data"]["status"] == "sent" and ev["data"]["channel"] == "email"
    assert await parts.dispatcher.dispatch_once() == 0
    assert len(smtp_server.messages()) == 1


async def test_smtp_down_retries_with_backoff_then_sends(parts, settings, clock, tmp_path):
    await parts.consumer.handle(requested(template="password_reset"))

    await parts.dispatcher.dispatch_once()  # nothing listens on settings.smtp_port yet
    [d] = await deliveries(parts.db)
    assert d.status == "pending" and d.attempts == 1
    assert "SMTP unavailable" in (d.last_error or "")
    assert d.next_attempt_at == clock.now + timedelta(seconds=60)

    clock.advance(59)
    assert await parts.dispatcher.dispatch_once() == 0  # not due yet
    clock.advance(1)
    await parts.dispatcher.dispatch_once()
    [d] = await deliveries(parts.db)
    assert d.attempts == 2 and d.next_attempt_at == clock.now + timedelta(seconds=120)  # doubled
    assert await outbox_events(parts.db) == []

    server = MaildirSMTP(tmp_path / "mail", port=settings.smtp_port).start()
    try:
        clock.advance(120)
        await parts.dispatcher.dispatch_once()
        [mail] = server.messages()
    finally:
        server.stop()
    assert mail["Subject"] == "Atur ulang kata sandi akun Kartu Prakerja Anda"
    [d] = await deliveries(parts.db)
    assert d.status == "sent" and d.attempts == 3
    [ev] = await outbox_events(parts.db)
    assert ev["data"]["status"] == "sent"


async def test_gives_up_after_max_attempts_and_reports_failed(parts, settings, clock):
    settings.max_attempts = 3
    await parts.consumer.handle(requested())
    for _ in range(3):
        await parts.dispatcher.dispatch_once()
        clock.advance(3600)
    [d] = await deliveries(parts.db)
    assert d.status == "failed" and d.attempts == 3 and d.next_attempt_at is None
    [ev] = await outbox_events(parts.db)
    assert ev["data"]["status"] == "failed"
    assert await parts.dispatcher.dispatch_once() == 0


async def test_permanent_refusal_fails_at_once_with_the_address_masked(parts, monkeypatch):
    async def refuse(self, message):
        raise SendError(f"recipient refused: 550 <{message['To']}> no such user", permanent=True)

    monkeypatch.setattr(EmailSender, "send", refuse)
    await parts.consumer.handle(requested())
    await parts.dispatcher.dispatch_once()
    [d] = await deliveries(parts.db)
    assert d.status == "failed" and d.attempts == 1
    assert "siti.nurhaliza@" not in (d.last_error or "") and "s***@example.com" in (d.last_error or "")


async def test_a_gateway_error_quoting_a_foreign_number_is_stored_masked(parts, clock, monkeypatch):
    async def refuse(self, to, text):
        raise SendError(f"gateway answered 400: number {to} not allowed", permanent=True)

    monkeypatch.setattr(type(parts.dispatcher.sms), "send", refuse)
    await parts.consumer.handle(_otp(clock, phone="+6591234567"))
    await parts.dispatcher.dispatch_once()
    [d] = await deliveries(parts.db)
    assert d.status == "failed" and d.recipient_masked == "+6591****67"
    assert "91234567" not in (d.last_error or "") and "+6591****67" in (d.last_error or "")


async def test_otp_sms_is_written_to_the_sink(parts, settings, clock):
    await parts.consumer.handle(_otp(clock))
    await parts.dispatcher.dispatch_once()
    [line] = sms_lines(settings.sms_sink_path)
    assert line["to"] == "+6281234567890"
    assert line["text"].startswith("Kode OTP Kartu Prakerja Anda: 482913. Berlaku 5 menit.")
    [d] = await deliveries(parts.db)
    assert d.status == "sent"


async def test_an_expired_otp_is_marked_expired_and_never_sent(parts, settings, clock):
    await parts.consumer.handle(_otp(clock, valid_s=300))
    clock.advance(301)  # the dispatcher was busy or down for longer than the code is valid
    await parts.dispatcher.dispatch_once()
    [d] = await deliveries(parts.db)
    assert d.status == "expired" and d.attempts == 0 and d.body_text is None
    assert sms_lines(settings.sms_sink_path) == []
    [ev] = await outbox_events(parts.db)
    assert ev["data"]["status"] == "expired" and ev["data"]["channel"] == "sms"


async def test_a_retry_that_would_land_after_expiry_expires_instead(parts, settings, clock, monkeypatch):
    async def down(self, to, text):
        raise SendError("gateway unavailable")

    monkeypatch.setattr(type(parts.dispatcher.sms), "send", down)
    await parts.consumer.handle(_otp(clock, valid_s=90))
    await parts.dispatcher.dispatch_once()  # fails; the next try (60 s) is still in time
    [d] = await deliveries(parts.db)
    assert d.status == "pending" and d.attempts == 1
    clock.advance(60)
    await parts.dispatcher.dispatch_once()  # fails again; the next try (120 s) would be too late
    [d] = await deliveries(parts.db)
    assert d.status == "expired" and d.attempts == 2
    assert sms_lines(settings.sms_sink_path) == []


class SlowCountingSms:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, to: str, text: str) -> None:
        await asyncio.sleep(0.05)
        self.sent.append(to)


async def test_two_dispatchers_never_send_one_delivery_twice(parts, clock):
    sms = SlowCountingSms()
    rivals = [Dispatcher(parts.db, parts.notifier, email=parts.dispatcher.email, sms=sms) for _ in range(2)]
    for n in range(6):
        await parts.consumer.handle(_otp(clock, phone=f"08123456{n:04d}"))
    await asyncio.gather(*(d.dispatch_once() for d in rivals), *(d.dispatch_once() for d in rivals))
    assert sorted(sms.sent) == sorted(f"+628123456{n:04d}" for n in range(6))
    assert {d.status for d in await deliveries(parts.db)} == {"sent"}


async def test_a_claim_whose_sender_died_is_taken_over_after_the_lease(parts, settings, clock):
    sms = SlowCountingSms()
    await parts.consumer.handle(_otp(clock, valid_s=3600))
    crashed = Dispatcher(parts.db, parts.notifier, email=parts.dispatcher.email, sms=sms)
    jobs, _, _ = await crashed._claim()  # claimed, then the process died before sending
    assert len(jobs) == 1
    survivor = Dispatcher(parts.db, parts.notifier, email=parts.dispatcher.email, sms=sms)
    assert await survivor.dispatch_once() == 0  # the lease still holds
    clock.advance(settings.lease_s)
    assert await survivor.dispatch_once() == 1
    [d] = await deliveries(parts.db)
    assert d.status == "sent" and d.attempts == 2 and len(sms.sent) == 1
    await crashed._record(jobs[0], None, clock.now)  # a late outcome from the old claim changes nothing
    assert len(await outbox_events(parts.db)) == 1


async def test_the_background_loop_sends_as_soon_as_the_consumer_commits(parts, settings):
    settings.dispatch_poll_interval_s = 30  # only the wake-up can make this fast
    task = asyncio.create_task(parts.dispatcher.run())
    try:
        await asyncio.sleep(0.1)
        await parts.consumer.handle(_otp(parts.notifier.clock))

        async def sent():
            return sms_lines(settings.sms_sink_path)

        assert len(await eventually(sent, timeout=5)) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
