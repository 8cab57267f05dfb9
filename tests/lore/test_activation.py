"""Keyword activation as SillyTavern does it, on made-up entries and on the real Eldoria book."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from luna_narrates.formats.lorebooks import read_lorebook
from luna_narrates.formats.world_info import AND_ALL, NOT_ALL, NOT_ANY, checked_entry
from luna_narrates.lore.activation import LoreEntry, Scan, ScanOptions, activate
from tests.shared_fixtures import fixture, needs_fixtures


def entry(uid: int, **fields: Any) -> LoreEntry:
    return LoreEntry(f"book:{uid}", checked_entry({"uid": uid, **fields}, "test"))


def fired(entries: list[LoreEntry], *messages: str, **scan: Any) -> dict[int, str]:
    found = activate(entries, Scan(list(messages), scan.pop("turn", 5), **scan))
    return {a.entry.fields["uid"]: a.reason for a in found}


def test_primary_keys_case_and_whole_words() -> None:
    entries = [
        entry(0, key=["Dragon"], content="Dragons hoard gold."),
        entry(1, key=["wood"], content="The wood is old.", matchWholeWords=True),
        entry(2, key=["Crown"], content="Cursed.", caseSensitive=True),
        entry(3, key=["/sw(or)d+/i"], content="A regex key."),
        entry(4, key=["/([/"], content="An invalid regex matches nothing."),
        entry(5, key=["ghost"], content="Never named.", disable=False),
    ]
    assert fired(entries, "I fight the DRAGON in the woods with a SWORDD, crown on my head") == {
        0: "key 'Dragon'",
        3: "key '/sw(or)d+/i'",
    }
    assert fired(entries, "into the wood, Crown in hand") == {1: "key 'wood'", 2: "key 'Crown'"}


def test_selective_logic_over_secondary_keys() -> None:
    def one(logic: int) -> LoreEntry:
        return entry(0, key=["crown"], keysecondary=["doge", "curse"], selectiveLogic=logic)

    text = "the crown of the doge"
    assert fired([entry(0, key=["crown"], keysecondary=["doge", "curse"])], text) == {
        0: "key 'crown'"
    }
    assert fired([one(AND_ALL)], text) == {}
    assert fired([one(AND_ALL)], text + " and its curse") == {0: "key 'crown'"}
    assert fired([one(NOT_ANY)], text) == {}
    assert fired([one(NOT_ANY)], "the crown") == {0: "key 'crown'"}
    assert fired([one(NOT_ALL)], text) == {0: "key 'crown'"}
    assert fired([one(NOT_ALL)], text + " curse") == {}
    assert fired([entry(0, key=["crown"], keysecondary=["x"], selective=False)], "crown") == {
        0: "key 'crown'"
    }


def test_scan_depth_counts_messages_newest_first() -> None:
    old = entry(0, key=["lighthouse"])
    deep = entry(1, key=["lighthouse"], scanDepth=4)
    messages = ("I wait.", "Night falls.", "I climb.", "The lighthouse looms.")
    assert fired([old, deep], *messages) == {1: "key 'lighthouse'"}
    assert fired([old], *messages, options=ScanOptions(scan_depth=4)) == {0: "key 'lighthouse'"}
    assert fired([entry(2, key=["lighthouse"])], "lighthouse", options=ScanOptions(0)) == {}


def test_constant_disabled_and_probability() -> None:
    entries = [
        entry(0, constant=True, content="Always."),
        entry(1, constant=True, disable=True),
        entry(2, key=["rain"], probability=0),
        entry(3, key=["rain"], probability=0, useProbability=False),
    ]
    assert fired(entries, "rain") == {0: "constant", 3: "key 'rain'"}
    half = [entry(i, key=["rain"], probability=50) for i in range(200)]
    count = len(fired(half, "rain", seed="story"))
    assert 70 < count < 130
    assert fired(half, "rain", seed="story") == fired(half, "rain", seed="story")  # seeded


def test_inclusion_groups_pick_one_override_first() -> None:
    members = [entry(i, key=["tavern"], group="mood", order=i) for i in range(4)]
    assert len(fired(members, "tavern")) == 1
    override = [*members, entry(9, key=["tavern"], group="mood", groupOverride=True, order=1)]
    assert fired(override, "tavern") == {9: "key 'tavern'"}
    weighted = [
        entry(0, key=["x"], group="g", groupWeight=0),
        entry(1, key=["x"], group="g", groupWeight=100),
    ]
    assert all(fired(weighted, "x", seed=str(s)) == {1: "key 'x'"} for s in range(20))


def test_recursion_follows_content_with_its_limits() -> None:
    entries = [
        entry(0, key=["forest"], content="The forest hides the glade."),
        entry(1, key=["glade"], content="The glade holds the spring."),
        entry(2, key=["spring"], content="The spring heals.", excludeRecursion=True),
        entry(3, key=["glade"], content="Only found by recursion.", delayUntilRecursion=True),
        entry(4, key=["forest"], content="mentions glade", preventRecursion=True),
    ]
    assert fired(entries, "into the forest") == {
        0: "key 'forest'",
        4: "key 'forest'",
        1: "recursion: key 'glade'",
        3: "recursion: key 'glade'",
    }
    assert fired(entries, "forest", options=ScanOptions(recursive=False)) == {
        0: "key 'forest'",
        4: "key 'forest'",
    }
    assert fired(entries, "a glade") == {1: "key 'glade'", 3: "recursion: key 'glade'"}


def test_timed_effects_delay_sticky_and_cooldown() -> None:
    late = entry(0, key=["storm"], delay=3)
    assert fired([late], "storm", turn=2) == {}
    assert fired([late], "storm", turn=3) == {0: "key 'storm'"}
    sticky = entry(1, key=["storm"], sticky=2, cooldown=2)
    history = {"book:1": [5]}
    assert fired([sticky], "calm", turn=6, history=history) == {1: "sticky"}
    assert fired([sticky], "calm", turn=7, history=history) == {1: "sticky"}
    assert fired([sticky], "storm", turn=8, history=history) == {}  # cooling down
    assert fired([sticky], "storm", turn=10, history=history) == {1: "key 'storm'"}


def test_v3_decorators_decide_activation() -> None:
    entries = [
        entry(0, key=["x"], content="@@dont_activate\nnever"),
        entry(1, key=["nothing"], content="@@activate\nalways"),
        entry(2, key=["x"], content="@@activate_only_after 5\nlater"),
        entry(3, key=["x"], content="@@additional_keys y, z\nneeds y or z"),
        entry(4, key=["x"], content="@@exclude_keys w\nnot with w"),
        entry(5, key=["x"], content="@@dont_activate_after_match\nonce"),
    ]
    got = activate(entries, Scan(["x y w"], 4, history={"book:5": [1]}))
    assert {a.entry.fields["uid"]: a.content for a in got} == {1: "always", 3: "needs y or z"}
    assert 2 in fired(entries, "x", turn=6)


@needs_fixtures
def test_the_eldoria_book_fires_on_its_keys() -> None:
    book = read_lorebook(fixture("staging-2024-10-18/Eldoria.json"))
    entries = [LoreEntry(f"eldoria:{e['uid']}", e) for e in book.entries]
    got = activate(entries, Scan(["I ask Seraphina about the Shadowfangs in the forest."], 2))
    names = {a.entry.fields["comment"] for a in got}
    assert "eldoria" in names and "shadowfang" in {n.lower() for n in names}


@given(
    st.lists(st.sampled_from(["dragon", "crown", "glade", "tavern", "rain"]), max_size=6),
    st.integers(1, 50),
)
@settings(max_examples=50, deadline=None)
def test_activation_is_deterministic_and_only_names_real_entries(
    words: list[str], turn: int
) -> None:
    entries = [
        entry(i, key=[w], group="g" if i % 2 else "", probability=60, content=f"{w} lore")
        for i, w in enumerate(["dragon", "crown", "glade", "tavern", "rain", "dragon"])
    ]
    text = " ".join(words)
    first = fired(entries, text, turn=turn, seed="s")
    assert first == fired(entries, text, turn=turn, seed="s")
    assert all(entries[uid].fields["key"][0] in text for uid in first)


def test_sticky_and_cooldown_count_from_the_turn_an_entry_fired() -> None:
    storm = entry(0, key=["storm"], sticky=2, cooldown=3, probability=0, useProbability=True)
    history = {"book:0": [5]}  # it fired on turn 5 (a history holds firings only)
    timeline = {t: fired([storm], "storm rages", turn=t, history=history) for t in range(6, 12)}
    assert timeline[6] == timeline[7] == {0: "sticky"}  # kept without rolling probability
    assert timeline[8] == timeline[9] == timeline[10] == {}  # cooling down
    assert timeline[11] == {}  # free again, but its probability is 0


def test_a_group_won_in_one_step_takes_no_other_in_recursion() -> None:
    castle = entry(0, key=["castle"], content="A tower rises over the castle.", group="place")
    tower = entry(1, key=["tower"], content="The tower is old.", group="place")
    assert fired([castle, tower], "I ride to the castle") == {0: "key 'castle'"}


def test_recursion_scans_the_chat_with_the_activated_content() -> None:
    queen = entry(0, key=["crown"], content="The queen wears it.")
    sword = entry(1, key=["sword"], keysecondary=["queen"], content="The queen's sword.")
    assert fired([queen, sword], "the crown and a sword") == {
        0: "key 'crown'",
        1: "recursion: key 'sword'",
    }


def test_unusable_numbers_and_runaway_regexes_do_not_stop_a_turn() -> None:
    huge = entry(0, key=["x"], group="g", groupWeight=10**400, order=10**400)
    other = entry(1, key=["x"], group="g")
    assert len(fired([huge, other], "x")) == 1
    slow = entry(2, key=["/^(a|a)*$/"])
    assert fired([slow], "a" * 40 + "b") == {}  # stopped after REGEX_SECONDS: no match
    odd = entry(3, key=["x"], content="@@scan_depth ²\n@@activate_only_after --5\nText")
    assert fired([odd], "x") == {3: "key 'x'"}  # invalid decorator values are ignored
