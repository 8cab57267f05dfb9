"""What the fakes of remote LLM servers share.

- The behaviour queue: a test scripts, per request in order, what the next model request gets
  (`Answer`, `Fail`, `StreamError`, `Hang`, `BrokenJson`, `CutOff`); an empty queue answers
  normally.
- Request recording: every request, with its path, headers and JSON body, as `RecordedRequest`.
- The reply: a test's `Responder` gets the request JSON and returns text, a dict (the arguments of
  the tool the request asks for) or `ToolCall`s. Without one, `default_reply` calls the tool the
  request forces (or pydantic-ai's output tool `final_result`) with arguments that fill its JSON
  schema minimally (pydantic-ai's `TestModel.gen_tool_args`), answers JSON that fills a requested
  output schema, or echoes the prompt.
- The ways to break a response on purpose: a stall that ends when the client hangs up, a connection
  dropped mid-body (`DropConnection`, which leaves the ASGI response incomplete, so uvicorn closes
  the socket and the client reads an incomplete body).

The provider fakes (tests/fakes/anthropic.py, tests/fakes/ollama.py) word the bodies, errors and
streams as their servers do.

The image-server fakes (tests/fakes/comfyui.py, tests/fakes/a1111.py) share the recording and the
behaviour queue, and paint real PNGs of a colour derived from the seed (`solid_png`); `InFlight`
counts the renders they hold at once.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Self, TypeAlias

from pydantic_ai.models.test import TestModel
from pydantic_ai.tools import ToolDefinition
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Send

from luna_narrates.kit.serving import serve_on_loopback

# What a request gets: scripted per request, in order.


@dataclass(frozen=True)
class Answer:
    """Answer normally. `reply` replaces the responder for this request; `usage` overrides token
    counts (the provider's own field names, e.g. `input_tokens` for Anthropic, `prompt_eval_count`
    for Ollama)."""

    reply: Reply | None = None
    usage: Mapping[str, int] | None = None


@dataclass(frozen=True)
class Fail:
    """An HTTP error instead of an answer. The fake words the body as its server does; `error_type`
    and `message` default to what that server says for `status`. `retry_after` is sent as
    `retry-after`."""

    status: int
    message: str | None = None
    error_type: str | None = None
    retry_after: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict[str, str])


@dataclass(frozen=True)
class StreamError:
    """A streamed request's stream opens (200) and reports this error after its first event; a
    non-streamed request gets it as `Fail` would."""

    status: int = 500
    message: str | None = None
    error_type: str | None = None


@dataclass(frozen=True)
class Hang:
    """Nothing for `seconds` (before the status line, or after the first stream event when
    `mid_stream`), then a normal answer. It ends when the client hangs up, so a client timeout
    leaves no busy server."""

    seconds: float
    mid_stream: bool = False


@dataclass(frozen=True)
class BrokenJson:
    """A stream: an event (SSE) or line (NDJSON) that is not JSON, after the first. Not streamed: a
    200 whose JSON body is cut in half (complete, but not JSON)."""


@dataclass(frozen=True)
class CutOff:
    """A stream stops after its first event: with `drop_connection` the connection closes mid-body
    (the client reads an incomplete chunked body); without, the stream ends cleanly but lacks its
    closing event (`message_stop`, `done: true`, `data: [DONE]`). A body that is not streamed always
    stops after half its bytes, with the connection dropped."""

    drop_connection: bool = True


Behaviour: TypeAlias = Answer | Fail | StreamError | Hang | BrokenJson | CutOff


def rate_limited(retry_after: str | None = "0", message: str | None = None) -> Fail:
    return Fail(429, message=message, retry_after=retry_after)


# What a model answers.


@dataclass(frozen=True)
class ToolCall:
    """A call of the tool `name`; `None` is the tool the request asks for (see `pick_tool`)."""

    arguments: Mapping[str, Any]
    name: str | None = None


Reply: TypeAlias = str | Mapping[str, Any] | ToolCall | Sequence[ToolCall]
"""Text, the arguments of the tool the request asks for, or tool calls."""

Responder: TypeAlias = Callable[[Any], Reply]
"""Gets the request's JSON body; returns the reply."""

OUTPUT_TOOL_PREFIX = "final_result"
"""pydantic-ai's tool output names its tools `final_result` (or `final_result_<Type>` for
several)."""


@dataclass(frozen=True)
class ChatView:
    """What decides a chat request's default reply, read from each wire format by its fake."""

    prompt: str
    tools: Mapping[str, Mapping[str, Any]] = field(default_factory=dict[str, Mapping[str, Any]])
    """Tool name → JSON schema of its arguments."""
    forced_tool: str | None = None
    tool_required: bool = False
    output_schema: Mapping[str, Any] | None = None
    json_mode: bool = False


@dataclass(frozen=True)
class Completion:
    text: str
    tool_calls: tuple[tuple[str, dict[str, Any]], ...] = ()


def fill_schema(schema: Mapping[str, Any], seed: int = 0) -> Any:
    """Minimal data that validates against a JSON schema, as pydantic-ai's TestModel makes tool
    arguments."""
    definition = ToolDefinition(name="fake", parameters_json_schema=dict(schema))
    return TestModel(seed=seed).gen_tool_args(definition)


def pick_tool(view: ChatView) -> str | None:
    """The tool the request forces; else pydantic-ai's output tool; else any tool if one is
    required."""
    if view.forced_tool in view.tools:
        return view.forced_tool
    for name in view.tools:
        if name.startswith(OUTPUT_TOOL_PREFIX):
            return name
    if view.tool_required and view.tools:
        return next(iter(view.tools))
    return None


def default_reply(view: ChatView) -> Reply:
    if (tool := pick_tool(view)) is not None:
        return ToolCall(fill_schema(view.tools[tool]), tool)
    if view.output_schema is not None:
        return json.dumps(fill_schema(view.output_schema))
    if view.json_mode:
        return json.dumps({"echo": view.prompt})
    return f"Echo: {view.prompt}"


def last_user_text(messages: Sequence[Any]) -> str:
    """The text of the last user message: a string, or its `{"type": "text", "text"}` blocks
    (Anthropic's content blocks and OpenAI's content parts have that shape alike)."""
    for message in reversed(messages):
        if not isinstance(message, Mapping) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [
            block.get("text", "")
            for block in content or []
            if isinstance(block, Mapping) and block.get("type") == "text"
        ]
        if texts:
            return "\n".join(texts)
    return ""


def complete(reply: Reply, view: ChatView) -> Completion:
    if isinstance(reply, str):
        return Completion(reply)
    if isinstance(reply, ToolCall):
        calls: Sequence[ToolCall] = [reply]
    elif isinstance(reply, Mapping):
        calls = [ToolCall(reply)]
    else:
        calls = reply
    resolved: list[tuple[str, dict[str, Any]]] = []
    for call in calls:
        name = call.name or pick_tool(view) or next(iter(view.tools), None)
        if name is None:
            raise ValueError(f"{call} names no tool, and the request offers none")
        resolved.append((name, dict(call.arguments)))
    return Completion("", tuple(resolved))


# Recording.


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-case names."""
    body: Any
    """The parsed JSON body; `None` when there was none or it was not JSON."""
    raw_body: bytes
    behaviour: Behaviour | None = None
    """What the fake did with it; `None` for requests that take nothing from the queue: listings,
    and requests refused before the model (a bad key, an invalid body, an unknown model)."""


class FakeServer:
    """A scripted, recording fake; a subclass builds `app` and words the answers."""

    app: Starlette

    def __init__(self, responder: Responder | None = None) -> None:
        self.responder = responder
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Behaviour] = deque()
        self._initial_responder = responder

    def reset(self) -> None:
        """Forget the requests, the script and a responder set since construction, so that one
        server can serve several tests."""
        self.requests.clear()
        self._queue.clear()
        self.responder = self._initial_responder

    def script(self, *behaviours: Behaviour) -> Self:
        """Queue what the next model requests get, in order."""
        self._queue.extend(behaviours)
        return self

    @property
    def pending(self) -> tuple[Behaviour, ...]:
        return tuple(self._queue)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    def serve(self) -> AbstractAsyncContextManager[str]:
        """`async with fake.serve() as base_url:` on a free loopback port."""
        served: AbstractAsyncContextManager[str] = serve_on_loopback(self.app, lifespan="off")
        return served

    async def record(self, request: Request) -> RecordedRequest:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
            raw_body=raw,
        )
        self.requests.append(recorded)
        return recorded

    def take(self, recorded: RecordedRequest) -> Behaviour:
        behaviour = self._queue.popleft() if self._queue else Answer()
        recorded.behaviour = behaviour
        return behaviour

    def reply(self, body: Any, view: ChatView, behaviour: Behaviour) -> Completion:
        if isinstance(behaviour, Answer) and behaviour.reply is not None:
            return complete(behaviour.reply, view)
        if self.responder is not None:
            return complete(self.responder(body), view)
        return complete(default_reply(view), view)


# Streams and broken responses.


class DropConnection(Exception):
    """Raised by a `BreakableStream` body: the response stays incomplete and the connection is
    closed."""


class BreakableStream(StreamingResponse):
    """A streaming response whose body may raise `DropConnection` to break it off mid-body.

    The ASGI app then returns without its final `more_body: False`; uvicorn logs "ASGI callable
    returned without completing response." and closes the socket, which the client reads as an
    incomplete body.
    """

    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            async for chunk in self.body_iterator:
                data = chunk.encode(self.charset) if isinstance(chunk, str) else bytes(chunk)
                await send({"type": "http.response.body", "body": data, "more_body": True})
        except DropConnection:
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def half_body(body: bytes, *, status: int = 200, media_type: str = "application/json") -> Response:
    """Announces `body`'s length, sends half of it and drops the connection."""

    async def chunks() -> AsyncIterator[bytes]:
        yield body[: len(body) // 2]
        raise DropConnection

    return BreakableStream(
        chunks(),
        status_code=status,
        media_type=media_type,
        headers={"content-length": str(len(body))},
    )


def broken_json(body: bytes) -> bytes:
    """A JSON text cut in half: not JSON any more."""
    return body[: max(1, len(body) // 2)]


async def stall(request: Request, seconds: float) -> None:
    """Waits `seconds`, or until the client hangs up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(0.05, left))


def sse(data: str, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {data}\n\n".encode()


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def text_pieces(text: str, words: int = 2) -> list[str]:
    """`text` in stream deltas of a few words each (whitespace kept, so they join back to
    `text`)."""
    tokens = re.findall(r"\s*\S+\s*", text) or ([text] if text else [])
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]


def json_pieces(text: str, parts: int = 3) -> list[str]:
    size = max(1, math.ceil(len(text) / parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def rough_tokens(*values: Any) -> int:
    """A deterministic token count: a token per 4 characters of the strings in `values`, at least
    1."""
    characters = sum(len(text) for value in values for text in strings_in(value))
    return max(1, math.ceil(characters / 4))


# Image servers (ComfyUI, Automatic1111).

MAX_FAKE_IMAGE_SIDE = 512
"""Fake renders are capped at this size a side, whatever was asked, to stay cheap."""


def seed_colour(seed: int) -> tuple[int, int, int]:
    """The colour a fake image server paints for `seed`: its low 24 bits as 0xRRGGBB."""
    return (seed >> 16) & 0xFF, (seed >> 8) & 0xFF, seed & 0xFF


def solid_png(seed: int, width: int, height: int, text: Mapping[str, str] | None = None) -> bytes:
    """A real PNG of `seed`'s colour, `width`×`height` (capped), with tEXt chunks `text` (ComfyUI
    writes `prompt`, A1111 `parameters`)."""
    from PIL import Image, PngImagePlugin

    size = (min(width, MAX_FAKE_IMAGE_SIDE), min(height, MAX_FAKE_IMAGE_SIDE))
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGB", size, seed_colour(seed)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


class InFlight:
    """Counts the renders a fake server holds (queued or drawing) and the most it held at once,
    so that pool tests can check a worker's capacity."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextmanager
    def one(self) -> Iterator[None]:
        self.now += 1
        self.most = max(self.most, self.now)
        self._idle.clear()
        try:
            yield
        finally:
            self.now -= 1
            if not self.now:
                self._idle.set()

    async def idle(self) -> None:
        """Returns once the server holds no render (one a test gave up on included)."""
        await self._idle.wait()

    def reset(self) -> None:
        self.most = self.now
