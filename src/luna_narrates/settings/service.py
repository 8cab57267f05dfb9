"""Stored settings with hot reload, and an explicit precedence: a value set in the environment
(or `.env`, or on the command line) wins and is locked; a stored value comes next; then the
built-in default.

Every process holds one Settings object that everything reads at the moment it needs a value.
Before a turn, a job or a request, `refresh` reads the settings revision (one indexed read of a
sequence); when another process changed the settings, it reads the rows and applies them to
that object, so the next turn runs on them without a restart.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import SecretStr, TypeAdapter, ValidationError

from luna_narrates.config import (
    DEFAULT,
    ROLES,
    Settings,
    environment_sources,
)
from luna_narrates.db.engine import Database
from luna_narrates.db.health import mask_database_url
from luna_narrates.errors import Conflict, InvalidInput, problems
from luna_narrates.llm.registry import ModelRegistry
from luna_narrates.settings import repository
from luna_narrates.settings.schemas import SettingOut, SettingsOut

log = logging.getLogger("luna_narrates")

COMMAND_LINE, STORED = "command line", "stored"
MODELS = tuple(f"{role}_model" for role in ROLES)
FALLBACKS = tuple(f"{role}_fallbacks" for role in ROLES)
# What may change while the server runs. The rest is read once at start-up (the database,
# the address, the worker, the embedded model's context and threads, the turn lock's wait) or
# is a secret, which lives only in the environment and is never stored or returned.
EDITABLE = frozenset(
    {
        *MODELS,
        *FALLBACKS,
        "model_max_retries",
        "model_timeout_seconds",
        "briefing_token_budget",
        "writer_target_tokens",
        "recent_turns_window",
        "arc_length_turns",
        "luna_upload_max_mb",
        "openai_compatible_base_url",
        "ollama_base_url",
        "anthropic_base_url",
        "images_enabled",
        "image_width",
        "image_height",
        "image_steps",
        "image_cfg",
        "image_checkpoint",
        "image_negative_prompt",
        "image_background_prompt",
        "image_action_prompt",
        "image_portrait_prompt",
        "image_cache_duration_turns",
        "image_action_every_n_turns",
        "image_action_variants",
        "image_portrait_change_keywords",
        "image_timeout_seconds",
        "image_stream_wait_seconds",
        "dreamer_continuous_generation",
        "dreamer_ideas_per_dream",
        "dreamer_speculative_pool_size",
        "dreamer_asset_expiry_days",
        "dreamer_variants_per_concept",
        "dreamer_confidence_threshold",
        "dreamer_idle_interval_seconds",
        "dreamer_idle_stop_seconds",
    }
)


@dataclass(frozen=True)
class Stored:
    value: Any
    updated_at: datetime


class SettingsStore:
    """The process's view of the stored settings, applied to its one Settings object."""

    def __init__(self, settings: Settings, db: Database, registry: ModelRegistry) -> None:
        self.settings = settings
        self.db = db
        self.registry = registry
        environment = environment_sources()
        # Whatever was set before the store existed is the environment's, and wins.
        self.locked = {
            name: environment.get(name, COMMAND_LINE) for name in settings.model_fields_set
        }
        self.revision = -1
        self.stored: dict[str, Stored] = {}
        self._applied: set[str] = set()
        self._reading = asyncio.Lock()

    async def refresh(self) -> None:
        """Applies the stored settings if another process (or none yet) has changed them."""
        async with self.db.sessions() as session:
            if await repository.revision(session) == self.revision:
                return
        async with self._reading:
            async with self.db.sessions() as session:
                revision, rows = await repository.read_all(session)
            if revision != self.revision:
                self._apply({row.name: Stored(row.value, row.updated_at) for row in rows})
                self.revision = revision

    async def update(self, changes: dict[str, Any]) -> SettingsOut:
        """Checks every change first (422 for an unknown or invalid one, 409 for a locked one),
        then stores them all in one transaction; `null` forgets a stored value. The caller has
        refreshed the store (every HTTP request does)."""
        unknown = sorted(set(changes) - set(Settings.model_fields))
        if unknown:
            raise InvalidInput(f"Unknown settings: {', '.join(unknown)}.", settings=unknown)
        locked = sorted(name for name in changes if name in self.locked)
        if locked:
            where = ", ".join(f"{name.upper()} ({self.locked[name]})" for name in locked)
            raise Conflict(
                f"Set outside the stored settings, which the environment overrides: {where}. "
                "Change or unset it there and restart; the API cannot override it.",
                settings=locked,
            )
        fixed = sorted(set(changes) - EDITABLE)
        if fixed:
            raise InvalidInput(
                f"Not changeable while the server runs: {', '.join(fixed)}. Set them in the "
                "environment or `.env` and restart.",
                settings=fixed,
            )
        checked = self._check({k: v for k, v in changes.items() if v is not None})
        stored = {name: _json(value) for name, value in checked.items()}
        removed = {name for name, value in changes.items() if value is None}
        async with self.db.transaction() as session:
            await repository.write(session, stored, removed)
        await self.refresh()
        return self.show()

    def _check(self, changes: dict[str, Any]) -> dict[str, Any]:
        """The changes as Settings would hold them, validated together with the rest."""
        current = {name: getattr(self.settings, name) for name in Settings.model_fields}
        try:
            candidate = Settings.model_validate({**current, **changes})
        except ValidationError as error:
            found = problems(error.errors())
            raise InvalidInput(f"Invalid settings: {'; '.join(found)}.", errors=found) from None
        for name in changes:
            if name in MODELS or name in FALLBACKS:
                value = getattr(candidate, name)
                for spec in [value] if isinstance(value, str) else value or []:
                    self.registry.spec(spec)  # 422 naming the known providers
        return {name: getattr(candidate, name) for name in changes}

    def _apply(self, stored: dict[str, Stored]) -> None:
        usable: dict[str, Any] = {}
        for name, row in stored.items():
            if name in self.locked or name not in EDITABLE:
                continue
            try:
                usable[name] = self._check({name: row.value})[name]
            except (InvalidInput, ValidationError) as error:
                log.warning("stored setting %s ignored: %s", name, error)
        for name in self._applied - set(usable):
            setattr(self.settings, name, _default(name))
        for name, value in usable.items():
            setattr(self.settings, name, value)
        self._applied = set(usable)
        self.stored = stored

    def source(self, name: str) -> str:
        if name in self.locked:
            return self.locked[name]
        return STORED if name in self._applied else DEFAULT

    def show(self) -> SettingsOut:
        """Every setting with its effective value and where it came from."""
        entries = []
        for name, field in Settings.model_fields.items():
            stored = self.stored.get(name)
            locked = name in self.locked
            entries.append(
                SettingOut(
                    name=name,
                    variable=name.upper(),
                    value=_shown(name, getattr(self.settings, name)),
                    source=self.source(name),
                    locked=locked,
                    editable=name in EDITABLE and not locked,
                    description=field.description,
                    value_schema=value_schemas().get(name, {}),
                    updated_at=stored.updated_at if stored else None,
                    shadowed=stored.value if stored and locked else None,
                )
            )
        return SettingsOut(revision=max(self.revision, 0), settings=entries)


@cache
def value_schemas() -> dict[str, dict[str, Any]]:
    """Each setting's JSON Schema for a form: without its title, its description (shown
    beside it) and its default (a secret's default is shown nowhere)."""

    properties = Settings.model_json_schema()["properties"]
    return {
        name: {
            key: value
            for key, value in schema.items()
            if key not in ("title", "default", "description")
        }
        for name, schema in properties.items()
    }


def _default(name: str) -> Any:
    return Settings.model_fields[name].get_default(call_default_factory=True)


def _json(value: Any) -> Any:
    return TypeAdapter(Any).dump_python(value, mode="json")


def _shown(name: str, value: Any) -> Any:
    """Secrets say only whether they are set, a database URL hides its password."""
    if isinstance(value, SecretStr):
        return "(set)" if value.get_secret_value() else None
    if name == "database_url" and value:
        return mask_database_url(str(value))
    return _json(value)
