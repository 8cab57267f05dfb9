"""`ollama-native:<model>`: Ollama's native chat API (`POST /api/chat`, NDJSON) as a pydantic-ai
model, against the fake of tests/fakes/ollama.py: structured output bound by the schema sent as
`format`, text streamed with Ollama's own token counts, and every failure one of pydantic-ai's
errors, so that a fallback chain moves on. Whole turns are in
tests/narration/test_remote_providers.py."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field
from pydantic_ai import Agent
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelRequestTimeout,
    ModelUnavailableError,
)
from pydantic_ai.messages import ModelResponse
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.settings import ModelSettings

from luna_narrates.config import Settings
from luna_narrates.kit.serving import free_port
from luna_narrates.llm.calls import describe
from luna_narrates.llm.ollama_native import OllamaNativeModel, native_base_url
from luna_narrates.llm.registry import ModelRegistry
from luna_narrates.services import Services
from tests.fakes.common import Answer, Behaviour, BrokenJson, CutOff, Fail, Hang, StreamError
from tests.fakes.ollama import FakeOllama, OllamaModel

PASSAGE = "The lantern gutters as the canal wind rises over the Bridge of Sighs."
USAGE = {"prompt_eval_count": 42, "eval_count": 9}
NO_RETRIES: ModelSettings = {"max_retries": 0}


class Lantern(BaseModel):
    colour: str = Field(description="The colour of its flame.")
    lit: bool


@dataclass
class Served:
    """The fake, and the address written as OLLAMA_BASE_URL is, with the OpenAI-compatible API's
    `/v1`."""

    fake: FakeOllama
    root: str

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def model(self, name: str = "llama3.1") -> OllamaNativeModel:
        return OllamaNativeModel(name, self.base_url)

    def chats(self) -> list[dict[str, Any]]:
        return [request.body for request in self.fake.requests_to("/api/chat")]


@pytest.fixture(scope="module")
async def served() -> AsyncIterator[Served]:
    fake = FakeOllama(models=[OllamaModel("llama3.1:latest")])
    async with fake.serve() as url:
        yield Served(fake, url)


@pytest.fixture
def ollama(served: Served) -> Served:
    served.fake.reset()
    return served


async def test_structured_output_is_bound_by_its_schema_sent_as_format(ollama: Served) -> None:
    ollama.fake.script(Answer('{"colour": "amber", "lit": true}', usage=USAGE))
    agent = Agent(ollama.model(), output_type=Lantern, system_prompt="Hi.")
    settings: ModelSettings = {
        "max_tokens": 64,
        "temperature": 0.2,
        "seed": 7,
        "extra_body": {"keep_alive": "10m", "options": {"num_ctx": 8192}},
    }

    result = await agent.run("Describe the lantern.", model_settings=settings)

    assert result.output == Lantern(colour="amber", lit=True)
    [body] = ollama.chats()
    assert body["model"] == "llama3.1" and body["stream"] is True and "tools" not in body
    assert body["format"]["properties"].keys() == {"colour", "lit"}
    assert body["format"]["required"] == ["colour", "lit"]
    assert body["options"] == {"num_predict": 64, "temperature": 0.2, "seed": 7, "num_ctx": 8192}
    assert body["keep_alive"] == "10m"
    system, user = body["messages"]
    assert system["role"] == "system" and "The colour of its flame." in system["content"], (
        "the model is shown the schema it is bound to"
    )
    assert user == {"role": "user", "content": "Describe the lantern."}
    assert (result.usage.input_tokens, result.usage.output_tokens) == (42, 9)


async def test_text_streams_in_deltas_with_ollamas_token_counts(ollama: Served) -> None:
    ollama.fake.script(Answer(PASSAGE, usage=USAGE))
    agent = Agent(ollama.model(), system_prompt="You narrate.")

    async with agent.run_stream("I cross the bridge.") as stream:
        deltas = [d async for d in stream.stream_text(delta=True, debounce_by=None)]
        usage, messages = stream.usage, stream.all_messages()

    assert len(deltas) > 3 and "".join(deltas) == PASSAGE
    assert (usage.input_tokens, usage.output_tokens) == (42, 9)
    response = messages[-1]
    assert isinstance(response, ModelResponse) and response.finish_reason == "stop"
    assert "format" not in ollama.chats()[0]


async def test_an_answer_cut_at_num_predict_says_so(ollama: Served) -> None:
    agent = Agent(ollama.model())
    ollama.fake.script(Answer(PASSAGE))

    async with agent.run_stream("Go on.", model_settings={"max_tokens": 4}) as stream:
        text = await stream.get_output()
        response = stream.all_messages()[-1]

    assert text == PASSAGE[:16]
    assert isinstance(response, ModelResponse) and response.finish_reason == "length"


async def test_a_busy_server_is_retried_max_retries_times(ollama: Served) -> None:
    agent = Agent(ollama.model())
    ollama.fake.script(Fail(503, retry_after="0"), Answer(PASSAGE))

    result = await agent.run("Go on.", model_settings={"max_retries": 1})

    assert result.output == PASSAGE
    assert len(ollama.chats()) == 2

    ollama.fake.script(Fail(503, retry_after="0"))
    with pytest.raises(ModelUnavailableError) as failed:
        await agent.run("Go on.", model_settings=NO_RETRIES)
    assert isinstance(failed.value, ModelHTTPError) and failed.value.status_code == 503
    assert describe(failed.value, 5) == (
        "HTTP 503: server busy, please try again.  maximum pending requests exceeded"
    )


async def test_a_model_not_pulled_is_a_404_that_falls_through_the_chain(ollama: Served) -> None:
    missing = ollama.model("mistral")
    with pytest.raises(ModelNotFoundError) as failed:
        await Agent(missing).run("Hello.")
    assert isinstance(failed.value, ModelHTTPError)
    assert describe(failed.value, 5) == "HTTP 404: model 'mistral' not found"

    chain = FallbackModel(missing, ollama.model())
    async with Agent(chain).run_stream("Hello.") as stream:
        assert await stream.get_output() == "Echo: Hello."
    assert [body["model"] for body in ollama.chats()] == ["mistral", "mistral", "llama3.1"]


@pytest.mark.parametrize("mid_stream", [False, True], ids=["before-answering", "mid-stream"])
async def test_request_timeout_is_enforced(ollama: Served, mid_stream: bool) -> None:
    ollama.fake.script(Hang(10, mid_stream=mid_stream))
    agent = Agent(ollama.model())
    started = time.perf_counter()

    with pytest.raises(ModelRequestTimeout) as failed:
        async with agent.run_stream("Go on.", model_settings={"request_timeout": 0.5}) as stream:
            await stream.get_output()

    assert time.perf_counter() - started < 5
    assert describe(failed.value, 0.5) == "did not answer within 0.5 s"


@pytest.mark.parametrize(
    ("behaviour", "error", "said"),
    [
        (BrokenJson(), ModelAPIError, "Ollama sent a line that is not JSON"),
        (StreamError(message="CUDA error: out of memory"), ModelHTTPError, "HTTP 500: CUDA error"),
        (CutOff(drop_connection=False), ModelAPIError, "ended before its last line"),
        (CutOff(), ModelConnectionError, "ModelConnectionError: Ollama at http://"),
    ],
    ids=["not-json", "error-line", "no-last-line", "dropped"],
)
async def test_a_broken_answer_is_a_model_api_error_that_says_what_broke(
    ollama: Served, behaviour: Behaviour, error: type[Exception], said: str
) -> None:
    ollama.fake.script(behaviour)
    agent = Agent(ollama.model())

    with pytest.raises(error) as failed:
        await agent.run("Go on.", model_settings=NO_RETRIES)

    assert said in describe(failed.value, 5)


async def test_a_server_that_is_not_running_is_a_connection_error() -> None:
    agent = Agent(OllamaNativeModel("llama3.1", f"http://127.0.0.1:{free_port()}/v1"))

    with pytest.raises(ModelConnectionError) as failed:
        await agent.run("Go on.")

    assert "Ollama at http://127.0.0.1:" in str(failed.value)


def test_the_native_api_is_at_the_root_of_ollama_base_url() -> None:
    settings = Settings(_env_file=None, ollama_base_url="http://gpu-box:11434/v1/")  # type: ignore[call-arg]
    registry = ModelRegistry(settings)
    model = registry.model(registry.spec("ollama-native:llama3.1"), "writer")
    assert isinstance(model, OllamaNativeModel)
    assert (model.model_name, model.base_url) == ("llama3.1", "http://gpu-box:11434")
    assert native_base_url("http://127.0.0.1:11434") == "http://127.0.0.1:11434"


async def test_providers_check_ollama_native_models_through_api_tags(
    client: httpx.AsyncClient,
    services: Services,
    ollama: Served,
) -> None:
    services.settings.ollama_base_url = ollama.base_url
    services.settings.writer_model = "ollama-native:llama3.1"
    services.settings.strategist_model = "ollama-native:mistral"

    found = (await client.get("/providers")).json()

    native = {p["provider"]: p for p in found["providers"]}["ollama-native"]
    assert native["base_url"] == ollama.root and native["configured"]
    assert native["models_in_use"] == ["ollama-native:mistral", "ollama-native:llama3.1"]
    checks = {c["model"]: c for c in found["models"]}
    assert checks["ollama-native:llama3.1"]["ok"]
    assert checks["ollama-native:llama3.1"]["detail"] == f"{ollama.root}/api/tags lists llama3.1"
    assert not checks["ollama-native:mistral"]["ok"]
    assert checks["ollama-native:mistral"]["detail"].endswith(
        "does not list mistral (it lists: llama3.1:latest)"
    )
    assert ollama.fake.requests_to("/api/tags") and not ollama.chats()
