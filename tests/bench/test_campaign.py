"""The synthetic campaign generator: deterministic, valid, and honest about its probes.

A probe is only useful if the planted turn really holds its needle (in one sentence and in one
memory item), the fact is still current when asked, and the action does not already contain
the answer; these tests hold the generator to that.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from luna_narrates.agents.preprocessor.memory_schemas import TurnMemory
from luna_narrates.bench.campaign import (
    KINDS,
    PROBE_DELAY,
    Campaign,
    CampaignTurn,
    Needle,
    ProbeFact,
    generate,
)

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return generate(300)


def sentences(turn: CampaignTurn) -> list[str]:
    return SENTENCE_END.split(turn.narrative_text)


def renderings(memory: TurnMemory) -> Iterator[str]:
    for fact in memory.facts:
        yield f"{fact.subject} {fact.key}: {fact.value}"
    for rel in memory.relationships:
        yield f"{rel.source} → {rel.target}: {rel.disposition}"
    for entity in memory.entities:
        yield " ".join([entity.name, *entity.aliases])


def written_in(needle: Needle, turn: CampaignTurn) -> bool:
    in_text = any(needle.found_in(s) for s in sentences(turn))
    return in_text and any(needle.found_in(r) for r in renderings(turn.memory))


def probe_facts(campaign: Campaign) -> Iterator[tuple[int, str, ProbeFact]]:
    for probe in campaign.probes:
        for fact in probe.facts:
            yield probe.after_turn, probe.action, fact


def test_same_seed_gives_the_same_campaign() -> None:
    assert generate(120) == generate(120)
    assert generate(120, seed=8) != generate(120)


def test_turns_are_consecutive_valid_passages(campaign: Campaign) -> None:
    assert [t.turn_number for t in campaign.turns] == list(range(1, 301))
    assert campaign.turns_up_to(40) == campaign.turns[:40]
    for turn in campaign.turns:
        TurnMemory.model_validate(turn.memory.model_dump())
        assert 150 <= len(turn.narrative_text.split()) <= 300
        assert turn.user_action.startswith("I ")


def test_each_needle_is_planted_in_one_sentence_and_one_memory_item(campaign: Campaign) -> None:
    for after_turn, _, fact in probe_facts(campaign):
        assert fact.planted_turn + PROBE_DELAY <= after_turn
        planted = campaign.turns[fact.planted_turn - 1]
        assert written_in(fact.current, planted), fact
        if fact.stale is not None:
            earlier = campaign.turns[: fact.planted_turn - 1]
            assert any(written_in(fact.stale, turn) for turn in earlier), fact
            assert not fact.stale.found_in(planted.narrative_text), fact


def test_probed_fact_is_still_current_when_asked(campaign: Campaign) -> None:
    for after_turn, _, fact in probe_facts(campaign):
        memory = campaign.turns[fact.planted_turn - 1].memory
        keys = {
            (f.subject, f.key)
            for f in memory.facts
            if fact.current.found_in(f"{f.subject} {f.key}: {f.value}")
        }
        keys |= {
            (r.source, r.target)
            for r in memory.relationships
            if fact.current.found_in(f"{r.source} → {r.target}: {r.disposition}")
        }
        assert keys, fact
        for turn in campaign.turns[fact.planted_turn : after_turn]:
            later = {(f.subject, f.key) for f in turn.memory.facts}
            later |= {(r.source, r.target) for r in turn.memory.relationships}
            assert not keys & later, (fact, turn.turn_number)


def test_actions_name_the_entity_but_not_the_answer(campaign: Campaign) -> None:
    for _, action, fact in probe_facts(campaign):
        words = [word.lower() for word in fact.current.words]
        named = [word in action.lower() for word in words]
        if fact.kind == "rename":
            assert named.count(True) == 1, action  # old name or new, never both
        else:
            assert named == [True] + [False] * (len(words) - 1), (action, fact)


def test_three_hundred_turns_give_enough_probes_of_every_kind(campaign: Campaign) -> None:
    kinds = [fact.kind for _, _, fact in probe_facts(campaign)]
    assert len(campaign.probes) >= 40
    assert set(kinds) == set(KINDS)
    assert all(0 < p.after_turn <= 300 for p in campaign.probes)
    assert any(len(p.facts) == 2 for p in campaign.probes)


def test_only_planted_events_speak_of_death_or_betrayal(campaign: Campaign) -> None:
    for turn in campaign.turns:
        text = turn.narrative_text.lower()
        if "dead" in text:
            assert any(f.key == "status" and "dead" in f.value for f in turn.memory.facts)
        if "betray" in text:
            assert turn.memory.relationships


def test_ten_thousand_turns() -> None:
    long = generate(10_000)
    assert len(long.turns) == 10_000
    assert len(long.probes) > 1_000
