"""Our own chat models as pydantic-ai models: the embedded llama.cpp engine (llm/local.py) and
Ollama's native API (llm/ollama_native.py).

Both take chat messages, sample structured output under a grammar built from its JSON schema
and report real token counts, so the plumbing is shared: pydantic-ai's messages become chat
messages, the output tool (or native output) becomes a schema to constrain generation with,
and the generated text becomes the tool call's arguments, the output, or a text stream.
A subclass only says how to `generate`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import _utils
from pydantic_ai.messages import (
    FinishReason,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponseStreamEvent,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters, StreamedResponse
from pydantic_ai.models.function import DeltaToolCall, FunctionModel, FunctionStreamedResponse
from pydantic_ai.profiles import ModelProfile
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage

ChatMessages = list[dict[str, str]]


def chat_messages(messages: list[ModelMessage], instructions: str | None) -> ChatMessages:
    """pydantic-ai messages as chat-template messages, system first."""
    system: list[str] = [instructions] if instructions else []
    chat: ChatMessages = []
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    system.append(part.content)
                elif isinstance(part, UserPromptPart):
                    content = part.content if isinstance(part.content, str) else str(part.content)
                    chat.append({"role": "user", "content": content})
                elif isinstance(part, ToolReturnPart):
                    chat.append({"role": "user", "content": part.model_response_str()})
                elif isinstance(part, RetryPromptPart):
                    chat.append({"role": "user", "content": part.model_response()})
        else:
            for rpart in message.parts:
                if isinstance(rpart, TextPart):
                    chat.append({"role": "assistant", "content": rpart.content})
                elif isinstance(rpart, ToolCallPart):
                    chat.append({"role": "assistant", "content": rpart.args_as_json_str()})
    head = [{"role": "system", "content": "\n\n".join(system)}] if system else []
    return head + chat


def output_schema(parameters: ModelRequestParameters) -> tuple[dict[str, Any] | None, str | None]:
    """The JSON schema to constrain generation with, and the output tool to answer through."""
    if parameters.output_mode == "tool" or (
        parameters.output_tools and not parameters.allow_text_output
    ):
        tool = parameters.output_tools[0]
        return tool.parameters_json_schema, tool.name
    if parameters.output_object is not None and parameters.output_mode in ("native", "prompted"):
        return parameters.output_object.json_schema, None
    return None, None


@dataclass
class Generation:
    """One generation: the chat, the schema its output is bound by, the settings, and what the
    model reports by its end (real token counts, why it stopped)."""

    chat: ChatMessages
    json_schema: dict[str, Any] | None
    settings: ModelSettings
    usage: RequestUsage = field(default_factory=RequestUsage)
    finish_reason: FinishReason | None = None


@dataclass
class _ChatStreamedResponse(FunctionStreamedResponse):
    """Reports the model's real token counts instead of estimates, and why it stopped."""

    _generation: Generation | None = None

    async def _get_event_iterator(self) -> AsyncIterator[ModelResponseStreamEvent]:
        async for event in super()._get_event_iterator():
            yield event
        if self._generation is not None:
            if self._generation.usage.has_values():
                self._usage = self._generation.usage
            self.finish_reason = self._generation.finish_reason


class ChatModel(FunctionModel):
    """A model that generates from chat messages, its structured output bound by the schema.

    Answers the output tool with the generated JSON as its arguments, or gives the JSON as native
    output; the profile decides which pydantic-ai asks for.
    """

    def __init__(self, model_name: str, system: str, profile: ModelProfile) -> None:
        super().__init__(
            self._respond,
            stream_function=self._unused_stream,
            model_name=model_name,
            profile=profile,
        )
        self._system = system

    @abstractmethod
    def generate(self, generation: Generation) -> AsyncIterator[str]:
        """Yields text as it is generated, under the schema's grammar when there is one, and
        fills in the generation's usage and finish reason by the end."""

    async def _respond(self, messages: list[ModelMessage], info: Any) -> ModelResponse:
        schema, tool_name = output_schema(info.model_request_parameters)
        chat = chat_messages(messages, info.instructions)
        generation = Generation(chat, schema, info.model_settings or ModelSettings())
        text = "".join([piece async for piece in self.generate(generation)])
        part: TextPart | ToolCallPart = (
            ToolCallPart(tool_name, text) if tool_name else TextPart(content=text)
        )
        return ModelResponse(
            parts=[part], usage=generation.usage, finish_reason=generation.finish_reason
        )

    async def _unused_stream(self, messages: list[ModelMessage], info: Any) -> AsyncIterator[str]:
        raise AssertionError(f"{type(self).__name__} streams through request_stream")
        yield ""  # pragma: no cover

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: Any = None,
    ) -> AsyncGenerator[StreamedResponse]:
        model_settings, model_request_parameters = self.prepare_request(
            model_settings, model_request_parameters
        )
        from pydantic_ai._instrumentation import get_instructions

        schema, tool_name = output_schema(model_request_parameters)
        chat = chat_messages(messages, get_instructions(messages, model_request_parameters))
        generation = Generation(chat, schema, model_settings or ModelSettings())

        async def pieces() -> AsyncIterator[Any]:
            name = tool_name
            async for text in self.generate(generation):
                if not text:
                    continue
                if tool_name is None:
                    yield text
                else:
                    yield {0: DeltaToolCall(name=name, json_args=text)}
                    name = None

        stream: _utils.PeekableAsyncStream[Any, AsyncIterator[Any]] = _utils.PeekableAsyncStream(
            pieces()
        )
        try:
            yield _ChatStreamedResponse(
                model_request_parameters=model_request_parameters,
                _model_name=self.model_name,
                _iter=stream,
                _generation=generation,
            )
        finally:
            await stream.aclose()
