"""Runs one agent call on a model and records what it saw, what it said, tokens and time.

Every provider failure leaves here as a ProviderError/ProviderTimeout that names the agent,
the provider and the model, so the player knows what to fix.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RunUsage

from luna_narrates.errors import LunaError, ProviderError, ProviderTimeout
from luna_narrates.llm.registry import ModelRegistry, ModelSpec
from luna_narrates.llm.tokens import estimate_tokens, token_counter

OutputT = TypeVar("OutputT", bound=BaseModel)


@dataclass
class ModelCall:
    agent: str
    spec: ModelSpec
    prompt: list[dict[str, str]]
    output: Any
    usage: RunUsage
    seconds: float

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


def prompt_hash(prompt: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(prompt, sort_keys=True).encode()).hexdigest()


@dataclass
class Call:
    """One agent's model call: who, on what, with which prompt and limits."""

    agent: str
    spec: ModelSpec
    model: Model
    system: str
    user: str
    max_tokens: int
    timeout: float
    temperature: float = 0.7
    min_tokens: int = 0

    @property
    def prompt(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]

    @property
    def settings(self) -> ModelSettings:
        settings: ModelSettings = {"max_tokens": self.max_tokens, "temperature": self.temperature}
        if self.min_tokens and self.spec.provider == "local":
            # Only the embedded model is sent `min_tokens`: hosted APIs reject unknown fields.
            settings["extra_body"] = {"min_tokens": self.min_tokens}
        return settings

    def failure(self, error: BaseException) -> LunaError:
        where = f"the {self.agent} ({self.spec})"
        if isinstance(error, TimeoutError):
            return ProviderTimeout(
                f"{where} did not answer within {self.timeout:g} s.",
                agent=self.agent,
                provider=self.spec.provider,
                model=self.spec.name,
            )
        reason = (
            error.message if isinstance(error, LunaError) else f"{type(error).__name__}: {error}"
        )
        return ProviderError(
            f"{where} failed: {reason}",
            agent=self.agent,
            provider=self.spec.provider,
            model=self.spec.name,
        )


async def run_structured(call: Call, output_type: type[OutputT]) -> tuple[OutputT, ModelCall]:
    agent = Agent(call.model, output_type=output_type, system_prompt=call.system, retries=2)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(call.timeout):
            result = await agent.run(call.user, model_settings=call.settings)
    except (Exception, TimeoutError) as error:
        raise call.failure(error) from error
    record = ModelCall(
        agent=call.agent,
        spec=call.spec,
        prompt=call.prompt,
        output=result.output.model_dump(mode="json"),
        usage=result.usage,
        seconds=time.perf_counter() - started,
    )
    return result.output, record


async def run_text_stream(
    call: Call, on_delta: Callable[[str], Awaitable[None]]
) -> tuple[str, ModelCall]:
    """Streams text deltas to `on_delta` as the model produces them."""
    agent = Agent(call.model, output_type=str, system_prompt=call.system)
    started = time.perf_counter()
    pieces: list[str] = []
    try:
        async with asyncio.timeout(call.timeout):
            async with agent.run_stream(call.user, model_settings=call.settings) as stream:
                async for delta in stream.stream_text(delta=True, debounce_by=None):
                    pieces.append(delta)
                    await on_delta(delta)
                usage = stream.usage
    except (Exception, TimeoutError) as error:
        raise call.failure(error) from error
    text = "".join(pieces).strip()
    if not text:
        raise call.failure(ValueError("the model returned an empty passage"))
    record = ModelCall(
        agent=call.agent,
        spec=call.spec,
        prompt=call.prompt,
        output=text,
        usage=usage,
        seconds=time.perf_counter() - started,
    )
    return text, record


@dataclass(frozen=True)
class AgentModel:
    """The model an agent runs on, as resolved for this turn."""

    spec: ModelSpec
    model: Model
    timeout: float
    count_tokens: Callable[[str], int]

    @classmethod
    def on(cls, registry: ModelRegistry, spec: ModelSpec, slot: str, timeout: float) -> AgentModel:
        """The model `spec` names, in its `slot` (an embedded model's own llama.cpp context),
        with the tokenizer that counts for it."""
        return cls(spec, registry.model(spec, slot), timeout, token_counter(registry, spec))

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
            self.spec,
            self.model,
            system,
            user,
            max_tokens,
            self.timeout,
            temperature=temperature,
            min_tokens=min_tokens,
        )
