"""Token counting: the embedded model's own tokenizer, else an estimate for remote models."""

from __future__ import annotations

from collections.abc import Callable

from luna_narrates.llm.registry import ModelRegistry, ModelSpec

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """About four characters per token in English prose for GPT-style tokenizers."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def token_counter(registry: ModelRegistry, spec: ModelSpec) -> Callable[[str], int]:
    if spec.provider == "local":
        engine = registry.local_engine(spec.name)
        return lambda text: len(engine.tokenize(text))
    return estimate_tokens
