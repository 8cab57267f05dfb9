"""Model, provider and embedder checks for `luna doctor`.

Nothing here prints and nothing calls a paid API: a hosted provider is checked by its key being
set; a local server (OpenAI-compatible, LM Studio, Ollama) by `GET {base_url}/models` listing the
model (Ollama's native API: `GET /api/tags`); the embedded model by loading its GGUF; the
embedder by embedding one sentence.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from luna_narrates.config import ROLES, Settings
from luna_narrates.errors import LunaError
from luna_narrates.llm.embeddings import DIMENSIONS, EMBEDDER_NAME, Embedder
from luna_narrates.llm.local import gguf_path
from luna_narrates.llm.ollama_native import native_base_url
from luna_narrates.llm.registry import LMSTUDIO_BASE_URL, PROVIDERS, ModelSpec

HTTP_TIMEOUT_SECONDS = 3.0
# Embedded models too small for real stories: they exist to try the engine offline.
TINY_LOCAL_MODELS = frozenset({"smollm2"})
# Hosted providers: the Settings field holding the key, and its variable.
KEYED_PROVIDERS = {
    "openai": ("openai_api_key", "OPENAI_API_KEY"),
    "anthropic": ("anthropic_api_key", "ANTHROPIC_API_KEY"),
    "google": ("google_api_key", "GOOGLE_API_KEY"),
}
SERVER_PROVIDERS = ("openai-compatible", "llama-cpp-server", "lmstudio", "ollama", "ollama-native")
OLLAMA_PROVIDERS = ("ollama", "ollama-native")
SAMPLE_SENTENCE = "Ila slipped through the canal gate as the bells of Veyra rang midnight."


@dataclass(frozen=True)
class ModelCheck:
    name: str
    ok: bool
    detail: str


def agents_by_model(settings: Settings) -> dict[str, list[str]]:
    """Each distinct model of every agent's chain (as written, normalised when it parses) with
    who uses it: `writer`, or `writer fallback 1` for the first model after the writer's own."""
    return group_chains({role: settings.chain_for(role) for role in ROLES})


def group_chains(chains: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for role, chain in chains.items():
        for position, value in enumerate(chain):
            spec = _parse(value)
            label = f"{role} fallback {position}" if position else role
            groups.setdefault(str(spec) if spec else value, []).append(label)
    return groups


def uses_tiny_local_model(settings: Settings) -> bool:
    for value in agents_by_model(settings):
        spec = _parse(value)
        if spec is not None and spec.provider == "local" and spec.name in TINY_LOCAL_MODELS:
            return True
    return False


def check_models(settings: Settings, *, client: httpx.Client | None = None) -> list[ModelCheck]:
    """One check per distinct model; `client` (e.g. on an httpx.MockTransport) serves tests."""
    with _http(client) as http:
        return [
            ModelCheck(f"model {value} ({', '.join(agents)})", *check_model(settings, value, http))
            for value, agents in agents_by_model(settings).items()
        ]


def check_model(
    settings: Settings, value: str, http: httpx.Client, *, load_local: bool = True
) -> tuple[bool, str]:
    """`load_local=False` checks that an embedded model is installed without loading it a
    second time (a running server already holds it)."""
    spec = _parse(value)
    if spec is None or spec.provider not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        return False, f"{value!r} is not a known 'provider:model' (providers: {known})"
    if spec.provider == "test":
        return True, "the deterministic test model (scripted, no LLM)"
    if spec.provider == "local":
        if not load_local:
            return check_installed(spec.name)
        return check_local(settings, spec.name)
    if spec.provider in KEYED_PROVIDERS:
        return check_key(settings, spec.provider)
    return check_server(settings, spec, http)


def check_installed(name: str) -> tuple[bool, str]:
    try:
        path = gguf_path(name)
    except LunaError as error:
        return False, error.message
    return True, f"{path.name}, {path.stat().st_size / 1_000_000:.0f} MB, installed"


def check_local(settings: Settings, name: str) -> tuple[bool, str]:
    """The GGUF exists in its installed package and llama.cpp loads it."""
    try:
        path = gguf_path(name)
    except LunaError as error:
        return False, error.message
    size = f"{path.stat().st_size / 1_000_000:.0f} MB"
    started = time.perf_counter()
    try:
        _load_gguf(settings, str(path))
    except Exception as error:
        return False, f"{path.name} ({size}) does not load: {error}"
    elapsed = time.perf_counter() - started
    return True, f"{path.name}, {size}, loaded in {elapsed:.2f} s"


def _load_gguf(settings: Settings, path: str) -> None:
    from llama_cpp import Llama

    llama = Llama(
        model_path=path,
        n_ctx=settings.local_context_tokens,
        n_threads=settings.local_threads,
        verbose=False,
    )
    llama.close()


def check_key(settings: Settings, provider: str) -> tuple[bool, str]:
    """A hosted provider needs its key; the remote API is not called."""
    field, variable = KEYED_PROVIDERS[provider]
    secret = getattr(settings, field)
    if isinstance(secret, SecretStr) and secret.get_secret_value():
        return True, f"{variable} is set (the remote API is not called)"
    return False, f"{variable} is not set"


def server_base_url(settings: Settings, provider: str) -> str | None:
    """Where the registry sends this provider's requests (see llm/registry.py)."""
    if provider == "ollama":
        return settings.ollama_base_url
    if provider == "ollama-native":
        return native_base_url(settings.ollama_base_url)
    if provider == "lmstudio":
        return settings.openai_compatible_base_url or LMSTUDIO_BASE_URL
    return settings.openai_compatible_base_url


def check_server(settings: Settings, spec: ModelSpec, http: httpx.Client) -> tuple[bool, str]:
    """The server answers and lists the model: `GET {base_url}/models`, or Ollama's native
    `GET {base_url}/api/tags`."""
    base_url = server_base_url(settings, spec.provider)
    if not base_url:
        return False, "set OPENAI_COMPATIBLE_BASE_URL (e.g. http://127.0.0.1:8080/v1)"
    native = spec.provider == "ollama-native"
    url = f"{base_url.rstrip('/')}/{'api/tags' if native else 'models'}"
    uses_key = spec.provider in ("openai-compatible", "llama-cpp-server")
    key = settings.openai_compatible_api_key if uses_key else None
    try:
        ids = list_ollama_models(http, url) if native else list_server_models(http, url, key)
    except httpx.HTTPStatusError as error:
        return False, f"{url} answered HTTP {error.response.status_code}"
    except httpx.HTTPError as error:
        return False, f"cannot reach {url}: {error or type(error).__name__}"
    except ValueError:
        kind = "Ollama's model list" if native else "an OpenAI-style model list"
        return False, f"{url} did not answer with {kind}"
    if _lists(ids, spec):
        return True, f"{url} lists {spec.name}"
    shown = ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")
    return False, f"{url} does not list {spec.name} (it lists: {shown or 'nothing'})"


def list_server_models(http: httpx.Client, url: str, key: SecretStr | None) -> list[str]:
    """The model ids of an OpenAI-style `{"object": "list", "data": [{"id": …}, …]}` answer."""
    headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
    return _names(http.get(url, headers=headers, timeout=HTTP_TIMEOUT_SECONDS), "data", "id")


def list_ollama_models(http: httpx.Client, url: str) -> list[str]:
    """The `name:tag` of each model in Ollama's `{"models": [{"name": …}, …]}` answer."""
    return _names(http.get(url, timeout=HTTP_TIMEOUT_SECONDS), "models", "name")


def _names(response: httpx.Response, items: str, name: str) -> list[str]:
    response.raise_for_status()
    body: Any = response.json()
    if not isinstance(body, dict) or not isinstance(body.get(items), list):
        raise ValueError("not a model list")
    return [str(item[name]) for item in body[items] if isinstance(item, dict) and name in item]


def _lists(ids: list[str], spec: ModelSpec) -> bool:
    if spec.name in ids:
        return True
    # Ollama lists `llama3.1:latest` and answers to `llama3.1`.
    latest = f"{spec.name}:latest"
    return spec.provider in OLLAMA_PROVIDERS and ":" not in spec.name and latest in ids


def check_embedder(embedder: Embedder | None = None) -> ModelCheck:
    """Loads the embedder and embeds one sentence."""
    name = f"embedder {EMBEDDER_NAME}"
    started = time.perf_counter()
    try:
        [vector] = (embedder or Embedder()).embed([SAMPLE_SENTENCE])
    except Exception as error:
        return ModelCheck(name, False, f"does not load or embed: {error}")
    elapsed = time.perf_counter() - started
    if len(vector) != DIMENSIONS:
        return ModelCheck(name, False, f"{len(vector)} dimensions, expected {DIMENSIONS}")
    return ModelCheck(name, True, f"embeds a sentence in {DIMENSIONS} dimensions ({elapsed:.2f} s)")


def _parse(value: str) -> ModelSpec | None:
    try:
        return ModelSpec.parse(value)
    except LunaError:
        return None


def _http(client: httpx.Client | None) -> AbstractContextManager[httpx.Client]:
    return nullcontext(client) if client is not None else httpx.Client()
