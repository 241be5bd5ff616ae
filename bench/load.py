"""A small keep-alive HTTP/1.1 load generator (asyncio streams), light enough to share two cores with a server."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    ok: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def add(self, other: Result) -> None:
        self.ok += other.ok
        self.errors += other.errors
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.latencies.extend(other.latencies)

    def rate(self, seconds: float) -> float:
        return self.ok / seconds

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def build(method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body or method in {"POST", "PUT"}:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def hammer(
    port: int,
    make_request,
    *,
    clients: int,
    seconds: float,
    expect: int,
    record_latency: bool = False,
    pause: float = 0.0,
) -> Result:
    """`clients` connections send requests back to back for `seconds`; make_request(i) gives the bytes."""
    result = Result()
    stop_at = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def worker() -> None:
        conn = Connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at:
                raw = make_request(next(counter))
                started = time.perf_counter()
                try:
                    status, _ = await conn.request(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    result.errors += 1
                    conn.close()
                    conn = Connection("127.0.0.1", port)
                    continue
                if record_latency:
                    result.latencies.append(time.perf_counter() - started)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status == expect:
                    result.ok += 1
                else:
                    result.errors += 1
                if pause:
                    await asyncio.sleep(pause)
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    return result
