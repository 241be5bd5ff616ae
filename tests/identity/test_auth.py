"""Token grants, lockout, refresh rotation and reuse, clients, logout, password reset, JWT verification."""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import pytest
import time_machine
from jose import jwt

from services.identity.main import create_app
from services.identity.models import Client
from services.identity.security import PasswordHashing
from shared.db import Database, utcnow
from shared.testing.plugin import running_app
from shared.testing.tokens import TestIssuer
from tests.identity.conftest import active_account, identity_settings, link_token, login, register


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_password_grant_issues_rs256_token_with_required_claims(client, identity_url, settings):
    account = await active_account(client, identity_url)
    r = await login(client)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900 and body["refresh_token"]
    header = jwt.get_unverified_header(body["access_token"])
    claims = jwt.get_unverified_claims(body["access_token"])
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["sub"] == account["id"] and claims["roles"] == ["applicant"]
    assert claims["aud"] == settings.jwt_audience and claims["iss"] == settings.jwt_issuer
    assert claims["exp"] - claims["iat"] == 900 and claims["jti"]
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert header["kid"] in [k["kid"] for k in jwks["keys"]]


async def test_login_refused_until_confirmed(client, identity_url):
    await register(client)
    r = await login(client)
    assert r.status_code == 403 and r.json()["code"] == "account_not_confirmed"
    assert r.json()["error"] == "invalid_grant"


async def test_wrong_password_and_unknown_email_look_the_same(client, identity_url):
    await active_account(client, identity_url)
    wrong = await login(client, password="Salah-Sandi-2026")
    unknown = await login(client, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_five_failures_lock_the_account_with_growing_backoff(client, identity_url):
    await active_account(client, identity_url)
    codes = [(await login(client, password=f"Salah-Sandi-{i}")).status_code for i in range(5)]
    assert codes == [401, 401, 401, 401, 423]
    locked = await login(client)  # even the right password waits
    assert locked.status_code == 423 and locked.json()["code"] == "account_locked"
    assert 1 <= int(locked.headers["retry-after"]) <= 61
    with time_machine.travel(utcnow() + timedelta(seconds=62)):
        again = await login(client, password="Salah-Sandi-x")  # sixth failure: locked twice as long
        assert again.status_code == 423 and 61 < int(again.headers["retry-after"]) <= 121
    with time_machine.travel(utcnow() + timedelta(seconds=62 + 122)):
        ok = await login(client)
        assert ok.status_code == 200
        assert (await login(client, password="Salah-Sandi-y")).status_code == 401  # counter was reset


async def test_login_rate_limited_per_ip(identity_url):
    app = create_app(identity_settings(identity_url, rate_login_per_ip=2))
    async with running_app(app) as client:
        codes = [(await login(client, email=f"x{i}@example.com")).status_code for i in range(3)]
    assert codes == [401, 401, 429]


async def test_refresh_rotates_and_reuse_revokes_the_family(client, identity_url):
    await active_account(client, identity_url)
    first = (await login(client)).json()
    r = await client.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    reuse = await client.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert reuse.status_code == 400 and reuse.json()["code"] == "refresh_token_reused"
    # The thief's copy and the rightful new token are both dead now.
    r = await client.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    )
    assert r.status_code == 400 and r.json()["code"] == "refresh_token_reused"
    r = await client.post("/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": "nonsense-token"})
    assert r.status_code == 400 and r.json()["code"] == "refresh_token_invalid"


async def test_grant_errors(client):
    r = await client.post("/v1/auth/token", data={"grant_type": "implicit"})
    assert r.status_code == 400 and r.json()["code"] == "unsupported_grant_type"
    r = await client.post("/v1/auth/token", data={"grant_type": "password", "password": "x"})
    assert r.status_code == 400 and r.json()["code"] == "missing_parameter"
    r = await client.post("/v1/auth/token", data={})
    assert r.status_code == 422
    r = await client.post("/v1/auth/token", json={"grant_type": "password"})
    assert r.status_code == 422


async def _add_client(url: str, settings, client_id: str, secret: str, roles: str = "partner") -> None:
    db = Database(url)
    hashing = PasswordHashing(settings)
    try:
        secret_hash = await hashing.hash(secret)
        async with db.sessionmaker() as session, session.begin():
            session.add(
                Client(
                    client_id=client_id,
                    name="Mitra Uji",
                    secret_hash=secret_hash,
                    roles=roles,
                    created_at=utcnow(),
                    disabled=False,
                )
            )
    finally:
        hashing.close()
        await db.dispose()


async def test_client_credentials_form_and_basic(client, identity_url, settings):
    await _add_client(identity_url, settings, "mitra-uji", "rahasia-mitra-panjang")
    r = await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "mitra-uji", "client_secret": "rahasia-mitra-panjang"},
    )
    assert r.status_code == 200 and r.json()["refresh_token"] is None
    claims = jwt.get_unverified_claims(r.json()["access_token"])
    assert claims["sub"] == "mitra-uji" and claims["roles"] == ["partner"] and claims["client_id"] == "mitra-uji"
    basic = base64.b64encode(b"mitra-uji:rahasia-mitra-panjang").decode()
    r = await client.post(
        "/v1/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert r.status_code == 200
    for cid, secret in [("mitra-uji", "salah"), ("tidak-ada", "rahasia-mitra-panjang")]:
        r = await client.post(
            "/v1/auth/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
        )
        assert r.status_code == 401 and r.json()["code"] == "invalid_client"
    r = await client.post(
        "/v1/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!!"}
    )
    assert r.status_code == 401


async def test_logout_ends_session_and_all_sessions(client, identity_url):
    await active_account(client, identity_url)
    one = (await login(client)).json()
    two = (await login(client)).json()
    r = await client.post(
        "/v1/auth/logout", json={"refresh_token": one["refresh_token"]}, headers=bearer(one["access_token"])
    )
    assert r.status_code == 204
    r = await client.post("/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": one["refresh_token"]})
    assert r.status_code == 400
    r = await client.post("/v1/auth/logout", json={"all_sessions": True}, headers=bearer(two["access_token"]))
    assert r.status_code == 204
    r = await client.get("/v1/accounts/me", headers=bearer(two["access_token"]))
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"
    r = await client.post("/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": two["refresh_token"]})
    assert r.status_code == 400


async def test_password_reset_sets_password_and_revokes_sessions(client, identity_url):
    await active_account(client, identity_url)
    old = (await login(client)).json()
    with time_machine.travel(utcnow() + timedelta(seconds=1)):
        unknown = await client.post("/v1/accounts/password-reset", json={"email": "nobody@example.com"})
        r = await client.post("/v1/accounts/password-reset", json={"email": "siti@example.com"})
        assert r.status_code == unknown.status_code == 202
        token = await link_token(identity_url, "siti@example.com", "password_reset")
        weak = await client.post(
            "/v1/accounts/password-reset/confirm", json={"token": token, "new_password": "12345678"}
        )
        assert weak.status_code == 422 and weak.json()["errors"][0]["code"] == "password_common"
        new_password = "Sandi-Baru-Yang-Kuat-1"
        ok = await client.post(
            "/v1/accounts/password-reset/confirm", json={"token": token, "new_password": new_password}
        )
        assert ok.status_code == 204
        used = await client.post(
            "/v1/accounts/password-reset/confirm", json={"token": token, "new_password": new_password}
        )
        assert used.status_code == 410
        assert (await client.get("/v1/accounts/me", headers=bearer(old["access_token"]))).status_code == 401
        r = await client.post(
            "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": old["refresh_token"]}
        )
        assert r.status_code == 400
        assert (await login(client)).status_code == 401
        fresh = await login(client, password=new_password)
        assert fresh.status_code == 200
        assert (await client.get("/v1/accounts/me", headers=bearer(fresh.json()["access_token"]))).status_code == 200


@pytest.fixture
async def good_token(client, identity_url) -> str:
    await active_account(client, identity_url)
    return str((await login(client)).json()["access_token"])


async def test_tampered_token_is_rejected(client, good_token):
    head, _payload, sig = good_token.split(".")
    claims = jwt.get_unverified_claims(good_token)
    claims["roles"] = ["ops"]
    import json

    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    r = await client.get("/v1/accounts/me", headers=bearer(f"{head}.{forged}.{sig}"))
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"
    r = await client.get("/v1/accounts/me", headers=bearer(good_token[:-4] + "AAAA"))
    assert r.status_code == 401


async def test_alg_none_and_hmac_with_public_key_are_rejected(client, good_token):
    import json

    claims = jwt.get_unverified_claims(good_token)
    kid = jwt.get_unverified_header(good_token)["kid"]

    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    none_token = f"{b64({'alg': 'none', 'kid': kid, 'typ': 'JWT'})}.{b64(claims)}."
    assert (await client.get("/v1/accounts/me", headers=bearer(none_token))).status_code == 401
    jwks = (await client.get("/.well-known/jwks.json")).json()
    hs_token = jwt.encode(claims, json.dumps(jwks["keys"][0]), algorithm="HS256", headers={"kid": kid})
    r = await client.get("/v1/accounts/me", headers=bearer(hs_token))
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


async def test_token_signed_by_another_key_wrong_audience_issuer_or_expired(client, good_token, settings):
    claims = jwt.get_unverified_claims(good_token)
    stranger = TestIssuer(issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    r = await client.get("/v1/accounts/me", headers=bearer(stranger.raw(claims)))
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"
    kid = jwt.get_unverified_header(good_token)["kid"]
    r = await client.get("/v1/accounts/me", headers=bearer(stranger.raw(claims, headers={"kid": kid})))
    assert r.status_code == 401
    r = await client.get("/v1/accounts/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert r.status_code == 401
    with time_machine.travel(time.time() + 901 + 11):
        r = await client.get("/v1/accounts/me", headers=bearer(good_token))
        assert r.status_code == 401 and r.json()["code"] == "token_expired"


async def test_signing_key_persists_across_restarts_and_rotation_keeps_old_tokens_valid(identity_url):
    settings = identity_settings(identity_url)
    async with running_app(create_app(settings)) as client:
        await active_account(client, identity_url)
        old_token = (await login(client)).json()["access_token"]
        kids_before = [k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]]
    async with running_app(create_app(settings)) as client:
        kids_after = [k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]]
        assert kids_after == kids_before
        new_kid = await client._transport.app.state.identity.keys.rotate()  # type: ignore[attr-defined]
        keys = [k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]]
        assert new_kid in keys and kids_before[0] in keys
        fresh = (await login(client)).json()["access_token"]
        assert jwt.get_unverified_header(fresh)["kid"] == new_kid
        for token in (old_token, fresh):
            assert (await client.get("/v1/accounts/me", headers=bearer(token))).status_code == 200


def test_password_hashing_uses_owasp_argon2id_parameters():
    from services.identity.config import IdentitySettings

    hashing = PasswordHashing(IdentitySettings(database_url="sqlite+aiosqlite:///:memory:"))
    try:
        assert hashing.hasher.hash("x").startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    finally:
        hashing.close()
