"""`make run`: the whole system on the embedded default, supervised by honcho.

Starts the development broker (unless KAFKA_BOOTSTRAP_SERVERS points elsewhere), the local SMTP server that
stores mail under var/mail/, and every service on its port. Ctrl-C (or SIGTERM to make) stops them all.
"""

from __future__ import annotations

import ctypes
import os
import shlex
import signal
import sys

from honcho.manager import Manager

from shared.settings import ROOT

PORTS = {"identity": 8001, "profile": 8002, "assessment": 8003, "selection": 8004, "notification": 8005, "wallet": 8006}


def services() -> list[str]:
    return [name for name in PORTS if (ROOT / "services" / name / "main.py").exists()]


def _die_with_parent() -> None:
    """If make is killed, we get SIGTERM too, so nothing is left running."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def main() -> int:
    _die_with_parent()
    python = shlex.quote(sys.executable)
    var = ROOT / "var"
    (var / "mail").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    manager = Manager()
    external_kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not external_kafka:
        manager.add_process("broker", f"{python} -m shared.dev.broker --port 9092", env=env, cwd=str(ROOT))
    smtp_port = os.environ.get("NOTIFICATION_SMTP_PORT", "1025")
    if not os.environ.get("NOTIFICATION_SMTP_HOST"):
        manager.add_process(
            "smtp",
            f"{python} -m shared.dev.smtp --port {smtp_port} --maildir {shlex.quote(str(var / 'mail'))}",
            env=env,
            cwd=str(ROOT),
        )
    for name in services():
        port = PORTS[name]
        manager.add_process(
            name,
            f"{python} -m uvicorn --factory services.{name}.main:app --host 127.0.0.1 --port {port} "
            "--no-access-log --timeout-graceful-shutdown 5",
            env=env,
            cwd=str(ROOT),
        )
    print("\nPrakerja backend (embedded default). Ctrl-C stops everything.\n")
    print(f"  broker  {external_kafka or '127.0.0.1:9092 (Tansu, memory only)'}")
    print(f"  mail    SMTP 127.0.0.1:{smtp_port}, stored in var/mail/ (Maildir)")
    print("  sms     var/sms.jsonl")
    for name in services():
        print(f"  {name:<13} http://127.0.0.1:{PORTS[name]}/docs")
    print(flush=True)
    manager.loop()
    return int(manager.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())
