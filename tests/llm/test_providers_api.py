"""/providers and /providers/validate: what is configured, and a configuration checked before
use, with a local server that answers OpenAI's model list (GET /v1/models, the format
https://platform.openai.com/docs/api-reference/models/list describes and Ollama's and
LM Studio's OpenAI-compatible endpoints follow)."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from luna_narrates.kit.serving import free_port, serve_on_loopback
from luna_narrates.services import Services
from tests.conftest import make_settings


def models_server() -> Starlette:
    async def models(request: object) -> JSONResponse:
        return JSONResponse(
            {"object": "list", "data": [{"id": "llama3.1:latest", "object": "model"}]}
        )

    return Starlette(routes=[Route("/v1/models", models)])


async def test_providers_say_what_is_configured_and_check_the_models_in_use(
    client: httpx.AsyncClient,
) -> None:
    found = (await client.get("/providers")).json()
    providers = {p["provider"]: p for p in found["providers"]}
    assert providers["local"]["configured"] and "installed" in providers["local"]["detail"]
    assert not providers["anthropic"]["configured"]
    assert providers["anthropic"]["detail"] == "ANTHROPIC_API_KEY is not set"
    assert providers["ollama"]["base_url"] == "http://127.0.0.1:11434/v1"
    assert providers["test"]["models_in_use"] == ["test"]
    assert found["models"] == [
        {
            "model": "test",
            "agents": [
                "preprocessor",
                "strategist",
                "writer",
                "summariser",
                "extractor",
                "dreamer",
            ],
            "ok": True,
            "detail": "the deterministic test model (scripted, no LLM)",
        }
    ]


async def test_a_configuration_is_validated_without_being_applied(
    client: httpx.AsyncClient, services: Services, database_url: str, data_dir: Path
) -> None:
    async with serve_on_loopback(models_server(), lifespan="off") as url:
        services.settings = make_settings(database_url, data_dir, ollama_base_url=f"{url}/v1")
        try:
            response = await client.post(
                "/providers/validate",
                json={
                    "models": {
                        "preprocessor": "ollama:llama3.1",
                        "strategist": "anthropic:claude-sonnet-4-5",
                        "writer": "ollama:mistral",
                    }
                },
            )
        finally:
            services.settings = make_settings(database_url, data_dir)
    body = response.json()
    assert response.status_code == 200 and body["ok"] is False
    checks = {c["model"]: c for c in body["models"]}
    assert checks["ollama:llama3.1"]["ok"] and checks["ollama:llama3.1"]["agents"] == [
        "preprocessor"
    ]
    assert "does not list mistral (it lists: llama3.1:latest)" in checks["ollama:mistral"]["detail"]
    assert checks["anthropic:claude-sonnet-4-5"]["detail"] == "ANTHROPIC_API_KEY is not set"

    gone = f"http://127.0.0.1:{free_port()}/v1"
    services.settings = make_settings(database_url, data_dir, ollama_base_url=gone)
    try:
        down = await client.post("/providers/validate", json={"models": {"writer": "ollama:x"}})
        local = await client.post(
            "/providers/validate", json={"models": {"writer": "local:smollm2"}}
        )
    finally:
        services.settings = make_settings(database_url, data_dir)
    assert "cannot reach" in down.json()["models"][0]["detail"]
    assert local.json()["ok"] is True
    bad = await client.post("/providers/validate", json={"models": {"writer": "nonsense"}})
    assert bad.json()["ok"] is False and "not a known" in bad.json()["models"][0]["detail"]
    assert (await client.post("/providers/validate", json={"models": {}})).status_code == 422
    wrong_agent = await client.post("/providers/validate", json={"models": {"poet": "test"}})
    assert wrong_agent.status_code == 422


async def test_fallback_chains_are_validated_model_by_model(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.settings.writer_fallbacks = ["local:smollm2"]
    listed = (await client.get("/providers")).json()
    assert {"model": "local:smollm2", "agents": ["writer fallback 1"]} in [
        {"model": m["model"], "agents": m["agents"]} for m in listed["models"]
    ]

    response = await client.post(
        "/providers/validate",
        json={
            "models": {
                "writer": ["anthropic:claude-haiku-4-5", "local:smollm2", "test"],
                "extractor": "test",
            }
        },
    )
    body = response.json()
    checks = {c["model"]: c for c in body["models"]}
    assert checks["anthropic:claude-haiku-4-5"]["agents"] == ["writer"]
    assert checks["anthropic:claude-haiku-4-5"]["ok"] is False
    assert checks["local:smollm2"]["agents"] == ["writer fallback 1"]
    assert checks["test"]["agents"] == ["writer fallback 2", "extractor"]
    assert body["ok"] is False
    empty = await client.post("/providers/validate", json={"models": {"writer": []}})
    assert empty.status_code == 422 and "at least one model" in empty.json()["message"]
