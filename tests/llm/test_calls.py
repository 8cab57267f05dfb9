"""Model-call records: what a provider did not report is estimated and says so."""

from __future__ import annotations

from pydantic_ai.usage import RunUsage

from luna_narrates.llm.calls import ModelCall
from luna_narrates.llm.registry import ModelSpec

PROMPT = [{"role": "system", "content": "You write."}, {"role": "user", "content": "Go on."}]


def test_missing_usage_is_estimated_and_flagged() -> None:
    call = ModelCall(
        "writer", ModelSpec("openai-compatible", "m"), PROMPT, "Rain " * 40, RunUsage(), 1.0
    )
    assert call.tokens_estimated
    assert call.input_tokens > 0 and call.output_tokens >= 40


def test_reported_usage_is_kept() -> None:
    usage = RunUsage(input_tokens=12, output_tokens=3, cache_read_tokens=8)
    call = ModelCall("writer", ModelSpec("local", "smollm2"), PROMPT, "Rain.", usage, 1.0)
    assert not call.tokens_estimated
    assert (call.input_tokens, call.output_tokens, call.cache_read_tokens) == (12, 3, 8)
