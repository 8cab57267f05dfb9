"""Bodies of the account routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=40, pattern=r"^[\w.-]+$"),
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username = Field(description="3–40 letters, digits, '_', '.' or '-'; any case.")
    password: Password
    email: (
        Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None
    invite_code: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Needed when LUNA_REGISTRATION=invite."
    )


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
    password: Password


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the token lasts.")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    email: str | None
    is_admin: bool
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disabled: bool | None = None
    is_admin: bool | None = None


class InviteOut(BaseModel):
    code: str = Field(description="Shown once: give it to the person you invite.")
    expires_at: datetime
