"""A fake of Anthropic's Messages API: an ASGI app that the real SDK and pydantic-ai talk to.

It follows the documented wire protocol:

- https://docs.anthropic.com/en/api/messages: `POST /v1/messages` (the request, the Message object,
  `usage` with `input_tokens`, `output_tokens`, `cache_creation_input_tokens`,
  `cache_read_input_tokens`).
- https://docs.anthropic.com/en/docs/build-with-claude/streaming: `stream: true` answers server-sent
  events `message_start`, `content_block_start`, `ping`, `content_block_delta` (`text_delta`,
  `input_json_delta`), `content_block_stop`, `message_delta` (`stop_reason`, cumulative `usage`),
  `message_stop`; an error in an open stream is an `error` event.
- https://docs.anthropic.com/en/api/errors: errors are `{"type": "error", "error": {"type",
  "message"}, "request_id"}` with 400 invalid_request_error, 401 authentication_error, 402
  billing_error, 403 permission_error, 404 not_found_error, 413 request_too_large, 429
  rate_limit_error (with `retry-after`), 500 api_error, 504 timeout_error, 529 overloaded_error;
  every response has a `request-id` header.
- https://docs.anthropic.com/en/docs/build-with-claude/tool-use/overview: `tools` with
  `input_schema`, `tool_choice` (`auto`, `any`, `tool`, `none`), `tool_use` content blocks and
  `stop_reason: "tool_use"`.
- https://docs.anthropic.com/en/docs/build-with-claude/structured-outputs: `output_config.format`
  (or the older `output_format`) `{"type": "json_schema", "schema"}` answers JSON text.
- https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching: `cache_control` breakpoints
  on tools, system blocks and message blocks, or top-level (automatic caching); the prefix up to a
  breakpoint is written to the cache the first time (`cache_creation_input_tokens`) and read from it
  after (`cache_read_input_tokens`), in the order tools → system → messages.
- https://docs.anthropic.com/en/api/versioning: the `anthropic-version` header is required.
- https://docs.anthropic.com/en/api/messages-count-tokens and
  https://docs.anthropic.com/en/api/models-list.

Authentication: the key goes in `x-api-key` (the docs), or as `Authorization: Bearer <key>`, which
is how the installed `anthropic` SDK (2.12) sends an `api_key`; both are checked against the
expected key.

Usage: the installed SDK and pydantic-ai read token counts as given, so the fake counts
deterministically (`rough_tokens`: a token per 4 characters of the strings in the request or
answer); `Answer(usage=...)` or the `usage` argument overrides any of the four counts.

    fake = FakeAnthropic(api_key="sk-test")
    fake.script(rate_limited(retry_after="0"), Answer())
    async with fake.serve() as url:
        client = anthropic.AsyncAnthropic(api_key="sk-test", base_url=url)
        ...
    fake.requests_to("/v1/messages")[-1].body["system"]
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.common import (
    Answer,
    Behaviour,
    BreakableStream,
    BrokenJson,
    ChatView,
    Completion,
    CutOff,
    DropConnection,
    Fail,
    FakeServer,
    Hang,
    Responder,
    StreamError,
    broken_json,
    dumps,
    half_body,
    json_pieces,
    last_user_text,
    rough_tokens,
    sse,
    stall,
    text_pieces,
)

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
ERROR_MESSAGES = {
    "rate_limit_error": "Number of requests has exceeded your per-minute rate limit",
    "overloaded_error": "Overloaded",
    "api_error": "Internal server error",
    "timeout_error": "Request timeout",
}
DEFAULT_MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")


def error_body(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }


class FakeAnthropic(FakeServer):
    """`POST /v1/messages` (streamed or not), `POST /v1/messages/count_tokens`, `GET /v1/models`.

    Only `POST /v1/messages` takes a behaviour from the queue. `models=None` accepts any model name;
    a list answers others with 404 `not_found_error` "model: <name>", as the API does.
    `prompt_cache` holds the keys of the prompt prefixes written so far (clear it to start cold).
    """

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        models: Sequence[str] | None = None,
        responder: Responder | None = None,
        usage: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(responder)
        self.api_key = api_key
        self.models = tuple(models) if models is not None else None
        self.usage = dict(usage or {})
        self.prompt_cache: set[str] = set()
        self._ids = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/v1/messages", self._messages, methods=["POST"]),
                Route("/v1/messages/count_tokens", self._count_tokens, methods=["POST"]),
                Route("/v1/models", self._list_models, methods=["GET"]),
                Route("/v1/models/{model_id:path}", self._get_model, methods=["GET"]),
            ],
            exception_handlers={404: self._http_error, 405: self._http_error},
        )

    def reset(self) -> None:
        super().reset()
        self.prompt_cache.clear()

    # Endpoints.

    async def _messages(self, request: Request) -> Response:
        recorded = await self.record(request)
        if (refusal := self._check(request, recorded.body, needs_body=True)) is not None:
            return refusal
        body: dict[str, Any] = recorded.body
        behaviour = self.take(recorded)
        stream = body.get("stream") is True
        if isinstance(behaviour, Fail) or (isinstance(behaviour, StreamError) and not stream):
            return self._error(behaviour)
        if isinstance(behaviour, Hang) and not (stream and behaviour.mid_stream):
            await stall(request, behaviour.seconds)
        completion = self.reply(body, self._view(body), behaviour)
        message = self._message(body, completion, behaviour)
        if stream:
            return BreakableStream(
                self._events(request, message, behaviour),
                media_type="text/event-stream; charset=utf-8",
                headers={"request-id": self._id("req"), "cache-control": "no-cache"},
            )
        raw = json.dumps(message).encode()
        if isinstance(behaviour, BrokenJson):
            return Response(
                broken_json(raw), media_type="application/json", headers=self._ids_header()
            )
        if isinstance(behaviour, CutOff):
            return half_body(raw)
        return Response(raw, media_type="application/json", headers=self._ids_header())

    async def _count_tokens(self, request: Request) -> Response:
        recorded = await self.record(request)
        if (refusal := self._check(request, recorded.body, needs_body=False)) is not None:
            return refusal
        return JSONResponse(
            {"input_tokens": rough_tokens(*self._segments(recorded.body))},
            headers=self._ids_header(),
        )

    async def _list_models(self, request: Request) -> Response:
        await self.record(request)
        if (refusal := self._authenticate(request)) is not None:
            return refusal
        data = [self._model_object(name) for name in self.models or DEFAULT_MODELS]
        return JSONResponse(
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            },
            headers=self._ids_header(),
        )

    async def _get_model(self, request: Request) -> Response:
        await self.record(request)
        if (refusal := self._authenticate(request)) is not None:
            return refusal
        name = request.path_params["model_id"]
        if name not in (self.models or DEFAULT_MODELS):
            return self._error(Fail(404, f"model: {name}"))
        return JSONResponse(self._model_object(name), headers=self._ids_header())

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        await self.record(request)
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = "Not Found" if status == 404 else f"{request.method} is not allowed here"
        error_type = "not_found_error" if status == 404 else "invalid_request_error"
        return self._error(Fail(status, message, error_type))

    # Checks, in the order the API applies them.

    def _check(self, request: Request, body: Any, *, needs_body: bool) -> Response | None:
        if (refusal := self._authenticate(request)) is not None:
            return refusal
        if "anthropic-version" not in request.headers:
            return self._error(Fail(400, "anthropic-version: header is required"))
        if not isinstance(body, dict):
            return self._error(Fail(400, "There was an error parsing the body of your request"))
        required = ("model", "messages", "max_tokens") if needs_body else ("model", "messages")
        for name in required:
            if name not in body:
                return self._error(Fail(400, f"{name}: Field required"))
        if not isinstance(body["messages"], list):
            return self._error(Fail(400, "messages: Input should be a valid list"))
        if self.models is not None and body["model"] not in self.models:
            return self._error(Fail(404, f"model: {body['model']}"))
        return None

    def _authenticate(self, request: Request) -> Response | None:
        key = request.headers.get("x-api-key")
        authorization = request.headers.get("authorization", "")
        if key is None and authorization.lower().startswith("bearer "):
            key = authorization[len("bearer ") :]
        if key is None:
            return self._error(Fail(401, "x-api-key header is required"))
        if key != self.api_key:
            return self._error(Fail(401, "invalid x-api-key"))
        return None

    def _error(self, failure: Fail | StreamError) -> Response:
        error_type = failure.error_type or ERROR_TYPES.get(failure.status, "api_error")
        message = failure.message or ERROR_MESSAGES.get(error_type, error_type)
        request_id = self._id("req")
        headers = {"request-id": request_id}
        if isinstance(failure, Fail):
            if failure.retry_after is not None:
                headers["retry-after"] = failure.retry_after
            headers.update(failure.headers)
        return JSONResponse(
            error_body(error_type, message, request_id), status_code=failure.status, headers=headers
        )

    # The answer.

    def _view(self, body: Mapping[str, Any]) -> ChatView:
        choice = body.get("tool_choice") or {}
        tools = {
            tool["name"]: tool["input_schema"]
            for tool in body.get("tools") or []
            if isinstance(tool, Mapping) and "input_schema" in tool
        }
        if choice.get("type") == "none":
            tools = {}
        output_format = (body.get("output_config") or {}).get("format") or body.get("output_format")
        schema = None
        if isinstance(output_format, Mapping) and output_format.get("type") == "json_schema":
            schema = output_format.get("schema")
        return ChatView(
            prompt=last_user_text(body["messages"]),
            tools=tools,
            forced_tool=choice.get("name") if choice.get("type") == "tool" else None,
            tool_required=choice.get("type") in ("any", "tool"),
            output_schema=schema,
        )

    def _message(
        self, body: Mapping[str, Any], completion: Completion, behaviour: Behaviour
    ) -> dict[str, Any]:
        text, stop_reason, stop_sequence = completion.text, "end_turn", None
        for sequence in body.get("stop_sequences") or []:
            if sequence and sequence in text:
                text, stop_reason, stop_sequence = (
                    text.split(sequence)[0],
                    "stop_sequence",
                    sequence,
                )
        max_tokens = body.get("max_tokens")
        if (
            isinstance(max_tokens, int)
            and not completion.tool_calls
            and rough_tokens(text) > max_tokens
        ):
            text, stop_reason, stop_sequence = text[: max_tokens * 4], "max_tokens", None
        content: list[dict[str, Any]] = []
        if text or not completion.tool_calls:
            content.append({"type": "text", "text": text})
        for name, arguments in completion.tool_calls:
            content.append(
                {"type": "tool_use", "id": self._id("toolu"), "name": name, "input": arguments}
            )
        if completion.tool_calls:
            stop_reason = "tool_use"
        usage = self._usage(body, content)
        if isinstance(behaviour, Answer) and behaviour.usage:
            usage.update(behaviour.usage)
        return {
            "id": self._id("msg"),
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage,
        }

    def _usage(self, body: Mapping[str, Any], content: list[dict[str, Any]]) -> dict[str, int]:
        segments = self._segments(body)
        total = rough_tokens(*segments)
        breakpoints = [i for i, segment in enumerate(segments) if _has_cache_control(segment)]
        if body.get("cache_control") and segments:
            breakpoints.append(len(segments) - 1)
        read = written = 0
        if breakpoints:
            keys = {i: _prefix_key(segments[: i + 1]) for i in breakpoints}
            hits = [i for i in breakpoints if keys[i] in self.prompt_cache]
            read = rough_tokens(*segments[: max(hits) + 1]) if hits else 0
            written = rough_tokens(*segments[: max(breakpoints) + 1]) - read
            self.prompt_cache.update(keys.values())
        usage = {
            "input_tokens": max(0, total - read - written),
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
            "output_tokens": rough_tokens(
                [block.get("text") or json.dumps(block.get("input")) for block in content]
            ),
        }
        usage.update(self.usage)
        return usage

    @staticmethod
    def _segments(body: Mapping[str, Any]) -> list[Any]:
        """The cacheable prompt in the order the cache sees it: tools, system blocks, message
        blocks."""
        segments: list[Any] = list(body.get("tools") or [])
        system = body.get("system")
        segments.extend([system] if isinstance(system, str) else system or [])
        for message in body.get("messages") or []:
            content = message.get("content") if isinstance(message, Mapping) else None
            segments.extend([content] if isinstance(content, str) else content or [])
        return segments

    async def _events(
        self, request: Request, message: dict[str, Any], behaviour: Behaviour
    ) -> AsyncIterator[bytes]:
        start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
        start["usage"] = {**message["usage"], "output_tokens": 1}
        yield _event("message_start", {"type": "message_start", "message": start})
        if isinstance(behaviour, StreamError):
            error_type = behaviour.error_type or ERROR_TYPES.get(behaviour.status, "api_error")
            message_text = behaviour.message or ERROR_MESSAGES.get(error_type, error_type)
            yield _event("error", error_body(error_type, message_text, self._id("req")))
            return
        if isinstance(behaviour, CutOff):
            if behaviour.drop_connection:
                raise DropConnection
            return
        if isinstance(behaviour, BrokenJson):
            yield sse(
                '{"type": "content_block_start", "index": 0, "content_block": {"type": "te',
                "content_block_start",
            )
            return
        if isinstance(behaviour, Hang) and behaviour.mid_stream:
            await stall(request, behaviour.seconds)
        for index, block in enumerate(message["content"]):
            if block["type"] == "text":
                opened: dict[str, Any] = {"type": "text", "text": ""}
                deltas = [
                    {"type": "text_delta", "text": piece} for piece in text_pieces(block["text"])
                ]
            else:
                opened = {**block, "input": {}}
                deltas = [
                    {"type": "input_json_delta", "partial_json": piece}
                    for piece in json_pieces(json.dumps(block["input"]))
                ]
            yield _event(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": opened},
            )
            if index == 0:
                yield _event("ping", {"type": "ping"})
            for delta in deltas:
                yield _event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
        yield _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": message["stop_reason"],
                    "stop_sequence": message["stop_sequence"],
                },
                "usage": message["usage"],
            },
        )
        yield _event("message_stop", {"type": "message_stop"})

    # Identifiers.

    def _id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):020d}"

    def _ids_header(self) -> dict[str, str]:
        return {"request-id": self._id("req")}

    @staticmethod
    def _model_object(name: str) -> dict[str, Any]:
        return {
            "type": "model",
            "id": name,
            "display_name": name.replace("-", " ").title(),
            "created_at": "2025-01-01T00:00:00Z",
        }


def _event(name: str, data: Mapping[str, Any]) -> bytes:
    return sse(dumps(data), name)


def _has_cache_control(segment: Any) -> bool:
    return isinstance(segment, Mapping) and bool(segment.get("cache_control"))


def _prefix_key(segments: Sequence[Any]) -> str:
    def strip(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: strip(v) for k, v in value.items() if k != "cache_control"}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    return hashlib.sha256(json.dumps(strip(list(segments)), sort_keys=True).encode()).hexdigest()
