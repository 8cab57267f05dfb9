"""Runs one agent call on its chain of models and records what it saw, what it said, which
model answered, tokens and time.

An agent's model may be a chain: its own model, then fallbacks. Each model gets its own
deadline (`request_timeout`), its SDK retries rate limits and server errors with backoff
(`max_retries`, honouring `retry-after`), and an error or timeout moves the call to the next
model (pydantic-ai's FallbackModel); a streamed call falls back only before its first token.
Every failure of the whole chain leaves here as a ProviderError/ProviderTimeout that names the
agent and each model with what went wrong, so the player knows what to fix.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_ai import Agent
from pydantic_ai.exceptions import (
    FallbackExceptionGroup,
    ModelAPIError,
    ModelHTTPError,
    ModelRequestTimeout,
    UnexpectedModelBehavior,
)
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RunUsage

from luna_narrates.config import ModelRole
from luna_narrates.errors import LunaError, ProviderError, ProviderTimeout, problems
from luna_narrates.llm.registry import ModelRegistry, ModelSpec
from luna_narrates.llm.tokens import estimate_tokens, token_counter

OutputT = TypeVar("OutputT", bound=BaseModel)


@dataclass(frozen=True)
class FailedAttempt:
    """A model of the chain that did not answer, and why; the call went on to the next."""

    model: str
    error: str
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "error": self.error, "seconds": round(self.seconds, 4)}


@dataclass
class ModelCall:
    agent: str
    spec: ModelSpec  # the model that answered
    prompt: list[dict[str, str]]
    output: Any
    usage: RunUsage
    seconds: float
    fallbacks: list[FailedAttempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Some servers (llama-cpp-python's among them) report no usage when streaming: say
        # so and estimate, rather than record a passage of zero tokens as a fact.
        self.tokens_estimated = not (self.usage.input_tokens or self.usage.output_tokens)
        if self.tokens_estimated:
            self.usage = RunUsage(
                input_tokens=sum(estimate_tokens(m["content"]) for m in self.prompt),
                output_tokens=estimate_tokens(
                    self.output if isinstance(self.output, str) else json.dumps(self.output)
                ),
            )

    @property
    def prompt_hash(self) -> str:
        return prompt_hash(self.prompt)

    @property
    def input_tokens(self) -> int:
        return self.usage.input_tokens

    @property
    def output_tokens(self) -> int:
        return self.usage.output_tokens

    @property
    def cache_read_tokens(self) -> int:
        return self.usage.cache_read_tokens

    @property
    def cache_write_tokens(self) -> int:
        return self.usage.cache_write_tokens


def prompt_hash(prompt: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(prompt, sort_keys=True).encode()).hexdigest()


@dataclass
class Call:
    """One agent's model call: who, on which chain of models, with which prompt and limits."""

    agent: str
    chain: tuple[ModelSpec, ...]
    models: tuple[Model, ...]
    system: str
    user: str
    max_tokens: int
    timeout: float
    retries: int
    temperature: float = 0.7
    min_tokens: int = 0
    failures: list[BaseException] = field(default_factory=list)

    @property
    def spec(self) -> ModelSpec:
        return self.chain[0]

    @property
    def model(self) -> Model:
        """The first model, falling through the rest; every error it falls back on is kept."""
        if len(self.models) == 1:
            return self.models[0]
        return FallbackModel(*self.models, fallback_on=self._falls_back)

    def _falls_back(self, error: Exception) -> bool:
        if isinstance(error, FALL_ON):
            self.failures.append(error)
            return True
        return False

    @property
    def prompt(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]

    @property
    def settings(self) -> ModelSettings:
        settings: ModelSettings = {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "request_timeout": self.timeout,
            "max_retries": self.retries,
        }
        if self.min_tokens and all(spec.provider in MIN_TOKENS for spec in self.chain):
            # Only llama.cpp reads `min_tokens`: hosted APIs reject unknown fields.
            settings["extra_body"] = {"min_tokens": self.min_tokens}
        return settings

    def fallbacks(self, messages: list[ModelMessage]) -> list[FailedAttempt]:
        """The models of the chain that failed before the last response answered, in order;
        the model that answered is the next one (`self.chain[len(...)]`)."""
        responses = [m for m in messages if isinstance(m, ModelResponse)]
        failed = (responses[-1].failed_attempts or []) if responses else []
        failed = failed[: len(self.chain) - 1]
        # An earlier request of the run (one whose output was invalid) may have fallen back
        # too: the last response's failures are the last ones kept.
        errors = self.failures[len(self.failures) - len(failed) :] if failed else []
        return [
            FailedAttempt(
                str(self.chain[index]),
                describe(error, self.timeout),
                attempt.duration.total_seconds(),
            )
            for index, (attempt, error) in enumerate(zip(failed, errors, strict=True))
        ]

    def failure(self, error: BaseException) -> LunaError:
        where = f"the {self.agent}"
        if isinstance(error, FallbackExceptionGroup):
            reasons = [
                f"{spec}: {describe(cause, self.timeout)}"
                for spec, cause in zip(self.chain, error.exceptions, strict=False)
            ]
            timed_out = all(_is_timeout(cause) for cause in error.exceptions)
            kind = ProviderTimeout if timed_out else ProviderError
            return kind(
                f"{where} failed on every model of its chain: " + "; ".join(reasons) + ".",
                agent=self.agent,
                provider=self.spec.provider,
                model=self.spec.name,
                chain=[str(spec) for spec in self.chain],
            )
        timed_out = _is_timeout(error)
        kind = ProviderTimeout if timed_out else ProviderError
        verb = "" if timed_out else "failed: "
        return kind(
            f"{where} ({self.spec}) {verb}{describe(error, self.timeout)}.",
            agent=self.agent,
            provider=self.spec.provider,
            model=self.spec.name,
        )

    def record(
        self, output: Any, usage: RunUsage, messages: list[ModelMessage], seconds: float
    ) -> ModelCall:
        fallbacks = self.fallbacks(messages)
        return ModelCall(
            agent=self.agent,
            spec=self.chain[len(fallbacks)],
            prompt=self.prompt,
            output=output,
            usage=usage,
            seconds=seconds,
            fallbacks=fallbacks,
        )


def _is_timeout(error: BaseException) -> bool:
    return isinstance(error, (TimeoutError, ModelRequestTimeout))


AUTHENTICATION_HINT = "the provider refused the API key; check the key set for it"


def describe(error: BaseException, timeout: float) -> str:
    """A provider failure in words a player can act on."""
    if _is_timeout(error):
        return f"did not answer within {timeout:g} s"
    if isinstance(error, LunaError):
        return error.message.rstrip(".")
    if isinstance(error, ModelHTTPError):
        detail = _error_message(error.body)
        if error.status_code == 401:
            return f"{AUTHENTICATION_HINT} (HTTP 401: {detail})"
        return f"HTTP {error.status_code}: {detail}"
    if isinstance(error, ModelAPIError):
        return f"{type(error).__name__}: {error.message}"
    if isinstance(error, UnexpectedModelBehavior) and isinstance(error.__cause__, ValidationError):
        wrong = "; ".join(problems(error.__cause__.errors()))
        return f"its answer did not fit the expected shape, even when asked to fix it ({wrong})"
    return f"{type(error).__name__}: {error}"


def _error_message(body: object) -> str:
    """The message inside an API's error body (Anthropic's and OpenAI's `error.message`)."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    return str(body)


async def run_structured(call: Call, output_type: type[OutputT]) -> tuple[OutputT, ModelCall]:
    """Invalid output is sent back to the model to fix twice, then fails clearly."""
    agent = Agent(call.model, output_type=output_type, system_prompt=call.system, retries=2)
    started = time.perf_counter()
    try:
        result = await agent.run(call.user, model_settings=call.settings)
    except Exception as error:
        raise call.failure(error) from error
    return result.output, call.record(
        result.output.model_dump(mode="json"),
        result.usage,
        result.all_messages(),
        time.perf_counter() - started,
    )


async def run_text_stream(
    call: Call, on_delta: Callable[[str], Awaitable[None]]
) -> tuple[str, ModelCall]:
    """Streams text deltas to `on_delta` as the model produces them."""
    agent = Agent(call.model, output_type=str, system_prompt=call.system)
    started = time.perf_counter()
    pieces: list[str] = []
    try:
        async with agent.run_stream(call.user, model_settings=call.settings) as stream:
            async for delta in stream.stream_text(delta=True, debounce_by=None):
                pieces.append(delta)
                await on_delta(delta)
            usage, messages = stream.usage, stream.all_messages()
    except Exception as error:
        raise call.failure(error) from error
    text = "".join(pieces).strip()
    if not text:
        raise call.failure(ValueError("the model returned an empty passage"))
    return text, call.record(text, usage, messages, time.perf_counter() - started)


@dataclass(frozen=True)
class AgentModel:
    """The chain of models an agent runs on, as resolved for this call."""

    chain: tuple[ModelSpec, ...]
    models: tuple[Model, ...]
    timeout: float
    retries: int
    count_tokens: Callable[[str], int]

    @property
    def spec(self) -> ModelSpec:
        """The agent's own model: the first of its chain."""
        return self.chain[0]

    @classmethod
    def on(
        cls,
        registry: ModelRegistry,
        chain: Sequence[ModelSpec],
        slot: str,
        timeout: float,
        retries: int = 0,
    ) -> AgentModel:
        """The models `chain` names, each in its `slot` (an embedded model's own llama.cpp
        context), falling through in order; tokens are counted for the first."""
        if not chain:
            raise ValueError("an agent needs at least one model")
        models = tuple(registry.model(spec, slot) for spec in chain)
        return cls(tuple(chain), models, timeout, retries, token_counter(registry, chain[0]))

    @classmethod
    def for_role(
        cls, registry: ModelRegistry, role: ModelRole, slot: str, override: str | None = None
    ) -> AgentModel:
        """The role's chain as configured now; `override` replaces its own model for one call,
        and its fallbacks still follow."""
        settings = registry.settings
        chain = settings.chain_for(role)
        if override:
            chain[0] = override
        specs = [registry.spec(value) for value in dict.fromkeys(chain)]
        return cls.on(
            registry, specs, slot, settings.model_timeout_seconds, settings.model_max_retries
        )

    def call(
        self,
        agent: str,
        system: str,
        user: str,
        max_tokens: int,
        min_tokens: int = 0,
        temperature: float = 0.7,
    ) -> Call:
        return Call(
            agent,
            self.chain,
            self.models,
            system,
            user,
            max_tokens,
            self.timeout,
            self.retries,
            temperature=temperature,
            min_tokens=min_tokens,
        )


# The providers that read llama.cpp's `min_tokens`.
MIN_TOKENS = frozenset({"local", "llama-cpp-server"})

# What moves a call to the next model: any provider failure (HTTP errors after the SDK's own
# retries, connection errors, timeouts) and the embedded engine's own (e.g. a prompt longer
# than its context). Invalid output is not one: the agent asks the same model to fix it.
FALL_ON = (ModelAPIError, LunaError)
