"""The embedded llama.cpp model: grammar-valid JSON, real token counts, KV-cache reuse."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from pydantic_ai import Agent

from luna_narrates.agents.strategist.schemas import ResponseTemplate
from luna_narrates.errors import ConfigurationError
from luna_narrates.llm.local import (
    BACKGROUND_SLOT,
    CallStats,
    LlamaCppModel,
    LocalEngine,
    TurnFirst,
    gguf_path,
)

pytestmark = pytest.mark.llm

SYSTEM = "You plan scenes of a fantasy story. Premise: a thief steals a cursed crown in Veyra."


@pytest.fixture(scope="module")
def engine() -> LocalEngine:
    return LocalEngine("smollm2", n_ctx=2048)


def test_the_model_ships_inside_an_installed_package() -> None:
    path = gguf_path("smollm2")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000
    with pytest.raises(ConfigurationError, match="Unknown embedded model"):
        gguf_path("gpt-7")


async def test_structured_output_is_always_schema_valid(engine: LocalEngine) -> None:
    agent = Agent(
        LlamaCppModel(engine, "strategist"), output_type=ResponseTemplate, system_prompt=SYSTEM
    )
    for action in (
        "I climb the tower.",
        "I bribe the guard with a ruby.",
        "I jump into the canal.",
    ):
        result = await agent.run(
            f"Player: {action} Plan as JSON.", model_settings={"max_tokens": 700}
        )
        assert isinstance(result.output, ResponseTemplate)
        assert 1 <= len(result.output.beats) <= 5
        usage = result.usage
        assert usage.input_tokens > 20 and usage.output_tokens > 5


async def test_same_prefix_is_read_from_the_kv_cache(engine: LocalEngine) -> None:
    agent = Agent(
        LlamaCppModel(engine, "cache-probe"), system_prompt=SYSTEM + " " + "Be vivid. " * 40
    )
    first = await agent.run("Describe the first gate.", model_settings={"max_tokens": 8})
    second = await agent.run("Describe the second gate.", model_settings={"max_tokens": 8})
    assert first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens > 100
    assert second.usage.cache_read_tokens < second.usage.input_tokens


async def test_streaming_yields_text_as_it_is_sampled_and_honours_min_tokens(
    engine: LocalEngine,
) -> None:
    agent = Agent(LlamaCppModel(engine, "writer"), system_prompt=SYSTEM)
    deltas: list[str] = []
    settings = {"max_tokens": 80, "extra_body": {"min_tokens": 60}}
    async with agent.run_stream("Write the thief's entrance.", model_settings=settings) as stream:  # type: ignore[arg-type]
        async for delta in stream.stream_text(delta=True, debounce_by=None):
            deltas.append(delta)
        usage = stream.usage
    assert len(deltas) > 10
    assert 60 <= usage.output_tokens <= 80


def test_largest_allowed_prompts_fit_the_default_context(engine: LocalEngine) -> None:
    """Every agent's prompt, at the largest story and action the API accepts, plus its
    longest possible answer, fits the embedded model's 4,096-token context."""
    from luna_narrates.agents.preprocessor import agent as preprocessor
    from luna_narrates.agents.preprocessor import remember
    from luna_narrates.agents.preprocessor.memory_schemas import ArcInput, RememberInput
    from luna_narrates.agents.preprocessor.schemas import (
        BriefingItem,
        Citation,
        PreprocessorInput,
        StrategistBriefing,
    )
    from luna_narrates.agents.schemas import PastTurn, StoryFrame
    from luna_narrates.agents.strategist import agent as strategist
    from luna_narrates.agents.strategist.schemas import StrategistInput
    from luna_narrates.agents.writer import agent as writer
    from luna_narrates.agents.writer.schemas import WriterInput
    from luna_narrates.config import Settings
    from luna_narrates.narration.schemas import TurnRequest
    from luna_narrates.stories.schemas import StoryCreate
    from tests.scripted import PLAN

    def longest(model: type, name: str) -> str:
        limit = next(
            m.max_length for m in model.model_fields[name].metadata if hasattr(m, "max_length")
        )
        return ("Ab" + "cd " * limit)[:limit]

    frame = StoryFrame(
        **{
            f: longest(StoryCreate, f)
            for f in ("title", "genre", "setting", "premise", "protagonist")
        }
    )
    action = longest(TurnRequest, "user_action")
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    turns = [
        PastTurn(turn_number=n, user_action=action, narrative_text="word " * 900)
        for n in range(defaults.recent_turns_window)
    ]
    widest = StrategistBriefing(
        situation="x " * 100,
        player_intent="y " * 60,
        open_threads=["t " * 50] * 2,
        memory=[
            BriefingItem(kind="passage", text="m " * 200, source=Citation(turn=n))
            for n in range(1, 60)
        ],
    )
    # The Strategist only ever sees a briefing cut to the budget.
    briefing = preprocessor.fit_to_budget(
        widest, defaults.briefing_token_budget, lambda text: len(engine.tokenize(text))
    )
    pre = PreprocessorInput(
        story=frame,
        recent_turns=turns,
        user_action=action,
        token_budget=defaults.briefing_token_budget,
    )
    cases = {
        "preprocessor": (preprocessor.prompts(pre), preprocessor.MAX_SCENE_TOKENS),
        "remember": (
            remember.remember_prompts(
                RememberInput(
                    story=frame,
                    turn=PastTurn(
                        turn_number=1, user_action=action, narrative_text=prose(600) * 50
                    ),
                    known_entities=["n" * 60] * 100,
                )
            ),
            remember.MAX_MEMORY_TOKENS,
        ),
        "arc": (
            remember.arc_prompts(
                ArcInput(
                    story=frame,
                    first_turn=1,
                    last_turn=defaults.arc_length_turns,
                    turn_summaries=[f"Turn 1: {'s ' * 150}"] * defaults.arc_length_turns,
                )
            ),
            remember.MAX_ARC_TOKENS,
        ),
        "strategist": (
            strategist.prompts(StrategistInput(story=frame, briefing=briefing, user_action=action)),
            strategist.MAX_PLAN_TOKENS,
        ),
        "writer": (
            writer.prompts(
                WriterInput(
                    story=frame,
                    previous_turn=turns[-1],
                    user_action=action,
                    plan=PLAN,
                    target_tokens=defaults.writer_target_tokens,  # type: ignore[arg-type]
                )
            ),
            int(defaults.writer_target_tokens * 1.15),
        ),
    }
    for agent, ((system, user), answer) in cases.items():
        total = len(engine.tokenize(system)) + len(engine.tokenize(user)) + 16 + answer
        assert total <= defaults.local_context_tokens, f"{agent} needs {total} tokens"


def test_counting_tokens_never_waits_for_a_running_generation(engine: LocalEngine) -> None:
    """Briefings are measured on the event loop; a writer generating on another thread must
    not stall it."""
    import threading

    pieces = engine.generate(
        "writer",
        [{"role": "user", "content": "Tell me about canals."}],
        json_schema=None,
        max_tokens=20,
        temperature=0.7,
    )
    next(pieces)  # the generation is under way and holds the engine
    counted: list[int] = []
    counter = threading.Thread(target=lambda: counted.append(len(engine.tokenize("a canal"))))
    counter.start()
    counter.join(timeout=30)
    finished = not counter.is_alive()
    list(pieces)
    counter.join()
    assert finished and counted and counted[0] > 0


def prose(length: int) -> str:
    return ("the thief crosses the canal at night " * 20)[:length]


def test_the_widest_answers_fit_the_preprocessors_answer_limits(engine: LocalEngine) -> None:
    """Otherwise a grammar-bound answer can be cut off mid-JSON and cost a retry."""
    from luna_narrates.agents.preprocessor.agent import MAX_SCENE_TOKENS
    from luna_narrates.agents.preprocessor.memory_schemas import (
        ArcSummary,
        CharacterChange,
        EntityMention,
        FactChange,
        RelationshipChange,
        TurnMemory,
    )
    from luna_narrates.agents.preprocessor.remember import MAX_ARC_TOKENS, MAX_MEMORY_TOKENS
    from luna_narrates.agents.preprocessor.schemas import SceneReading

    scene = SceneReading(
        situation=prose(200), player_intent=prose(120), open_threads=[prose(100)] * 2
    )
    memory = TurnMemory(
        summary=prose(300),
        entities=[
            EntityMention(
                name=prose(60), kind="character", aliases=[prose(60)] * 2, description=prose(100)
            )
        ]
        * 5,
        facts=[FactChange(subject=prose(60), key=prose(40), value=prose(160))] * 6,
        relationships=[
            RelationshipChange(source=prose(60), target=prose(60), disposition=prose(120), score=-5)
        ]
        * 3,
        character_changes=[CharacterChange(name=prose(60), change=prose(160))] * 2,
    )
    arc = ArcSummary(title=prose(80), summary=prose(600))
    assert TurnMemory.model_fields["facts"].metadata[-1].max_length == 6
    for answer, limit in (
        (scene, MAX_SCENE_TOKENS),
        (memory, MAX_MEMORY_TOKENS),
        (arc, MAX_ARC_TOKENS),
    ):
        tokens = len(engine.tokenize(answer.model_dump_json()))
        assert tokens <= limit, (type(answer).__name__, tokens)


def test_the_widest_plan_fits_the_strategists_answer_limit(engine: LocalEngine) -> None:
    """The widest plan the schema allows must fit, or the answer is cut off mid-JSON."""
    from luna_narrates.agents.strategist.agent import MAX_PLAN_TOKENS
    from luna_narrates.agents.strategist.schemas import NpcReaction, ResponseTemplate

    widest = ResponseTemplate(
        scene_location=prose(100),
        characters_present=[prose(60)] * 5,
        tone=prose(40),
        beats=[prose(160)] * 5,
        npc_reactions=[NpcReaction(character=prose(60), reaction=prose(160))] * 3,
        consequences=[prose(160)] * 3,
    )
    assert ResponseTemplate.model_fields["beats"].metadata[-1].max_length == 5
    tokens = len(engine.tokenize(widest.model_dump_json()))
    assert tokens <= MAX_PLAN_TOKENS, tokens


def test_a_turns_call_overtakes_a_background_generation_which_then_goes_on(
    engine: LocalEngine,
) -> None:
    """A memory job generating when the player sends a turn pauses between two tokens; the
    turn's call runs at once, and the memory job's answer is what it would have been."""
    import threading

    def background() -> Iterator[tuple[str, CallStats]]:
        return engine.generate(
            BACKGROUND_SLOT,
            [{"role": "user", "content": "Describe the canals of Veyra at night."}],
            json_schema=None,
            max_tokens=40,
            temperature=0.0,
        )

    alone = "".join(text for text, _ in background())
    pieces = background()
    taken = [next(pieces)[0]]  # under way, holding the engine
    overtaken: list[str] = []

    def turn() -> None:
        answer = engine.generate(
            "writer",
            [{"role": "user", "content": "Name a thief."}],
            json_schema=None,
            max_tokens=8,
            temperature=0.0,
        )
        overtaken.append("".join(text for text, _ in answer))

    caller = threading.Thread(target=turn)
    caller.start()
    while caller.is_alive() and not engine.pauses:  # the background steps aside for it
        taken += [text for text, _ in itertools.islice(pieces, 1)]
    caller.join(timeout=60)
    pauses = engine.pauses
    resumed = "".join(taken) + "".join(text for text, _ in pieces)

    assert overtaken and overtaken[0], "the turn's call ran while the memory job was under way"
    assert pauses >= 1
    assert resumed == alone, "the paused generation lost nothing"


def test_turn_first_orders_its_holders() -> None:
    import threading

    lock = TurnFirst()
    order: list[str] = []
    lock.acquire(urgent=False)
    assert lock.let_through() is False, "no turn waits: the background keeps going"

    def take(name: str, urgent: bool) -> threading.Thread:
        def run() -> None:
            lock.acquire(urgent=urgent)
            order.append(name)
            lock.release()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    later = take("background", False)
    assert lock.wait_for_callers(urgent=False, count=1, timeout=10), "a background call waits"
    turn = take("turn", True)
    assert lock.wait_for_callers(urgent=True, count=1, timeout=10), "then a turn's call"
    assert lock.let_through() is True
    order.append("paused background resumed")
    lock.release()
    for thread in (turn, later):
        thread.join(timeout=5)
    assert order == ["turn", "paused background resumed", "background"]
