"""Branches through the API: create at any point and depth, list, tree, switch, rename,
delete, redo — and never a turn lost that another branch still tells."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.timelines.conftest import append, branch, lineage, play

Story = dict[str, Any]


def actions(turns: list[tuple[int, str, str]]) -> list[str]:
    return [action for _, _, action in turns]


@pytest.mark.parametrize("at", [0, 1, 3, 5])
async def test_a_branch_tells_its_parents_turns_up_to_the_fork_then_its_own(
    client: httpx.AsyncClient, story: Story, at: int
) -> None:
    main = (await append(client, story["id"], "main", 5))["branch_id"]
    fork = await branch(client, story["id"], "Other path", at)
    await append(client, story["id"], "fork", 2)

    told = await lineage(client, story["id"], fork["id"])
    assert [n for n, _, _ in told] == list(range(1, at + 3))
    assert actions(told) == [f"main action {i}" for i in range(1, at + 1)] + [
        "fork action 1",
        "fork action 2",
    ]
    assert {b for n, b, _ in told if n <= at} <= {main}
    assert actions(await lineage(client, story["id"], main)) == [
        f"main action {i}" for i in range(1, 6)
    ]
    assert fork["fork_turn_number"] == at and fork["parent_branch_id"] == main


async def test_branches_three_deep_and_branching_from_an_inherited_turn(
    client: httpx.AsyncClient, story: Story
) -> None:
    main = (await append(client, story["id"], "a", 4))["branch_id"]
    b = await branch(client, story["id"], "B", 2)
    await append(client, story["id"], "b", 3)  # B: a1 a2 b1 b2 b3
    c = await branch(client, story["id"], "C", 4)
    await append(client, story["id"], "c", 2)  # C: a1 a2 b1 b2 c1 c2
    d = await branch(client, story["id"], "D", 5)
    await append(client, story["id"], "d", 1)  # D: a1 a2 b1 b2 c1 d1
    # From D's turn 1, which Main owns: recorded on Main, where the turn lives.
    e = await branch(client, story["id"], "E", 1, d["id"])

    assert actions(await lineage(client, story["id"], d["id"])) == [
        "a action 1",
        "a action 2",
        "b action 1",
        "b action 2",
        "c action 1",
        "d action 1",
    ]
    assert (c["parent_branch_id"], d["parent_branch_id"]) == (b["id"], c["id"])
    assert (e["parent_branch_id"], e["fork_turn_number"]) == (main, 1)

    tree = (await client.get(f"/stories/{story['id']}/branches/tree")).json()
    assert tree["branch_count"] == 5
    assert tree["active_branch_id"] == e["id"]
    root = tree["root"]
    assert (root["name"], root["depth"], root["path"]) == ("Main", 0, ["Main"])
    assert [child["name"] for child in root["children"]] == ["B", "E"]
    d_node = root["children"][0]["children"][0]["children"][0]
    assert (d_node["name"], d_node["depth"], d_node["path"]) == ("D", 3, ["Main", "B", "C", "D"])
    assert (d_node["turn_count"], d_node["own_turns"]) == (6, 1)

    listing = (await client.get(f"/stories/{story['id']}/branches")).json()
    stats = {
        b["name"]: (b["turn_count"], b["own_turns"], b["child_count"]) for b in listing["items"]
    }
    assert stats == {
        "Main": (4, 4, 2),
        "B": (5, 3, 1),
        "C": (6, 2, 1),
        "D": (6, 1, 0),
        "E": (1, 0, 0),
    }


async def test_each_turn_names_the_branches_that_fork_from_it(
    client: httpx.AsyncClient, story: Story
) -> None:
    main = (await append(client, story["id"], "main", 3))["branch_id"]
    await branch(client, story["id"], "Left", 2, active=False)
    await branch(client, story["id"], "Right", 2, active=False)
    page = (await client.get(f"/stories/{story['id']}/turns", params={"branch_id": main})).json()
    forks = {t["turn_number"]: [f["name"] for f in t["forks"]] for t in page["items"]}
    assert forks == {1: [], 2: ["Left", "Right"], 3: []}


async def test_paging_gives_first_previous_next_and_last(
    client: httpx.AsyncClient, story: Story
) -> None:
    await append(client, story["id"], "t", 12)
    url = f"/stories/{story['id']}/turns"
    page = (await client.get(url, params={"from": 6, "limit": 5})).json()
    assert [t["turn_number"] for t in page["items"]] == [6, 7, 8, 9, 10]
    assert (page["total"], page["prev_from"], page["next_from"], page["last_from"]) == (
        12,
        1,
        11,
        8,
    )
    assert (await client.get(url, params={"from": 0})).status_code == 422
    assert (await client.get(url, params={"from": 99})).json()["items"] == []


async def test_turns_are_generated_on_the_branch_asked_for(
    client: httpx.AsyncClient, story: Story
) -> None:
    main = (await append(client, story["id"], "main", 2))["branch_id"]
    side = await branch(client, story["id"], "Side", 1, active=False)
    turn = await play(client, story["id"], "I take the side door.", side["id"])
    assert (turn["branch_id"], turn["turn_number"]) == (side["id"], 2)
    on_active = await play(client, story["id"], "I take the main gate.")
    assert (on_active["branch_id"], on_active["turn_number"]) == (main, 3)
    single = await client.get(f"/stories/{story['id']}/turns/2", params={"branch_id": side["id"]})
    assert single.json()["user_action"] == "I take the side door."
    inherited = await client.get(
        f"/stories/{story['id']}/turns/1", params={"branch_id": side["id"]}
    )
    assert inherited.json()["branch_id"] == main


async def test_bad_branch_requests_are_refused_clearly(
    client: httpx.AsyncClient, story: Story
) -> None:
    await append(client, story["id"], "main", 3)
    url = f"/stories/{story['id']}/branches"
    too_far = await client.post(url, json={"branch_name": "X", "from_turn_number": 4})
    assert too_far.status_code == 422
    assert "between 0 and 3" in too_far.json()["message"]
    await branch(client, story["id"], "Dream", 1, active=False)
    twice = await client.post(url, json={"branch_name": "dream", "from_turn_number": 1})
    assert twice.status_code == 409 and "already has a branch named" in twice.json()["message"]
    blank = await client.post(url, json={"branch_name": "  ", "from_turn_number": 1})
    assert blank.status_code == 422
    stranger = "00000000-0000-0000-0000-000000000000"
    assert (await client.post(f"{url}/switch", json={"branch_id": stranger})).status_code == 404
    assert (await client.get(f"/stories/{stranger}/branches")).status_code == 404
    assert (await client.patch(f"{url}/{stranger}", json={"name": "Y"})).status_code == 404


async def test_switching_leaves_exactly_one_active_branch(
    client: httpx.AsyncClient, story: Story
) -> None:
    main = (await append(client, story["id"], "main", 2))["branch_id"]
    side = await branch(client, story["id"], "Side", 1)
    for target in (main, side["id"], side["id"], main):
        response = await client.post(
            f"/stories/{story['id']}/branches/switch", json={"branch_id": target}
        )
        assert response.status_code == 200 and response.json()["is_active"]
        items = (await client.get(f"/stories/{story['id']}/branches")).json()["items"]
        assert [b["id"] for b in items if b["is_active"]] == [target]
        assert (await client.get(f"/stories/{story['id']}")).json()["active_branch"]["id"] == target


async def test_a_branch_can_be_renamed_and_described(
    client: httpx.AsyncClient, story: Story
) -> None:
    await append(client, story["id"], "main", 1)
    side = await branch(client, story["id"], "Side", 1)
    url = f"/stories/{story['id']}/branches/{side['id']}"
    renamed = await client.patch(url, json={"name": "The long way", "description": "By sea."})
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["description"]) == ("The long way", "By sea.")
    assert (await client.patch(url, json={})).status_code == 422
    assert (await client.patch(url, json={"name": None})).status_code == 422
    taken = await client.patch(url, json={"name": "main"})
    assert taken.status_code == 409


async def test_deleting_a_branch_refuses_main_active_and_parents_then_takes_only_its_own(
    client: httpx.AsyncClient, story: Story
) -> None:
    main = (await append(client, story["id"], "main", 3))["branch_id"]
    b = await branch(client, story["id"], "B", 2)
    await append(client, story["id"], "b", 2)
    c = await branch(client, story["id"], "C", 3)
    await append(client, story["id"], "c", 1)
    url = f"/stories/{story['id']}/branches"

    refused_main = await client.delete(f"{url}/{main}")
    assert refused_main.status_code == 409 and "cannot be deleted" in refused_main.json()["message"]
    refused_active = await client.delete(f"{url}/{c['id']}")
    assert refused_active.status_code == 409 and "switch" in refused_active.json()["message"]
    await client.post(f"{url}/switch", json={"branch_id": main})
    refused_parent = await client.delete(f"{url}/{b['id']}")
    assert refused_parent.status_code == 409 and "cascade=true" in refused_parent.json()["message"]

    deleted = await client.delete(f"{url}/{b['id']}", params={"cascade": "true"})
    assert deleted.status_code == 200, deleted.text
    assert [x["name"] for x in deleted.json()["deleted_branches"]] == ["C", "B"]
    assert deleted.json()["deleted_turns"] == 3
    assert actions(await lineage(client, story["id"], main)) == [
        f"main action {i}" for i in range(1, 4)
    ]
    assert [x["name"] for x in (await client.get(url)).json()["items"]] == ["Main"]


async def test_redo_deletes_the_branchs_later_turns_but_never_an_inherited_one(
    client: httpx.AsyncClient, story: Story
) -> None:
    main = (await append(client, story["id"], "main", 6))["branch_id"]
    side = await branch(client, story["id"], "Side", 4, active=False)
    url = f"/stories/{story['id']}/turns/after"

    refused = await client.delete(f"{url}/2")
    assert refused.status_code == 409
    assert "Side" in refused.json()["message"] and "3–4" in refused.json()["message"]
    assert len(await lineage(client, story["id"], main)) == 6, "nothing was deleted"

    redone = await client.delete(f"{url}/4")
    assert redone.status_code == 200
    assert (redone.json()["deleted_turns"], redone.json()["last_turn_number"]) == (2, 4)
    assert len(await lineage(client, story["id"], side["id"])) == 4
    nothing = await client.delete(f"{url}/9")
    assert nothing.json()["deleted_turns"] == 0
    assert (await client.delete(f"{url}/-1")).status_code == 422

    turn = await play(client, story["id"], "I try again.")
    assert (turn["branch_id"], turn["turn_number"]) == (main, 5)


async def test_redo_before_a_branchs_fork_makes_it_fork_earlier(
    client: httpx.AsyncClient, story: Story
) -> None:
    main = (await append(client, story["id"], "main", 5))["branch_id"]
    side = await branch(client, story["id"], "Side", 4)
    await append(client, story["id"], "side", 2)
    redone = await client.delete(f"/stories/{story['id']}/turns/after/2")
    assert redone.status_code == 200
    assert (redone.json()["deleted_turns"], redone.json()["fork_turn_number"]) == (2, 2)
    assert actions(await lineage(client, story["id"], side["id"])) == [
        "main action 1",
        "main action 2",
    ]
    assert len(await lineage(client, story["id"], main)) == 5, "Main's turns are Main's"
    turn = await play(client, story["id"], "I choose differently.")
    assert (turn["branch_id"], turn["turn_number"]) == (side["id"], 3)


async def test_turns_on_two_branches_at_once_keep_to_their_branches(
    client: httpx.AsyncClient, story: Story
) -> None:
    main = (await append(client, story["id"], "main", 2))["branch_id"]
    side = await branch(client, story["id"], "Side", 1, active=False)
    results = await asyncio.gather(
        *(
            play(client, story["id"], f"{name} step {i}.", where)
            for i in range(3)
            for name, where in (("main", main), ("side", side["id"]))
        )
    )
    on_main = sorted(r["turn_number"] for r in results if r["branch_id"] == main)
    on_side = sorted(r["turn_number"] for r in results if r["branch_id"] == side["id"])
    assert (on_main, on_side) == ([3, 4, 5], [2, 3, 4])
    assert all("main" in action for _, _, action in (await lineage(client, story["id"], main)))
    side_told = await lineage(client, story["id"], side["id"])
    assert [action.split()[0] for _, _, action in side_told] == ["main", "side", "side", "side"]


async def test_a_story_with_branches_three_deep_can_be_deleted(
    client: httpx.AsyncClient, story: Story
) -> None:
    await append(client, story["id"], "main", 2)
    for depth in range(3):
        await branch(client, story["id"], f"Level {depth}", 2 + depth)
        await append(client, story["id"], f"level{depth}", 1)
    deleted = await client.delete(f"/stories/{story['id']}")
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(f"/stories/{story['id']}/branches")).status_code == 404


async def test_numbers_and_text_the_database_cannot_hold_are_refused_up_front(
    client: httpx.AsyncClient, story: Story
) -> None:
    await append(client, story["id"], "main", 1)
    base = f"/stories/{story['id']}"
    huge = 99_999_999_999
    checks = [
        await client.get(f"{base}/turns", params={"from": 2**31 - 1}),
        await client.get(f"{base}/turns/{huge}"),
        await client.get(f"{base}/turns/{huge}/versions"),
        await client.post(f"{base}/turns/1/select", json={"version": huge}),
        await client.delete(f"{base}/turns/after/{huge}"),
        await client.post(f"{base}/branches", json={"branch_name": "X", "from_turn_number": huge}),
        await client.patch(f"{base}/turns/1", json={"narrative_text": "a\u0000b"}),
        await client.post(
            f"{base}/branches", json={"branch_name": "a\u0000", "from_turn_number": 1}
        ),
        await client.post(
            f"{base}/branches",
            json={"branch_name": "Y", "from_turn_number": 1, "description": "\u0000"},
        ),
        await client.post(
            "/narrate/turn", json={"story_id": story["id"], "user_action": "\u0000!"}
        ),
    ]
    assert [r.status_code for r in checks] == [422] * len(checks), [r.text for r in checks]
