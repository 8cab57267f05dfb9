"""The fakes of Anthropic and Ollama are faithful: the real clients (the `anthropic` and `openai`
SDKs, pydantic-ai's models, plain httpx) talk to them as to the real servers, and fail as they
would."""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
)
from pydantic_ai.models.anthropic import AnthropicModel, AnthropicModelSettings
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.ollama import OllamaProvider
from pydantic_ai.settings import ModelSettings

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.common import (
    Answer,
    BrokenJson,
    ChatView,
    CutOff,
    Fail,
    Hang,
    StreamError,
    ToolCall,
    fill_schema,
    pick_tool,
    rate_limited,
)
from tests.fakes.ollama import FakeOllama, OllamaModel

KEY = "sk-ant-test"
CLAUDE = "claude-haiku-4-5"
LLAMA = "llama3.1"
NO_RETRIES = ModelSettings(max_retries=0)


class City(BaseModel):
    name: str
    population: int


class Atlas(BaseModel):
    cities: list[City]
    capital: City | None = None


# One server of each for the module (starting one costs ~0.2 s), reset for each test.


@pytest.fixture(scope="module")
async def claude_server() -> AsyncIterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic(api_key=KEY)
    async with fake.serve() as url:
        yield fake, url


@pytest.fixture
def claude(claude_server: tuple[FakeAnthropic, str]) -> FakeAnthropic:
    fake, _ = claude_server
    fake.reset()
    return fake


@pytest.fixture
def claude_url(claude_server: tuple[FakeAnthropic, str]) -> str:
    return claude_server[1]


@pytest.fixture(scope="module")
async def ollama_server() -> AsyncIterator[tuple[FakeOllama, str]]:
    fake = FakeOllama(embedding_dim=8)
    async with fake.serve() as url:
        yield fake, url


@pytest.fixture
def ollama(ollama_server: tuple[FakeOllama, str]) -> FakeOllama:
    fake, _ = ollama_server
    fake.reset()
    return fake


@pytest.fixture
def ollama_url(ollama_server: tuple[FakeOllama, str]) -> str:
    return ollama_server[1]


def sdk(url: str, *, key: str = KEY, max_retries: int = 0) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=key, base_url=url, max_retries=max_retries)


def claude_model(url: str, key: str = KEY) -> AnthropicModel:
    return AnthropicModel(CLAUDE, provider=AnthropicProvider(api_key=key, base_url=url))


def llama_model(url: str, name: str = LLAMA) -> OpenAIChatModel:
    return OpenAIChatModel(name, provider=OllamaProvider(base_url=url + "/v1"))


HELLO: Any = [{"role": "user", "content": "Hello there, Claude"}]


# The shared parts.


def test_fill_schema_satisfies_nested_models() -> None:
    atlas = Atlas.model_validate(fill_schema(Atlas.model_json_schema()))
    assert isinstance(atlas.cities, list)


def test_pick_tool_prefers_the_forced_tool_then_the_output_tool() -> None:
    tools = {"lookup": {"type": "object"}, "final_result": {"type": "object"}}
    assert pick_tool(ChatView("x", tools, forced_tool="lookup")) == "lookup"
    assert pick_tool(ChatView("x", tools)) == "final_result"
    assert pick_tool(ChatView("x", {"lookup": {}})) is None
    assert pick_tool(ChatView("x", {"lookup": {}}, tool_required=True)) == "lookup"


# Anthropic through its SDK.


async def test_anthropic_sdk_message(claude: FakeAnthropic, claude_url: str) -> None:
    message = await sdk(claude_url).messages.create(model=CLAUDE, max_tokens=100, messages=HELLO)

    assert message.type == "message" and message.role == "assistant" and message.model == CLAUDE
    assert [block.type for block in message.content] == ["text"]
    assert (
        message.content[0].type == "text" and message.content[0].text == "Echo: Hello there, Claude"
    )
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert message.usage.cache_read_input_tokens == 0
    [request] = claude.requests
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.body == {"model": CLAUDE, "max_tokens": 100, "messages": HELLO}
    assert request.headers["anthropic-version"]
    # The SDK (2.12) sends `api_key` as a bearer token, not as the documented `x-api-key`.
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert isinstance(request.behaviour, Answer)


async def test_anthropic_sdk_stream_sends_the_documented_events(
    claude: FakeAnthropic, claude_url: str
) -> None:
    client = sdk(claude_url)
    stream = await client.messages.create(model=CLAUDE, max_tokens=100, messages=HELLO, stream=True)
    events = [event async for event in stream]
    names = [event.type for event in events]
    assert names[:2] == ["message_start", "content_block_start"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[2:-3]) == {"content_block_delta"}, "the SDK hides `ping`"
    assert claude.requests[-1].body["stream"] is True

    async with client.messages.stream(model=CLAUDE, max_tokens=100, messages=HELLO) as helper:
        pieces = [piece async for piece in helper.text_stream]
        final = await helper.get_final_message()
    assert len(pieces) > 1 and "".join(pieces) == "Echo: Hello there, Claude"
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 1


async def test_anthropic_wire_format(claude: FakeAnthropic, claude_url: str) -> None:
    """The raw stream, as the streaming docs show it, with the documented `x-api-key` header."""
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    ask = {"model": CLAUDE, "max_tokens": 100, "messages": HELLO, "stream": True}
    claude.script(Answer(usage={"input_tokens": 7}))
    async with (
        httpx.AsyncClient(base_url=claude_url, headers=headers) as http,
        http.stream("POST", "/v1/messages", json=ask) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["request-id"].startswith("req_")
        raw = (await response.aread()).decode()
        del http.headers["anthropic-version"]
        unversioned = await http.post("/v1/messages", json=ask)

    events = [block.split("\n") for block in raw.strip().split("\n\n")]
    names = [lines[0].removeprefix("event: ") for lines in events]
    data = [json.loads(lines[1].removeprefix("data: ")) for lines in events]
    assert [item["type"] for item in data] == names
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    start, delta = data[0]["message"], data[-2]
    assert start["stop_reason"] is None and start["content"] == []
    assert start["usage"]["input_tokens"] == 7
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert set(delta["usage"]) == {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    assert unversioned.status_code == 400
    assert unversioned.json()["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }


async def test_anthropic_sdk_streams_a_tool_call(claude: FakeAnthropic, claude_url: str) -> None:
    tools: Any = [{"name": "city", "input_schema": City.model_json_schema()}]
    claude.script(Answer({"name": "Veyra", "population": 120_000}))
    async with sdk(claude_url).messages.stream(
        model=CLAUDE,
        max_tokens=100,
        messages=HELLO,
        tools=tools,
        tool_choice={"type": "tool", "name": "city"},
    ) as stream:
        final = await stream.get_final_message()

    [block] = final.content
    assert block.type == "tool_use" and block.name == "city"
    assert block.input == {"name": "Veyra", "population": 120_000}
    assert final.stop_reason == "tool_use"


async def test_anthropic_rejects_a_wrong_key(claude: FakeAnthropic, claude_url: str) -> None:
    with pytest.raises(anthropic.AuthenticationError) as raised:
        await sdk(claude_url, key="wrong").messages.create(
            model=CLAUDE, max_tokens=10, messages=HELLO
        )
    assert raised.value.status_code == 401
    assert raised.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
        "request_id": raised.value.response.headers["request-id"],
    }
    async with httpx.AsyncClient(base_url=claude_url) as http:
        missing = await http.post(
            "/v1/messages", json={}, headers={"anthropic-version": "2023-06-01"}
        )
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "authentication_error"
    assert all(r.behaviour is None for r in claude.requests), "refused before the queue"


async def test_anthropic_rate_limit_is_retried_by_the_sdk(
    claude: FakeAnthropic, claude_url: str
) -> None:
    claude.script(rate_limited(retry_after="0"))
    started = time.monotonic()
    message = await sdk(claude_url, max_retries=1).messages.create(
        model=CLAUDE, max_tokens=10, messages=HELLO
    )

    assert message.content[0].type == "text"
    assert [type(r.behaviour).__name__ for r in claude.requests] == ["Fail", "Answer"]
    assert claude.requests[1].headers["x-stainless-retry-count"] == "1"
    # `retry-after: 0` is no wait to the SDK, which falls back to its backoff (0.5 s less jitter).
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("behaviour", "sdk_error", "status"),
    [
        (Fail(429, retry_after="0"), anthropic.RateLimitError, 429),
        (Fail(529), anthropic.OverloadedError, 529),
        (Fail(500), anthropic.InternalServerError, 500),
        (Fail(404, "model: nope"), anthropic.NotFoundError, 404),
    ],
)
async def test_anthropic_errors(
    claude: FakeAnthropic,
    claude_url: str,
    behaviour: Fail,
    sdk_error: type[anthropic.APIStatusError],
    status: int,
) -> None:
    claude.script(behaviour)
    with pytest.raises(sdk_error) as raised:
        await sdk(claude_url).messages.create(model=CLAUDE, max_tokens=10, messages=HELLO)
    assert raised.value.status_code == status
    assert raised.value.response.headers.get("retry-after") == behaviour.retry_after
    body = raised.value.body
    assert isinstance(body, dict) and body["type"] == "error"


async def test_anthropic_timeout(claude: FakeAnthropic, claude_url: str) -> None:
    claude.script(Hang(5))
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        await (
            sdk(claude_url)
            .with_options(timeout=0.3)
            .messages.create(model=CLAUDE, max_tokens=10, messages=HELLO)
        )
    # The stall ends when the client hangs up: the next request is answered at once.
    await sdk(claude_url).messages.create(model=CLAUDE, max_tokens=10, messages=HELLO)
    assert time.monotonic() - started < 2


async def test_anthropic_malformed_streams(claude: FakeAnthropic, claude_url: str) -> None:
    client = sdk(claude_url)

    async def read() -> list[str]:
        stream = await client.messages.create(
            model=CLAUDE, max_tokens=10, messages=HELLO, stream=True
        )
        return [event.type async for event in stream]

    claude.script(BrokenJson())
    with pytest.raises(json.JSONDecodeError):
        await read()
    claude.script(CutOff())
    with pytest.raises(Exception, match="incomplete chunked read"):
        await read()
    claude.script(StreamError(529))
    with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
        await read()
    # A stream that ends cleanly without `message_stop` goes unnoticed by the SDK.
    claude.script(CutOff(drop_connection=False))
    assert await read() == ["message_start"]


# Anthropic through pydantic-ai.


async def test_pydantic_ai_anthropic_structured_output(
    claude: FakeAnthropic, claude_url: str
) -> None:
    claude.responder = lambda body: {"name": "Veyra", "population": 120_000}
    agent = Agent(claude_model(claude_url), output_type=City, instructions="Name a city.")

    result = await agent.run("A canal city?")

    assert result.output == City(name="Veyra", population=120_000)
    [request] = claude.requests
    body = request.body
    assert [tool["name"] for tool in body["tools"]] == ["final_result"]
    assert body["tools"][0]["input_schema"]["required"] == ["name", "population"]
    assert body["tool_choice"] == {"type": "any"}
    assert body["system"] == [{"type": "text", "text": "Name a city."}]
    # pydantic-ai streams even `agent.run()`: its default max_tokens (64000) is more than the SDK
    # allows without streaming.
    assert body["stream"] is True and body["max_tokens"] == 64_000
    assert "cache_control" not in json.dumps(body)
    usage = result.usage
    assert usage.input_tokens > 0 and usage.output_tokens > 0


async def test_pydantic_ai_anthropic_native_output(claude: FakeAnthropic, claude_url: str) -> None:
    result = await Agent(claude_model(claude_url), output_type=NativeOutput(City)).run("A city?")

    assert isinstance(result.output, City)
    body = claude.requests[-1].body
    assert body["output_config"]["format"]["type"] == "json_schema" and "tools" not in body


async def test_pydantic_ai_anthropic_streams_text(claude: FakeAnthropic, claude_url: str) -> None:
    claude.responder = lambda body: "Ila slips under the portcullis of the water gate."
    agent = Agent(claude_model(claude_url))

    async with agent.run_stream("Go on.") as run:
        pieces = [piece async for piece in run.stream_text(delta=True)]

    assert "".join(pieces) == "Ila slips under the portcullis of the water gate."
    assert claude.requests[-1].body["stream"] is True


async def test_pydantic_ai_anthropic_prompt_cache(claude: FakeAnthropic, claude_url: str) -> None:
    agent = Agent(
        claude_model(claude_url),
        instructions="You are the narrator of a long story. " * 20,
        model_settings=AnthropicModelSettings(anthropic_cache_instructions=True),
    )

    first = await agent.run("Begin.")
    second = await agent.run("Begin again.")

    system = claude.requests[0].body["system"]
    assert system[-1]["cache_control"] == {"type": "ephemeral", "ttl": "5m"}
    assert first.usage.cache_write_tokens > 0 and first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens == first.usage.cache_write_tokens
    assert second.usage.cache_write_tokens == 0


@pytest.mark.parametrize(
    ("behaviour", "error", "status"),
    [
        (Fail(429, retry_after="0"), ModelRateLimitError, 429),
        (Fail(529), ModelOverloadedError, 529),
        (Fail(500), ModelServerError, 500),
        (StreamError(529), ModelOverloadedError, 529),
    ],
)
async def test_pydantic_ai_anthropic_errors(
    claude: FakeAnthropic,
    claude_url: str,
    behaviour: Fail | StreamError,
    error: type[ModelHTTPError],
    status: int,
) -> None:
    claude.script(behaviour)
    with pytest.raises(error) as raised:
        await Agent(claude_model(claude_url), model_settings=NO_RETRIES).run("Hi")
    assert isinstance(raised.value, ModelHTTPError) and raised.value.status_code == status
    assert raised.value.in_stream is isinstance(behaviour, StreamError)


async def test_pydantic_ai_anthropic_transport_failures(
    claude: FakeAnthropic, claude_url: str
) -> None:
    agent = Agent(claude_model(claude_url), model_settings=NO_RETRIES)
    with pytest.raises(ModelAuthenticationError) as raised:
        await Agent(claude_model(claude_url, key="wrong")).run("Hi")
    assert isinstance(raised.value, ModelHTTPError) and raised.value.status_code == 401

    claude.script(Hang(5))
    with pytest.raises(ModelTimeoutError):
        await agent.run("Hi", model_settings={"timeout": 0.3})
    claude.script(Hang(5, mid_stream=True))
    with pytest.raises(ModelTimeoutError):
        await agent.run("Hi", model_settings={"timeout": 0.3})
    claude.script(BrokenJson())
    with pytest.raises(ModelAPIError, match="Failed to decode response as JSON"):
        await agent.run("Hi")
    claude.script(CutOff())
    with pytest.raises(ModelConnectionError):
        await agent.run("Hi")


# Ollama's native API through httpx.


async def test_ollama_native_chat_streams_ndjson(ollama: FakeOllama, ollama_url: str) -> None:
    chat = {"model": LLAMA, "messages": [{"role": "user", "content": "Why is the sky blue?"}]}
    async with (
        httpx.AsyncClient(base_url=ollama_url) as http,
        http.stream("POST", "/api/chat", json=chat) as response,
    ):
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) async for line in response.aiter_lines() if line]

    *chunks, final = lines
    assert len(chunks) > 1 and not any(chunk["done"] for chunk in chunks)
    text = "".join(chunk["message"]["content"] for chunk in chunks)
    assert text == "Echo: Why is the sky blue?"
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["model"] == LLAMA and final["message"] == {"role": "assistant", "content": ""}
    for field in ("total_duration", "load_duration", "prompt_eval_count", "eval_count"):
        assert isinstance(final[field], int) and final[field] > 0


async def test_ollama_native_chat_formats_and_tools(ollama: FakeOllama, ollama_url: str) -> None:
    ask: Any = {
        "model": LLAMA,
        "messages": [{"role": "user", "content": "A city"}],
        "stream": False,
    }
    tool = {
        "type": "function",
        "function": {"name": "final_result", "parameters": City.model_json_schema()},
    }
    async with httpx.AsyncClient(base_url=ollama_url) as http:
        schema = (
            await http.post("/api/chat", json={**ask, "format": City.model_json_schema()})
        ).json()
        mode = (await http.post("/api/chat", json={**ask, "format": "json"})).json()
        called = (await http.post("/api/chat", json={**ask, "tools": [tool]})).json()

    assert schema["done"] is True and schema["eval_count"] > 0
    City.model_validate_json(schema["message"]["content"])
    assert isinstance(json.loads(mode["message"]["content"]), dict)
    [call] = called["message"]["tool_calls"]
    assert call["function"]["name"] == "final_result"
    City.model_validate(call["function"]["arguments"])


async def test_ollama_native_listings_and_embeddings(ollama: FakeOllama, ollama_url: str) -> None:
    async with httpx.AsyncClient(base_url=ollama_url) as http:
        tags = (await http.get("/api/tags")).json()
        version = (await http.get("/api/version")).json()
        one = (
            await http.post("/api/embed", json={"model": "nomic-embed-text", "input": "a"})
        ).json()
        two = await http.post("/api/embed", json={"model": "nomic-embed-text", "input": ["a", "b"]})
        unknown = await http.post("/api/chat", json={"model": "mistral", "messages": []})
        no_chat = await http.post("/api/chat", json={"model": "nomic-embed-text", "messages": []})
        load = await http.post("/api/chat", json={"model": LLAMA, "messages": []})
        nowhere = await http.get("/api/nowhere")

    names = [model["name"] for model in tags["models"]]
    assert names == ["llama3.1:latest", "nomic-embed-text:latest"]
    entry = tags["models"][0]
    assert entry["model"] == entry["name"] and len(entry["digest"]) == 64 and entry["size"] > 0
    assert entry["details"]["family"] == "llama" and entry["details"]["format"] == "gguf"
    assert version == {"version": "0.12.6"}
    assert one["model"] == "nomic-embed-text" and len(one["embeddings"]) == 1
    [vector] = one["embeddings"]
    assert len(vector) == 8 and math.isclose(sum(x * x for x in vector), 1.0)
    assert two.json()["embeddings"][0] == vector, "deterministic"
    assert two.json()["embeddings"][1] != vector
    assert (unknown.status_code, unknown.json()) == (404, {"error": "model 'mistral' not found"})
    assert no_chat.status_code == 400
    assert no_chat.json() == {"error": '"nomic-embed-text:latest" does not support chat'}
    assert load.json()["done_reason"] == "load" and load.json()["done"] is True
    assert (nowhere.status_code, nowhere.text) == (404, "404 page not found")
    taken = [r.behaviour is not None for r in ollama.requests]
    assert taken == [False, False, True, True, False, False, True, False], "what the model answers"
    assert ollama.requests[-1].path == "/api/nowhere", "unknown routes are recorded too"


async def test_ollama_native_malformed_ndjson(ollama: FakeOllama, ollama_url: str) -> None:
    chat = {"model": LLAMA, "messages": [{"role": "user", "content": "Tell me more"}]}
    async with httpx.AsyncClient(base_url=ollama_url) as http:
        ollama.script(BrokenJson())
        async with http.stream("POST", "/api/chat", json=chat) as response:
            lines = [line async for line in response.aiter_lines() if line]
        ollama.script(CutOff())
        with pytest.raises(httpx.RemoteProtocolError):
            async with http.stream("POST", "/api/chat", json=chat) as response:
                _ = [line async for line in response.aiter_lines()]
        ollama.script(StreamError(500, "out of memory"))
        async with http.stream("POST", "/api/chat", json=chat) as response:
            errored = [json.loads(line) async for line in response.aiter_lines() if line]

    json.loads(lines[0])
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[1])
    assert errored[-1] == {"error": "out of memory"}


# Ollama's OpenAI-compatible API through the openai SDK.


async def test_ollama_openai_sdk_chat(ollama: FakeOllama, ollama_url: str) -> None:
    client = openai.AsyncOpenAI(api_key="ollama", base_url=ollama_url + "/v1", max_retries=0)
    messages: Any = [{"role": "user", "content": "Hello, llama"}]

    models = await client.models.list()
    completion = await client.chat.completions.create(model=LLAMA, messages=messages)
    stream = await client.chat.completions.create(
        model=LLAMA, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]

    assert [model.id for model in models.data] == ["llama3.1:latest", "nomic-embed-text:latest"]
    assert completion.choices[0].message.content == "Echo: Hello, llama"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: Hello, llama"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


async def test_ollama_openai_sdk_tools_and_json_schema(ollama: FakeOllama, ollama_url: str) -> None:
    client = openai.AsyncOpenAI(api_key="ollama", base_url=ollama_url + "/v1", max_retries=0)
    messages: Any = [{"role": "user", "content": "A city"}]
    tools: Any = [
        {"type": "function", "function": {"name": "city", "parameters": City.model_json_schema()}}
    ]
    ollama.script(Answer(ToolCall({"name": "Veyra", "population": 3})))

    called = await client.chat.completions.create(
        model=LLAMA, messages=messages, tools=tools, tool_choice="required"
    )
    structured = await client.chat.completions.create(
        model=LLAMA,
        messages=messages,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "City", "schema": City.model_json_schema()},
        },
    )

    [call] = called.choices[0].message.tool_calls or []
    assert call.type == "function" and call.function.name == "city"
    assert json.loads(call.function.arguments) == {"name": "Veyra", "population": 3}
    assert called.choices[0].finish_reason == "tool_calls"
    City.model_validate_json(structured.choices[0].message.content or "")


async def test_ollama_openai_sdk_failures(ollama: FakeOllama, ollama_url: str) -> None:
    client = openai.AsyncOpenAI(api_key="ollama", base_url=ollama_url + "/v1", max_retries=0)
    messages: Any = [{"role": "user", "content": "Hi"}]

    ollama.script(Fail(503))
    retried = await client.with_options(max_retries=1).chat.completions.create(
        model=LLAMA, messages=messages
    )
    assert retried.choices[0].message.content == "Echo: Hi"
    with pytest.raises(openai.NotFoundError) as raised:
        await client.chat.completions.create(model="mistral", messages=messages)
    assert raised.value.body == {
        "message": "model 'mistral' not found",
        "type": "not_found_error",
        "param": None,
        "code": None,
    }
    ollama.script(Hang(5))
    with pytest.raises(openai.APITimeoutError):
        await client.with_options(timeout=0.3).chat.completions.create(
            model=LLAMA, messages=messages
        )
    ollama.script(BrokenJson())
    with pytest.raises(json.JSONDecodeError):
        stream = await client.chat.completions.create(model=LLAMA, messages=messages, stream=True)
        _ = [chunk async for chunk in stream]
    ollama.script(CutOff())
    with pytest.raises(openai.APIConnectionError):
        stream = await client.chat.completions.create(model=LLAMA, messages=messages, stream=True)
        _ = [chunk async for chunk in stream]


# Ollama through pydantic-ai.


async def test_pydantic_ai_ollama_structured_output(ollama: FakeOllama, ollama_url: str) -> None:
    tool_result = await Agent(llama_model(ollama_url), output_type=City).run("A city?")
    native_result = await Agent(llama_model(ollama_url), output_type=NativeOutput(City)).run(
        "A city?"
    )

    assert isinstance(tool_result.output, City) and isinstance(native_result.output, City)
    tool_body, native_body = (request.body for request in ollama.requests)
    assert [tool["function"]["name"] for tool in tool_body["tools"]] == ["final_result"]
    assert tool_body["tool_choice"] == "required" and tool_body["stream"] is False
    assert native_body["response_format"]["type"] == "json_schema"
    assert tool_result.usage.input_tokens > 0


async def test_pydantic_ai_ollama_streams_text(ollama: FakeOllama, ollama_url: str) -> None:
    ollama.responder = lambda body: "The water gate creaks open at midnight."
    async with Agent(llama_model(ollama_url)).run_stream("Go on.") as run:
        pieces = [piece async for piece in run.stream_text(delta=True)]

    assert "".join(pieces) == "The water gate creaks open at midnight."
    body = ollama.requests[-1].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert run.usage.output_tokens > 0


async def test_pydantic_ai_ollama_errors(ollama: FakeOllama, ollama_url: str) -> None:
    agent = Agent(llama_model(ollama_url), model_settings=NO_RETRIES)

    ollama.script(Fail(503))
    with pytest.raises(ModelUnavailableError) as unavailable:
        await agent.run("Hi")
    assert isinstance(unavailable.value, ModelHTTPError) and unavailable.value.status_code == 503
    with pytest.raises(ModelNotFoundError):
        await Agent(llama_model(ollama_url, "mistral"), model_settings=NO_RETRIES).run("Hi")
    ollama.script(Hang(5))
    with pytest.raises(ModelTimeoutError):
        await agent.run("Hi", model_settings={"timeout": 0.3})
    ollama.script(CutOff())
    with pytest.raises(ModelConnectionError):
        await agent.run("Hi")


async def test_ollama_key_and_models_are_configurable() -> None:
    fake = FakeOllama(models=[OllamaModel("qwen3:8b", family="qwen3")], api_key="secret")
    async with fake.serve() as url, httpx.AsyncClient(base_url=url) as http:
        refused = await http.get("/api/tags")
        listed = await http.get("/v1/models", headers={"authorization": "Bearer secret"})

    assert refused.status_code == 401 and refused.json() == {"error": "unauthorized"}
    assert [model["id"] for model in listed.json()["data"]] == ["qwen3:8b"]
