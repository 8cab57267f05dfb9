"""Ollama's native chat API (`POST /api/chat`) as a pydantic-ai model: the
`ollama-native:<model>` provider. The protocol: https://github.com/ollama/ollama/blob/main/docs/api.md

Why beside `ollama:` (Ollama's OpenAI-compatible API): the native API takes sampling `options`
(`num_ctx`, `num_predict`, `temperature`, `seed`) and `keep_alive`, samples structured output
under a grammar built from the JSON schema given as `format`, and reports the tokens it
evaluated (`prompt_eval_count`, `eval_count`) on every answer, streamed or not.

Structured output is native output, with the schema both in `format` (the grammar) and in the
instructions: Ollama's documentation advises showing the model the schema it is bound to, and
the field descriptions tell it what to write in each field. An answer streams as NDJSON, one
object a line, the last with `done: true`, the token counts and `done_reason` ("length" when
`num_predict` cut it).

Failures are pydantic-ai's errors, as its own models raise them, so a fallback chain moves on:
an HTTP error is a ModelHTTPError of its category (404, a model not pulled:
ModelNotFoundError; 503, Ollama's queue full: ModelUnavailableError) carrying Ollama's
`{"error": "…"}` body; a refused or broken connection a ModelConnectionError; an error, a line
that is not JSON or a missing last line in the stream a ModelAPIError saying so. Like the SDKs
behind the other providers, a 429 or 5xx is retried `max_retries` times (MODEL_MAX_RETRIES)
with exponential backoff that honours `retry-after`: a busy Ollama is usually free a moment
later, and the deadline (`request_timeout`, enforced by pydantic-ai) bounds the waits.

Each request opens its own HTTP client and closes it when the answer ends: the registry builds
models per turn and nothing closes a model, so a client held by a model would leak its
connections; Ollama usually runs on this machine or the LAN, where a new connection costs far
less than a generation.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx

# pydantic-ai's own adapters build their errors with these, so ours fall in the same categories.
from pydantic_ai._model_errors import (
    connection_error,
    http_status_category,
    transport_status_error,
)
from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError
from pydantic_ai.profiles import ModelProfile
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage

from luna_narrates.llm.chat import ChatMessages, ChatModel, Generation

OLLAMA_NATIVE_PROFILE = ModelProfile(
    supports_json_schema_output=True,
    supports_json_object_output=True,
    default_structured_output_mode="native",
    native_output_requires_schema_in_instructions=True,
)
MAX_RETRIES = 2
"""As the OpenAI and Anthropic SDKs, when the settings name none."""
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0
HTTP_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
"""Per attempt, as pydantic-ai's own clients; loading a large model can take minutes."""
OPTIONS = {
    "max_tokens": "num_predict",
    "temperature": "temperature",
    "seed": "seed",
    "top_p": "top_p",
    "stop_sequences": "stop",
}
"""Settings sent as `options`, by the names Ollama gives them."""


def native_base_url(base_url: str) -> str:
    """The root of Ollama's native API: OLLAMA_BASE_URL serves both APIs, written with the
    OpenAI-compatible one's `/v1` (`http://127.0.0.1:11434/v1`) or without it."""
    root = base_url.rstrip("/")
    return root.removesuffix("/v1")


def chat_request(
    model: str, chat: ChatMessages, json_schema: dict[str, Any] | None, settings: ModelSettings
) -> dict[str, Any]:
    """The body of `POST /api/chat`. `extra_body` adds fields (`keep_alive`, `think`), and its
    `options` (`num_ctx`, …) join those the settings give."""
    extra = settings.get("extra_body")
    extra = dict(extra) if isinstance(extra, Mapping) else {}
    given: Mapping[str, object] = settings
    options = {ours: given[key] for key, ours in OPTIONS.items() if key in given}
    options |= extra.pop("options", None) or {}
    body: dict[str, Any] = {"model": model, "messages": chat, "stream": True, **extra}
    if options:
        body["options"] = options
    if json_schema is not None:
        body["format"] = json_schema
    return body


def backoff(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return retry_after
    return float(min(FIRST_BACKOFF_SECONDS * 2**attempt, MAX_BACKOFF_SECONDS))


def retried(status: int) -> bool:
    """A rate limit or a server error (Ollama answers 503 when its queue is full)."""
    return status == 429 or status >= 500


class OllamaNativeModel(ChatModel):
    """A model served by Ollama, through `POST {base_url}/api/chat`."""

    def __init__(self, model_name: str, base_url: str) -> None:
        self._base_url = native_base_url(base_url)
        super().__init__(model_name, "ollama", OLLAMA_NATIVE_PROFILE)

    @property
    def base_url(self) -> str:
        return self._base_url

    async def generate(self, generation: Generation) -> AsyncIterator[str]:
        settings = generation.settings
        body = chat_request(self.model_name, generation.chat, generation.json_schema, settings)
        async with self._answer(body, settings) as lines:
            async for line in lines:
                chunk = self._parse(line)
                text = (chunk.get("message") or {}).get("content") or ""
                if text:
                    yield text
                if chunk.get("done"):
                    generation.usage = RequestUsage(
                        input_tokens=int(chunk.get("prompt_eval_count") or 0),
                        output_tokens=int(chunk.get("eval_count") or 0),
                    )
                    generation.finish_reason = (
                        "length" if chunk.get("done_reason") == "length" else "stop"
                    )
                    return
        raise ModelAPIError(
            self.model_name, "Ollama's answer ended before its last line (`done: true`)"
        )

    @asynccontextmanager
    async def _answer(
        self, body: dict[str, Any], settings: ModelSettings
    ) -> AsyncIterator[AsyncIterator[str]]:
        """The lines of a successful answer; the HTTP client is closed once they are read."""
        async with httpx.AsyncClient(timeout=_timeout(settings)) as http:
            response = await self._send(http, body, int(settings.get("max_retries", MAX_RETRIES)))
            try:
                yield self._lines(response)
            finally:
                await response.aclose()

    async def _send(
        self, http: httpx.AsyncClient, body: dict[str, Any], retries: int
    ) -> httpx.Response:
        request = http.build_request("POST", f"{self.base_url}/api/chat", json=body)
        for attempt in itertools.count():
            with self._transport_errors():
                response = await http.send(request, stream=True)
                if response.is_success:
                    return response
                await response.aread()
                await response.aclose()
            error = transport_status_error(self.model_name, response)
            if attempt >= retries or not retried(response.status_code):
                raise error
            await asyncio.sleep(backoff(attempt, error.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _lines(self, response: httpx.Response) -> AsyncIterator[str]:
        with self._transport_errors():
            async for line in response.aiter_lines():
                if line.strip():
                    yield line

    @contextmanager
    def _transport_errors(self) -> Iterator[None]:
        """httpx's failures as pydantic-ai's: a ModelTimeoutError, or a ModelConnectionError."""
        try:
            yield
        except httpx.TransportError as error:
            said = f"Ollama at {self.base_url}: {error or type(error).__name__}"
            timed_out = isinstance(error, httpx.TimeoutException)
            raise connection_error(self.model_name, said, error, timeout=timed_out) from error

    def _parse(self, line: str) -> dict[str, Any]:
        try:
            chunk = json.loads(line)
        except ValueError as error:
            raise ModelAPIError(
                self.model_name, f"Ollama sent a line that is not JSON: {line[:200]!r}"
            ) from error
        if not isinstance(chunk, dict):
            raise ModelAPIError(
                self.model_name, f"Ollama sent a line that is not a JSON object: {line[:200]!r}"
            )
        if "error" in chunk:
            # An error after the answer began: the status Ollama would have answered with.
            raise ModelHTTPError.for_category(
                http_status_category(500, chunk["error"]),
                status_code=500,
                model_name=self.model_name,
                body=chunk,
                in_stream=True,
            )
        return chunk


def _timeout(settings: ModelSettings) -> httpx.Timeout:
    """Each attempt's timeout: the settings' `timeout`, else HTTP_TIMEOUT."""
    timeout = settings.get("timeout")
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(timeout) if timeout is not None else HTTP_TIMEOUT
