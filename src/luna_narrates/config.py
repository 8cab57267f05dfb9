"""The one settings object: environment and `.env` first, then built-in defaults."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    NoDecode,
    SettingsConfigDict,
)

AgentName = Literal["preprocessor", "strategist", "writer"]
AGENTS: tuple[AgentName, ...] = ("preprocessor", "strategist", "writer")
# Every agent that calls a model: the turn's three, and the memory jobs' two.
ModelRole = Literal["preprocessor", "strategist", "writer", "summariser", "extractor", "dreamer"]
ROLES: tuple[ModelRole, ...] = (*AGENTS, "summariser", "extractor", "dreamer")
# The roles that work in the background: with no model of their own, the Preprocessor's chain.
BACKGROUND_ROLES = ("summariser", "extractor", "dreamer")

# A comma-separated list in the environment (`a:b, c:d`), a list in JSON and in the API.
ModelList = Annotated[list[str], NoDecode]


class ImageWorkerConfig(BaseModel):
    """One GPU worker of the image pool, as `LUNA_IMAGE_WORKERS` lists it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    api_type: Literal["comfyui", "automatic1111"]
    api_url: str = Field(min_length=1, max_length=500, pattern=r"^https?://")
    max_concurrent: int = Field(default=1, ge=1, le=64)
    priority: int = Field(default=0, ge=-1000, le=1000, description="Lower goes first on a tie.")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("luna-narrates", appauthor=False))


class Settings(BaseSettings):
    """Every variable is documented in `.env.example`; `luna doctor` prints the effective values."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="postgresql://… of a PostgreSQL ≥ 16 with pgvector; unset = embedded.",
    )
    luna_data_dir: Path = Field(default_factory=default_data_dir)
    luna_host: str = "127.0.0.1"
    luna_port: int = Field(default=8001, ge=1, le=65535)
    luna_log_level: str = "info"
    luna_run_worker: bool = Field(
        default=True, description="Run the background-job worker inside `luna serve`."
    )

    preprocessor_model: str = "local:smollm2"
    strategist_model: str = "local:smollm2"
    writer_model: str = "local:smollm2"
    summariser_model: str | None = Field(
        default=None, description="Writes the arc summaries; unset = the Preprocessor's model."
    )
    dreamer_model: str | None = Field(
        default=None,
        description="Invents what the story may need next; unset = the Preprocessor's model.",
    )
    extractor_model: str | None = Field(
        default=None,
        description="Writes down each turn (summary, entities, facts); unset = the Preprocessor's.",
    )
    preprocessor_fallbacks: ModelList = Field(default_factory=list)
    strategist_fallbacks: ModelList = Field(default_factory=list)
    writer_fallbacks: ModelList = Field(default_factory=list)
    summariser_fallbacks: ModelList = Field(default_factory=list)
    extractor_fallbacks: ModelList = Field(default_factory=list)
    dreamer_fallbacks: ModelList = Field(default_factory=list)
    model_max_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Retries of a rate-limited or failing request (429, 5xx) on the same model.",
    )

    briefing_token_budget: int = Field(default=400, ge=50, le=32_000)
    writer_target_tokens: int = Field(default=700, ge=50, le=8_000)
    recent_turns_window: int = Field(default=3, ge=0, le=50)
    arc_length_turns: int = Field(
        default=10, ge=2, le=1000, description="An arc summary is written every this many turns."
    )
    model_timeout_seconds: float = Field(default=120.0, gt=0)
    turn_wait_seconds: float = Field(
        default=300.0, gt=0, description="How long a turn waits for another turn of its story."
    )

    images_enabled: bool = Field(
        default=True,
        description="Render each turn's images (a placeholder renderer when no worker is set).",
    )
    luna_image_workers: list[ImageWorkerConfig] = Field(
        default_factory=list,
        description="JSON list of GPU workers: name, api_type (comfyui or automatic1111), "
        "api_url, max_concurrent, priority.",
    )
    image_width: int = Field(default=768, ge=64, le=2048)
    image_height: int = Field(default=512, ge=64, le=2048)
    image_steps: int = Field(default=20, ge=1, le=150)
    image_cfg: float = Field(default=7.0, ge=0, le=30)
    image_checkpoint: str | None = Field(
        default=None, description="The model file the workers draw with; unset = their own."
    )
    image_negative_prompt: str = Field(
        default="blurry, low quality, text, watermark, deformed", max_length=2000
    )
    image_background_prompt: str = Field(
        default="{subject}, {description}, environment concept art, wide shot, atmospheric, "
        "detailed",
        max_length=2000,
    )
    image_action_prompt: str = Field(
        default="{subject}: {description}, dramatic scene illustration, cinematic lighting",
        max_length=2000,
    )
    image_portrait_prompt: str = Field(
        default="portrait of {subject}, {description}, character art, detailed face",
        max_length=2000,
    )
    image_cache_duration_turns: int = Field(
        default=10, ge=0, le=10_000, description="Turns a location's background is reused for."
    )
    image_action_every_n_turns: int = Field(
        default=3, ge=0, le=1000, description="An action image every this many turns; 0 = never."
    )
    image_action_variants: int = Field(default=1, ge=1, le=8)
    image_portrait_change_keywords: ModelList = Field(
        default_factory=lambda: ["changed outfit", "transformed into", "now wearing"],
        description="A character's portrait is drawn again when a passage naming them says one.",
    )
    image_timeout_seconds: float = Field(default=300.0, gt=0)
    image_stream_wait_seconds: float = Field(
        default=120,
        ge=0,
        le=3600,
        description="How long a turn's stream stays open after `done` for its images.",
    )

    dreamer_continuous_generation: bool = Field(
        default=True, description="Dream after each turn and while the story is idle."
    )
    dreamer_ideas_per_dream: int = Field(default=3, ge=1, le=5)
    dreamer_speculative_pool_size: int = Field(
        default=30, ge=1, le=1000, description="Unused ideas kept per story; the least likely go."
    )
    dreamer_asset_expiry_days: float = Field(
        default=7, gt=0, le=3650, description="Unused ideas (and their images) are deleted after."
    )
    dreamer_variants_per_concept: int = Field(default=1, ge=0, le=8)
    dreamer_confidence_threshold: float = Field(
        default=0.6, ge=0, le=1, description="Only ideas this likely to be needed get images."
    )
    dreamer_idle_interval_seconds: float = Field(
        default=300, ge=10, description="How often the Dreamer dreams while the player thinks."
    )
    dreamer_idle_stop_seconds: float = Field(
        default=3600, ge=0, description="It stops when the story has been idle this long."
    )

    luna_auth: Literal["local", "required"] = Field(
        default="local",
        description="local: on a loopback address, a request without a token is the local "
        "player; required: every request logs in (any other address needs it).",
    )
    luna_registration: Literal["open", "closed", "invite"] = Field(
        default="open", description="Who may create an account (the first one is always open)."
    )
    luna_secret_key: SecretStr | None = Field(
        default=None,
        description="Signs access tokens; unset = a random key kept in the data directory.",
    )
    auth_token_minutes: float = Field(
        default=60, gt=0, le=24 * 60, description="How long an access token lasts."
    )
    auth_max_failed_logins: int = Field(
        default=5, ge=1, le=100, description="Wrong passwords in a row that lock an account."
    )
    auth_lockout_seconds: float = Field(
        default=60, gt=0, description="The first lockout; each further one lasts twice as long."
    )
    turns_per_minute: int = Field(
        default=30, ge=1, le=10_000, description="Turns a player may ask for in a minute."
    )
    luna_cors_origins: ModelList = Field(
        default_factory=list,
        description="Web origins allowed to call the API from a browser (none by default).",
    )
    luna_max_request_mb: float = Field(
        default=128, gt=0, le=4096, description="The largest request body accepted."
    )

    luna_upload_max_mb: float = Field(
        default=20, gt=0, le=1024, description="The largest card or lorebook file accepted."
    )

    local_context_tokens: int = Field(default=4096, ge=1024, le=32_768)
    local_threads: int | None = Field(default=None, ge=1)

    openai_compatible_base_url: str | None = None
    openai_compatible_api_key: SecretStr | None = None
    ollama_base_url: str = "http://127.0.0.1:11434/v1"
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = Field(
        default=None, description="Another address for Anthropic's API (a gateway or proxy)."
    )
    google_api_key: SecretStr | None = None

    @field_validator("luna_data_dir")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator(
        *(f"{role}_fallbacks" for role in ROLES),
        "image_portrait_change_keywords",
        "luna_cors_origins",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator(*(f"{role}_model" for role in ROLES))
    @classmethod
    def _model_has_provider(cls, value: str | None) -> str | None:
        if value is not None:
            _check_model(value)
        return value

    @field_validator(*(f"{role}_fallbacks" for role in ROLES))
    @classmethod
    def _fallbacks_have_providers(cls, value: list[str]) -> list[str]:
        for item in value:
            _check_model(item)
        return value

    def model_for(self, role: ModelRole) -> str:
        """The first model of the role's chain; the memory roles follow the Preprocessor's."""
        value = getattr(self, f"{role}_model")
        return str(value) if value is not None else self.preprocessor_model

    def chain_for(self, role: ModelRole) -> list[str]:
        """The role's model, then its fallbacks in order (a memory role with no model of its
        own takes the Preprocessor's whole chain)."""
        if role in BACKGROUND_ROLES and getattr(self, f"{role}_model") is None:
            own = getattr(self, f"{role}_fallbacks")
            return [self.preprocessor_model, *(own or self.preprocessor_fallbacks)]
        return [self.model_for(role), *getattr(self, f"{role}_fallbacks")]

    @property
    def upload_max_bytes(self) -> int:
        return int(self.luna_upload_max_mb * 1024 * 1024)

    @cached_property
    def embedded_database_dir(self) -> Path:
        return self.luna_data_dir / "pg"

    @property
    def uses_embedded_database(self) -> bool:
        return not self.database_url


ENVIRONMENT, DOTENV, DEFAULT = "environment", ".env file", "default"


def environment_sources() -> dict[str, str]:
    """The settings the environment or `.env` sets, and which of the two, by asking
    pydantic-settings' own sources (the ones `Settings()` reads, in the same precedence)."""
    environment = EnvSettingsSource(Settings)()
    dotenv = DotEnvSettingsSource(Settings)()
    sources: dict[str, str] = {}
    for name in Settings.model_fields:
        if name in environment:
            sources[name] = ENVIRONMENT
        elif name in dotenv:
            sources[name] = DOTENV
    return sources


def _check_model(value: str) -> None:
    if value != "test" and ":" not in value:
        raise ValueError(f"{value!r} is not a 'provider:model' string, e.g. 'local:smollm2'")


def environment_variable(name: str) -> str | None:
    """The only sanctioned read of the raw environment outside Settings (used by the CLI)."""
    return os.environ.get(name)


def forbid_model_downloads() -> None:
    """Models ship inside installed packages: never reach a model hub, never send telemetry."""
    for variable in (
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_HUB_DISABLE_TELEMETRY",
        "HF_HUB_DISABLE_PROGRESS_BARS",  # a server log is no place for progress bars
    ):
        os.environ.setdefault(variable, "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
