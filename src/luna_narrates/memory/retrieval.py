"""Gathers the candidates a new action may need, each scored and cited.

Sources, strongest first: the current state of every entity the action names (alias-aware),
what just happened, turns whose memory is still being built, hybrid search (vector + full text,
fused by reciprocal rank) over the lineage's passages, summaries, facts, entities and arcs, the
state of entities the recent turns name, and the latest arc. A fact found by search is always
shown as its current value: a superseded fact is never presented as current.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.agents.preprocessor.schemas import BriefingItem, Citation, ItemKind
from luna_narrates.db.lineage import Lineage
from luna_narrates.memory import repository
from luna_narrates.memory.ledger import NameBook
from luna_narrates.memory.packing import Candidate
from luna_narrates.memory.text import (
    entity_text,
    fact_text,
    raw_turn_text,
    relationship_text,
    search_terms,
)

SEARCH_K = 30
RRF_K = 60
# Scores: tiers first, then reciprocal-rank fusion (at most ~2/61·30 ≈ 1) inside the search tier.
NAMED_FACT = 3.0
NAMED_ENTITY = 2.9
NAMED_RELATIONSHIP = 2.8
LAST_TURN = 2.7
NAMED_AS_OBJECT = 2.5
NAMED_CHANGE = 2.4
PENDING_TURN = 2.0
SEARCH = 1.0
CONTEXT_FACT = 1.2
CONTEXT_ENTITY = 1.1
LATEST_ARC = 1.1
KEY_BONUS = {"status": 0.2, "name": 0.2, "held_by": 0.2, "allegiance": 0.15, "secret": 0.15}


@dataclass
class Ledger:
    """The state of some entities on a lineage, read once and rendered many ways."""

    book: NameBook
    facts: dict[uuid.UUID, list[Any]] = field(default_factory=lambda: defaultdict(list))
    relationships: list[Any] = field(default_factory=list)
    changes: dict[uuid.UUID, list[Any]] = field(default_factory=lambda: defaultdict(list))

    def current_facts(self, entity_id: uuid.UUID) -> list[Any]:
        return [f for f in self.facts.get(entity_id, []) if f["ended_turn"] is None]

    def current_fact(self, entity_id: uuid.UUID, key: str) -> Any | None:
        return next((f for f in self.current_facts(entity_id) if f["key"] == key), None)

    def current_relationships(self, entity_ids: set[uuid.UUID]) -> list[Any]:
        return [
            r
            for r in self.relationships
            if r["ended_turn"] is None
            and (r["source_entity_id"] in entity_ids or r["target_entity_id"] in entity_ids)
        ]

    def name(self, entity_id: uuid.UUID) -> str:
        return self.book.display.get(entity_id, "?")

    def fact_item(self, fact: Any) -> BriefingItem:
        text = fact_text(self.name(fact["entity_id"]), fact["key"], fact["value"])
        if fact["previous_value"] is not None and fact["previous_value"] != fact["value"]:
            text += f" (before: {fact['previous_value']})"
        return item("fact", text, Citation(turn=fact["turn_number"], fact_id=fact["id"]))

    def relationship_item(self, link: Any) -> BriefingItem:
        text = relationship_text(
            self.name(link["source_entity_id"]),
            self.name(link["target_entity_id"]),
            link["disposition"],
            link["score"],
        )
        return item(
            "relationship", text, Citation(turn=link["turn_number"], relationship_id=link["id"])
        )

    def entity_item(self, entity_id: uuid.UUID) -> BriefingItem:
        card = self.book.cards[entity_id]
        name = self.name(entity_id)
        aliases = [a for a in card.aliases if a != name]
        text = entity_text(name, card.kind, aliases, card.description)
        return item("entity", text, Citation(turn=card.first_turn, entity_id=entity_id))


def item(kind: ItemKind, text: str, source: Citation) -> BriefingItem:
    return BriefingItem(kind=kind, text=text, source=source)


async def read_ledger(
    session: AsyncSession, lineage: Lineage, entity_ids: set[uuid.UUID], book: NameBook
) -> Ledger:
    ledger = Ledger(book)
    if not entity_ids:
        return ledger
    ids = sorted(entity_ids)
    for fact in await repository.fact_history(session, lineage, ids):
        ledger.facts[fact["entity_id"]].append(fact)
    ledger.relationships = await repository.relationship_history(session, lineage, ids)
    for change in await repository.snapshots(session, lineage, ids):
        ledger.changes[change["entity_id"]].append(change)
    return ledger


def fuse(*rankings: Sequence[Any]) -> list[tuple[float, Any]]:
    """Reciprocal rank fusion: a chunk high in either list, or fair in both, comes first."""
    scores: dict[uuid.UUID, float] = defaultdict(float)
    rows: dict[uuid.UUID, Any] = {}
    for ranking in rankings:
        for position, row in enumerate(ranking, start=1):
            scores[row["id"]] += 1.0 / (RRF_K + position)
            rows[row["id"]] = row
    return sorted(((score, rows[i]) for i, score in scores.items()), key=lambda p: -p[0])


async def hybrid_search(
    session: AsyncSession, lineage: Lineage, text: str, vector: Sequence[float], k: int
) -> list[tuple[float, Any]]:
    """Vector and full-text search over the lineage's chunks, fused by reciprocal rank."""
    vector_hits = await repository.vector_search(session, lineage, vector, k)
    text_hits = await repository.text_search(session, lineage, search_terms(text), k)
    return fuse(vector_hits, text_hits)


@dataclass
class Query:
    action: str
    vector: Sequence[float]
    context: str = ""  # the recent turns' text: entities it names are likely on stage
    search_k: int = SEARCH_K


async def gather(
    session: AsyncSession, lineage: Lineage, query: Query, book: NameBook
) -> list[Candidate]:
    named = book.mentioned(query.action)
    on_stage = book.mentioned(query.context) - named
    fused = await hybrid_search(session, lineage, query.action, query.vector, query.search_k)

    fact_hits = [row["source_id"] for _, row in fused if row["kind"] == "fact"]
    hit_subjects = {row["entity_id"] for row in await repository.facts_by_id(session, fact_hits)}
    object_subjects = set(await repository.subjects_with_object(session, lineage, sorted(named)))
    ledger = await read_ledger(
        session, lineage, named | on_stage | hit_subjects | object_subjects, book
    )

    candidates: list[Candidate] = []

    def add(score: float, key: str, shown: BriefingItem, reason: str) -> None:
        candidates.append(Candidate(score, key, shown, reason))

    def fact_candidates(entity_id: uuid.UUID, base: float, reason: str) -> None:
        for fact in ledger.current_facts(entity_id):
            score = base + KEY_BONUS.get(fact["key"], 0.0)
            add(score, f"fact:{fact['id']}", ledger.fact_item(fact), reason)

    for entity_id in named:
        fact_candidates(entity_id, NAMED_FACT, "named in the action")
        if entity_id in book.cards:
            add(
                NAMED_ENTITY,
                f"entity:{entity_id}",
                ledger.entity_item(entity_id),
                "named in the action",
            )
        for change in ledger.changes.get(entity_id, [])[-1:]:
            text = f"{ledger.name(entity_id)}: {change['change']}"
            source = Citation(turn=change["turn_number"], entity_id=entity_id)
            add(
                NAMED_CHANGE,
                f"change:{change['id']}",
                item("entity", text, source),
                "named in the action",
            )
    for link in ledger.current_relationships(named):
        add(
            NAMED_RELATIONSHIP,
            f"relationship:{link['id']}",
            ledger.relationship_item(link),
            "named in the action",
        )
    for subject in object_subjects:
        for fact in ledger.current_facts(subject):
            if fact["object_entity_id"] in named:
                add(
                    NAMED_AS_OBJECT,
                    f"fact:{fact['id']}",
                    ledger.fact_item(fact),
                    "names someone in the action",
                )

    for position, turn in enumerate(await repository.turns_to_show(session, lineage)):
        # The latest turn is what the action follows; older ones appear here only while
        # their memory is being built, raw, so that no turn is ever invisible.
        if position > 0 and turn["summary"] is not None:
            continue
        score, reason = (
            (LAST_TURN, "what just happened")
            if position == 0
            else (PENDING_TURN, "memory not built yet")
        )
        source = Citation(turn=turn["turn_number"])
        if turn["summary"] is not None:
            shown = item("recent", turn["summary"], source)
        else:
            shown = item(
                "pending", raw_turn_text(turn["user_action"], turn["narrative_text"]), source
            )
        add(score, f"turn:{turn['id']}", shown, reason)

    facts_by_id = {f["id"]: f for facts in ledger.facts.values() for f in facts}
    arc_hits = [row["source_id"] for _, row in fused if row["kind"] == "arc"]
    arcs = {a["id"]: a for a in await repository.arcs_by_id(session, arc_hits)}
    for rrf, row in fused:
        score = SEARCH + rrf * 30
        kind, source_id = row["kind"], row["source_id"]
        if kind == "fact" and source_id in facts_by_id:
            fact = facts_by_id[source_id]
            current = ledger.current_fact(fact["entity_id"], fact["key"])
            if current is not None:
                add(score, f"fact:{current['id']}", ledger.fact_item(current), "search")
        elif kind == "entity" and source_id in book.cards:
            add(score, f"entity:{source_id}", ledger.entity_item(source_id), "search")
        elif kind == "arc" and source_id in arcs:
            add(score, f"arc:{source_id}", arc_item(arcs[source_id]), "search")
        elif kind == "summary":
            source = Citation(turn=row["turn_number"])
            add(score, f"summary:{row['turn_id']}", item("summary", row["text"], source), "search")
        elif kind == "passage":
            shown = item("passage", passage_body(row["text"]), Citation(turn=row["turn_number"]))
            add(score, f"passage:{row['id']}", shown, "search")
        elif kind == "relationship":
            link = next((r for r in ledger.relationships if r["id"] == source_id), None)
            if link is not None and link["ended_turn"] is None:
                add(score, f"relationship:{source_id}", ledger.relationship_item(link), "search")

    for entity_id in on_stage:
        for fact in ledger.current_facts(entity_id):
            if fact["key"] in KEY_BONUS:
                add(
                    CONTEXT_FACT,
                    f"fact:{fact['id']}",
                    ledger.fact_item(fact),
                    "in the recent turns",
                )
        if entity_id in book.cards:
            add(
                CONTEXT_ENTITY,
                f"entity:{entity_id}",
                ledger.entity_item(entity_id),
                "in the recent turns",
            )
    for arc in await repository.latest_arcs(session, lineage, 1):
        add(LATEST_ARC, f"arc:{arc['id']}", arc_item(arc), "the latest arc")
    return candidates


def arc_item(arc: Any) -> BriefingItem:
    source = Citation(turn=arc["turn_number"], first_turn=arc["first_turn"], arc_id=arc["id"])
    return item("arc", f"{arc['title']}: {arc['summary']}", source)


def passage_body(document: str) -> str:
    """A passage chunk without its "Turn N." header: the citation says the turn."""
    head, _, rest = document.partition(". ")
    return rest if head.startswith("Turn ") else document
