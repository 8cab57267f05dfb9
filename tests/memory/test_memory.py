"""Memory on a real database: supersession, branch isolation, aliases, citations, budgets."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from luna_narrates.db.lineage import Lineage, lineage_of
from luna_narrates.db.tables import Fact
from luna_narrates.llm.tokens import estimate_tokens
from luna_narrates.memory import service
from luna_narrates.memory.retrieval import Query
from luna_narrates.services import Services
from tests.memory.conftest import add_turn, fork, import_turns, remember

TURNS = [
    ("I meet the wizard.", "Aldric the wizard greets you at the mill."),
    ("I rest.", "You sleep by the fire while rain drums on the roof."),
    ("I fight the raiders.", "Raiders storm the mill. Aldric falls and lies dead."),
    ("I bury him.", "You dig a grave behind the mill."),
    ("I travel north.", "The road north is long and muddy."),
    ("I reach the abbey.", "Brother Cole opens the gate and now calls himself the Grey Abbot."),
]


async def lineage(services: Services, branch_id: uuid.UUID | str) -> Lineage:
    async with services.db.sessions() as session:
        return await lineage_of(session, uuid.UUID(str(branch_id)))


async def briefing(
    services: Services, branch_id: uuid.UUID | str, action: str, budget: int = 400
) -> list[Any]:
    [vector] = services.embedder.embed([action])
    async with services.db.sessions() as session:
        found = await service.briefing(
            session,
            await lineage_of(session, uuid.UUID(str(branch_id))),
            Query(action, vector),
            budget,
            estimate_tokens,
        )
    assert found.tokens <= budget - found.scene_reserve_tokens
    return found.items


async def campaign(client: httpx.AsyncClient, services: Services, story: dict[str, Any]) -> str:
    branch = (await import_turns(client, story["id"], TURNS))["branch_id"]
    await remember(
        services,
        branch,
        1,
        entities=[{"name": "Aldric", "kind": "character", "description": "An old wizard."}],
        facts=[{"subject": "Aldric", "key": "status", "value": "alive"}],
    )
    await remember(services, branch, 2)
    await remember(
        services, branch, 3, facts=[{"subject": "Aldric", "key": "status", "value": "dead"}]
    )
    await remember(services, branch, 4)
    await remember(
        services,
        branch,
        5,
        entities=[{"name": "Brother Cole", "kind": "character"}],
        facts=[{"subject": "Brother Cole", "key": "role", "value": "gatekeeper of the abbey"}],
    )
    await remember(
        services,
        branch,
        6,
        entities=[{"name": "Grey Abbot", "kind": "character", "aliases": ["Brother Cole"]}],
    )
    return str(branch)


async def test_a_superseded_fact_is_history_never_current(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    branch = await campaign(client, services, story)
    items = await briefing(services, branch, "I ask Aldric to heal me.")
    facts = [i for i in items if i.kind == "fact"]
    assert facts[0].text == "Aldric · status: dead (before: alive)"
    assert facts[0].source.turn == 3 and facts[0].source.fact_id is not None
    assert not any(i.text.startswith("Aldric · status: alive") for i in items)

    history = (await client.get(f"/stories/{story['id']}/world/aldric")).json()
    assert [(f["value"], f["since_turn"], f["until_turn"]) for f in history["facts"]] == [
        ("alive", 1, 3),
        ("dead", 3, None),
    ]
    world = (await client.get(f"/stories/{story['id']}/world")).json()
    [aldric] = [e for e in world["entities"] if e["name"] == "Aldric"]
    assert [(f["key"], f["value"]) for f in aldric["facts"]] == [("status", "dead")]


async def test_running_a_turns_memory_twice_writes_it_once(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    branch = await campaign(client, services, story)
    await remember(
        services, branch, 3, facts=[{"subject": "Aldric", "key": "status", "value": "dead"}]
    )
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Fact)) == 3
    world = (await client.get(f"/stories/{story['id']}/world")).json()
    assert sorted(e["name"] for e in world["entities"]) == ["Aldric", "Grey Abbot"]


async def test_an_old_name_finds_the_renamed_character(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    branch = await campaign(client, services, story)
    for action in ("I greet Brother Cole.", "I greet the Grey Abbot."):
        items = await briefing(services, branch, action)
        cards = [i.text for i in items if i.kind == "entity"]
        assert "Grey Abbot (character, also called Brother Cole)" in cards, (action, items)
        assert "Grey Abbot · role: gatekeeper of the abbey" in [i.text for i in items]


async def test_every_item_cites_its_source(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    branch = await campaign(client, services, story)
    items = await briefing(services, branch, "I visit the mill where the wizard fell.", 4000)
    assert {i.kind for i in items} >= {"fact", "entity", "recent", "summary", "passage"}
    for item in items:
        assert 1 <= item.source.turn <= 6
        if item.kind == "fact":
            assert item.source.fact_id is not None
        if item.kind == "entity":
            assert item.source.entity_id is not None


async def test_a_fact_on_one_branch_is_invisible_on_another(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    main = await campaign(client, services, story)
    other = await fork(client, story["id"], main, at_turn=2)
    await add_turn(services, story["id"], other, 3, "I heal the wizard.", "Aldric recovers.")
    await remember(
        services, other, 3, facts=[{"subject": "Aldric", "key": "status", "value": "healed"}]
    )

    on_fork = await briefing(services, other, "I ask Aldric to heal me.")
    on_main = await briefing(services, main, "I ask Aldric to heal me.")
    assert "Aldric · status: healed (before: alive)" in [i.text for i in on_fork]
    assert not any("dead" in i.text for i in on_fork), "main's turn 3 happened after the fork"
    assert not any("Grey Abbot" in i.text for i in on_fork)
    assert not any("healed" in i.text for i in on_main)
    assert (await lineage(services, other)).segments == ((other, 2**31 - 1), (uuid.UUID(main), 2))


async def test_the_briefing_fits_even_a_tiny_budget(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    branch = await campaign(client, services, story)
    tiny = await briefing(services, branch, "I ask Aldric to heal me.", 60)
    assert tiny[0].text == "Aldric · status: dead (before: alive)", "the best item comes first"
    roomy = await briefing(services, branch, "I ask Aldric to heal me.", 4000)
    assert len(tiny) < len(roomy)


async def test_turns_not_yet_remembered_are_shown_raw(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    branch = (await import_turns(client, story["id"], TURNS))["branch_id"]
    await remember(services, branch, 1)
    items = await briefing(services, branch, "I look around.", 4000)
    shown = {i.source.turn: i.kind for i in items if i.kind in ("recent", "pending")}
    assert shown == {6: "pending", 5: "pending", 4: "pending", 3: "pending", 2: "pending"}


async def test_the_latest_entities_are_those_the_story_met_or_changed_last(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    """What the Dreamer grounds its ideas in: the world as it stands lately."""
    branch = await campaign(client, services, story)
    await remember(
        services,
        branch,
        2,
        entities=[{"name": "Mira", "kind": "character"}, {"name": "Abbey", "kind": "location"}],
    )
    async with services.db.sessions() as session:
        lineage = await lineage_of(session, uuid.UUID(branch))
        everything = [e.name for e in await service.world(session, lineage)]
        latest = [e.name for e in await service.world(session, lineage, latest=2)]

    assert everything == ["Aldric", "Abbey", "Mira", "Grey Abbot"]
    assert latest == ["Grey Abbot", "Aldric"], "turn 5's fact, then Aldric's death at turn 3"
