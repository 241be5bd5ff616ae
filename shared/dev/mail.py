"""Reads the development Maildir (var/mail/): `python -m shared.dev.mail --to budi@example.com [--token]`.

Prints the newest message to that address (decoded plain text), or with `--token` only the token of the link in
it, so the README's curl walk-through can confirm an account without a mail client.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from shared.dev.smtp import read_maildir
from shared.settings import ROOT


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.dev.mail", description=__doc__)
    parser.add_argument("--to", help="recipient address (default: any)")
    parser.add_argument("--token", action="store_true", help="print only the token of the link")
    parser.add_argument("--maildir", default=str(ROOT / "var" / "mail"))
    args = parser.parse_args()
    messages = [m for m in read_maildir(Path(args.maildir)) if not args.to or args.to.lower() in str(m["To"]).lower()]
    if not messages:
        print("no message yet", file=sys.stderr)
        return 1
    message = messages[-1]
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    text = part.get_content() if part is not None else ""
    if args.token:
        match = re.search(r"token=([A-Za-z0-9_\-]+)", text)
        if not match:
            print("no token in the newest message", file=sys.stderr)
            return 1
        print(match.group(1))
        return 0
    print(f"From: {message['From']}\nTo: {message['To']}\nSubject: {message['Subject']}\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
