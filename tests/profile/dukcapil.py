"""A local stand-in for a Dukcapil-style NIK verification service, served by uvicorn inside the test loop."""

from __future__ import annotations

import asyncio
import csv
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.profile.conftest import REGISTRY_CSV

USER_ID, PASSWORD = "prakerja-test", "rahasia-uji"


def _rows() -> dict[str, dict[str, str]]:
    with REGISTRY_CSV.open(encoding="utf-8", newline="") as f:
        return {r["nik"]: r for _, r in zip(range(40), csv.DictReader(f), strict=False)}


@dataclass
class FakeDukcapil:
    port: int = 0
    hits: int = 0
    fail_next: int = 0  # answer 500 to this many requests
    fail_always: bool = False
    rows: dict[str, dict[str, str]] = field(default_factory=_rows)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/dukcapil/api/CALL_NIK"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/dukcapil/api/CALL_NIK")
        async def call_nik(request: Request) -> Any:
            self.hits += 1
            body = await request.json()
            if (body.get("user_id"), body.get("password")) != (USER_ID, PASSWORD):
                return JSONResponse({"RESPON": "User tidak valid"}, status_code=401)
            if self.fail_always or self.fail_next > 0:
                self.fail_next = max(0, self.fail_next - 1)
                return JSONResponse({"RESPON": "Gangguan"}, status_code=500)
            row = self.rows.get(body.get("nik", ""))
            if row is None:
                return {"content": [{"RESPON": "Data Tidak Ditemukan"}]}
            y, m, d = row["birth_date"].split("-")
            return {
                "content": [
                    {
                        "NIK": row["nik"],
                        "NO_KK": row["kk"] or None,
                        "NAMA_LGKP": row["full_name"],
                        "TGL_LHR": f"{d}-{m}-{y}",
                        "JENIS_KLMIN": "PEREMPUAN" if row["gender"] == "P" else "LAKI-LAKI",
                        "STATUS_HIDUP": "HIDUP" if row["status"] == "alive" else "MATI",
                        "KODE_WILAYAH": row["region_code"],
                    }
                ]
            }

        return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serve_dukcapil() -> AsyncIterator[FakeDukcapil]:
    fake = FakeDukcapil(port=free_port())
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=fake.port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield fake
    finally:
        server.should_exit = True
        await task
