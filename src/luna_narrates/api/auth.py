"""/auth: register, log in (JSON or form), log out, change the password, who am I; admins'
invitations and /admin/users."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status
from fastapi.responses import Response
from limits import RateLimitItemPerMinute
from pydantic import ValidationError

from luna_narrates.accounts import service
from luna_narrates.accounts.schemas import (
    Credentials,
    InviteOut,
    PasswordChange,
    Registration,
    Token,
    UserOut,
    UserUpdate,
)
from luna_narrates.api.access import PrincipalDep, bearer_token, within
from luna_narrates.api.deps import ServicesDep, SessionDep
from luna_narrates.errors import InvalidInput, problems

router = APIRouter(prefix="/auth", tags=["accounts"])
admin_router = APIRouter(prefix="/admin", tags=["accounts"])

# Signing in and registering, per client address, whichever account is tried (an account's own
# lockout is in the database).
PER_ADDRESS = RateLimitItemPerMinute(20)
FORM = "application/x-www-form-urlencoded"


async def slow_down(request: Request, action: str) -> None:
    address = request.client.host if request.client else "unknown"
    await within(
        request, PER_ADDRESS, f"Too many {action} attempts from your address", action, address
    )


@router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(request: Request, data: Registration, services: ServicesDep) -> UserOut:
    """The first account is the admin. Afterwards `LUNA_REGISTRATION` decides: open, closed
    (an admin signed in creates accounts) or invite (with an admin's `invite_code`)."""
    await slow_down(request, "register")
    by = await _optional_principal(request, services)
    async with services.db.transaction() as session:
        return await service.register(session, services.settings, data, by)


@router.post(
    "/login",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": Credentials.model_json_schema()},
                FORM: {"schema": Credentials.model_json_schema()},
            },
            "required": True,
        }
    },
)
async def login(request: Request, services: ServicesDep) -> Token:
    """JSON `{username, password}` or an OAuth2 password form. Wrong passwords in a row lock
    the account, longer each time (429 with `Retry-After`)."""
    await slow_down(request, "login")
    data = await _credentials(request)
    return await service.login(services.db, services.settings, data)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(who: PrincipalDep, session: SessionDep) -> Response:
    """Ends this sign-in: its token is refused from now on."""
    await service.logout(session, who)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/change-password")
async def change_password(
    data: PasswordChange, who: PrincipalDep, session: SessionDep, services: ServicesDep
) -> Token:
    """Ends every sign-in of the account, this one included; answers a new token."""
    return await service.change_password(
        session, services.settings, who, data.current_password, data.new_password
    )


@router.post("/stream-token")
async def stream_token(who: PrincipalDep, services: ServicesDep) -> Token:
    """A token of this sign-in for a URL's query, `?access_token=`, good for a minute: an
    EventSource (the turn stream) cannot send the Authorization header."""
    return service.stream_token(services.settings, who)


@router.get("/me")
async def me(who: PrincipalDep, session: SessionDep) -> UserOut:
    return await service.me(session, who)


@router.post("/invites", status_code=status.HTTP_201_CREATED)
async def invite(who: PrincipalDep, session: SessionDep) -> InviteOut:
    """A code that opens one account within a week (`LUNA_REGISTRATION=invite`)."""
    return await service.create_invite(session, who)


@admin_router.get("/users")
async def list_users(session: SessionDep) -> list[UserOut]:
    return await service.list_users(session)


@admin_router.patch("/users/{user_id}")
async def update_user(
    user_id: uuid.UUID, data: UserUpdate, who: PrincipalDep, session: SessionDep
) -> UserOut:
    """Disable an account (its sign-ins end) or make it an admin."""
    return await service.update_user(session, user_id, data, who)


async def _credentials(request: Request) -> Credentials:
    try:
        if request.headers.get("content-type", "").startswith(FORM):
            form = await request.form()
            return Credentials.model_validate(
                {"username": form.get("username"), "password": form.get("password")}
            )
        return Credentials.model_validate_json(await request.body())
    except ValidationError as error:
        raise InvalidInput("; ".join(problems(error.errors()))) from None


async def _optional_principal(request: Request, services: ServicesDep) -> service.Principal | None:
    """Who registers someone: an admin signed in may whatever the registration setting."""
    if not (token := bearer_token(request)):
        return None
    async with services.db.sessions() as session:
        return await service.authenticate(session, services.settings, token)
