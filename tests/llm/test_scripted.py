"""The scripted test model: `test` streams its passage at once, `test:paced` the same words a
reader's pace apart (what the web UI's end-to-end test watches arrive); other names are refused."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest
from pydantic_ai import Agent

from luna_narrates.config import Settings
from luna_narrates.errors import InvalidInput
from luna_narrates.llm import scripted
from luna_narrates.llm.registry import ModelRegistry, ModelSpec

PROMPT = "Beats:\n- Fog rolls in\n- A bell rings\n\nWrite the passage."


async def chunks(spec: str) -> list[tuple[float, str]]:
    registry = ModelRegistry(Settings())
    model = registry.model(registry.spec(spec), "writer")
    seen: list[tuple[float, str]] = []
    async with Agent(model).run_stream(PROMPT) as run:
        async for text in run.stream_text(delta=True, debounce_by=None):
            seen.append((time.monotonic(), text))
    return seen


async def test_paced_streams_the_same_words_a_pause_apart() -> None:
    instant, paced = await chunks("test"), await chunks("test:paced")
    text = "".join(t for _, t in paced)
    assert text == "".join(t for _, t in instant) == scripted.scripted_passage(PROMPT)
    assert len(paced) == len(text.split(" "))
    gaps = [b[0] - a[0] for a, b in pairwise(paced)]
    # asyncio.sleep never wakes early: every word waits at least the pause.
    assert min(gaps) >= scripted.PACED_WORD_SECONDS * 0.9


def test_the_test_models_names() -> None:
    assert str(ModelSpec.parse("test")) == "test"
    assert str(ModelSpec.parse("test:paced")) == "test:paced"
    registry = ModelRegistry(Settings())
    with pytest.raises(InvalidInput, match="'test' or 'test:paced'"):
        registry.model(registry.spec("test:fast"), "writer")
