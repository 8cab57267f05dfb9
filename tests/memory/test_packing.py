"""Packing under a token budget: never over, best first, each item once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from luna_narrates.agents.preprocessor.schemas import BriefingItem, Citation
from luna_narrates.llm.tokens import estimate_tokens
from luna_narrates.memory.packing import Candidate, pack, rank


def candidate(score: float, key: str, text: str, turn: int = 1) -> Candidate:
    item = BriefingItem(kind="fact", text=text, source=Citation(turn=turn))
    return Candidate(score, key, item, "test")


candidates = st.lists(
    st.builds(
        candidate,
        st.floats(0, 5, allow_nan=False),
        st.sampled_from([f"k{i}" for i in range(12)]),
        st.text(min_size=1, max_size=200),
        st.integers(1, 500),
    ),
    max_size=40,
)


@given(candidates, st.integers(0, 400))
def test_packing_never_exceeds_the_budget_and_keeps_each_key_once(
    items: list[Candidate], budget: int
) -> None:
    packed = pack(items, budget, estimate_tokens)
    assert packed.tokens <= budget
    assert sum(estimate_tokens(c.item.line() + "\n") for c in packed.items) == packed.tokens
    keys = [c.key for c in packed.items]
    assert len(keys) == len(set(keys))


@given(candidates, st.integers(0, 400))
def test_a_better_item_is_left_out_only_when_it_does_not_fit(
    items: list[Candidate], budget: int
) -> None:
    packed = pack(items, budget, estimate_tokens)
    chosen = {c.key for c in packed.items}
    used = 0
    for c in rank(items):
        cost = estimate_tokens(c.item.line() + "\n")
        if c.key in chosen:
            used += cost
        else:
            assert used + cost > budget


def test_duplicates_keep_their_best_score_and_ties_prefer_newer() -> None:
    ranked = rank(
        [
            candidate(1.0, "a", "old", turn=3),
            candidate(2.0, "a", "same fact, found again", turn=3),
            candidate(2.0, "b", "newer", turn=9),
        ]
    )
    assert [(c.key, c.score) for c in ranked] == [("b", 2.0), ("a", 2.0)]
