"""Planning ledger rows from a TurnMemory: names resolve to entities, renames keep old names."""

from __future__ import annotations

import uuid

from luna_narrates.agents.preprocessor.memory_schemas import TurnMemory
from luna_narrates.memory.ledger import NameBook, TurnRef, plan
from luna_narrates.memory.text import chunk_passage, normalize, search_terms

REF = TurnRef(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), 7)


def book(**names: uuid.UUID) -> NameBook:
    rows = [
        {"normalized": normalize(name), "entity_id": entity, "alias": name, "is_primary": True}
        for name, entity in names.items()
    ]
    return NameBook.from_rows(rows)


def test_a_new_name_creates_an_entity_and_a_known_one_reuses_it() -> None:
    mira = uuid.uuid4()
    write = plan(
        REF,
        TurnMemory(
            summary="Mira met Tomas.",
            entities=[
                {"name": "Mira", "kind": "character"},
                {"name": "Tomas", "kind": "character", "description": "A ferryman."},
            ],
        ),
        book(Mira=mira),
    )
    assert [e.name for e in write.entities] == ["Tomas"]
    assert write.entities[0].turn_number == 7
    assert [a["alias"] for a in write.aliases] == ["Tomas"]
    assert {d.kind for d in write.documents} == {"summary", "entity"}


def test_a_rename_adds_the_new_name_as_primary_and_keeps_the_old_one() -> None:
    cole = uuid.uuid4()
    names = book(**{"Brother Cole": cole})
    write = plan(
        REF,
        TurnMemory(
            summary="Brother Cole took a new name.",
            entities=[{"name": "Grey Abbot", "kind": "character", "aliases": ["Brother Cole"]}],
            facts=[{"subject": "Grey Abbot", "key": "name", "value": "Grey Abbot"}],
        ),
        names,
    )
    assert write.entities == []
    [alias] = write.aliases
    assert (alias["entity_id"], alias["alias"], alias["is_primary"]) == (cole, "Grey Abbot", True)
    assert names.find("brother cole") == names.find("GREY ABBOT") == cole
    assert write.facts[0].entity_id == cole


def test_a_fact_names_its_object_and_an_unknown_item_subject_becomes_an_item() -> None:
    tomas = uuid.uuid4()
    write = plan(
        REF,
        TurnMemory(
            summary="Tomas got the amulet.",
            facts=[{"subject": "Obsidian Amulet", "key": "Held By", "value": "Tomas, for now"}],
        ),
        book(Tomas=tomas),
    )
    [fact] = write.facts
    [amulet] = write.entities
    assert (amulet.name, amulet.kind) == ("Obsidian Amulet", "item")
    assert (fact.key, fact.object_entity_id, fact.entity_id) == ("held_by", tomas, amulet.id)
    assert "Obsidian Amulet · held by: Tomas, for now" in [d.text for d in write.documents]


def test_names_match_whole_words_only() -> None:
    al = uuid.uuid4()
    names = book(Al=al)
    assert names.mentioned("I ask Al, the smith, for help.") == {al}
    assert names.mentioned("I walk along the canal.") == set()


def test_passages_chunk_on_sentences_and_search_terms_are_any_word() -> None:
    text = " ".join(f"Sentence number {n} is here." for n in range(40))
    chunks = chunk_passage(text, max_words=30)
    assert all(len(c.split()) <= 30 for c in chunks)
    assert " ".join(chunks) == text
    assert search_terms("Where's the amulet?!") == "Where or the or amulet"
