"""Random sequences of branching, writing, redoing, switching and deleting, checked against a
model of the tree that knows every branch's lineage as a list of turns: the API must tell
exactly the model's turns on every branch after every step, so no turn another branch tells is
ever lost, and no refused step changes anything."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import STORY
from tests.timelines.conftest import lineage


@dataclass
class Model:
    ids: dict[str, str] = field(default_factory=dict)  # branch name -> id
    told: dict[str, list[str]] = field(default_factory=dict)  # branch name -> turn labels
    owner: dict[str, str] = field(default_factory=dict)  # turn label -> branch name
    active: str = "Main"

    def grows_from(self, name: str) -> list[str]:
        """Branches whose past holds turns written on `name` (it included)."""
        return [
            b for b in self.told if b == name or any(self.owner[t] == name for t in self.told[b])
        ]


Step = tuple[str, int, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(
            ["write"] * 3 + ["fork"] * 3 + ["redo"] * 2 + ["delete", "cascade", "switch"]
        ),
        st.integers(0, 50),
        st.integers(0, 50),
    ),
    min_size=6,
    max_size=20,
)


async def apply(client: httpx.AsyncClient, story: str, model: Model, step: Step, n: int) -> None:
    kind, pick, amount = step
    names = list(model.told)
    name = names[pick % len(names)]
    branch_id = model.ids[name]
    if kind == "write":
        labels = [f"t{n}.{i}" for i in range(amount % 3 + 1)]
        response = await client.post(
            f"/stories/{story}/turns/import",
            json={
                "branch_id": branch_id,
                "turns": [{"user_action": a, "narrative_text": f"{a}."} for a in labels],
            },
        )
        assert response.status_code == 201, response.text
        model.told[name] += labels
        model.owner.update(dict.fromkeys(labels, name))
    elif kind == "fork":
        at = amount % (len(model.told[name]) + 1)
        new = f"B{n}"
        response = await client.post(
            f"/stories/{story}/branches",
            json={
                "branch_name": new,
                "from_turn_number": at,
                "from_branch_id": branch_id,
                "make_active": False,
            },
        )
        assert response.status_code == 201, response.text
        model.ids[new] = response.json()["id"]
        model.told[new] = model.told[name][:at]
    elif kind == "redo":
        at = amount % (len(model.told[name]) + 1)
        doomed = [t for t in model.told[name][at:] if model.owner[t] == name]
        shared = any(t in model.told[b] for b in model.told if b != name for t in doomed)
        response = await client.delete(
            f"/stories/{story}/turns/after/{at}", params={"branch_id": branch_id}
        )
        assert response.status_code == (409 if shared else 200), response.text
        if not shared:
            model.told[name] = model.told[name][:at]
            assert response.json()["deleted_turns"] == len(doomed)
    elif kind in ("delete", "cascade"):
        cascade = kind == "cascade"
        subtree = model.grows_from(name)
        refused = name == "Main" or (len(subtree) > 1 and not cascade) or model.active in subtree
        response = await client.delete(
            f"/stories/{story}/branches/{branch_id}", params={"cascade": str(cascade).lower()}
        )
        assert response.status_code == (409 if refused else 200), response.text
        if not refused:
            for gone in subtree:
                del model.told[gone], model.ids[gone]
            model.owner = {t: b for t, b in model.owner.items() if b in model.told}
    elif kind == "switch":
        response = await client.post(
            f"/stories/{story}/branches/switch", json={"branch_id": branch_id}
        )
        assert response.status_code == 200, response.text
        model.active = name


async def check(client: httpx.AsyncClient, story: str, model: Model) -> None:
    listing = (await client.get(f"/stories/{story}/branches")).json()
    assert {b["name"]: b["id"] for b in listing["items"]} == model.ids
    assert listing["active_branch_id"] == model.ids[model.active]
    for name, branch_id in model.ids.items():
        told = await lineage(client, story, branch_id)
        assert [action for _, _, action in told] == model.told[name], name
        assert [n for n, _, _ in told] == list(range(1, len(told) + 1))
        assert [b for _, b, _ in told] == [model.ids[model.owner[t]] for t in model.told[name]]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
async def test_random_tree_operations_match_the_model(
    client: httpx.AsyncClient, steps: list[Step]
) -> None:
    created: dict[str, Any] = (await client.post("/stories", json=STORY)).json()
    story = created["id"]
    model = Model(ids={"Main": created["active_branch"]["id"]}, told={"Main": []})
    for n, step in zip(itertools.count(), steps, strict=False):
        await apply(client, story, model, step, n)
        await check(client, story, model)
    assert (await client.delete(f"/stories/{story}")).status_code == 204
