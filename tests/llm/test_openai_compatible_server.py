"""Whole turns against a real OpenAI-compatible server: llama-cpp-python's `llama_cpp.server`
serving the embedded SmolLM2 GGUF, reached over HTTP like any self-hosted server.

The Preprocessor and the Strategist run on `llama-cpp-server:<model>` (structured output bound
by a grammar, llm/structured.py), the Writer on plain `openai-compatible:<model>` (streamed
text). What the server does that these tests rely on:
- it lists the model under its `--model_alias` (else under the `--model` path as given), and
  answers any `model` name with the one model it serves;
- it reports usage on ordinary responses, never on streamed ones (not even when asked with
  `stream_options.include_usage`), so the Writer's tokens are estimates;
- it reads `max_tokens` and ignores `max_completion_tokens`.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from luna_narrates.kit.serving import free_port
from luna_narrates.llm.local import gguf_path
from luna_narrates.services import Services
from tests.conftest import STORY, make_settings, services_on
from tests.narration.test_sse import parse_sse

pytestmark = pytest.mark.llm

MODEL_ALIAS = "smollm2-135m"
START_TIMEOUT_SECONDS = 60


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, the model id the server lists) of a running `llama_cpp.server`."""
    if importlib.util.find_spec("starlette_context") is None:
        pytest.fail("llama_cpp.server needs its server extras: pip install -e '.[dev]'")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("llama-server") / "stderr.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf_path("smollm2")), "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "4096", "--n_threads", "2", "--verbose", "False",
    ]  # fmt: skip
    with log.open("wb") as stderr:
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        yield url, _wait_for_models(server, url, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for_models(server: subprocess.Popen[bytes], url: str, log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"llama_cpp.server exited with {server.returncode}:\n{log.read_text()[-4000:]}"
            )
        try:
            response = httpx.get(f"{url}/v1/models", timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        if response.status_code == 200:
            return str(response.json()["data"][0]["id"])
        time.sleep(0.2)
    pytest.fail(
        f"llama_cpp.server did not answer GET {url}/v1/models within "
        f"{START_TIMEOUT_SECONDS} s:\n{log.read_text()[-4000:]}"
    )


@pytest.fixture
async def services(
    database_url: str, data_dir: Path, llama_server: tuple[str, str]
) -> AsyncIterator[Services]:
    url, model = llama_server
    settings = make_settings(
        database_url,
        data_dir,
        preprocessor_model=f"llama-cpp-server:{model}",
        strategist_model=f"llama-cpp-server:{model}",
        writer_model=f"openai-compatible:{model}",
        openai_compatible_base_url=f"{url}/v1",
        writer_target_tokens=100,
        briefing_token_budget=200,
        model_timeout_seconds=120,
    )
    async with services_on(settings) as opened:
        yield opened


def test_the_server_lists_the_model_under_its_alias(llama_server: tuple[str, str]) -> None:
    assert llama_server[1] == MODEL_ALIAS


def check_agents(turn: dict[str, Any], model: str) -> None:
    agents = turn["agents"]
    assert [a["agent"] for a in agents] == ["preprocessor", "strategist", "writer"]
    providers = [(a["provider"], a["model"]) for a in agents]
    assert providers == [("llama-cpp-server", model)] * 2 + [("openai-compatible", model)]
    for structured in agents[:2]:
        # Real counts from the server; the prompt includes the output schema it was shown.
        assert not structured["tokens_estimated"], structured
        assert structured["input_tokens"] > 150 and structured["output_tokens"] > 5
    writer = agents[2]
    # Streamed: the server reports no usage, so the counts are estimates, and said to be.
    assert writer["tokens_estimated"], writer
    assert writer["input_tokens"] > 50 and writer["output_tokens"] > 0
    assert turn["plan"]["beats"], "the grammar requires at least one beat"


async def test_a_turn_through_the_http_route(
    client: httpx.AsyncClient, llama_server: tuple[str, str]
) -> None:
    story = (await client.post("/stories", json=STORY)).json()
    response = await client.post(
        "/narrate/turn",
        json={"story_id": story["id"], "user_action": "I slip into the palace by the water gate."},
        timeout=300,
    )
    assert response.status_code == 200, response.text
    turn = response.json()
    assert turn["turn_number"] == 1
    assert len(turn["narrative_text"].split()) >= 5, turn["narrative_text"]
    check_agents(turn, llama_server[1])
    stored = (await client.get(f"/stories/{story['id']}/turns/1")).json()
    strategist = next(a for a in stored["agents"] if a["agent"] == "strategist")
    assert strategist["output"] == stored["plan"] == turn["plan"]


async def test_a_turn_streamed_over_sse(
    client: httpx.AsyncClient, llama_server: tuple[str, str]
) -> None:
    story = (await client.post("/stories", json=STORY)).json()
    response = await client.get(
        f"/narrates/stories/{story['id']}/generate",
        params={"action": "I follow the sound of footsteps."},
        timeout=300,
    )
    assert response.status_code == 200
    events = parse_sse(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done", events[-1]
    tokens = [i for i, kind in enumerate(kinds) if kind == "token"]
    assert len(tokens) >= 5, kinds
    writer_start = max(i for i, (k, d) in enumerate(events) if k == "agent_start")
    assert writer_start < min(tokens) and max(tokens) < len(kinds) - 1
    turn = events[-1][1]["turn"]
    assert turn["turn_number"] == 1
    streamed = "".join(events[i][1]["text"] for i in tokens)
    assert streamed.strip() == turn["narrative_text"]
    strategist = next(d for k, d in events if k == "agent_complete" and d["agent"] == "strategist")
    assert strategist["output"] == turn["plan"]
    check_agents(turn, llama_server[1])
