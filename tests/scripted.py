"""Deterministic FunctionModels for the three agents that record what each one received."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    ToolCallPart,
    UserPromptPart,
)
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

from luna_narrates.llm.registry import ModelRegistry, ModelSpec

BRIEFING = {
    "situation": "Ila crouches at the water gate of the Doge's palace at midnight.",
    "player_intent": "Get inside unseen.",
    "open_threads": ["Who hired Ila?"],
}
MEMORY = {
    "summary": "Ila slipped under the portcullis of the water gate; a guard grew alert.",
    "entities": [
        {"name": "Ila", "kind": "character", "aliases": [], "description": "A thief."},
        {"name": "Water Gate", "kind": "location", "aliases": [], "description": ""},
    ],
    "facts": [{"subject": "Ila", "key": "location", "value": "inside the Water Gate"}],
    "relationships": [],
    "character_changes": [],
}
ARC = {"title": "The Way In", "summary": "Ila found a way into the Doge's palace."}
PLAN = {
    "scene_location": "The water gate",
    "characters_present": ["Ila", "Gate guard"],
    "tone": "tense",
    "beats": ["Ila slides under the portcullis.", "The guard's lantern swings toward her."],
    "npc_reactions": [{"character": "Gate guard", "reaction": "squints into the dark"}],
    "consequences": ["The guard is now alert."],
}
CHARACTER = {
    "description": "{{char}} is a lamplighter of Veyra who knows every canal by night.",
    "personality": "wry, watchful, kind to strays",
    "scenario": "{{char}} is lighting the lamps on the Bridge of Sighs when {{user}} runs past.",
    "first_mes": "Careful, friend. The canal is deeper than it looks.",
    "mes_example": "<START>\n{{user}}: Who are you?\n{{char}}: The one who keeps the dark away.",
    "tags": ["veyra", "lamplighter"],
}
SECTION = {"text": "Brisk and secretive, but loyal once trusted."}
DREAM = {
    "ideas": [
        {
            "content_type": "character",
            "name": "Mira the Ferrywoman",
            "description": "A ferrywoman who smuggles thieves across the canals for silver.",
            "metadata": [{"key": "look", "value": "grey cloak, lantern on a pole"}],
            "confidence": 0.9,
        },
        {
            "content_type": "location",
            "name": "The Drowned Chapel",
            "description": "A half-sunk chapel where the Doge's guards never go.",
            "metadata": [],
            "confidence": 0.7,
        },
        {
            "content_type": "plot_twist",
            "name": "The Crown Is Fake",
            "description": "The cursed crown in the vault is a copy; the real one is elsewhere.",
            "metadata": [],
            "confidence": 0.3,
        },
    ]
}
PASSAGE = ["You slide ", "under the portcullis; ", "cold water bites. ", "A lantern swings."]


@dataclass
class Seen:
    system: str
    user: str


def seen(messages: list[ModelMessage]) -> Seen:
    system, user = [], []
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    system.append(part.content)
                elif isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    user.append(part.content)
    return Seen("\n".join(system), "\n".join(user))


@dataclass
class Room:
    """One FunctionModel per agent, registered as provider `fn`; `calls` records every prompt."""

    briefing: dict[str, Any] = field(default_factory=lambda: dict(BRIEFING))
    plan: dict[str, Any] = field(default_factory=lambda: dict(PLAN))
    passage: list[str] = field(default_factory=lambda: list(PASSAGE))
    memory: Callable[[str], dict[str, Any]] = field(default=lambda prompt: dict(MEMORY))
    character: dict[str, Any] = field(default_factory=lambda: dict(CHARACTER))
    dream: dict[str, Any] = field(default_factory=lambda: dict(DREAM))
    character_failure: BaseException | None = None
    writer_failure: BaseException | None = None
    writer_delay: float = 0.0
    calls: dict[str, list[Seen]] = field(default_factory=dict)
    writer_spans: list[tuple[float, float]] = field(default_factory=list)
    during_writer: Callable[[], Awaitable[None]] | None = None

    def structured(self, agent: str, args: Callable[[], dict[str, Any]]) -> FunctionModel:
        def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            self.calls.setdefault(agent, []).append(seen(messages))
            return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args())])

        return FunctionModel(respond, model_name=f"fn-{agent}")

    def writer(self) -> FunctionModel:
        async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
            self.calls.setdefault("writer", []).append(seen(messages))
            started = time.monotonic()
            if self.during_writer is not None:
                await self.during_writer()
            for piece in self.passage:
                if self.writer_delay:
                    await asyncio.sleep(self.writer_delay)
                if self.writer_failure is not None:
                    raise self.writer_failure
                yield piece
            self.writer_spans.append((started, time.monotonic()))

        return FunctionModel(stream_function=stream, model_name="fn-writer")

    def remembering(self) -> FunctionModel:
        """The background jobs' model: a TurnMemory from `memory(prompt)`, the arc summary, or
        the Dreamer's ideas (`dream`)."""

        def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            tool = info.output_tools[0]
            prompt = seen(messages)
            properties = tool.parameters_json_schema.get("properties", {})
            if "ideas" in properties:
                self.calls.setdefault("dreamer", []).append(prompt)
                return ModelResponse(parts=[ToolCallPart(tool.name, dict(self.dream))])
            self.calls.setdefault("memory", []).append(prompt)
            is_arc = "facts" not in properties
            args = dict(ARC) if is_arc else self.memory(prompt.user)
            return ModelResponse(parts=[ToolCallPart(tool.name, args)])

        return FunctionModel(respond, model_name="fn-memory")

    def writing_characters(self) -> FunctionModel:
        """The character writer's model: a draft, or a section (a schema with only `text`)."""

        def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            self.calls.setdefault("character", []).append(seen(messages))
            if self.character_failure is not None:
                raise self.character_failure
            tool = info.output_tools[0]
            is_section = set(tool.parameters_json_schema.get("properties", {})) == {"text"}
            args = dict(SECTION) if is_section else dict(self.character)
            return ModelResponse(parts=[ToolCallPart(tool.name, args)])

        return FunctionModel(respond, model_name="fn-character")

    def model(self, registry: ModelRegistry, spec: ModelSpec, agent: str) -> Model:
        if agent == "character":
            return self.writing_characters()
        if agent == "memory":
            return self.remembering()
        if agent == "preprocessor":
            return self.structured(agent, lambda: self.briefing)
        if agent == "strategist":
            return self.structured(agent, lambda: self.plan)
        return self.writer()

    def install(self, registry: ModelRegistry) -> None:
        registry.register("fn", self.model)


FN_MODELS = {
    "preprocessor_model": "fn:preprocessor",
    "strategist_model": "fn:strategist",
    "writer_model": "fn:writer",
}
