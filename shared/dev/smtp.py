"""A local SMTP server (aiosmtpd) that stores every message it receives in a Maildir.

`python -m shared.dev.smtp --port 1025 --maildir var/mail` runs it for `make run`; tests use `MaildirSMTP`.
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class MaildirHandler:
    def __init__(self, maildir: Path) -> None:
        # Maildir(create=True) only makes tmp/new/cur when the folder itself is new, so make them here.
        for sub in ("tmp", "new", "cur"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(str(maildir), create=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        data = content if isinstance(content, bytes) else content.encode()
        self.maildir.add(mailbox.MaildirMessage(message_from_bytes(data)))
        return "250 Message accepted for delivery"


def read_maildir(maildir: Path) -> list[Message]:
    """Every message stored so far, oldest first (by delivery time)."""
    box = mailbox.Maildir(str(maildir), create=True)
    out: list[Message] = []
    # Maildir keys start with the delivery time, so sorting them orders the messages.
    for key in sorted(box.iterkeys()):
        raw = box.get_bytes(key)
        out.append(message_from_bytes(raw, policy=default_policy))
    return out


class MaildirSMTP:
    """Threaded SMTP server on 127.0.0.1 for tests."""

    def __init__(self, maildir: Path, port: int = 0) -> None:
        self.maildir = maildir
        self.controller = Controller(MaildirHandler(maildir), hostname="127.0.0.1", port=port or _free_port())

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def start(self) -> MaildirSMTP:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def messages(self) -> list[Message]:
        return read_maildir(self.maildir)


def _free_port() -> int:
    from shared.dev.broker import free_port

    return free_port()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--maildir", default="var/mail")
    args = parser.parse_args()
    controller = Controller(MaildirHandler(Path(args.maildir)), hostname=args.host, port=args.port)
    controller.start()
    print(f"SMTP on {args.host}:{args.port}, storing mail in {args.maildir}", flush=True)

    async def forever(_: Any = None) -> None:
        await asyncio.Event().wait()

    try:
        asyncio.run(forever())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
