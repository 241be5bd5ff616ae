"""The civil registry (Dukcapil) behind one interface, with two implementations.

- `EmbeddedRegistry`: the registry table in profile's own database, loaded from deploy/dev/civil_registry.csv
  (`python -m services.profile dev-data`). The embedded default.
- `HttpRegistry`: a Dukcapil-style web service (POST JSON with the agreement's user id, password and caller
  IP), with a timeout, retries with back-off, and a circuit breaker so a dead registry is not hammered and
  applicants are told at once to come back later.

A registry that cannot answer raises `RegistryDown`; the caller turns it into 503 with Retry-After, never
into a rejection of the applicant.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

import httpx

from services.profile import repository
from services.profile.config import ProfileSettings
from shared.db import Database

log = logging.getLogger("profile.registry")


@dataclass(frozen=True)
class RegistryRecord:
    """What the registry knows about one NIK."""

    nik: str
    kk: str | None
    full_name: str
    birth_date: date
    sex: Literal["L", "P"]
    alive: bool
    kk_linked: bool
    region_code: str | None = None


class RegistryDown(Exception):
    """The registry did not answer (timeout, connection refused, 5xx, open breaker)."""

    def __init__(self, reason: str, retry_after: int = 30) -> None:
        super().__init__(reason)
        self.retry_after = max(1, int(retry_after))


class CivilRegistry(Protocol):
    name: str

    async def lookup(self, nik: str) -> RegistryRecord | None:
        """The record of `nik`, or None when the registry does not know it. Raises RegistryDown."""
        ...

    async def close(self) -> None: ...


class EmbeddedRegistry:
    name = "embedded"

    def __init__(self, db: Database) -> None:
        self.db = db

    async def lookup(self, nik: str) -> RegistryRecord | None:
        # Its own short transaction: the caller holds none while asking the registry.
        async with self.db.sessionmaker() as session, session.begin():
            row = await repository.registry_record(session, nik)
        if row is None:
            return None
        return RegistryRecord(
            nik=row.nik,
            kk=row.kk or None,
            full_name=row.full_name,
            birth_date=row.birth_date,
            sex="P" if row.gender == "P" else "L",
            alive=row.status == "alive",
            kk_linked=row.kk_linked,
            region_code=row.region_code,
        )

    async def close(self) -> None:
        return None


class CircuitBreaker:
    """Opens after `threshold` consecutive failed lookups, refuses calls for `open_s`, then lets one through."""

    def __init__(self, threshold: int, open_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = max(1, threshold)
        self.open_s = open_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        if self.opened_at is None:
            return "closed"
        return "open" if self.clock() - self.opened_at < self.open_s else "half_open"

    def before_call(self) -> None:
        state = self.state
        if state == "open":
            assert self.opened_at is not None
            raise RegistryDown("circuit open", retry_after=int(self.open_s - (self.clock() - self.opened_at)) + 1)
        if state == "half_open":
            if self._trial_running:
                raise RegistryDown("circuit half-open, trial in progress", retry_after=int(self.open_s))
            self._trial_running = True

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_running = False

    def release(self) -> None:
        """A call ended without a verdict (cancelled): let the next one be the trial."""
        self._trial_running = False

    def failure(self) -> None:
        self.failures += 1
        if self._trial_running or self.failures >= self.threshold:
            self.opened_at = self.clock()
            log.warning("civil registry: circuit open for %.0fs after %d failures", self.open_s, self.failures)
        self._trial_running = False


class HttpRegistry:
    """Client of a Dukcapil-style NIK verification service.

    Request: `POST {url}` JSON `{"user_id", "password", "ip_user", "nik"}`.
    Answer: `{"content": [{"NIK", "NO_KK", "NAMA_LGKP", "TGL_LHR" (YYYY-MM-DD or DD-MM-YYYY), "JENIS_KLMIN"
    ("L"/"P" or "LAKI-LAKI"/"PEREMPUAN"), "STATUS_HIDUP" ("HIDUP"/"MATI"), "KODE_WILAYAH"}]}`; an unknown NIK
    is `{"content": [{"RESPON": "Data Tidak Ditemukan"}]}` or HTTP 404.
    """

    name = "http"

    def __init__(
        self,
        settings: ProfileSettings,
        *,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not settings.registry_url:
            raise ValueError("PROFILE_REGISTRY_URL is required when PROFILE_REGISTRY_MODE=http")
        self.settings = settings
        self.breaker = breaker or CircuitBreaker(settings.registry_breaker_failures, settings.registry_breaker_open_s)
        self.client = httpx.AsyncClient(timeout=settings.registry_timeout_s, transport=transport)

    async def close(self) -> None:
        await self.client.aclose()

    async def lookup(self, nik: str) -> RegistryRecord | None:
        self.breaker.before_call()
        try:
            result = await self._with_retries(nik)
        except RegistryDown:
            self.breaker.failure()
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.success()
        return result

    async def _with_retries(self, nik: str) -> RegistryRecord | None:
        s = self.settings
        body = {
            "user_id": s.registry_user_id,
            "password": s.registry_password.get_secret_value(),
            "ip_user": s.registry_ip_user,
            "nik": nik,
        }
        delay = s.registry_backoff_s
        last = "no attempt"
        for attempt in range(s.registry_retries + 1):
            if attempt:
                await asyncio.sleep(delay)
                delay *= 2
            try:
                response = await self.client.post(s.registry_url, json=body)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}"
                continue
            if response.status_code == 404:
                return None
            if response.status_code in (401, 403):
                # Misconfigured credentials will not heal by retrying; the applicant still gets "try later".
                log.error("civil registry refused our credentials (HTTP %d)", response.status_code)
                raise RegistryDown(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                last = f"HTTP {response.status_code}"
                continue
            try:
                return _parse_answer(response.json(), nik)
            except (ValueError, KeyError, TypeError) as exc:
                last = f"unreadable answer: {type(exc).__name__}"
                continue
        log.warning("civil registry lookup failed after %d tries: %s", s.registry_retries + 1, last)
        raise RegistryDown(last, retry_after=int(s.registry_breaker_open_s))


def _parse_date(value: str) -> date:
    value = value.strip()
    if len(value) == 10 and value[2] == "-" and value[5] == "-":
        day, month, year = value.split("-")
        return date(int(year), int(month), int(day))
    return date.fromisoformat(value)


def _parse_answer(data: Any, nik: str) -> RegistryRecord | None:
    content = data["content"]
    if not isinstance(content, list) or not content:
        return None
    item = content[0]
    if "NIK" not in item:
        return None  # {"RESPON": "Data Tidak Ditemukan"}
    if str(item["NIK"]) != nik:
        raise ValueError("registry answered for another NIK")
    sex = str(item.get("JENIS_KLMIN", "")).upper()
    kk = str(item.get("NO_KK") or "").strip() or None
    return RegistryRecord(
        nik=nik,
        kk=kk,
        full_name=str(item["NAMA_LGKP"]),
        birth_date=_parse_date(str(item["TGL_LHR"])),
        sex="P" if sex in ("P", "PEREMPUAN") else "L",
        alive=str(item.get("STATUS_HIDUP", "HIDUP")).upper() != "MATI",
        kk_linked=kk is not None,
        region_code=item.get("KODE_WILAYAH"),
    )


def registry_from_settings(settings: ProfileSettings, db: Database) -> CivilRegistry:
    if settings.registry_mode == "http":
        return HttpRegistry(settings)
    return EmbeddedRegistry(db)
