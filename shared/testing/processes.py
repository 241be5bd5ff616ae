"""Real service processes for cross-process tests: each runs under uvicorn on a free port with its own env."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.dev.broker import free_port
from shared.settings import ROOT


@dataclass
class ServiceProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_service(
    name: str, env: Mapping[str, str], log_dir: Path, *, port: int | None = None, timeout: float = 30.0
) -> ServiceProcess:
    """Migrate nothing, start `services.<name>.main:app`, and wait until /healthz answers."""
    port = port or free_port()
    log_path = log_dir / f"{name}-{port}.log"
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed command
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"services.{name}.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            env=full_env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    svc = ServiceProcess(name, port, process, log_path, dict(env))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{svc.log()[-3000:]}")
        try:
            if httpx.get(f"{svc.url}/healthz", timeout=1).status_code == 200:
                return svc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    svc.stop()
    raise TimeoutError(f"{name} did not become healthy in {timeout}s:\n{svc.log()[-3000:]}")
