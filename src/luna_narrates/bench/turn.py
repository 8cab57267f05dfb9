"""`luna bench turn`: plays turns against a real server and times them from the client's side.

One run: start uvicorn on a free loopback port in this process (a fresh app, so fresh llama.cpp
contexts), create a story and play N turns through the SSE route; then, with the server
stopped, replay each measured turn's stored Writer prompt straight on llama.cpp; then play M
turns with every agent on the deterministic `test` model to isolate the orchestration overhead.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from luna_narrates.config import AGENTS, Settings
from luna_narrates.kit.serving import serve_on_loopback

if TYPE_CHECKING:
    from luna_narrates.llm.local import LocalEngine

LOCAL_MODEL = "local:smollm2"
TEST_MODEL = "test"
TTFT_LATE_TURN = 20
TURN_TIMEOUT = httpx.Timeout(900.0, connect=10.0)
# As writer.run and Call use them: max_tokens = target × 1.15, min_tokens = target × share.
WRITER_MAX_SHARE = 1.15
WRITER_TEMPERATURE = 0.7

STORY: dict[str, str] = {
    "title": "The Canal Thief",
    "genre": "fantasy",
    "setting": "Veyra, a city of canals, bridges and masked nobles, on the night of the carnival",
    "premise": "In the canal city of Veyra, the thief Ila plans to steal the Doge's cursed crown "
    "before the carnival ends, to pay off her debt to the Thieves' Guild.",
    "protagonist": "Ila, a quick-witted thief with a debt to the Guild",
}

ACTIONS: tuple[str, ...] = (
    "I slip into the palace through the flooded water gate.",
    "I follow the sound of footsteps down the dark corridor.",
    "I hide behind a tapestry and listen to the guards talk.",
    "I ask the old servant where the Doge keeps his crown.",
    "I pick the lock of the treasury door with my silver pick.",
    "I light a candle and look around the treasury.",
    "I check the crown's pedestal for traps before touching it.",
    "I swap the crown for the painted fake in my satchel.",
    "I climb out of the window onto the wet roof tiles.",
    "I jump across the gap to the bell tower.",
    "I wait in the bell tower until the patrol passes below.",
    "I signal my partner Teo with the shuttered lantern.",
    "I climb down the ivy to the quay and untie a gondola.",
    "I row quietly under the Bridge of Sighs.",
    "I bribe the toll keeper with a gold ducat.",
    "I hide the crown under the fish in a merchant's barge.",
    "I meet the Guild master in the back room of the Drowned Rat.",
    "I tell the Guild master the crown whispers at night.",
    "I refuse to hand over the crown until my debt is written off.",
    "I run through the carnival crowd wearing a stolen mask.",
)

Progress = Callable[[str], None]


class BenchError(RuntimeError):
    """The benchmark could not measure what it set out to (a failed turn, a dead server)."""


@dataclass(frozen=True)
class BenchConfig:
    turns: int = 20
    runs: int = 3
    overhead_turns: int = 20
    data_dir: Path = Path("/tmp/luna-bench")
    model: str = LOCAL_MODEL  # `test` exercises the machinery with no LLM (and no raw runs)
    overrides: Mapping[str, object] = field(default_factory=dict)

    def settings(self, model: str) -> Settings:
        """Embedded database under `data_dir`, every agent on `model`, other settings as usual."""
        values: dict[str, object] = {**self.overrides}
        values.update(database_url=None, luna_data_dir=self.data_dir)
        values.update({f"{agent}_model": model for agent in AGENTS})
        return Settings(**values)  # type: ignore[arg-type]

    @property
    def ttft_turns(self) -> tuple[int, int]:
        """Turn 2 and turn 20, or the last turn when fewer than 20 are played."""
        return 2, min(TTFT_LATE_TURN, self.turns)


@dataclass(frozen=True)
class SseEvent:
    kind: str
    data: str
    at: float  # perf_counter() when the event's closing blank line arrived

    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.data)
        return loaded


@dataclass(frozen=True)
class TurnTiming:
    """One turn as the HTTP client saw it; all times in seconds."""

    turn_number: int
    client_seconds: float  # request sent → `done` received
    server_seconds: float  # the turn's total_execution_time_seconds
    agent_seconds: dict[str, float]  # agent_complete `seconds` per agent
    writer_output_tokens: int
    first_token_seconds: float | None  # request sent → first `token` event
    writer_stream_seconds: float | None  # first `token` event → last `token` event

    @property
    def model_seconds(self) -> float:
        return sum(self.agent_seconds.values())

    @property
    def writer_tokens_per_second(self) -> float | None:
        if not self.writer_stream_seconds:
            return None
        return self.writer_output_tokens / self.writer_stream_seconds


@dataclass(frozen=True)
class RawWriterRun:
    """The same Writer prompt straight on llama.cpp: first generated token → last."""

    turn_number: int
    tokens: int
    stream_seconds: float

    @property
    def tokens_per_second(self) -> float | None:
        return self.tokens / self.stream_seconds if self.stream_seconds else None


@dataclass(frozen=True)
class StoryRun:
    turns: list[TurnTiming]
    writer_prompts: dict[int, list[dict[str, str]]]


@dataclass(frozen=True)
class RunResult:
    turns: list[TurnTiming]  # every agent on the embedded model
    raw: list[RawWriterRun]  # turns after the first, replayed on llama.cpp
    overhead: list[TurnTiming]  # every agent on the `test` model


@dataclass
class _Collector:
    """Folds one turn's SSE events into a TurnTiming."""

    started: float
    first_token: float | None = None
    last_token: float | None = None
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: dict[str, Any] | None = None
    finished: float = 0.0

    def add(self, event: SseEvent) -> None:
        if event.kind == "token":
            # Token events are counted, never parsed: the client stays as cheap as possible.
            self.first_token = self.first_token or event.at
            self.last_token = event.at
        elif event.kind == "agent_complete":
            data = event.json()
            self.agents[data["agent"]] = data
        elif event.kind == "done":
            self.done = event.json()["turn"]
            self.finished = event.at
        elif event.kind == "error":
            raise BenchError(f"the turn failed: {event.data}")

    def timing(self) -> TurnTiming:
        if self.done is None:
            raise BenchError("the event stream ended without a `done` event")
        writer = self.agents.get("writer", {})
        return TurnTiming(
            turn_number=int(self.done["turn_number"]),
            client_seconds=self.finished - self.started,
            server_seconds=float(self.done["total_execution_time_seconds"]),
            agent_seconds={name: float(a["seconds"]) for name, a in self.agents.items()},
            writer_output_tokens=int(writer.get("output_tokens", 0)),
            first_token_seconds=_since(self.started, self.first_token),
            writer_stream_seconds=_since(self.first_token, self.last_token),
        )


def _since(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else end - start


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[str]:
    """The real app under uvicorn on a loopback port, as a task of the running event loop."""
    from luna_narrates.app import create_app

    try:
        async with serve_on_loopback(create_app(settings, run_worker=False)) as url:
            yield url
    except RuntimeError as error:
        raise BenchError(str(error)) from error


async def sse_events(response: httpx.Response) -> AsyncIterator[SseEvent]:
    kind, data = "message", []
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            yield SseEvent(kind, "\n".join(data), time.perf_counter())
            kind, data = "message", []


async def play_turn(http: httpx.AsyncClient, story_id: str, action: str) -> TurnTiming:
    url = f"/narrates/stories/{story_id}/generate"
    collector = _Collector(started=time.perf_counter())
    async with http.stream("GET", url, params={"action": action}) as response:
        if response.status_code != 200:
            await response.aread()
            raise BenchError(f"the turn was refused: {response.status_code} {response.text}")
        async for event in sse_events(response):
            collector.add(event)
    return collector.timing()


async def create_story(http: httpx.AsyncClient) -> str:
    response = await http.post("/stories", json=STORY)
    if response.status_code != 201:
        raise BenchError(f"creating the story failed: {response.status_code} {response.text}")
    return str(response.json()["id"])


async def writer_prompt(
    http: httpx.AsyncClient, story_id: str, turn_number: int
) -> list[dict[str, str]]:
    response = await http.get(f"/stories/{story_id}/turns/{turn_number}")
    response.raise_for_status()
    writer = next(a for a in response.json()["agents"] if a["agent"] == "writer")
    return [{"role": m["role"], "content": m["content"]} for m in writer["prompt"]]


async def play_story(
    settings: Settings, turns: int, progress: Progress, *, label: str = ""
) -> StoryRun:
    """N turns of a fresh story on a fresh server; the Writer prompts of turns 2…N."""
    async with (
        serve(settings) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=TURN_TIMEOUT, trust_env=False) as http,
    ):
        story_id = await create_story(http)
        timings: list[TurnTiming] = []
        for index in range(turns):
            timing = await play_turn(http, story_id, ACTIONS[index % len(ACTIONS)])
            timings.append(timing)
            progress(f"{label}turn {timing.turn_number}/{turns}: {describe(timing)}")
        later = [t.turn_number for t in timings if t.turn_number > 1]
        prompts = {n: await writer_prompt(http, story_id, n) for n in later}
    return StoryRun(timings, prompts)


def describe(timing: TurnTiming) -> str:
    parts = [f"{timing.client_seconds:.2f} s"]
    if timing.first_token_seconds is not None:
        parts.append(f"first token at {timing.first_token_seconds:.2f} s")
    if timing.writer_tokens_per_second is not None:
        parts.append(f"Writer {timing.writer_tokens_per_second:.1f} tokens/s")
    return ", ".join(parts)


def writer_limits(settings: Settings) -> tuple[int, int]:
    """The Writer's (max_tokens, min_tokens), as writer.run derives them from the target."""
    from luna_narrates.agents.writer.agent import MIN_SHARE_OF_TARGET

    target = settings.writer_target_tokens
    return int(target * WRITER_MAX_SHARE), int(target * MIN_SHARE_OF_TARGET)


def raw_writer_runs(
    settings: Settings, prompts: Mapping[int, list[dict[str, str]]], progress: Progress
) -> list[RawWriterRun]:
    """Each prompt on a separate LocalEngine over the same GGUF; call with the server stopped."""
    from luna_narrates.llm.local import LocalEngine

    name = settings.writer_model.partition(":")[2]
    engine = LocalEngine(
        name, n_ctx=settings.local_context_tokens, n_threads=settings.local_threads
    )
    max_tokens, min_tokens = writer_limits(settings)
    runs = []
    for turn_number, prompt in prompts.items():
        run = raw_writer(engine, turn_number, prompt, max_tokens, min_tokens)
        progress(f"raw llama.cpp, turn {turn_number}: {run.tokens_per_second or 0:.1f} tokens/s")
        runs.append(run)
    return runs


def raw_writer(
    engine: LocalEngine,
    turn_number: int,
    prompt: list[dict[str, str]],
    max_tokens: int,
    min_tokens: int,
) -> RawWriterRun:
    first: float | None = None
    last: float | None = None
    tokens = 0
    pieces = engine.generate(
        "writer",
        prompt,
        json_schema=None,
        max_tokens=max_tokens,
        temperature=WRITER_TEMPERATURE,
        min_tokens=min_tokens,
    )
    for text, stats in pieces:
        if text:
            last = time.perf_counter()
            first = first or last
        tokens = stats.completion_tokens
    return RawWriterRun(turn_number, tokens, _since(first, last) or 0.0)


def measure_run(config: BenchConfig, progress: Progress, *, label: str = "") -> RunResult:
    """One whole measurement: the model over the API, raw llama.cpp, then the test model."""
    settings = config.settings(config.model)
    story = asyncio.run(play_story(settings, config.turns, progress, label=label))
    raw = []
    if settings.writer_model.startswith("local:"):
        raw = raw_writer_runs(settings, story.writer_prompts, progress)
    test = config.settings(TEST_MODEL)
    overhead = asyncio.run(
        play_story(test, config.overhead_turns, progress, label=f"{label}test model, ")
    )
    return RunResult(turns=story.turns, raw=raw, overhead=overhead.turns)
