"""The senders on their own: the SMS sink file, the HTTP SMS gateway against a local fake, SMTP answers."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.notification.config import NotificationSettings
from services.notification.senders import EmailSender, HttpSmsGateway, SendError, SmsSink
from shared.dev.broker import free_port


async def test_sms_sink_appends_one_json_line_per_message(tmp_path):
    path = tmp_path / "deep" / "sms.jsonl"
    sink = SmsSink(path)
    await sink.send("+6281234567890", "Kode OTP Kartu Prakerja Anda: 123456.")
    await sink.send("+6285700000001", "Kedua")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert set(first) == {"to", "text", "sent_at"}
    assert first["to"] == "+6281234567890"
    assert first["text"] == "Kode OTP Kartu Prakerja Anda: 123456."
    sent_at = datetime.fromisoformat(first["sent_at"].replace("Z", "+00:00"))
    assert sent_at.tzinfo is not None and abs((datetime.now(UTC) - sent_at).total_seconds()) < 60
    assert json.loads(lines[1])["text"] == "Kedua"


def _write_many(path: str, writer: int, count: int) -> None:
    sink = SmsSink(Path(path))
    text = f"pesan dari penulis {writer} " + "x" * 3000  # long lines would tear first if writes interleaved

    async def run() -> None:
        for n in range(count):
            await sink.send(f"+62812000{writer:05d}", f"{text} #{n}")

    asyncio.run(run())


async def test_sms_sink_is_safe_with_concurrent_writers(tmp_path):
    # Each writer thread runs its own event loop and sink, as separate processes would (own descriptors).
    path = tmp_path / "sms.jsonl"
    writers = [threading.Thread(target=_write_many, args=(str(path), w, 25)) for w in range(3)]
    for t in writers:
        t.start()
    sink = SmsSink(path)
    await asyncio.gather(*(sink.send("+6281299999999", f"di loop ini #{n} " + "y" * 3000) for n in range(25)))
    for t in writers:
        await asyncio.to_thread(t.join, 60)
        assert not t.is_alive()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 100
    for writer in range(3):
        mine = [line["text"].rsplit("#", 1)[1] for line in lines if line["to"] == f"+62812000{writer:05d}"]
        assert mine == [str(n) for n in range(25)]


class FakeGateway:
    """A local HTTP server playing an SMS gateway: answers from a script, records what it got."""

    def __init__(self, answers: list[int]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"headers": dict(self.headers), "body": json.loads(body), "path": self.path})
                status = outer.answers.pop(0) if outer.answers else 200
                payload = json.dumps({"status": "queued" if status < 300 else "error"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/messages"


@pytest.fixture
def fake_gateway() -> Iterator[Any]:
    gateways: list[FakeGateway] = []

    def make(answers: list[int]) -> FakeGateway:
        gw = FakeGateway(answers)
        gw.thread.start()
        gateways.append(gw)
        return gw

    yield make
    for gw in gateways:
        gw.server.shutdown()
        gw.server.server_close()


def _gateway_settings(url: str, **overrides: Any) -> NotificationSettings:
    return NotificationSettings(
        sms_gateway="http", sms_http_url=url, sms_http_api_key="rahasia-key", sms_http_timeout_s=2.0, **overrides
    )


async def test_http_gateway_posts_with_the_api_key(fake_gateway):
    gw = fake_gateway([202])
    sender = HttpSmsGateway(_gateway_settings(gw.url, sms_sender_id="PRAKERJA"))
    try:
        await sender.send("+6281234567890", "Kode OTP: 123456")
    finally:
        await sender.close()
    assert len(gw.requests) == 1
    request = gw.requests[0]
    assert request["path"] == "/v1/messages"
    assert request["headers"]["Authorization"] == "Bearer rahasia-key"
    assert request["body"] == {"to": "+6281234567890", "text": "Kode OTP: 123456", "sender": "PRAKERJA"}


async def test_http_gateway_retries_server_errors_with_one_idempotency_key(fake_gateway):
    gw = fake_gateway([503, 429, 200])
    sender = HttpSmsGateway(_gateway_settings(gw.url, sms_http_retries=2))
    try:
        await sender.send("+6281234567890", "halo")
    finally:
        await sender.close()
    assert len(gw.requests) == 3
    assert len({r["headers"]["Idempotency-Key"] for r in gw.requests}) == 1


async def test_http_gateway_gives_up_after_its_retries_as_a_transient_error(fake_gateway):
    gw = fake_gateway([500, 502])
    sender = HttpSmsGateway(_gateway_settings(gw.url, sms_http_retries=1))
    try:
        with pytest.raises(SendError, match="502") as info:
            await sender.send("+6281234567890", "halo")
    finally:
        await sender.close()
    assert not info.value.permanent
    assert len(gw.requests) == 2


async def test_http_gateway_client_error_is_permanent(fake_gateway):
    gw = fake_gateway([400])
    sender = HttpSmsGateway(_gateway_settings(gw.url, sms_http_retries=3))
    try:
        with pytest.raises(SendError) as info:
            await sender.send("+6281234567890", "halo")
    finally:
        await sender.close()
    assert info.value.permanent
    assert len(gw.requests) == 1


async def test_http_gateway_unreachable_is_transient():
    sender = HttpSmsGateway(_gateway_settings(f"http://127.0.0.1:{free_port()}/sms", sms_http_retries=1))
    try:
        with pytest.raises(SendError, match="unreachable") as info:
            await sender.send("+6281234567890", "halo")
    finally:
        await sender.close()
    assert not info.value.permanent


def test_http_gateway_needs_a_url():
    with pytest.raises(ValueError, match="SMS_HTTP_URL"):
        HttpSmsGateway(NotificationSettings(sms_gateway="http", sms_http_url=""))


class RefusingHandler:
    """An SMTP server that refuses one mailbox for good and another for now."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("gone@"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 accepted"


@pytest.fixture
def refusing_smtp() -> Iterator[int]:
    controller = Controller(RefusingHandler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield int(controller.port)
    controller.stop()


async def test_smtp_refusals_are_permanent_for_5xx_and_transient_for_4xx(refusing_smtp):
    sender = EmailSender(NotificationSettings(smtp_port=refusing_smtp, smtp_timeout_s=5))

    def message(to: str):
        return sender.build(to=to, subject="Tes", text="isi", html="<p>isi</p>", reference="ref-1")

    with pytest.raises(SendError) as gone:
        await sender.send(message("gone@example.com"))
    assert gone.value.permanent
    with pytest.raises(SendError) as busy:
        await sender.send(message("busy@example.com"))
    assert not busy.value.permanent
    await sender.send(message("ok@example.com"))


async def test_smtp_down_is_transient():
    sender = EmailSender(NotificationSettings(smtp_port=free_port(), smtp_timeout_s=2))
    with pytest.raises(SendError, match="SMTP unavailable") as info:
        await sender.send(sender.build(to="a@example.com", subject="s", text="t", html=None, reference="r"))
    assert not info.value.permanent


def test_email_is_multipart_text_and_html_from_the_programme():
    sender = EmailSender(NotificationSettings())
    msg = sender.build(to="a@example.com", subject="Subjek", text="teks\n", html="<p>html</p>\n", reference="abc")
    assert msg["From"] == "Kartu Prakerja <no-reply@prakerja.id>"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Message-ID"].endswith("@prakerja.id>")
    assert msg["X-Prakerja-Delivery"] == "abc"
