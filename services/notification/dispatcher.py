"""The dispatcher: sends pending deliveries, retries failures with back-off, expires what is too late.

A round claims due rows in one short transaction (status `sending`, a lease token, the lease end in
`next_attempt_at`, the attempt counted), sends with no transaction open, then records each outcome in its own
short transaction, guarded by the lease token. Two dispatchers therefore never send one row: PostgreSQL's
FOR UPDATE SKIP LOCKED splits the rows between them, and a row is only claimable again once its lease ran
out (a dispatcher that died mid-send). Consumers wake the dispatcher when they commit new rows.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter

from services.notification import repository, service
from services.notification.models import EXPIRED, FAILED, PENDING, SENDING, SENT
from services.notification.senders import EmailSender, SendError, SmsGateway
from services.notification.service import Notifier
from shared.db import Database

log = logging.getLogger("notification.dispatcher")

OUTCOMES = Counter("notification_deliveries_total", "Delivery attempts by outcome", ["channel", "outcome"])


@dataclass(frozen=True)
class Job:
    """A claimed delivery, copied out of the session so sending needs no database."""

    id: uuid.UUID
    lease_token: str
    channel: str
    template: str
    recipient: str
    recipient_masked: str
    subject: str | None
    text: str
    html: str | None
    attempt: int


class Dispatcher:
    def __init__(self, db: Database, ctx: Notifier, *, email: EmailSender, sms: SmsGateway) -> None:
        self.db = db
        self.ctx = ctx
        self.email = email
        self.sms = sms
        self.settings = ctx.settings
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(self.settings.dispatch_concurrency)

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        self._wake.set()

    async def dispatch_once(self) -> int:
        """One round: claim due deliveries, send them, record the outcomes. Returns how many rows were due."""
        jobs, due, ended = await self._claim()
        if ended:
            self.ctx.wake_relay()
        await asyncio.gather(*(self._run(job) for job in jobs))
        return due

    async def _claim(self) -> tuple[list[Job], int, bool]:
        now = self.ctx.clock()
        jobs: list[Job] = []
        ended = False
        async with self.db.sessionmaker() as session, session.begin():
            rows = await repository.due_deliveries(session, now, self.settings.dispatch_batch_size, self.db.dialect)
            for delivery in rows:
                if service.is_expired(delivery, now):
                    log.info("delivery %s (%s %s) expired unsent", delivery.id, delivery.template, delivery.channel)
                    OUTCOMES.labels(delivery.channel, EXPIRED).inc()
                    await service.end(self.ctx, session, delivery, EXPIRED, now)
                    ended = True
                    continue
                if delivery.status == SENDING and delivery.attempts >= self.settings.max_attempts:
                    # Its last claim's lease ran out (the sender died mid-send) and no attempt is left.
                    delivery.last_error = "lease expired during the last attempt"
                    await service.end(self.ctx, session, delivery, FAILED, now)
                    ended = True
                    continue
                if delivery.recipient is None or delivery.body_text is None:
                    delivery.last_error = "nothing to send (no recipient or content)"
                    await service.end(self.ctx, session, delivery, FAILED, now)
                    ended = True
                    continue
                token = secrets.token_hex(16)
                delivery.status = SENDING
                delivery.lease_token = token
                delivery.attempts += 1
                delivery.next_attempt_at = now + timedelta(seconds=self.settings.lease_s)
                jobs.append(
                    Job(
                        id=delivery.id,
                        lease_token=token,
                        channel=delivery.channel,
                        template=delivery.template,
                        recipient=delivery.recipient,
                        recipient_masked=delivery.recipient_masked or "",
                        subject=delivery.subject,
                        text=delivery.body_text,
                        html=delivery.body_html,
                        attempt=delivery.attempts,
                    )
                )
        return jobs, len(rows), ended

    async def _send(self, job: Job) -> None:
        if job.channel == "email":
            message = self.email.build(
                to=job.recipient, subject=job.subject or "", text=job.text, html=job.html, reference=str(job.id)
            )
            await self.email.send(message)
        elif job.channel == "sms":
            await self.sms.send(job.recipient, job.text)
        else:
            raise SendError(f"channel {job.channel!r} is not sent by the dispatcher", permanent=True)

    async def _run(self, job: Job) -> None:
        error: SendError | None = None
        async with self._slots:
            try:
                await self._send(job)
            except SendError as exc:
                error = exc
            except Exception as exc:
                log.exception("delivery %s: unexpected error while sending", job.id)
                error = SendError(f"{type(exc).__name__}: {exc}")
        await self._record(job, error, self.ctx.clock())

    async def _record(self, job: Job, error: SendError | None, now: datetime) -> None:
        async with self.db.sessionmaker() as session, session.begin():
            delivery = await repository.claimed_delivery(session, job.id, job.lease_token)
            if delivery is None:
                log.warning("delivery %s: lease lost before the outcome was recorded", job.id)
                return
            if error is None:
                await service.end(self.ctx, session, delivery, SENT, now)
            else:
                await service.record_failure(
                    self.ctx, session, delivery, str(error), permanent=error.permanent, now=now
                )
            outcome = delivery.status
        OUTCOMES.labels(job.channel, "retry" if outcome == PENDING else outcome).inc()
        if error is None:
            log.info("delivery %s (%s %s to %s) sent", job.id, job.template, job.channel, job.recipient_masked)
        else:
            log.warning(
                "delivery %s (%s %s to %s) attempt %d failed, now %s: %s",
                job.id,
                job.template,
                job.channel,
                job.recipient_masked,
                job.attempt,
                outcome,
                delivery.last_error,
            )
        if outcome != PENDING:
            self.ctx.wake_relay()

    async def run(self) -> None:
        backoff = 0.5
        while True:
            # Cleared before looking, so a wake-up that arrives while a round runs is not lost.
            self._wake.clear()
            try:
                due = await self.dispatch_once()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - database trouble: keep the rows, try again later
                log.warning("dispatcher: round failed, retrying in %.1fs: %s", backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if due < self.settings.dispatch_batch_size:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.settings.dispatch_poll_interval_s)
                except TimeoutError:
                    pass
