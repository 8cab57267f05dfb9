"""A fake of an Ollama server, as an ASGI app: its native API and its OpenAI-compatible one.

It follows the documented wire protocols:

- https://github.com/ollama/ollama/blob/main/docs/api.md: model names are `model:tag`, the tag
  defaulting to `latest`; `GET /api/tags` (`name`, `model`, `modified_at`, `size`, `digest`,
  `details`); `POST /api/chat`, streamed by default as NDJSON (one JSON object a line, the last with
  `done: true`, `done_reason`, `total_duration`, `load_duration`, `prompt_eval_count`,
  `prompt_eval_duration`, `eval_count`, `eval_duration`; durations in nanoseconds), one object with
  `stream: false`; `format` is `"json"` or a JSON schema; `tools` answer `message.tool_calls` with
  `function.arguments` as an object; `POST /api/embed` (`input` a string or a list → `embeddings`,
  one vector each, L2-normalised); `GET /api/version`. Errors are `{"error": "<message>"}`; an
  unknown model is 404 "model '<name>' not found", a model without the capability 400 `"<name>" does
  not support chat` (or embeddings).
- https://github.com/ollama/ollama/blob/main/docs/openai.md: `GET /v1/models`,
  `GET /v1/models/{model}`, `POST /v1/chat/completions` (streamed as SSE `data: {chunk}` …
  `data: [DONE]`; `stream_options.include_usage` adds a last chunk with `usage` and no choices;
  `tools` answer `tool_calls` whose `function.arguments` is a JSON string, with
  `finish_reason: "tool_calls"`; `response_format` `json_schema` or `json_object` answers JSON text;
  `max_tokens` cuts the answer, `finish_reason: "length"`), `POST /v1/embeddings`. Errors are
  OpenAI-shaped, as Ollama's middleware words them (`openai.NewError` in
  https://github.com/ollama/ollama/blob/main/openai/openai.go):
  `{"error": {"message", "type", "param": null, "code": null}}`, type `invalid_request_error` for
  400, `not_found_error` for 404, else `api_error`. Ollama ignores `tool_choice`; the fake reads it
  only to pick the tool its default reply calls.

Ollama has no rate limit of its own; a busy server answers 503 (`OLLAMA_MAX_QUEUE`), which
`Fail(503)` words as Ollama does. A key is optional (`api_key=`): when set, requests need
`Authorization: Bearer`.

    fake = FakeOllama(models=[OllamaModel("llama3.1:latest")], embedding_dim=8)
    fake.script(Fail(503), Answer("Hello"))
    async with fake.serve() as url:
        model = OpenAIChatModel("llama3.1", provider=OllamaProvider(base_url=url + "/v1"))
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.applications import Starlette
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
    RecordedRequest,
    Responder,
    StreamError,
    broken_json,
    dumps,
    half_body,
    last_user_text,
    rough_tokens,
    sse,
    stall,
    text_pieces,
)

Api = Literal["native", "openai"]
MODIFIED_AT = datetime(2025, 1, 1, tzinfo=UTC)
OPENAI_ERROR_TYPES = {400: "invalid_request_error", 404: "not_found_error"}
DEFAULT_MESSAGES = {
    429: "too many requests",
    500: "an error was encountered while running the model",
    503: "server busy, please try again.  maximum pending requests exceeded",
}


@dataclass(frozen=True)
class OllamaModel:
    name: str
    """`model:tag`; a name without a tag gets `:latest`."""
    family: str = "llama"
    parameter_size: str = "8.0B"
    quantization_level: str = "Q4_K_M"
    size: int = 4_920_753_328
    capabilities: tuple[str, ...] = ("completion", "tools")
    """`completion` (chat), `tools`, `embedding`."""
    embedding_dim: int | None = None
    """The length of its embeddings; `None` is the fake's `embedding_dim`."""

    @property
    def full_name(self) -> str:
        return full_name(self.name)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.full_name.encode()).hexdigest()


DEFAULT_MODELS = (
    OllamaModel("llama3.1:latest"),
    OllamaModel(
        "nomic-embed-text:latest",
        family="nomic-bert",
        parameter_size="137M",
        quantization_level="F16",
        size=274_302_450,
        capabilities=("embedding",),
    ),
)


def full_name(name: str) -> str:
    """Ollama's rule: the tag defaults to `latest`."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def embedding(text: str, dim: int) -> list[float]:
    """A deterministic unit vector for `text`."""
    rng = random.Random(hashlib.sha256(text.encode()).digest())
    vector = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


class FakeOllama(FakeServer):
    """Native `/api/{tags,version,chat,embed}` and OpenAI-compatible
    `/v1/{models,chat/completions,embeddings}`.

    The POSTs take a behaviour from the queue; the listings don't. `version` is what `/api/version`
    says.
    """

    def __init__(
        self,
        *,
        models: Sequence[OllamaModel] = DEFAULT_MODELS,
        responder: Responder | None = None,
        embedding_dim: int = 384,
        api_key: str | None = None,
        version: str = "0.12.6",
    ) -> None:
        super().__init__(responder)
        self.models = tuple(models)
        self.embedding_dim = embedding_dim
        self.api_key = api_key
        self.version = version
        self._ids = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/api/version", self._version, methods=["GET"]),
                Route("/api/tags", self._tags, methods=["GET"]),
                Route("/api/chat", self._native_chat, methods=["POST"]),
                Route("/api/embed", self._native_embed, methods=["POST"]),
                Route("/v1/models", self._openai_models, methods=["GET"]),
                Route("/v1/models/{model:path}", self._openai_model, methods=["GET"]),
                Route("/v1/chat/completions", self._openai_chat, methods=["POST"]),
                Route("/v1/embeddings", self._openai_embed, methods=["POST"]),
            ],
            exception_handlers={404: self._http_error, 405: self._http_error},
        )

    def find(self, name: str) -> OllamaModel | None:
        wanted = full_name(name)
        return next((model for model in self.models if model.full_name == wanted), None)

    # Listings.

    async def _version(self, request: Request) -> Response:
        await self.record(request)
        return JSONResponse({"version": self.version})

    async def _tags(self, request: Request) -> Response:
        await self.record(request)
        if (refusal := self._authenticate(request, "native")) is not None:
            return refusal
        return JSONResponse({"models": [self._tag(model) for model in self.models]})

    async def _openai_models(self, request: Request) -> Response:
        await self.record(request)
        if (refusal := self._authenticate(request, "openai")) is not None:
            return refusal
        return JSONResponse(
            {"object": "list", "data": [self._openai_model_object(m) for m in self.models]}
        )

    async def _openai_model(self, request: Request) -> Response:
        await self.record(request)
        if (refusal := self._authenticate(request, "openai")) is not None:
            return refusal
        name = request.path_params["model"]
        model = self.find(name)
        if model is None:
            return self._error("openai", Fail(404, f"model '{name}' not found"))
        return JSONResponse({**self._openai_model_object(model), "id": name})

    @staticmethod
    def _tag(model: OllamaModel) -> dict[str, Any]:
        return {
            "name": model.full_name,
            "model": model.full_name,
            "modified_at": MODIFIED_AT.isoformat(),
            "size": model.size,
            "digest": model.digest,
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": model.family,
                "families": [model.family],
                "parameter_size": model.parameter_size,
                "quantization_level": model.quantization_level,
            },
        }

    @staticmethod
    def _openai_model_object(model: OllamaModel) -> dict[str, Any]:
        namespace = model.full_name.split("/")[-2] if "/" in model.full_name else "library"
        return {
            "id": model.full_name,
            "object": "model",
            "created": int(MODIFIED_AT.timestamp()),
            "owned_by": namespace,
        }

    # Chat.

    async def _native_chat(self, request: Request) -> Response:
        return await self._chat(request, "native")

    async def _openai_chat(self, request: Request) -> Response:
        return await self._chat(request, "openai")

    async def _chat(self, request: Request, api: Api) -> Response:
        admitted = await self._admit(request, api, "completion", "chat")
        if isinstance(admitted, Response):
            return admitted
        recorded, body, _ = admitted
        # Native chat streams unless told not to; the OpenAI-compatible one only when told to.
        stream = body.get("stream") is not False if api == "native" else body.get("stream") is True
        behaviour = self.take(recorded)
        if isinstance(behaviour, Fail) or (isinstance(behaviour, StreamError) and not stream):
            return self._error(api, behaviour)
        if isinstance(behaviour, Hang) and not (stream and behaviour.mid_stream):
            await stall(request, behaviour.seconds)
        if api == "native" and not body.get("messages"):
            # No messages loads the model (`keep_alive: 0` unloads it): one object, streamed or not.
            unload = body.get("keep_alive") in (0, "0", "0s")
            return JSONResponse(
                {
                    "model": body["model"],
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": ""},
                    "done_reason": "unload" if unload else "load",
                    "done": True,
                }
            )
        view = self._native_view(body) if api == "native" else self._openai_view(body)
        completion = self.reply(body, view, behaviour)
        answer = _Answer.of(completion, body, api)
        usage = {
            "prompt_eval_count": rough_tokens(body.get("messages"), body.get("tools")),
            "eval_count": rough_tokens(
                answer.text, [json.dumps(args) for _, args in answer.tool_calls]
            ),
        }
        if isinstance(behaviour, Answer) and behaviour.usage:
            usage.update(behaviour.usage)
        reply = _Reply(body["model"], answer, usage, self._id("call"), self._id("chatcmpl"))
        if stream:
            chunks = (
                self._native_stream(request, reply, behaviour)
                if api == "native"
                else self._openai_stream(request, reply, behaviour, body)
            )
            media_type = "application/x-ndjson" if api == "native" else "text/event-stream"
            return BreakableStream(chunks, media_type=media_type)
        whole = reply.native_final(whole=True) if api == "native" else reply.openai_completion()
        return self._whole(whole, behaviour)

    async def _native_stream(
        self, request: Request, reply: _Reply, behaviour: Behaviour
    ) -> AsyncIterator[bytes]:
        pieces = text_pieces(reply.answer.text) or [""]
        yield _line(reply.native_chunk(pieces[0]))
        if (early := _early_end(behaviour)) is not None:
            if early == "error":
                assert isinstance(behaviour, StreamError)
                yield _line(
                    {"error": behaviour.message or DEFAULT_MESSAGES.get(behaviour.status, "error")}
                )
            elif early == "broken":
                yield b'{"model": "' + reply.model.encode() + b'", "message": {"rol\n'
            elif early == "drop":
                raise DropConnection
            return
        if isinstance(behaviour, Hang) and behaviour.mid_stream:
            await stall(request, behaviour.seconds)
        for piece in pieces[1:]:
            yield _line(reply.native_chunk(piece))
        if reply.answer.tool_calls:
            yield _line(reply.native_chunk("", tool_calls=True))
        yield _line(reply.native_final(whole=False))

    async def _openai_stream(
        self, request: Request, reply: _Reply, behaviour: Behaviour, body: Mapping[str, Any]
    ) -> AsyncIterator[bytes]:
        pieces = text_pieces(reply.answer.text) or [""]
        yield sse(dumps(reply.openai_chunk({"content": pieces[0]})))
        if (early := _early_end(behaviour)) is not None:
            if early == "error":
                assert isinstance(behaviour, StreamError)
                yield sse(dumps(self._openai_error_body(behaviour.status, behaviour.message)))
            elif early == "broken":
                yield sse('{"id": "' + reply.completion_id + '", "object": "chat.completion.ch')
            elif early == "drop":
                raise DropConnection
            return
        if isinstance(behaviour, Hang) and behaviour.mid_stream:
            await stall(request, behaviour.seconds)
        for piece in pieces[1:]:
            yield sse(dumps(reply.openai_chunk({"content": piece})))
        if reply.answer.tool_calls:
            yield sse(
                dumps(reply.openai_chunk({"content": "", "tool_calls": reply.openai_tool_calls()}))
            )
        yield sse(dumps(reply.openai_chunk({"content": ""}, finish_reason=reply.finish_reason())))
        if (body.get("stream_options") or {}).get("include_usage"):
            yield sse(
                dumps({**reply.openai_chunk({}), "choices": [], "usage": reply.openai_usage()})
            )
        yield sse("[DONE]")

    # Embeddings.

    async def _native_embed(self, request: Request) -> Response:
        return await self._embed(request, "native")

    async def _openai_embed(self, request: Request) -> Response:
        return await self._embed(request, "openai")

    async def _embed(self, request: Request, api: Api) -> Response:
        admitted = await self._admit(request, api, "embedding", "embeddings")
        if isinstance(admitted, Response):
            return admitted
        recorded, body, model = admitted
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return self._error(api, Fail(400, "invalid input type"))
        behaviour = self.take(recorded)
        if isinstance(behaviour, Fail | StreamError):
            return self._error(api, behaviour)
        if isinstance(behaviour, Hang):
            await stall(request, behaviour.seconds)
        dim = body.get("dimensions") or model.embedding_dim or self.embedding_dim
        vectors = [embedding(f"{model.full_name}\n{text}", dim) for text in texts]
        tokens = rough_tokens(texts)
        if api == "native":
            whole: dict[str, Any] = {
                "model": body["model"],
                "embeddings": vectors,
                "total_duration": 1_000_000 + tokens * 100_000,
                "load_duration": 1_000_000,
                "prompt_eval_count": tokens,
            }
        else:
            whole = {
                "object": "list",
                "data": [
                    {"object": "embedding", "embedding": vector, "index": i}
                    for i, vector in enumerate(vectors)
                ],
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        return self._whole(whole, behaviour)

    # Checks, bodies and errors.

    async def _admit(
        self, request: Request, api: Api, capability: str, verb: str
    ) -> Response | tuple[RecordedRequest, dict[str, Any], OllamaModel]:
        recorded = await self.record(request)
        if (refusal := self._authenticate(request, api)) is not None:
            return refusal
        body = recorded.body
        if not isinstance(body, dict):
            return self._error(api, Fail(400, "invalid request body"))
        name = body.get("model")
        if not isinstance(name, str) or not name:
            return self._error(api, Fail(400, "model is required"))
        model = self.find(name)
        if model is None:
            return self._error(api, Fail(404, f"model '{name}' not found"))
        if capability not in model.capabilities:
            return self._error(api, Fail(400, f'"{model.full_name}" does not support {verb}'))
        if capability == "completion" and not isinstance(body.get("messages", []), list):
            return self._error(api, Fail(400, "messages must be a list"))
        return recorded, body, model

    def _authenticate(self, request: Request, api: Api) -> Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return self._error(api, Fail(401, "unauthorized"))
        return None

    def _error(self, api: Api, failure: Fail | StreamError) -> Response:
        headers: dict[str, str] = {}
        if isinstance(failure, Fail):
            if failure.retry_after is not None:
                headers["retry-after"] = failure.retry_after
            headers.update(failure.headers)
        message = failure.message or DEFAULT_MESSAGES.get(failure.status, "error")
        if api == "native":
            body: dict[str, Any] = {"error": message}
        else:
            body = self._openai_error_body(failure.status, message, failure.error_type)
        return JSONResponse(body, status_code=failure.status, headers=headers)

    @staticmethod
    def _openai_error_body(
        status: int, message: str | None, error_type: str | None = None
    ) -> dict[str, Any]:
        return {
            "error": {
                "message": message or DEFAULT_MESSAGES.get(status, "error"),
                "type": error_type or OPENAI_ERROR_TYPES.get(status, "api_error"),
                "param": None,
                "code": None,
            }
        }

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        # Ollama's router (gin) answers any unknown route, or method, with a plain-text 404.
        await self.record(request)
        return Response("404 page not found", status_code=404, media_type="text/plain")

    @staticmethod
    def _whole(whole: Mapping[str, Any], behaviour: Behaviour) -> Response:
        raw = json.dumps(whole).encode()
        if isinstance(behaviour, BrokenJson):
            return Response(broken_json(raw), media_type="application/json")
        if isinstance(behaviour, CutOff):
            return half_body(raw)
        return Response(raw, media_type="application/json")

    def _native_view(self, body: Mapping[str, Any]) -> ChatView:
        output_format = body.get("format")
        return ChatView(
            prompt=last_user_text(body.get("messages") or []),
            tools=_function_tools(body),
            output_schema=output_format if isinstance(output_format, Mapping) else None,
            json_mode=output_format == "json",
        )

    def _openai_view(self, body: Mapping[str, Any]) -> ChatView:
        choice = body.get("tool_choice")
        response_format = body.get("response_format") or {}
        schema = None
        if response_format.get("type") == "json_schema":
            schema = (response_format.get("json_schema") or {}).get("schema")
        forced = None
        if isinstance(choice, Mapping):
            forced = (choice.get("function") or {}).get("name")
        return ChatView(
            prompt=last_user_text(body.get("messages") or []),
            tools={} if choice == "none" else _function_tools(body),
            forced_tool=forced,
            tool_required=choice == "required" or forced is not None,
            output_schema=schema,
            json_mode=response_format.get("type") == "json_object",
        )

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}" if prefix == "call" else f"{prefix}-{next(self._ids)}"


@dataclass(frozen=True)
class _Answer:
    text: str
    tool_calls: tuple[tuple[str, dict[str, Any]], ...]
    cut: bool
    """The answer was cut at the request's token limit (`done_reason`/`finish_reason` "length")."""

    @classmethod
    def of(cls, completion: Completion, body: Mapping[str, Any], api: Api) -> _Answer:
        limit = (
            (body.get("options") or {}).get("num_predict")
            if api == "native"
            else body.get("max_tokens")
        )
        text = completion.text
        cut = False
        if isinstance(limit, int) and limit > 0 and rough_tokens(text) > limit:
            text, cut = text[: limit * 4], True
        return cls(text, completion.tool_calls, cut)


@dataclass(frozen=True)
class _Reply:
    """One chat answer, worded for either API."""

    model: str
    answer: _Answer
    usage: Mapping[str, int]
    call_id: str
    completion_id: str
    created: int = field(default_factory=lambda: int(time.time()))

    def finish_reason(self) -> str:
        if self.answer.tool_calls:
            return "tool_calls"
        return "length" if self.answer.cut else "stop"

    # Native.

    def native_chunk(self, content: str, *, tool_calls: bool = False) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if tool_calls:
            message["tool_calls"] = self.native_tool_calls()
        return {
            "model": self.model,
            "created_at": _now(),
            "message": message,
            "done": False,
        }

    def native_tool_calls(self) -> list[dict[str, Any]]:
        return [
            {
                "id": f"{self.call_id}_{i}",
                "function": {"index": i, "name": name, "arguments": arguments},
            }
            for i, (name, arguments) in enumerate(self.answer.tool_calls)
        ]

    def native_final(self, *, whole: bool) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": self.answer.text if whole else "",
        }
        if whole and self.answer.tool_calls:
            message["tool_calls"] = self.native_tool_calls()
        prompt, evaluated = self.usage["prompt_eval_count"], self.usage["eval_count"]
        durations = {
            "load_duration": 1_000_000,
            "prompt_eval_duration": prompt * 100_000,
            "eval_duration": evaluated * 10_000_000,
        }
        return {
            "model": self.model,
            "created_at": _now(),
            "message": message,
            "done_reason": "length" if self.answer.cut else "stop",
            "done": True,
            "total_duration": sum(durations.values()),
            **durations,
            **self.usage,
        }

    # OpenAI-compatible.

    def openai_tool_calls(self) -> list[dict[str, Any]]:
        return [
            {
                "id": f"{self.call_id}_{i}",
                "index": i,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for i, (name, arguments) in enumerate(self.answer.tool_calls)
        ]

    def openai_usage(self) -> dict[str, int]:
        prompt, completion = self.usage["prompt_eval_count"], self.usage["eval_count"]
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _openai_head(self, kind: str) -> dict[str, Any]:
        return {
            "id": self.completion_id,
            "object": kind,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_ollama",
        }

    def openai_completion(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.answer.text}
        if self.answer.tool_calls:
            message["tool_calls"] = self.openai_tool_calls()
        return {
            **self._openai_head("chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason()}],
            "usage": self.openai_usage(),
        }

    def openai_chunk(
        self, delta: Mapping[str, Any], finish_reason: str | None = None
    ) -> dict[str, Any]:
        return {
            **self._openai_head("chat.completion.chunk"),
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", **delta},
                    "finish_reason": finish_reason,
                }
            ],
        }


def _early_end(behaviour: Behaviour) -> Literal["error", "broken", "drop", "clean"] | None:
    """How a stream ends after its first chunk, if the behaviour ends it early."""
    if isinstance(behaviour, StreamError):
        return "error"
    if isinstance(behaviour, BrokenJson):
        return "broken"
    if isinstance(behaviour, CutOff):
        return "drop" if behaviour.drop_connection else "clean"
    return None


def _line(value: Mapping[str, Any]) -> bytes:
    return (dumps(value) + "\n").encode()


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _function_tools(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    tools: dict[str, Mapping[str, Any]] = {}
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            tools[function["name"]] = function.get("parameters") or {
                "type": "object",
                "properties": {},
            }
    return tools
