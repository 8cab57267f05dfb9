"""A deterministic model for tests, benchmarks and `luna serve --model test`: no LLM at all.

Structured outputs are filled from their JSON schema (pydantic-ai's TestModel data generator);
prose echoes the plan's beats from the prompt, streamed word by word: at once (`test`), or at
a reader's pace (`test:paced`, PACED_WORD_SECONDS a word), so a client shows the text arriving.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel


def last_user_text(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in reversed(message.parts):
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


def scripted_passage(prompt: str) -> str:
    """Prose built from the `- beat` lines of a writer prompt, so tests can trace the plan."""
    beats = []
    in_beats = False
    for line in prompt.splitlines():
        if line.strip() == "Beats:":
            in_beats = True
        elif in_beats and line.startswith("- "):
            beats.append(line[2:].strip().rstrip(".") + ".")
        elif in_beats:
            in_beats = False
    body = " ".join(beats) or "The story waits for your next move."
    return f"{body} The moment hangs, waiting for what you do next."


def _respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    if info.output_tools and not info.allow_text_output:
        tool = info.output_tools[0]
        return ModelResponse(parts=[ToolCallPart(tool.name, TestModel().gen_tool_args(tool))])
    return ModelResponse(parts=[TextPart(scripted_passage(last_user_text(messages)))])


PACED_WORD_SECONDS = 0.04


async def _stream(
    messages: list[ModelMessage], info: AgentInfo, *, pause: float
) -> AsyncIterator[str]:
    words = scripted_passage(last_user_text(messages)).split(" ")
    for index, word in enumerate(words):
        if pause and index:
            await asyncio.sleep(pause)
        yield word if index == 0 else " " + word


def scripted_model(*, paced: bool = False) -> FunctionModel:
    pause = PACED_WORD_SECONDS if paced else 0.0
    return FunctionModel(
        _respond,
        stream_function=partial(_stream, pause=pause),
        model_name="paced" if paced else "scripted",
    )
