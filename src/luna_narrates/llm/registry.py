"""Turns `provider:model` strings into pydantic-ai models; providers are registered by name.

Known providers: `local:smollm2` (embedded llama.cpp), `openai-compatible:<model>` (any server
speaking the OpenAI chat API at OPENAI_COMPATIBLE_BASE_URL: LM Studio, llama.cpp server, vLLM,
OpenRouter), `llama-cpp-server:<model>` (a llama.cpp server at the same URL, with structured
output bound by grammar: see llm/structured.py), `lmstudio:<model>`, `ollama:<model>` (Ollama's
OpenAI-compatible API) and `ollama-native:<model>` (its native API, llm/ollama_native.py), both
at OLLAMA_BASE_URL, `openai:<model>`, `anthropic:<model>`, `google:<model>`, and `test` (a
deterministic scripted model that needs no LLM at all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic_ai.models import Model

from luna_narrates.config import Settings
from luna_narrates.errors import ConfigurationError, InvalidInput
from luna_narrates.llm.local import LlamaCppModel, LocalEngine
from luna_narrates.llm.scripted import scripted_model

LMSTUDIO_BASE_URL = "http://127.0.0.1:1234/v1"


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    name: str

    @classmethod
    def parse(cls, value: str) -> ModelSpec:
        value = value.strip()
        if value == "test":
            return cls("test", "scripted")
        provider, sep, name = value.partition(":")
        if not sep or not provider or not name:
            raise InvalidInput(
                f"{value!r} is not a model: write 'provider:model', e.g. 'local:smollm2' or "
                f"'ollama:llama3.1'."
            )
        return cls(provider, name)

    def __str__(self) -> str:
        if self.provider == "test" and self.name == "scripted":
            return "test"
        return f"{self.provider}:{self.name}"

    @property
    def is_local(self) -> bool:
        return self.provider in ("local", "test")


ProviderFactory = Callable[["ModelRegistry", ModelSpec, str], Model]


class ModelRegistry:
    """Builds models for agents; owns the embedded engines so their weights load once.

    Providers are registered by name; `register` adds one (a plugin, or a test's FunctionModel).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engines: dict[str, LocalEngine] = {}
        self._providers: dict[str, ProviderFactory] = dict(PROVIDERS)

    def register(self, provider: str, factory: ProviderFactory) -> None:
        self._providers[provider] = factory

    def spec(self, value: str) -> ModelSpec:
        """Parses and checks a 'provider:model' string: a 422 names the known providers."""
        spec = ModelSpec.parse(value)
        if spec.provider not in self._providers:
            raise InvalidInput(
                f"Unknown provider {spec.provider!r} in {value!r}. Providers: "
                f"{', '.join(sorted(self._providers))}."
            )
        return spec

    def local_engine(self, name: str) -> LocalEngine:
        if name not in self._engines:
            self._engines[name] = LocalEngine(
                name,
                n_ctx=self.settings.local_context_tokens,
                n_threads=self.settings.local_threads,
            )
        return self._engines[name]

    def model(self, spec: ModelSpec, agent: str) -> Model:
        return self._providers[spec.provider](self, spec, agent)


def _local(registry: ModelRegistry, spec: ModelSpec, agent: str) -> Model:
    return LlamaCppModel(registry.local_engine(spec.name), slot=agent)


def _test(registry: ModelRegistry, spec: ModelSpec, agent: str) -> Model:
    if spec.name not in ("scripted", "paced"):
        raise InvalidInput(f"{spec} is not a test model: use 'test' or 'test:paced'.")
    return scripted_model(paced=spec.name == "paced")


def _openai_compatible(registry: ModelRegistry, spec: ModelSpec, agent: str) -> Model:
    settings = registry.settings
    if not settings.openai_compatible_base_url:
        raise ConfigurationError(
            f"{spec} needs OPENAI_COMPATIBLE_BASE_URL (e.g. http://127.0.0.1:8080/v1)."
        )
    key = settings.openai_compatible_api_key
    return _openai_chat(
        spec.name,
        settings.openai_compatible_base_url,
        key.get_secret_value() if key else None,
        grammar=spec.provider == "llama-cpp-server",
    )


def _lmstudio(registry: ModelRegistry, spec: ModelSpec, agent: str) -> Model:
    base = registry.settings.openai_compatible_base_url or LMSTUDIO_BASE_URL
    return _openai_chat(spec.name, base, None)


def _openai_chat(name: str, base_url: str, api_key: str | None, grammar: bool = False) -> Model:
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.profiles.openai import OpenAIModelProfile
    from pydantic_ai.providers.openai import OpenAIProvider

    from luna_narrates.llm.structured import LlamaCppServerModel

    # Local servers ignore the key, but the OpenAI client refuses to start without one.
    provider = OpenAIProvider(base_url=base_url, api_key=api_key or "not-needed")
    if grammar:
        return LlamaCppServerModel(name, provider=provider)
    # `max_tokens`, which every compatible server reads: llama-cpp-python's server ignores the
    # newer `max_completion_tokens` and would generate to the end of its context.
    profile = OpenAIModelProfile(openai_chat_supports_max_completion_tokens=False)
    return OpenAIChatModel(name, provider=provider, profile=profile)


def _ollama(registry: ModelRegistry, spec: ModelSpec, agent: str) -> Model:
    """Ollama's OpenAI-compatible API. A self-hosted Ollama (0.5+) samples `json_schema`
    answers under a grammar, so structured output asks for that rather than a tool call, which
    small models often fumble; pydantic-ai's OllamaModel turns it off for Ollama Cloud, which
    does not enforce the schema."""
    from pydantic_ai.models.ollama import OllamaModel
    from pydantic_ai.profiles import ModelProfile, merge_profile
    from pydantic_ai.providers.ollama import OllamaProvider

    provider = OllamaProvider(base_url=registry.settings.ollama_base_url)
    model = OllamaModel(spec.name, provider=provider)
    if not model.profile.get("supports_json_schema_output"):
        return model
    native = merge_profile(model.profile, ModelProfile(default_structured_output_mode="native"))
    return OllamaModel(spec.name, provider=provider, profile=native)


def _ollama_native(registry: ModelRegistry, spec: ModelSpec, agent: str) -> Model:
    from luna_narrates.llm.ollama_native import OllamaNativeModel

    return OllamaNativeModel(spec.name, registry.settings.ollama_base_url)


def _openai(registry: ModelRegistry, spec: ModelSpec, agent: str) -> Model:
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    key = _require_key(registry.settings.openai_api_key, "OPENAI_API_KEY", spec)
    return OpenAIChatModel(spec.name, provider=OpenAIProvider(api_key=key))


def _anthropic(registry: ModelRegistry, spec: ModelSpec, agent: str) -> Model:
    """With prompt caching on the stable prefix (the output tool, then the system prompt with
    the story's frame): each agent's next call reads it at a tenth of the input price."""
    from pydantic_ai.models.anthropic import AnthropicModel, AnthropicModelSettings
    from pydantic_ai.providers.anthropic import AnthropicProvider

    key = _require_key(registry.settings.anthropic_api_key, "ANTHROPIC_API_KEY", spec)
    provider = AnthropicProvider(api_key=key, base_url=registry.settings.anthropic_base_url)
    cache = AnthropicModelSettings(
        anthropic_cache_tool_definitions=True, anthropic_cache_instructions=True
    )
    return AnthropicModel(spec.name, provider=provider, settings=cache)


def _google(registry: ModelRegistry, spec: ModelSpec, agent: str) -> Model:
    from pydantic_ai.models.google import GoogleModel
    from pydantic_ai.providers.google import GoogleProvider

    key = _require_key(registry.settings.google_api_key, "GOOGLE_API_KEY", spec)
    return GoogleModel(spec.name, provider=GoogleProvider(api_key=key))


def _require_key(secret: object, variable: str, spec: ModelSpec) -> str:
    from pydantic import SecretStr

    if not isinstance(secret, SecretStr) or not secret.get_secret_value():
        raise ConfigurationError(f"{spec} needs {variable}.")
    return secret.get_secret_value()


PROVIDERS: dict[str, ProviderFactory] = {
    "local": _local,
    "test": _test,
    "openai-compatible": _openai_compatible,
    "llama-cpp-server": _openai_compatible,
    "lmstudio": _lmstudio,
    "ollama": _ollama,
    "ollama-native": _ollama_native,
    "openai": _openai,
    "anthropic": _anthropic,
    "google": _google,
}
