"""identity's rules: registration, confirmation, sign-in grants, sessions, password reset.

Functions that take a session never commit (the request's session dependency does). The token grants take
the Database instead: they hash outside any transaction and must keep failed-attempt counters even when the
request fails, so they run their own short transactions.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity import errors, repository
from services.identity.config import IdentitySettings
from services.identity.keys import KeyStore
from services.identity.models import Account, EmailToken, RefreshToken
from services.identity.security import PasswordHashing, Signer, digest, new_opaque_token
from shared.auth import ROLE_APPLICANT, Principal, TokenInvalid
from shared.db import GUID, Database, UTCDateTime, utcnow
from shared.errors import FieldMessage
from shared.events.identity import AccountConfirmed, AccountContactUpdated, AccountRegistered, PasswordChanged
from shared.events.notification import NotificationRequested
from shared.messaging import Outbox

CONFIRM = "confirm"
RESET = "reset"


@dataclass
class Identity:
    """What identity's rules need, built once per app."""

    db: Database
    settings: IdentitySettings
    outbox: Outbox
    hashing: PasswordHashing
    keys: KeyStore
    accounts: AccountCache


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str | None
    roles: list[str]


_INSERT_ACCOUNT = insert(Account)
_INSERT_TOKEN = insert(EmailToken)
# PostgreSQL: the account, its confirmation token and both events in one statement (a data-modifying WITH),
# all or none; run in autocommit it is a single round trip. The events need the account row to exist, so a
# taken e-mail fails the whole statement on the unique index and nothing is written.
_EVENT_COLUMNS = ("event_id", "topic", "key", "payload")
_REGISTER_PG = text(
    """WITH account AS (
  INSERT INTO accounts (id, full_name, email, password_hash, status, roles, locale, created_at, failed_logins,
    session_version)
  VALUES (:id, :full_name, :email, :password_hash, :status, :roles, :locale, :created_at, :failed_logins,
    :session_version)
  RETURNING id
), token AS (
  INSERT INTO email_tokens (id, account_id, purpose, token_hash, created_at, expires_at)
  SELECT :token_id, account.id, :purpose, :token_hash, :created_at, :expires_at FROM account
)
INSERT INTO outbox (event_id, topic, key, payload, created_at)
SELECT e.event_id, e.topic, e.key, e.payload, :created_at
FROM account, (VALUES (:event_id_0, :topic_0, :key_0, :payload_0), (:event_id_1, :topic_1, :key_1, :payload_1))
  AS e (event_id, topic, key, payload)"""
).bindparams(
    bindparam("id", type_=GUID()),
    bindparam("token_id", type_=GUID()),
    bindparam("created_at", type_=UTCDateTime()),
    bindparam("expires_at", type_=UTCDateTime()),
)


async def register(ctx: Identity, *, full_name: str, email: str, password_hash: str, locale: str) -> Account:
    """Create an applicant account (pending confirmation) and queue the confirmation e-mail.

    A taken e-mail is found by the unique index on the account insert (no SELECT first, and no race between
    two registrations). Registration is the busiest write, so it takes no ORM session: on PostgreSQL one
    statement in autocommit (the session's BEGIN, flushes and COMMIT were most of its time outside the
    password hash), on SQLite the same rows as three INSERTs in one transaction."""
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "full_name": full_name,
        "email": email,
        "password_hash": password_hash,
        "status": "pending_confirmation",
        "roles": ROLE_APPLICANT,
        "locale": locale,
        "created_at": now,
        "failed_logins": 0,
        "session_version": 0,
    }
    account = Account(**values)  # not added to any session: the row is written below
    token_row, mail = _link(ctx, account, CONFIRM, now)
    registered = AccountRegistered(account_id=account.id, registered_at=now, locale=account.locale)
    _, events = ctx.outbox.rows([(registered, account.id), (mail, account.id)])
    try:
        if ctx.db.dialect == "postgresql":
            params = {
                **values,
                "token_id": token_row["id"],
                **{name: token_row[name] for name in ("purpose", "token_hash", "expires_at")},
                **{f"{name}_{i}": row[name] for i, row in enumerate(events) for name in _EVENT_COLUMNS},
            }
            async with ctx.db.autocommit() as conn:
                await conn.execute(_REGISTER_PG, params)
        else:
            async with ctx.db.engine.begin() as conn:
                await conn.execute(_INSERT_ACCOUNT, values)
                await conn.execute(_INSERT_TOKEN, token_row)
                await conn.execute(ctx.outbox.table.insert(), events)
    except IntegrityError as exc:  # the e-mail is taken (the only unique value given here)
        raise errors.EmailTaken() from exc
    return account


async def _send_link(ctx: Identity, session: AsyncSession, account: Account, purpose: str) -> None:
    """A new link for `purpose` replaces the ones sent before; its e-mail is queued."""
    now = utcnow()
    await repository.invalidate_email_tokens(session, account.id, purpose, now)
    token_row, mail = _link(ctx, account, purpose, now)
    await (await session.connection()).execute(_INSERT_TOKEN, token_row)
    await ctx.outbox.add(session, mail, key=account.id)


def _link(ctx: Identity, account: Account, purpose: str, now: datetime) -> tuple[dict[str, Any], NotificationRequested]:
    """A new single-use link token for `purpose`: its row (only the token's hash is stored) and the e-mail
    that carries the token."""
    ttl = ctx.settings.confirm_token_ttl_s if purpose == CONFIRM else ctx.settings.reset_token_ttl_s
    token, token_hash = new_opaque_token()
    expires_at = now + timedelta(seconds=ttl)
    row = {
        "id": uuid.uuid4(),
        "account_id": account.id,
        "purpose": purpose,
        "token_hash": token_hash,
        "created_at": now,
        "expires_at": expires_at,
    }
    template, url = (
        ("account_confirmation", ctx.settings.confirm_url)
        if purpose == CONFIRM
        else ("password_reset", ctx.settings.reset_url)
    )
    mail = NotificationRequested(
        account_id=account.id,
        template=template,
        channels=["email"],
        locale=account.locale,
        email=account.email,
        params={
            "full_name": account.full_name,
            "link": url.format(token=token),
            "token": token,
            "valid_hours": max(1, ttl // 3600),
        },
        expires_at=expires_at,
    )
    return row, mail


async def _use_link(session: AsyncSession, token: str, purpose: str) -> tuple[EmailToken, Account]:
    record = await repository.email_token_by_hash(session, digest(token))
    if record is None or record.purpose != purpose:
        raise errors.TokenInvalid()
    if record.used_at is not None:
        raise errors.TokenUsed()
    if record.expires_at <= utcnow():
        raise errors.TokenExpired()
    account = await repository.account_by_id(session, record.account_id)
    if account is None:
        raise errors.TokenInvalid()
    record.used_at = utcnow()
    return record, account


async def confirm(ctx: Identity, session: AsyncSession, token: str) -> Account:
    _, account = await _use_link(session, token, CONFIRM)
    ctx.accounts.drop(account.id)
    if account.status == "pending_confirmation":
        account.status = "active"
        account.confirmed_at = utcnow()
        await ctx.outbox.add(
            session,
            AccountConfirmed(
                account_id=account.id,
                confirmed_at=account.confirmed_at,
                full_name=account.full_name,
                locale=account.locale,
            ),
            key=account.id,
        )
        await ctx.outbox.add(
            session,
            AccountContactUpdated(
                account_id=account.id, email=account.email, full_name=account.full_name, locale=account.locale
            ),
            key=account.id,
        )
    return account


async def resend_confirmation(ctx: Identity, session: AsyncSession, email: str) -> None:
    account = await repository.account_by_email(session, email)
    if account is not None and account.status == "pending_confirmation":
        await _send_link(ctx, session, account, CONFIRM)


async def request_password_reset(ctx: Identity, session: AsyncSession, email: str) -> None:
    account = await repository.account_by_email(session, email)
    if account is not None and account.status != "disabled":
        await _send_link(ctx, session, account, RESET)


async def reset_password(ctx: Identity, session: AsyncSession, token: str, new_password: str) -> None:
    from services.identity.validation import check_password

    _, account = await _use_link(session, token, RESET)
    try:
        check_password(new_password, email=account.email, full_name=account.full_name)
    except FieldMessage as exc:
        raise exc.at("body.new_password") from None
    now = utcnow()
    account.password_hash = await ctx.hashing.hash(new_password)
    account.failed_logins = 0
    account.locked_until = None
    account.session_version += 1
    ctx.accounts.drop(account.id)
    await repository.revoke_all_sessions(session, account.id, now)
    await ctx.outbox.add(session, PasswordChanged(account_id=account.id, changed_at=now), key=account.id)


def _lock_seconds(settings: IdentitySettings, failures: int) -> int:
    over = failures - settings.login_max_failures
    return int(min(settings.lockout_base_s * (2 ** max(0, over)), settings.lockout_max_s))


def _seconds_until(moment: datetime) -> int:
    return max(1, int((moment - utcnow()).total_seconds()) + 1)


async def password_grant(ctx: Identity, email: str, password: str) -> IssuedTokens:
    # Load the signer before any transaction: on SQLite a nested transaction would wait on our own lock.
    signer = await ctx.keys.signer()
    async with ctx.db.sessionmaker() as session, session.begin():
        account = await repository.account_by_email(session, email)
        snapshot = (
            (account.id, account.password_hash, account.locked_until, account.status) if account is not None else None
        )
    if snapshot is not None and snapshot[2] is not None and snapshot[2] > utcnow():
        await ctx.hashing.verify(None, password)  # same work as any attempt: the lock says nothing extra
        raise errors.AccountLocked(_seconds_until(snapshot[2]))
    ok = await ctx.hashing.verify(snapshot[1] if snapshot else None, password)
    if snapshot is None:
        raise errors.InvalidCredentials()
    account_id = snapshot[0]
    async with ctx.db.sessionmaker() as session, session.begin():
        if not ok:
            await session.execute(
                update(Account).where(Account.id == account_id).values(failed_logins=Account.failed_logins + 1)
            )
            account = await repository.account_by_id(session, account_id)
            assert account is not None
            await session.refresh(account)
            if account.failed_logins >= ctx.settings.login_max_failures:
                seconds = _lock_seconds(ctx.settings, account.failed_logins)
                account.locked_until = utcnow() + timedelta(seconds=seconds)
        else:
            account = await repository.account_by_id(session, account_id)
            assert account is not None
            if account.status == "pending_confirmation":
                raise errors.AccountNotConfirmed()
            if account.status == "disabled":
                raise errors.AccountDisabled()
            account.failed_logins = 0
            account.locked_until = None
            if ctx.hashing.needs_rehash(account.password_hash):
                account.password_hash = await ctx.hashing.hash(password)
            return await _issue(ctx, session, account, family_id=uuid.uuid4(), signer=signer)
    if account.locked_until is not None:
        raise errors.AccountLocked(_seconds_until(account.locked_until))
    raise errors.InvalidCredentials()


async def _issue(
    ctx: Identity, session: AsyncSession, account: Account, family_id: uuid.UUID, signer: Signer
) -> IssuedTokens:
    now = utcnow()
    refresh, refresh_hash = new_opaque_token()
    session.add(
        RefreshToken(
            account_id=account.id,
            family_id=family_id,
            token_hash=refresh_hash,
            created_at=now,
            expires_at=now + timedelta(seconds=ctx.settings.refresh_token_ttl_s),
        )
    )
    access = access_token(
        ctx, signer, subject=str(account.id), roles=account.role_list, version=account.session_version
    )
    return IssuedTokens(access, ctx.settings.access_token_ttl_s, refresh, account.role_list)


def access_token(
    ctx: Identity,
    signer: Signer,
    *,
    subject: str,
    roles: list[str],
    client_id: str | None = None,
    version: int | None = None,
) -> str:
    now = int(utcnow().timestamp())
    claims: dict[str, object] = {
        "iss": ctx.settings.jwt_issuer,
        "aud": ctx.settings.jwt_audience,
        "sub": subject,
        "roles": roles,
        "iat": now,
        "nbf": now,
        "exp": now + ctx.settings.access_token_ttl_s,
        "jti": uuid.uuid4().hex,
    }
    if client_id:
        claims["client_id"] = client_id
    if version is not None:
        claims["sv"] = version
    return signer.sign(claims)


async def refresh_grant(ctx: Identity, refresh_token: str) -> IssuedTokens:
    signer = await ctx.keys.signer()
    reused = False
    async with ctx.db.sessionmaker() as session, session.begin():
        record = await repository.refresh_by_hash(session, digest(refresh_token))
        if record is None or record.expires_at <= utcnow():
            raise errors.RefreshTokenInvalid()
        if record.used_at is not None or record.revoked_at is not None:
            # A spent token came back: someone holds a copy. End the whole family.
            await repository.revoke_family(session, record.family_id, utcnow())
            reused = True
        else:
            account = await repository.account_by_id(session, record.account_id)
            if account is None or account.status != "active":
                raise errors.RefreshTokenInvalid()
            record.used_at = utcnow()
            return await _issue(ctx, session, account, family_id=record.family_id, signer=signer)
    assert reused
    raise errors.RefreshTokenReused()


async def client_credentials_grant(ctx: Identity, client_id: str, client_secret: str) -> IssuedTokens:
    async with ctx.db.sessionmaker() as session, session.begin():
        client = await repository.client_by_id(session, client_id)
        snapshot = (client.secret_hash, client.disabled, client.role_list) if client is not None else None
    ok = await ctx.hashing.verify(snapshot[0] if snapshot else None, client_secret)
    if snapshot is None or not ok or snapshot[1]:
        raise errors.InvalidClient()
    token = access_token(ctx, await ctx.keys.signer(), subject=client_id, roles=snapshot[2], client_id=client_id)
    return IssuedTokens(token, ctx.settings.access_token_ttl_s, None, snapshot[2])


class AccountCache:
    """Accounts read by `GET /v1/accounts/me`, kept for a few seconds per process with their JSON.

    Dashboards call /me on every screen; a short TTL spares the database most of those reads. Writes in this
    process drop the entry at once; another instance's write shows here within the TTL (a revoked session
    can read its own account for at most that long; every other service accepts the token until it expires).
    """

    def __init__(self, ttl_s: float, max_entries: int = 100_000) -> None:
        self.ttl = ttl_s
        self.max_entries = max_entries
        self._entries: dict[uuid.UUID, tuple[float, Account, bytes]] = {}

    def get(self, account_id: uuid.UUID) -> tuple[Account, bytes] | None:
        entry = self._entries.get(account_id)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(account_id, None)
            return None
        return entry[1], entry[2]

    def put(self, account: Account, body: bytes) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[account.id] = (time.monotonic() + self.ttl, account, body)

    def drop(self, account_id: uuid.UUID) -> None:
        self._entries.pop(account_id, None)


async def me(ctx: Identity, principal: Principal, render: Callable[[Account], bytes]) -> bytes:
    """The caller's account as JSON, from the cache or one autocommit read (no transaction for a read)."""
    cached = ctx.accounts.get(principal.account_id)
    if cached is not None:
        _check_session(cached[0], principal)
        return cached[1]
    async with ctx.db.read_session() as session:
        account = _check_session(await repository.account_by_id(session, principal.account_id), principal)
    body = render(account)
    ctx.accounts.put(account, body)
    return body


def _check_session(account: Account | None, principal: Principal) -> Account:
    if account is None or account.status == "disabled":
        raise TokenInvalid()
    if principal.claims.get("sv", 0) != account.session_version:
        raise TokenInvalid()
    return account


async def current_account(session: AsyncSession, principal: Principal) -> Account:
    return _check_session(await repository.account_by_id(session, principal.account_id), principal)


async def logout(
    ctx: Identity, session: AsyncSession, principal: Principal, refresh_token: str | None, all_sessions: bool
) -> None:
    account = await current_account(session, principal)
    now = utcnow()
    if all_sessions:
        ctx.accounts.drop(account.id)
        await repository.revoke_all_sessions(session, account.id, now)
        account.session_version += 1
        return
    if refresh_token:
        record = await repository.refresh_by_hash(session, digest(refresh_token))
        if record is not None and record.account_id == account.id:
            await repository.revoke_family(session, record.family_id, now)
