"""Accounts end to end with logins required: registering (the first account is the admin),
signing in with JSON or a form, tokens refused once expired, forged, unsigned or revoked (by
logout or a password change), the lockout after wrong passwords, registration closed or by
invitation, admins' user management, and bcrypt hashes upgraded on sign-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from pwdlib.hashers.bcrypt import BcryptHasher
from sqlalchemy import select

from luna_narrates.accounts import tokens
from luna_narrates.app import create_app
from luna_narrates.config import Settings
from luna_narrates.db.tables import User
from luna_narrates.errors import ConfigurationError
from luna_narrates.services import Services
from tests.accounts.conftest import PASSWORD, bearer, login, player, register


async def test_the_first_account_is_the_admin_and_names_are_unique_whatever_the_case(
    client: httpx.AsyncClient,
) -> None:
    first = await register(client, "Ila")
    second = await register(client, "Tomas")
    again = await register(client, "ILA")

    assert (first.status_code, first.json()["is_admin"]) == (201, True)
    assert (second.status_code, second.json()["is_admin"]) == (201, False)
    assert again.status_code == 409 and "taken" in again.json()["message"]
    assert "password_hash" not in first.json()


@pytest.mark.parametrize(
    ("password", "says"),
    [("short", "at least 8"), ("password1", "most common"), ("Mirabelle", "the username")],
)
async def test_a_weak_password_is_refused_saying_why(
    client: httpx.AsyncClient, password: str, says: str
) -> None:
    response = await register(client, "mirabelle", password)
    assert response.status_code == 422 and says in response.json()["message"]


async def test_signing_in_with_json_or_a_form_gives_a_bearer_token(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await register(client, "ila")
    form = await client.post("/auth/login", data={"username": "ILA", "password": PASSWORD})
    token = await login(client, "ila")

    assert form.status_code == 200, form.text
    body = form.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.auth_token_minutes * 60
    me = await client.get("/auth/me", headers=bearer(token))
    assert (me.status_code, me.json()["username"]) == (200, "ila")
    anonymous = await client.get("/auth/me")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    wrong = await client.post("/auth/login", json={"username": "ila", "password": "nope"})
    unknown = await client.post("/auth/login", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"], "no hint which was wrong"


def forged(settings: Settings, token: str, how: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    if how == "expired":
        claims["exp"] = datetime.now(UTC) - timedelta(seconds=1)
        return jwt.encode(claims, tokens.signing_key(settings), algorithm="HS256")
    if how == "tampered":
        head, body, signature = token.split(".")
        return (
            f"{head}.{body}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"
        )
    if how == "alg-none":
        return jwt.encode(claims, key=None, algorithm="none")
    if how == "other-key":
        return jwt.encode(claims, "another-key-of-32-bytes-at-least!!", algorithm="HS256")
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["expired", "tampered", "alg-none", "other-key"])
async def test_a_forged_or_expired_token_is_refused(
    client: httpx.AsyncClient, settings: Settings, how: str
) -> None:
    await register(client, "ila")
    token = await login(client, "ila")

    response = await client.get("/auth/me", headers=bearer(forged(settings, token, how)))

    assert response.status_code == 401, response.text
    assert ("expired" if how == "expired" else "not valid") in response.json()["message"]


async def test_logout_revokes_the_token_at_once(client: httpx.AsyncClient) -> None:
    headers = await player(client, "ila")
    other = bearer(await login(client, "ila"))

    assert (await client.post("/auth/logout", headers=headers)).status_code == 204

    assert (await client.get("/auth/me", headers=headers)).status_code == 401
    assert (await client.get("/auth/me", headers=other)).status_code == 200, "only this sign-in"


async def test_changing_the_password_ends_every_sign_in(client: httpx.AsyncClient) -> None:
    headers = await player(client, "ila")
    elsewhere = bearer(await login(client, "ila"))
    wrong = await client.post(
        "/auth/change-password",
        json={"current_password": "not-it", "new_password": "gondolas-at-dawn"},
        headers=headers,
    )
    assert wrong.status_code == 403

    changed = await client.post(
        "/auth/change-password",
        json={"current_password": PASSWORD, "new_password": "gondolas-at-dawn"},
        headers=headers,
    )

    assert changed.status_code == 200, changed.text
    for old in (headers, elsewhere):
        assert (await client.get("/auth/me", headers=old)).status_code == 401
    fresh = bearer(changed.json()["access_token"])
    assert (await client.get("/auth/me", headers=fresh)).status_code == 200
    assert (
        await client.post("/auth/login", json={"username": "ila", "password": PASSWORD})
    ).status_code == 401
    assert await login(client, "ila", "gondolas-at-dawn")


async def test_wrong_passwords_in_a_row_lock_the_account_each_time_longer(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Brute force: after AUTH_MAX_FAILED_LOGINS wrong passwords even the right one is refused
    (429 with Retry-After) until the lockout ends; the next lockout lasts twice as long."""
    await register(client, "ila")
    guess = {"username": "ila", "password": "guess-0000"}
    answers = [
        (await client.post("/auth/login", json=guess)).status_code
        for _ in range(settings.auth_max_failed_logins)
    ]
    assert answers == [401] * (settings.auth_max_failed_logins - 1) + [429]

    locked = await client.post("/auth/login", json={"username": "ila", "password": PASSWORD})
    assert locked.status_code == 429 and locked.headers["retry-after"] == "1"
    await asyncio.sleep(1.1)
    assert await login(client, "ila"), "the right password works once the lockout is over"

    for _ in range(settings.auth_max_failed_logins):
        await client.post("/auth/login", json=guess)
    for _ in range(settings.auth_max_failed_logins):
        second = await client.post("/auth/login", json=guess)
    assert second.status_code == 429


async def test_too_many_attempts_from_one_address_are_slowed_down(
    client: httpx.AsyncClient,
) -> None:
    answers = [
        (await client.post("/auth/login", json={"username": f"u{n}", "password": "x"})).status_code
        for n in range(21)
    ]
    assert answers[:20] == [401] * 20
    assert answers[20] == 429


async def test_registration_closed_leaves_it_to_admins(
    client: httpx.AsyncClient, services: Services
) -> None:
    admin = await player(client, "ila")
    services.settings.luna_registration = "closed"

    refused = await register(client, "tomas")
    made = await register(client, "tomas", headers=admin)

    assert refused.status_code == 403 and "closed" in refused.json()["message"]
    assert made.status_code == 201


async def test_registration_by_invitation_takes_each_code_once(
    client: httpx.AsyncClient, services: Services
) -> None:
    admin = await player(client, "ila")
    services.settings.luna_registration = "invite"
    invite = await client.post("/auth/invites", headers=admin)
    assert invite.status_code == 201, invite.text
    code = invite.json()["code"]

    without = await register(client, "tomas")
    made = await register(client, "tomas", body={"invite_code": code})
    reused = await register(client, "mira", body={"invite_code": code})

    assert without.status_code == 403 and "invite code" in without.json()["message"]
    assert made.status_code == 201
    assert reused.status_code == 403 and "used" in reused.json()["message"]


async def test_admins_list_and_disable_accounts(client: httpx.AsyncClient) -> None:
    admin = await player(client, "ila")
    tomas = await player(client, "tomas")
    users = (await client.get("/admin/users", headers=admin)).json()
    tomas_id = next(u["id"] for u in users if u["username"] == "tomas")

    assert (await client.get("/admin/users", headers=tomas)).status_code == 403
    disabled = await client.patch(
        f"/admin/users/{tomas_id}", json={"disabled": True}, headers=admin
    )
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True

    assert (await client.get("/auth/me", headers=tomas)).status_code == 401
    again = await client.post("/auth/login", json={"username": "tomas", "password": PASSWORD})
    assert again.status_code == 403 and "disabled" in again.json()["message"]
    me = (await client.get("/auth/me", headers=admin)).json()
    itself = await client.patch(f"/admin/users/{me['id']}", json={"disabled": True}, headers=admin)
    assert itself.status_code == 409


async def test_a_bcrypt_hash_is_upgraded_to_argon2id_on_sign_in(
    client: httpx.AsyncClient, services: Services
) -> None:
    await register(client, "ila")
    async with services.db.transaction() as session:
        user = await session.scalar(select(User).where(User.username_key == "ila"))
        assert user is not None
        user.password_hash = BcryptHasher().hash(PASSWORD)

    assert await login(client, "ila")

    async with services.db.sessions() as session:
        stored = await session.scalar(select(User.password_hash).where(User.username_key == "ila"))
    assert stored is not None and stored.startswith("$argon2id$")


def test_single_player_mode_refuses_any_address_but_loopback(settings: Settings) -> None:
    local = settings.model_copy(update={"luna_auth": "local", "luna_host": "0.0.0.0"})
    with pytest.raises(ConfigurationError, match="LUNA_AUTH=required"):
        create_app(local)
    create_app(settings.model_copy(update={"luna_host": "0.0.0.0"}))  # logins required: fine
    create_app(settings.model_copy(update={"luna_auth": "local", "luna_host": "::1"}))


async def test_without_logins_required_a_request_is_the_local_player(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.settings.luna_auth = "local"
    me = await client.get("/auth/me")
    assert (me.status_code, me.json()["username"], me.json()["is_admin"]) == (200, "local", True)


async def test_turns_per_minute_are_limited_per_player(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.settings.turns_per_minute = 2
    ila = await player(client, "ila")
    story = (await client.post("/stories", json={"title": "T", "premise": "P"}, headers=ila)).json()
    turn = {"story_id": story["id"], "user_action": "I wait."}
    answers = [await client.post("/narrate/turn", json=turn, headers=ila) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["retry-after"]) >= 1


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def app_client(settings: Settings, services: Services, **changes: Any) -> httpx.AsyncClient:
    app = create_app(settings.model_copy(update=changes))
    app.state.services = services
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://luna.test")


async def test_a_body_over_the_limit_is_refused_before_it_is_read(
    settings: Settings, services: Services
) -> None:
    async with app_client(settings, services, luna_max_request_mb=0.001) as small:
        response = await small.post("/auth/login", content=b"x" * 2000)
        chunked = await small.post("/auth/login", content=chunks(b"x" * 700, b"x" * 700))

    assert response.status_code == chunked.status_code == 413
    assert "LUNA_MAX_REQUEST_MB" in response.json()["message"]


async def test_answers_carry_security_headers_and_cors_is_an_allow_list(
    client: httpx.AsyncClient, settings: Settings, services: Services
) -> None:
    answer = await client.get("/health")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert (
        "access-control-allow-origin"
        not in (await client.get("/health", headers={"Origin": "https://evil.example"})).headers
    )
    allowed = create_app(
        settings.model_copy(update={"luna_cors_origins": ["https://play.example"]})
    )
    allowed.state.services = client._transport.app.state.services  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=allowed)
    async with httpx.AsyncClient(transport=transport, base_url="http://luna.test") as web:
        ok = await web.get("/health", headers={"Origin": "https://play.example"})
        other = await web.get("/health", headers={"Origin": "https://evil.example"})
    assert ok.headers["access-control-allow-origin"] == "https://play.example"
    assert "access-control-allow-origin" not in other.headers


async def test_a_stream_opens_with_a_short_lived_token_in_its_url(
    client: httpx.AsyncClient,
) -> None:
    """An EventSource cannot send headers: the URL takes a stream token (a minute long, of
    the same sign-in), and only that; the header takes only access tokens."""
    headers = await player(client, "ila")
    story = (
        await client.post("/stories", json={"title": "T", "premise": "P"}, headers=headers)
    ).json()
    made = await client.post("/auth/stream-token", headers=headers)
    assert (made.status_code, made.json()["expires_in"]) == (200, 60)
    stream_token = made.json()["access_token"]
    url = f"/narrates/stories/{story['id']}/generate"

    opened = await client.get(url, params={"action": "I wait.", "access_token": stream_token})
    access_in_url = await client.get(
        url, params={"action": "I wait.", "access_token": headers["Authorization"][7:]}
    )
    stream_in_header = await client.get("/auth/me", headers=bearer(stream_token))

    assert opened.status_code == 200 and "event: done" in opened.text
    assert access_in_url.status_code == stream_in_header.status_code == 401
    assert "stream token" in access_in_url.json()["message"]
    await client.post("/auth/logout", headers=headers)
    ended = await client.get(url, params={"action": "Again.", "access_token": stream_token})
    assert ended.status_code == 401, "the sign-in it belongs to is over"


async def test_only_an_admin_puts_an_agent_on_another_model(client: httpx.AsyncClient) -> None:
    """Another model may spend the admin's API keys: a player's turn takes the configured ones."""
    admin = await player(client, "ila")
    tomas = await player(client, "tomas")
    answers = {}
    for name, headers in (("admin", admin), ("player", tomas)):
        story = (
            await client.post("/stories", json={"title": "T", "premise": "P"}, headers=headers)
        ).json()
        turn = {"story_id": story["id"], "user_action": "I wait.", "writer_model_override": "test"}
        answers[name] = await client.post("/narrate/turn", json=turn, headers=headers)
        plain = {"story_id": story["id"], "user_action": "I wait."}
        assert (await client.post("/narrate/turn", json=plain, headers=headers)).status_code == 200
        stream = await client.get(
            f"/narrates/stories/{story['id']}/generate",
            params={"action": "Again.", "writer_model_override": "test"},
            headers=headers,
        )
        answers[f"{name} stream"] = stream

    assert answers["admin"].status_code == answers["admin stream"].status_code == 200
    assert answers["player"].status_code == answers["player stream"].status_code == 403
    assert (
        "writer" in answers["player"].json()["message"]
        or "override" in answers["player"].json()["message"]
    )
