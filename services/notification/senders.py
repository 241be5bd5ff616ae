"""The ways a message leaves the service: e-mail over SMTP, and SMS through a gateway.

A sender raises `SendError`; `permanent=True` means retrying cannot help (the server refused the address),
so the dispatcher fails the delivery at once instead of backing off. Error texts may quote the address;
the dispatcher masks them before storing.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import uuid
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

import aiosmtplib
import httpx

from services.notification.config import NotificationSettings
from shared.db import utcnow


class SendError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class EmailSender:
    """Multipart (text + HTML) e-mail through the configured SMTP server."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "prakerja.id"
        self.msgid_domain = domain

    def build(self, *, to: str, subject: str, text: str, html: str | None, reference: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(idstring=reference, domain=self.msgid_domain)
        message["Auto-Submitted"] = "auto-generated"
        message["X-Prakerja-Delivery"] = reference
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password.get_secret_value() or None,
                use_tls=s.smtp_use_tls,
                start_tls=s.smtp_starttls,
                timeout=s.smtp_timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise SendError(f"recipient refused: {exc}", permanent=all(c >= 500 for c in codes)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is a final answer (bad address, policy); 4xx and 421 are "try later".
            raise SendError(f"SMTP {exc.code}: {exc.message}", permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendError(f"SMTP unavailable: {type(exc).__name__}: {exc}") from exc


class SmsGateway(Protocol):
    """Anything that can deliver a text message to a phone number (E.164, e.g. +6281234567890)."""

    async def send(self, to: str, text: str) -> None: ...


class SmsSink:
    """The embedded default: one JSON line per message appended to a file (var/sms.jsonl).

    Each line is written with a single write() on an O_APPEND descriptor under an exclusive flock, so lines
    from several threads or processes never interleave.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _append(self, line: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    async def send(self, to: str, text: str) -> None:
        entry = {"to": to, "text": text, "sent_at": _iso(utcnow())}
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
        try:
            await asyncio.to_thread(self._append, line)
        except OSError as exc:
            raise SendError(f"SMS sink: {exc}") from exc


class HttpSmsGateway:
    """A production SMS gateway over HTTPS: POST {to, text, sender} with a bearer API key.

    Connection failures, timeouts, 429 and 5xx are retried a few times at once (one Idempotency-Key for all
    of them, so a gateway that did get the first request sends once); other 4xx are permanent.
    """

    def __init__(self, settings: NotificationSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not settings.sms_http_url:
            raise ValueError("NOTIFICATION_SMS_HTTP_URL is required when NOTIFICATION_SMS_GATEWAY=http")
        self.settings = settings
        self.client = httpx.AsyncClient(timeout=settings.sms_http_timeout_s, transport=transport)

    async def send(self, to: str, text: str) -> None:
        s = self.settings
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        key = s.sms_http_api_key.get_secret_value()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        body = {"to": to, "text": text, "sender": s.sms_sender_id}
        error = "no attempt"
        for attempt in range(s.sms_http_retries + 1):
            if attempt:
                await asyncio.sleep(min(0.2 * 2**attempt, 2.0))
            try:
                response = await self.client.post(s.sms_http_url, json=body, headers=headers)
            except httpx.HTTPError as exc:
                error = f"SMS gateway unreachable: {type(exc).__name__}: {exc}"
                continue
            if response.is_success:
                return
            error = f"SMS gateway answered {response.status_code}: {response.text[:200]}"
            if response.status_code != 429 and response.status_code < 500 and response.status_code != 408:
                raise SendError(error, permanent=True)
        raise SendError(error)

    async def close(self) -> None:
        await self.client.aclose()


def sms_gateway_from_settings(settings: NotificationSettings) -> SmsGateway:
    if settings.sms_gateway == "http":
        return HttpSmsGateway(settings)
    return SmsSink(settings.resolved_sms_sink_path())


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
