"""Accounts: registering (the first account is the admin), signing in with a lockout that
doubles, signing out, changing a password (which ends every sign-in), who a token is, and the
admins' user management and invitations.

Signing in keeps its own transactions: a wrong password is counted even though the request
fails.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.accounts import passwords, tokens
from luna_narrates.accounts.errors import Forbidden, TooManyAttempts, Unauthorized
from luna_narrates.accounts.schemas import (
    Credentials,
    InviteOut,
    Registration,
    Token,
    UserOut,
    UserUpdate,
)
from luna_narrates.config import Settings
from luna_narrates.db.engine import Database
from luna_narrates.db.tables import LOCAL_OWNER_ID, AuthSession, Invite, User
from luna_narrates.errors import Conflict, InvalidInput, LunaError, NotFound

INVITE_DAYS = 7
STREAM_SECONDS = 60
REGISTRATION_LOCK = 0x4C554E41_5245  # "LUNARE": one registration at a time (who is first)
WRONG = "The username or the password is wrong."


@dataclass(frozen=True)
class Principal:
    """Who a request is. `session_id` None: the local player, without signing in."""

    user_id: uuid.UUID
    is_admin: bool
    session_id: uuid.UUID | None = None


LOCAL = Principal(LOCAL_OWNER_ID, is_admin=True)


async def register(
    session: AsyncSession, settings: Settings, data: Registration, by: Principal | None
) -> UserOut:
    """The first account is open to anyone and is the admin; after it, LUNA_REGISTRATION
    says who may register (an admin always may, for someone else)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REGISTRATION_LOCK})
    first = not await session.scalar(
        select(func.count()).select_from(User).where(User.id != LOCAL_OWNER_ID)
    )
    by_admin = by is not None and by.is_admin and by.session_id is not None
    invite = None
    if not first and not by_admin:
        if settings.luna_registration == "closed":
            raise Forbidden("Registration is closed: an admin creates accounts.")
        if settings.luna_registration == "invite":
            invite = await _usable_invite(session, data.invite_code)
    if problem := passwords.problem(data.password, data.username):
        raise InvalidInput(problem, field="password")
    user = User(
        username=data.username,
        username_key=data.username.lower(),
        email=data.email,
        password_hash=passwords.hashed(data.password),
        is_admin=first,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"The username {data.username!r} is taken.", field="username") from None
    if invite is not None:
        invite.used_by = user.id
    return UserOut.model_validate(user)


async def login(db: Database, settings: Settings, data: Credentials) -> Token:
    now = datetime.now(UTC)
    async with db.transaction() as session:
        user = await session.scalar(
            select(User).where(User.username_key == data.username.lower()).with_for_update()
        )
        if user is not None and user.locked_until is not None and user.locked_until > now:
            raise _locked(user, now)
        ok, upgraded = passwords.verify(data.password, user.password_hash if user else None)
        if user is None:
            raise Unauthorized(WRONG)
        if not ok:
            user.failed_logins += 1
            if user.failed_logins >= settings.auth_max_failed_logins:
                user.lockouts += 1
                seconds = settings.auth_lockout_seconds * 2 ** (user.lockouts - 1)
                user.locked_until, user.failed_logins = now + timedelta(seconds=seconds), 0
            failed = user.locked_until is not None and user.locked_until > now
            error: LunaError | None = _locked(user, now) if failed else Unauthorized(WRONG)
        elif user.disabled:
            error = Forbidden("This account is disabled; ask an admin.")
        else:
            error = None
            user.failed_logins = user.lockouts = 0
            user.locked_until, user.last_login_at = None, now
            if upgraded is not None:
                user.password_hash = upgraded
            token = await _sign_in(session, settings, user.id, now)
    if error is not None:
        raise error  # after the commit: the failure is counted
    return token


async def authenticate(
    session: AsyncSession, settings: Settings, token: str, *, in_query: bool = False
) -> Principal:
    """Who a token is. A token in a URL's query must be a stream token (short-lived, made for
    that), and a stream token is good nowhere else: URLs end up in logs."""
    claims = tokens.read(tokens.signing_key(settings), token)
    if in_query != (claims.use == tokens.STREAM):
        where = "in a URL" if in_query else "in the Authorization header"
        raise Unauthorized(
            f"This token is not for use {where}; a URL takes a stream token "
            "(POST /auth/stream-token), the header an access token."
        )
    found = (
        await session.execute(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.id == claims.session_id, User.id == claims.user_id)
        )
    ).one_or_none()
    if found is None:
        raise Unauthorized("This sign-in does not exist; log in again.")
    sign_in, user = found
    if sign_in.revoked_at is not None or sign_in.expires_at <= datetime.now(UTC):
        raise Unauthorized("This sign-in has ended; log in again.")
    if user.disabled:
        raise Unauthorized("This account is disabled; ask an admin.")
    return Principal(user.id, user.is_admin, sign_in.id)


def stream_token(settings: Settings, principal: Principal) -> Token:
    """A token for a URL's query (an EventSource cannot send headers), of the same sign-in,
    good for `STREAM_SECONDS`: enough to open the stream."""
    if principal.session_id is None:
        raise Forbidden("The local player needs no token; register an account to get one.")
    claims = tokens.Claims(principal.user_id, principal.session_id, tokens.STREAM)
    expires = datetime.now(UTC) + timedelta(seconds=STREAM_SECONDS)
    token = tokens.issue(tokens.signing_key(settings), claims, expires)
    return Token(access_token=token, expires_in=STREAM_SECONDS)


async def logout(session: AsyncSession, principal: Principal) -> None:
    if principal.session_id is not None:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == principal.session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )


async def change_password(
    session: AsyncSession, settings: Settings, principal: Principal, current: str, new: str
) -> Token:
    """Ends every sign-in of the account, this one too; answers a fresh token."""
    user = await _signed_in_user(session, principal)
    ok, _ = passwords.verify(current, user.password_hash)
    if not ok:
        raise Forbidden("The current password is wrong.")
    if problem := passwords.problem(new, user.username):
        raise InvalidInput(problem, field="new_password")
    user.password_hash = passwords.hashed(new)
    await _revoke_all(session, user.id)
    return await _sign_in(session, settings, user.id, datetime.now(UTC))


async def me(session: AsyncSession, principal: Principal) -> UserOut:
    user = await session.get(User, principal.user_id)
    assert user is not None  # authenticate read it; an account is never deleted
    return UserOut.model_validate(user)


async def list_users(session: AsyncSession) -> list[UserOut]:
    users = await session.scalars(select(User).order_by(User.created_at, User.username_key))
    return [UserOut.model_validate(user) for user in users]


async def update_user(
    session: AsyncSession, user_id: uuid.UUID, data: UserUpdate, by: Principal
) -> UserOut:
    """Disabling an account ends its sign-ins. An admin cannot disable or demote themself, so
    an admin always remains."""
    user = await session.get(User, user_id)
    if user is None or user.id == LOCAL_OWNER_ID:
        raise NotFound(f"No user {user_id}.", user_id=str(user_id))
    if user.id == by.user_id and (data.disabled or data.is_admin is False):
        raise Conflict("You cannot disable or demote yourself; another admin can.")
    if data.disabled is not None:
        user.disabled = data.disabled
        if data.disabled:
            await _revoke_all(session, user.id)
    if data.is_admin is not None:
        user.is_admin = data.is_admin
    return UserOut.model_validate(user)


async def create_invite(session: AsyncSession, by: Principal) -> InviteOut:
    code = secrets.token_urlsafe(24)
    expires = datetime.now(UTC) + timedelta(days=INVITE_DAYS)
    session.add(Invite(code_hash=_digest(code), created_by=by.user_id, expires_at=expires))
    return InviteOut(code=code, expires_at=expires)


async def _usable_invite(session: AsyncSession, code: str | None) -> Invite:
    if not code:
        raise Forbidden("Registration is by invitation: an invite code is needed.")
    invite = await session.scalar(
        select(Invite).where(Invite.code_hash == _digest(code)).with_for_update()
    )
    if invite is None or invite.used_by is not None or invite.expires_at <= datetime.now(UTC):
        raise Forbidden("The invite code is unknown, used or expired.")
    return invite


async def _sign_in(
    session: AsyncSession, settings: Settings, user_id: uuid.UUID, now: datetime
) -> Token:
    lasts = timedelta(minutes=settings.auth_token_minutes)
    sign_in = AuthSession(id=uuid.uuid4(), user_id=user_id, expires_at=now + lasts)
    session.add(sign_in)
    key = tokens.signing_key(settings)
    token = tokens.issue(key, tokens.Claims(user_id, sign_in.id), now + lasts)
    return Token(access_token=token, expires_in=int(lasts.total_seconds()))


async def _signed_in_user(session: AsyncSession, principal: Principal) -> User:
    user = await session.get(User, principal.user_id)
    if principal.session_id is None or user is None or user.password_hash is None:
        raise Forbidden("The local player has no password; register an account.")
    return user


async def _revoke_all(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


def _locked(user: User, now: datetime) -> TooManyAttempts:
    assert user.locked_until is not None
    return TooManyAttempts(
        "Too many wrong passwords: this account is locked for a while.",
        (user.locked_until - now).total_seconds(),
    )


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
