"""/providers: which model providers are configured, whether the models the agents use
answer, and a check of a configuration before it is used. Nothing here calls a paid API: a
hosted provider is checked by its key being set, a local server by listing its models."""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from luna_narrates.api.deps import ServicesDep
from luna_narrates.config import ROLES, ModelRole, Settings
from luna_narrates.errors import InvalidInput
from luna_narrates.llm import health
from luna_narrates.llm.registry import PROVIDERS

router = APIRouter(prefix="/providers", tags=["providers"])
ModelValue = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ModelCheckOut(BaseModel):
    model: str
    agents: list[str] = Field(
        default_factory=list,
        description="Who uses it: an agent (`writer`), or a place in its chain (`writer "
        "fallback 1`).",
    )
    ok: bool
    detail: str


class ProviderOut(BaseModel):
    provider: str
    configured: bool
    detail: str
    base_url: str | None = None
    models_in_use: list[str]


class ProvidersOut(BaseModel):
    providers: list[ProviderOut]
    models: list[ModelCheckOut] = Field(description="Each model the agents use, checked now.")


class ValidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: dict[ModelRole, ModelValue | list[ModelValue]] = Field(
        min_length=1,
        description="Agent → 'provider:model', or its chain (its own model, then fallbacks), "
        "e.g. {'writer': ['anthropic:claude-haiku-4-5', 'ollama:llama3.1']}.",
    )


class ValidateOut(BaseModel):
    ok: bool
    models: list[ModelCheckOut]


@router.get("")
async def list_providers(services: ServicesDep) -> ProvidersOut:
    settings = services.settings
    in_use = health.agents_by_model(settings)
    checks = await asyncio.to_thread(_check, settings, in_use)
    providers = []
    for provider in sorted(PROVIDERS):
        models = [v for v in in_use if v.split(":", 1)[0] == provider or v == provider]
        configured, detail = _configured(settings, provider)
        base_url = (
            health.server_base_url(settings, provider)
            if provider in health.SERVER_PROVIDERS
            else None
        )
        providers.append(ProviderOut(provider=provider, configured=configured, detail=detail,
                                     base_url=base_url, models_in_use=models))  # fmt: skip
    return ProvidersOut(providers=providers, models=checks)


@router.post("/validate")
async def validate(data: ValidateRequest, services: ServicesDep) -> ValidateOut:
    """Checks a configuration without applying it: every model parses, its provider is known
    and configured, and a local server lists it."""
    chains: dict[str, list[str]] = {
        role: [value.strip()] if isinstance(value, str) else [v.strip() for v in value]
        for role in ROLES
        if (value := data.models.get(role)) is not None
    }
    if any(not chain for chain in chains.values()):
        raise InvalidInput("A chain needs at least one model.")
    grouped = health.group_chains(chains)
    checks = await asyncio.to_thread(_check, services.settings, grouped)
    return ValidateOut(ok=all(c.ok for c in checks), models=checks)


def _check(settings: Settings, models: dict[str, list[str]]) -> list[ModelCheckOut]:
    with httpx.Client() as http:
        return [_model_check(settings, value, agents, http) for value, agents in models.items()]


def _model_check(
    settings: Settings, value: str, agents: list[str], http: httpx.Client
) -> ModelCheckOut:
    ok, detail = health.check_model(settings, value, http, load_local=False)
    return ModelCheckOut(model=value, agents=agents, ok=ok, detail=detail)


def _configured(settings: Settings, provider: str) -> tuple[bool, str]:
    if provider == "test":
        return True, "the deterministic test model (no LLM)"
    if provider == "local":
        return health.check_installed("smollm2")
    if provider in health.KEYED_PROVIDERS:
        return health.check_key(settings, provider)
    base_url = health.server_base_url(settings, provider)
    if base_url:
        return True, f"requests go to {base_url}"
    return False, "set OPENAI_COMPATIBLE_BASE_URL (e.g. http://127.0.0.1:8080/v1)"
