"""The HTTP civil registry adapter against a local Dukcapil-style server: answers, retries with back-off, a
closed port, the circuit breaker, and the whole identity route in http mode (503 when the registry is down)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.profile.config import ProfileSettings
from services.profile.main import create_app
from services.profile.registry import CircuitBreaker, HttpRegistry, RegistryDown
from shared.testing.plugin import running_app
from tests.profile.conftest import BUDI, profile_settings
from tests.profile.dukcapil import PASSWORD, USER_ID, free_port, serve_dukcapil


def http_settings(url: str, **overrides: Any) -> ProfileSettings:
    values: dict[str, Any] = {
        "registry_mode": "http",
        "registry_url": url,
        "registry_user_id": USER_ID,
        "registry_password": PASSWORD,
        "registry_timeout_s": 1.0,
        "registry_retries": 2,
        "registry_backoff_s": 0.01,
        "registry_breaker_failures": 2,
        "registry_breaker_open_s": 30,
        **overrides,
    }
    return ProfileSettings(**values)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_lookup_parses_the_registry_answer():
    async with serve_dukcapil() as fake:
        registry = HttpRegistry(http_settings(fake.url))
        try:
            record = await registry.lookup(BUDI["nik"])
            assert record is not None
            assert (record.full_name, record.birth_date, record.sex, record.kk, record.alive, record.kk_linked) == (
                "BUDI SANTOSO",
                date(1991, 5, 17),
                "L",
                BUDI["kk"],
                True,
                True,
            )
            not_linked = await registry.lookup("3174011403940001")
            assert not_linked is not None and not not_linked.kk_linked and not_linked.kk is None
            dead = await registry.lookup("3578044310750001")
            assert dead is not None and not dead.alive and dead.sex == "P"
            assert await registry.lookup("3276011705919999") is None
        finally:
            await registry.close()


async def test_transient_failures_are_retried():
    async with serve_dukcapil() as fake:
        fake.fail_next = 2
        registry = HttpRegistry(http_settings(fake.url))
        try:
            assert (await registry.lookup(BUDI["nik"])) is not None
            assert fake.hits == 3
            assert registry.breaker.state == "closed"
        finally:
            await registry.close()


async def test_wrong_credentials_are_not_a_rejection():
    async with serve_dukcapil() as fake:
        registry = HttpRegistry(http_settings(fake.url, registry_password="salah"))
        try:
            with pytest.raises(RegistryDown):
                await registry.lookup(BUDI["nik"])
            assert fake.hits == 1  # no point retrying a refused login
        finally:
            await registry.close()


async def test_closed_port_raises_registry_down():
    registry = HttpRegistry(http_settings(f"http://127.0.0.1:{free_port()}/CALL_NIK"))
    try:
        with pytest.raises(RegistryDown):
            await registry.lookup(BUDI["nik"])
    finally:
        await registry.close()


async def test_circuit_breaker_opens_then_lets_one_trial_through():
    clock = Clock()
    async with serve_dukcapil() as fake:
        fake.fail_always = True
        settings = http_settings(fake.url)
        registry = HttpRegistry(settings, breaker=CircuitBreaker(2, 30, clock=clock))
        try:
            for _ in range(2):
                with pytest.raises(RegistryDown):
                    await registry.lookup(BUDI["nik"])
            assert fake.hits == 6  # two lookups, three tries each
            assert registry.breaker.state == "open"
            with pytest.raises(RegistryDown) as refused:
                await registry.lookup(BUDI["nik"])
            assert fake.hits == 6  # refused without calling
            assert 1 <= refused.value.retry_after <= 31
            clock.now += 31
            assert registry.breaker.state == "half_open"
            with pytest.raises(RegistryDown):  # the trial fails: open again
                await registry.lookup(BUDI["nik"])
            assert registry.breaker.state == "open"
            clock.now += 31
            fake.fail_always = False
            assert (await registry.lookup(BUDI["nik"])) is not None
            assert registry.breaker.state == "closed" and registry.breaker.failures == 0
        finally:
            await registry.close()


async def test_identity_route_verifies_through_the_http_registry(profile_url, tmp_path, issuer, applicant_factory):
    async with serve_dukcapil() as fake:
        app = create_app(
            profile_settings(
                profile_url,
                tmp_path,
                **http_settings(fake.url).model_dump(
                    include={
                        "registry_mode",
                        "registry_url",
                        "registry_user_id",
                        "registry_password",
                        "registry_backoff_s",
                    }
                ),
            )
        )
        issuer.install(app)
        async with running_app(app) as client:
            headers = await applicant_factory(app, "BUDI SANTOSO")
            r = await client.put(
                "/v1/profiles/me/identity", json={"nik": BUDI["nik"], "birth_date": BUDI["birth_date"]}, headers=headers
            )
            assert r.status_code == 200, r.text
            headers = await applicant_factory(app, "SUTRISNO")
            r = await client.put(
                "/v1/profiles/me/identity",
                json={"nik": "3374011706680001", "birth_date": "1968-06-17"},
                headers=headers,
            )
            assert r.json()["code"] == "nik_deceased"


async def test_registry_down_is_503_with_retry_after_and_the_breaker_opens(
    profile_url, tmp_path, issuer, applicant_factory
):
    url = f"http://127.0.0.1:{free_port()}/CALL_NIK"
    settings = profile_settings(
        profile_url,
        tmp_path,
        registry_mode="http",
        registry_url=url,
        registry_retries=1,
        registry_backoff_s=0.01,
        registry_breaker_failures=2,
        registry_breaker_open_s=45,
    )
    app = create_app(settings)
    issuer.install(app)
    async with running_app(app) as client:
        headers = await applicant_factory(app, "BUDI SANTOSO")
        body = {"nik": BUDI["nik"], "birth_date": BUDI["birth_date"]}
        for _ in range(2):
            r = await client.put("/v1/profiles/me/identity", json=body, headers=headers)
            assert r.status_code == 503
            assert r.json()["code"] == "registry_unavailable"
            assert int(r.headers["Retry-After"]) > 0
            assert "tidak ditolak" in r.json()["detail"]
        assert app.state.profile.registry.breaker.state == "open"
        r = await client.put("/v1/profiles/me/identity", json=body, headers={**headers, "Accept-Language": "en"})
        assert r.status_code == 503 and 40 <= int(r.headers["Retry-After"]) <= 46
        assert "not rejected" in r.json()["detail"]
        status = (await client.get("/v1/profiles/me/status", headers=headers)).json()
        assert status["steps"][0] == {"step": "identity", "done": False, "done_at": None}
