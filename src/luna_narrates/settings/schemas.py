"""What GET /settings shows and PUT /settings takes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Source = Literal["environment", ".env file", "command line", "stored", "default"]


class SettingOut(BaseModel):
    name: str = Field(description="The setting's name in the API (its variable, lower-case).")
    variable: str = Field(description="The environment variable that sets it.")
    value: Any = Field(description="The effective value; secrets show only whether they are set.")
    source: Source = Field(description="Where the effective value comes from.")
    locked: bool = Field(
        description="Set in the environment, `.env` or on the command line: the environment "
        "wins, so the API cannot change it."
    )
    editable: bool = Field(
        description="Changeable through PUT /settings (the rest need a restart: the database, "
        "the address, the embedded model's context, and secrets, which live only in the "
        "environment)."
    )
    description: str | None = None
    value_schema: dict[str, Any] = Field(
        default_factory=dict,
        description="The value's JSON Schema (type, minimum, maximum, enum, items), for a form.",
    )
    updated_at: datetime | None = Field(
        default=None, description="When the stored value was last changed."
    )
    shadowed: Any = Field(
        default=None,
        description="A stored value the environment overrides, shown so nothing is hidden.",
    )


class SettingsOut(BaseModel):
    revision: int = Field(description="Bumped by every change; each process reloads on a change.")
    settings: list[SettingOut]
