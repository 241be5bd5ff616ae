"""identity benchmarks, each against a baseline measured in the same run on this machine:

1. registrations/s (16 clients) against the bare argon2id hash rate with the same parameters and threads;
2. authenticated GET /v1/accounts/me requests/s against a bare FastAPI endpoint on the same uvicorn settings;
3. p95 latency of GET /v1/accounts/me while 16 clients register as fast as they can.

Runs on PostgreSQL when reachable (as production), otherwise on SQLite (the embedded default).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from argon2 import PasswordHasher, Type
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.load import Result, build, hammer
from services.identity.config import IdentitySettings
from shared.dev.broker import free_port, wait_port
from shared.migrate import upgrade
from shared.settings import ROOT

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "Pelatihan-Kerja-2026"
WARM_UP_S = 2.0  # served before each measured phase and not counted (both sides of a comparison alike)
ROUNDS = 4


async def _database(tmp: Path) -> tuple[str, str]:
    try:
        engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
        name = f"bench_identity_{uuid.uuid4().hex[:8]}"
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False), "PostgreSQL"
    except Exception:  # noqa: BLE001 - fall back to the embedded default
        return f"sqlite+aiosqlite:///{tmp / 'identity.db'}", "SQLite"


async def _drop(url: str) -> None:
    if url.startswith("postgresql"):
        engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        await engine.dispose()


def _serve(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if app.endswith(":app") and "services." in app:
        cmd.insert(3, "--factory")
    process = subprocess.Popen(
        cmd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    wait_port("127.0.0.1", port, 30)
    return process


def bare_hash_rate(settings: IdentitySettings, seconds: float) -> float:
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )
    done = 0
    stop_at = time.perf_counter() + seconds

    def work() -> int:
        n = 0
        while time.perf_counter() < stop_at:
            hasher.hash(PASSWORD)
            n += 1
        return n

    started = time.perf_counter()
    with ThreadPoolExecutor(settings.hash_workers) as pool:
        done = sum(pool.map(lambda _: work(), range(settings.hash_workers)))
    return done / (time.perf_counter() - started)


def _registration(i: int) -> bytes:
    body = json.dumps(
        {
            "full_name": "Peserta Uji Beban",
            "email": f"beban{uuid.uuid4().hex[:12]}{i}@example.com",
            "password": PASSWORD,
        }
    ).encode()
    return build("POST", "/v1/accounts", body=body, headers={"Content-Type": "application/json"})


async def run(seconds: float) -> None:
    settings = IdentitySettings()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        url, backend = await _database(tmp)
        await asyncio.to_thread(upgrade, "identity", url)
        env = {
            "IDENTITY_DATABASE_URL": url,
            "IDENTITY_RUN_RELAY": "false",
            "IDENTITY_RATE_REGISTER_PER_IP": "10000000",
            "IDENTITY_RATE_LOGIN_PER_IP": "10000000",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [
                sys.executable,
                "-m",
                "services.identity",
                "create-user",
                "--email",
                "bench.ops@prakerja.id",
                "--name",
                "Petugas Beban",
                "--role",
                "ops",
            ],
            check=True,
            cwd=ROOT,
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "IDENTITY_CLI_PASSWORD": PASSWORD, **env},
        )
        id_port, bare_port = free_port(), free_port()
        identity = _serve("services.identity.main:app", id_port, env, tmp / "identity.log")
        bare = _serve("bench.bare_app:app", bare_port, {}, tmp / "bare.log")
        try:
            print(
                f"\n== identity benchmarks ({backend}, {settings.hash_workers} hash threads, "
                f"argon2id m={settings.argon2_memory_kib} KiB t={settings.argon2_time_cost} "
                f"p={settings.argon2_parallelism}, {seconds:.0f} s phases) =="
            )
            # Steady state against steady state: the bare hash loop has nothing to warm up, the service has
            # (its connection pool, PostgreSQL's backends and prepared statements, SQLAlchemy's statement
            # cache), so it serves WARM_UP_S of registrations, not counted, before the measured phase. The
            # baseline is measured just before and just after, so a drift in the machine's load shows.
            await hammer(id_port, _registration, clients=16, seconds=WARM_UP_S, expect=201)
            before = bare_hash_rate(settings, seconds / 2)
            reg = await hammer(id_port, _registration, clients=16, seconds=seconds, expect=201)
            after = bare_hash_rate(settings, seconds / 2)
            hash_rate = (before + after) / 2
            print(f"bare argon2id hashes/s ............ {hash_rate:8.1f}   (before {before:.1f}, after {after:.1f})")
            reg_rate = reg.rate(seconds)
            print(
                f"registrations/s (16 clients) ...... {reg_rate:8.1f}   ratio {reg_rate / hash_rate:.2f} "
                f"(target >= 0.80)   errors {reg.errors} {reg.statuses}"
            )

            form = urlencode({"grant_type": "password", "username": "bench.ops@prakerja.id", "password": PASSWORD})
            login = await hammer(
                id_port,
                lambda _: build(
                    "POST",
                    "/v1/auth/token",
                    body=form.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                ),
                clients=1,
                seconds=0.01,
                expect=200,
            )
            assert login.ok, f"login failed: {login.statuses}"
            token = await _token(id_port, form)
            me_req = build("GET", "/v1/accounts/me", headers={"Authorization": f"Bearer {token}"})
            bare_req = build("GET", "/bare")
            await hammer(id_port, lambda _: me_req, clients=32, seconds=WARM_UP_S, expect=200)
            await hammer(bare_port, lambda _: bare_req, clients=32, seconds=WARM_UP_S, expect=200)
            # The two servers take turns, ROUNDS short phases each, so that a change in what else the machine
            # is doing falls on both alike.
            me, base = Result(), Result()
            for _ in range(ROUNDS):
                me.add(await hammer(id_port, lambda _: me_req, clients=32, seconds=seconds / ROUNDS, expect=200))
                base.add(await hammer(bare_port, lambda _: bare_req, clients=32, seconds=seconds / ROUNDS, expect=200))
            print(f"bare FastAPI GET/s ................ {base.rate(seconds):8.1f}")
            print(
                f"GET /v1/accounts/me/s ............. {me.rate(seconds):8.1f}   ratio "
                f"{me.rate(seconds) / base.rate(seconds):.2f} (target >= 0.50)   errors {me.errors}"
            )

            reg_task = asyncio.create_task(hammer(id_port, _registration, clients=16, seconds=seconds, expect=201))
            await asyncio.sleep(0.5)
            probe = await hammer(
                id_port, lambda _: me_req, clients=1, seconds=seconds - 1, expect=200, record_latency=True, pause=0.02
            )
            burst = await reg_task
            p95 = probe.percentile(0.95) * 1000
            print(
                f"GET /me p95 under 16 registering .. {p95:8.1f} ms (target <= 100 ms; p50 "
                f"{probe.percentile(0.5) * 1000:.1f} ms, {len(probe.latencies)} probes, "
                f"{burst.rate(seconds):.1f} registrations/s meanwhile, errors {burst.errors + probe.errors})"
            )
        finally:
            for process in (identity, bare):
                process.terminate()
                process.wait(10)
            await _drop(url)


async def _token(port: int, form: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        build(
            "POST", "/v1/auth/token", body=form.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    )
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line[15:]) for line in head.split(b"\r\n") if line[:15].lower() == b"content-length:")
    body = await reader.readexactly(length)
    writer.close()
    return str(json.loads(body)["access_token"])
