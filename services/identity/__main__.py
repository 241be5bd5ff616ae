"""identity's command line: staff accounts, partner clients, signing keys.

  python -m services.identity create-user --email ops@example.go.id --name "Nama Petugas" --role ops
  python -m services.identity create-client --client-id mitra-bukalapak --name "Bukalapak" --role partner
  python -m services.identity rotate-keys
  python -m services.identity dev-data          # the documented development ops user (make run)

Passwords and secrets are read from IDENTITY_CLI_PASSWORD / a prompt; client secrets are generated and
printed once.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import secrets
import sys

from pydantic import ValidationError

from services.identity.config import get_settings
from services.identity.keys import KeyStore
from services.identity.models import Account, Client
from services.identity.security import PasswordHashing
from services.identity.validation import check_password, normalize_email, normalize_full_name
from shared.db import Database, utcnow
from shared.errors import FieldMessage

STAFF_ROLES = ("ops", "agency")
CLIENT_ROLES = ("partner", "service")
DEV_OPS_EMAIL = "ops.dev@prakerja.id"
DEV_OPS_NAME = "Petugas PMO"
DEV_OPS_PASSWORD = "Ops-Prakerja-Dev-2026"  # noqa: S105 - development only, documented in the README


async def _create_user(email: str, name: str, role: str, password: str, *, exist_ok: bool = False) -> int:
    settings = get_settings()
    db = Database(settings.resolved_database_url())
    hashing = PasswordHashing(settings)
    try:
        email = normalize_email(email)
        name = normalize_full_name(name)
        check_password(password, email=email, full_name=name)
        password_hash = await hashing.hash(password)
        async with db.sessionmaker() as session, session.begin():
            from services.identity.repository import account_by_email

            existing = await account_by_email(session, email)
            if existing is not None:
                if exist_ok:
                    print(f"{role} user {email} already exists")
                    return 0
                print(f"error: {email} is already registered", file=sys.stderr)
                return 1
            now = utcnow()
            session.add(
                Account(
                    full_name=name,
                    email=email,
                    password_hash=password_hash,
                    status="active",
                    roles=role,
                    locale="id",
                    created_at=now,
                    confirmed_at=now,
                    failed_logins=0,
                    session_version=0,
                )
            )
        print(f"created {role} user {email}")
        return 0
    except FieldMessage as exc:
        print(f"error: {exc.text.en}", file=sys.stderr)
        return 2
    finally:
        hashing.close()
        await db.dispose()


async def _create_client(client_id: str, name: str, role: str) -> int:
    settings = get_settings()
    db = Database(settings.resolved_database_url())
    hashing = PasswordHashing(settings)
    try:
        secret = secrets.token_urlsafe(32)
        secret_hash = await hashing.hash(secret)
        async with db.sessionmaker() as session, session.begin():
            if await session.get(Client, client_id) is not None:
                print(f"error: client {client_id} exists", file=sys.stderr)
                return 1
            session.add(
                Client(
                    client_id=client_id,
                    name=name,
                    secret_hash=secret_hash,
                    roles=role,
                    created_at=utcnow(),
                    disabled=False,
                )
            )
        print(f"client_id={client_id}\nclient_secret={secret}\n(store the secret now; it is not shown again)")
        return 0
    finally:
        hashing.close()
        await db.dispose()


async def _rotate() -> int:
    settings = get_settings()
    db = Database(settings.resolved_database_url())
    try:
        kid = await KeyStore(db, settings).rotate()
        print(f"new signing key {kid}; the previous key stays in the JWKS for {settings.key_retire_after_s}s")
        return 0
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.identity", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    user = sub.add_parser("create-user", help="create an active ops or agency account")
    user.add_argument("--email", required=True)
    user.add_argument("--name", required=True)
    user.add_argument("--role", choices=STAFF_ROLES, required=True)
    client = sub.add_parser("create-client", help="create a partner or internal client (client_credentials)")
    client.add_argument("--client-id", required=True)
    client.add_argument("--name", required=True)
    client.add_argument("--role", choices=CLIENT_ROLES, required=True)
    sub.add_parser("rotate-keys", help="make a new signing key active")
    sub.add_parser("dev-data", help=f"development data: the ops user {DEV_OPS_EMAIL} (make run)")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "create-user":
            password = os.environ.get("IDENTITY_CLI_PASSWORD") or getpass.getpass("password: ")
            return asyncio.run(_create_user(args.email, args.name, args.role, password))
        if args.cmd == "create-client":
            return asyncio.run(_create_client(args.client_id, args.name, args.role))
        if args.cmd == "rotate-keys":
            return asyncio.run(_rotate())
        return asyncio.run(_create_user(DEV_OPS_EMAIL, DEV_OPS_NAME, "ops", DEV_OPS_PASSWORD, exist_ok=True))
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
