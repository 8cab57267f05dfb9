"""Turns a Preprocessor's TurnMemory into ledger rows: entities resolved by any of their names,
facts that supersede by (entity, key), relationships, character changes, and the texts to index.

Planning is pure (a NameBook in, rows out), so it is tested without a database; storing is one
transaction, and a job that runs twice writes once (see repository.forget_turn).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from luna_narrates.agents.preprocessor.memory_schemas import EntityKind, TurnMemory
from luna_narrates.db.tables import (
    CharacterEvolutionSnapshot,
    Entity,
    Fact,
    Relationship,
    TurnSummary,
)
from luna_narrates.memory.text import (
    entity_text,
    fact_text,
    normalize,
    padded,
    relationship_text,
)

# The keys a thing (not a person) is most often the subject of.
ITEM_KEYS = {"held_by", "owner", "owned_by", "carried_by"}


@dataclass(frozen=True)
class TurnRef:
    story_id: uuid.UUID
    branch_id: uuid.UUID
    turn_id: uuid.UUID
    turn_number: int

    def columns(self) -> dict[str, Any]:
        return {
            "story_id": self.story_id,
            "branch_id": self.branch_id,
            "turn_id": self.turn_id,
            "turn_number": self.turn_number,
        }


@dataclass
class Card:
    """What the ledger knows of an entity apart from its facts: kind, description, names."""

    kind: str
    description: str
    first_turn: int
    aliases: list[str] = field(default_factory=list)  # newest first


@dataclass
class NameBook:
    """Every name the lineage knows, normalized, to the entity it names; and each entity's card,
    read from the same rows."""

    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    display: dict[uuid.UUID, str] = field(default_factory=dict)
    cards: dict[uuid.UUID, Card] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[Any]) -> NameBook:
        """Rows newest first (repository.names): the first primary name seen is the current."""
        book = cls()
        for row in rows:
            entity_id = row["entity_id"]
            book.ids.setdefault(row["normalized"], entity_id)
            if row["is_primary"]:
                book.display.setdefault(entity_id, row["alias"])
            card = book.cards.setdefault(
                entity_id,
                Card(row.get("kind", ""), row.get("description", ""), row.get("first_turn", 0)),
            )
            if row["alias"] not in card.aliases:
                card.aliases.append(row["alias"])
        return book

    def find(self, name: str) -> uuid.UUID | None:
        return self.ids.get(normalize(name))

    def mentioned(self, text: str) -> set[uuid.UUID]:
        """Every entity one of whose names occurs in the text as whole words."""
        haystack = padded(text)
        return {entity for name, entity in self.ids.items() if f" {name} " in haystack}

    def named_in(self, text: str) -> uuid.UUID | None:
        """The entity whose longest name occurs in the text as whole words."""
        haystack = padded(text)
        for name in sorted(self.ids, key=len, reverse=True):
            if name and f" {name} " in haystack:
                return self.ids[name]
        return None


@dataclass
class Document:
    kind: str
    source_id: uuid.UUID | None
    text: str


@dataclass
class LedgerWrite:
    summary: TurnSummary
    entities: list[Entity] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    snapshots: list[CharacterEvolutionSnapshot] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)

    def existing_entity_ids(self) -> set[uuid.UUID]:
        """Entities this write refers to without creating them: they must still exist."""
        referred = {a["entity_id"] for a in self.aliases}
        referred |= {f.entity_id for f in self.facts}
        referred |= {f.object_entity_id for f in self.facts if f.object_entity_id}
        referred |= {r.source_entity_id for r in self.relationships}
        referred |= {r.target_entity_id for r in self.relationships}
        referred |= {s.entity_id for s in self.snapshots}
        return referred - {e.id for e in self.entities}


class _Planner:
    def __init__(self, turn: TurnRef, book: NameBook, summary: str) -> None:
        self.turn = turn
        self.book = book
        self.write = LedgerWrite(
            summary=TurnSummary(
                turn_id=turn.turn_id,
                story_id=turn.story_id,
                branch_id=turn.branch_id,
                turn_number=turn.turn_number,
                summary=summary,
            )
        )

    def alias(self, entity_id: uuid.UUID, name: str, primary: bool) -> None:
        """Records a name unless the entity already goes by it (as its current name, when the
        name is to be primary: a rename back to an old name is a new primary row)."""
        key = normalize(name)
        if not key:
            return
        known = self.book.ids.get(key) == entity_id
        current = normalize(self.book.display.get(entity_id, ""))
        if known and (not primary or current == key):
            return
        self.book.ids.setdefault(key, entity_id)
        if primary:
            self.book.display[entity_id] = name
        self.write.aliases.append(
            {
                "id": uuid.uuid4(),
                "entity_id": entity_id,
                "alias": name,
                "normalized": key,
                "is_primary": primary,
                **self.turn.columns(),
            }
        )

    def entity(
        self, name: str, kind: EntityKind, aliases: Iterable[str] = (), description: str = ""
    ) -> uuid.UUID:
        known = next((self.book.find(n) for n in (name, *aliases) if self.book.find(n)), None)
        if known is None:
            entity = Entity(
                id=uuid.uuid4(),
                kind=kind,
                name=name,
                description=description,
                **self.turn.columns(),
            )
            self.write.entities.append(entity)
            known = entity.id
        self.alias(known, name, primary=True)
        for other in aliases:
            self.alias(known, other, primary=False)
        return known

    def resolve(self, name: str, key: str = "") -> uuid.UUID:
        return self.book.find(name) or self.entity(
            name, "item" if key in ITEM_KEYS else "character"
        )

    def name(self, entity_id: uuid.UUID) -> str:
        return self.book.display.get(entity_id, "?")


def plan(turn: TurnRef, memory: TurnMemory, book: NameBook) -> LedgerWrite:
    """The rows and index documents one turn's memory adds to the ledger."""
    planner = _Planner(turn, book, memory.summary)
    write = planner.write
    write.documents.append(Document("summary", turn.turn_id, memory.summary))
    for mention in memory.entities:
        known = len(write.entities), len(write.aliases)
        entity_id = planner.entity(mention.name, mention.kind, mention.aliases, mention.description)
        if known == (len(write.entities), len(write.aliases)):
            continue  # nothing new about it: its document is already in the index
        others = [a for a in mention.aliases if normalize(a) != normalize(mention.name)]
        write.documents.append(
            Document(
                "entity",
                entity_id,
                entity_text(mention.name, mention.kind, others, mention.description),
            )
        )
    for change in memory.facts:
        key = normalize(change.key).replace(" ", "_") or "note"
        subject = planner.resolve(change.subject, key)
        target = book.named_in(change.value)
        fact = Fact(
            id=uuid.uuid4(),
            entity_id=subject,
            key=key,
            value=change.value,
            object_entity_id=target if target != subject else None,
            **turn.columns(),
        )
        write.facts.append(fact)
        write.documents.append(
            Document("fact", fact.id, fact_text(planner.name(subject), key, change.value))
        )
    for link in memory.relationships:
        source, target = planner.resolve(link.source), planner.resolve(link.target)
        relationship = Relationship(
            id=uuid.uuid4(),
            source_entity_id=source,
            target_entity_id=target,
            disposition=link.disposition,
            score=link.score,
            **turn.columns(),
        )
        write.relationships.append(relationship)
        write.documents.append(
            Document(
                "relationship",
                relationship.id,
                relationship_text(
                    planner.name(source), planner.name(target), link.disposition, link.score
                ),
            )
        )
    for character in memory.character_changes:
        snapshot = CharacterEvolutionSnapshot(
            id=uuid.uuid4(),
            entity_id=planner.resolve(character.name),
            change=character.change,
            **turn.columns(),
        )
        write.snapshots.append(snapshot)
    return write
