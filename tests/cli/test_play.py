"""`luna play` driven through a pseudo-terminal: one streamed turn on the deterministic `test`
model against the real test database, then the database holds exactly that turn."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pexpect
import pytest

from luna_narrates.cli.play import fallback_notes, title_from, wrap_delta
from luna_narrates.services import Services
from luna_narrates.stories import service as stories
from luna_narrates.timelines import service as timelines

LUNA = str(Path(sys.executable).with_name("luna"))
PREMISE = "A lighthouse keeper finds a door in the rock that was not there yesterday."
ACTION = "I open the door and step through."
ENDING = r"waiting\s+for\s+what\s+you\s+do\s+next\."
SUMMARY = r"Turn 1 · \d+\.\d s \(Preprocessor [\d.]+ · Strategist [\d.]+ · Writer [\d.]+\) · "
TIMEOUT = 60


@pytest.fixture
def env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "LUNA_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm-256color",
    }


def play_one_turn(env: dict[str, str], cwd: Path) -> tuple[str, int]:
    """The new story's id and the exit status, after one action and /quit."""
    child = pexpect.spawn(
        LUNA,
        ["play", "--new", PREMISE, "--model", "test"],
        env=env,
        cwd=str(cwd),  # no stray .env
        encoding="utf-8",
        dimensions=(40, 200),
        timeout=TIMEOUT,
    )
    try:
        child.expect(r"new story ([0-9a-f-]{36})")
        story_id = child.match.group(1)
        child.expect_exact("> ")
        child.sendline(ACTION)
        child.expect(ENDING)
        child.expect(SUMMARY)
        child.expect_exact("> ")
        child.sendline("/quit")
        child.expect(f"luna play --story {story_id}")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    return story_id, child.exitstatus


async def test_play_streams_a_turn_and_saves_it(
    services: Services, env: dict[str, str], tmp_path: Path
) -> None:
    story_id, status = await asyncio.to_thread(play_one_turn, env, tmp_path)

    assert status == 0
    async with services.db.sessions() as session:
        story = await stories.get_story(session, uuid.UUID(story_id))
        turns = await stories.list_turns(session, story.id, limit=10)
    assert story.title == "A lighthouse keeper finds a door"
    assert story.premise == PREMISE
    assert [(t.turn_number, t.user_action) for t in turns.items] == [(1, ACTION)]
    assert re.search(ENDING, turns.items[0].narrative_text)


def drive(env: dict[str, str], cwd: Path, args: list[str], steps: list[tuple[str, str]]) -> str:
    """Plays `luna play ARGS`, sending each line once the expected text shows; answers the
    story's id."""
    child = pexpect.spawn(
        LUNA,
        ["play", *args, "--model", "test"],
        env=env,
        cwd=str(cwd),
        encoding="utf-8",
        dimensions=(40, 200),
        timeout=TIMEOUT,
    )
    try:
        child.expect(r"story ([0-9a-f-]{36})")
        story_id: str = child.match.group(1)
        for line, expected in steps:
            child.expect_exact("> ")
            child.sendline(line)
            child.expect(expected)
        child.expect(pexpect.EOF)
    finally:
        child.close()
    return story_id


async def test_play_retries_and_takes_back_turns(
    services: Services, env: dict[str, str], tmp_path: Path
) -> None:
    story_id = await asyncio.to_thread(
        drive,
        env,
        tmp_path,
        ["--new", PREMISE],
        [
            ("/retry", "There is no turn to retry yet."),
            (ACTION, SUMMARY),
            ("/retry", SUMMARY),
            ("/quit", "luna play --story"),
        ],
    )
    async with services.db.sessions() as session:
        takes = await timelines.list_versions(session, uuid.UUID(story_id), 1, None)
    assert [(t.version, t.is_selected) for t in takes.items] == [(1, False), (2, True)]

    await asyncio.to_thread(
        drive,
        env,
        tmp_path,
        ["--story", story_id],
        [
            ("/undo", "Turn 1 is taken back; the story goes on from turn 0."),
            ("/undo", "There is no turn to take back yet."),
            ("/quit", "luna play --story"),
        ],
    )
    async with services.db.sessions() as session:
        story = await stories.get_story(session, uuid.UUID(story_id))
    assert story.turn_count == 0


def test_play_unknown_story_exits_1(env: dict[str, str], tmp_path: Path) -> None:
    unknown = uuid.uuid4()
    result = subprocess.run(
        [LUNA, "play", "--story", str(unknown), "--model", "test"],
        env={**env, "COLUMNS": "200"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    assert f"No story with id {unknown}." in result.stdout


def test_play_malformed_story_id_exits_1(env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        [LUNA, "play", "--story", "not-a-uuid"],
        env={**env, "COLUMNS": "200"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    assert "'not-a-uuid' is not a story id" in result.stdout


def test_wrap_delta_breaks_at_a_space_before_an_overflowing_word() -> None:
    assert wrap_delta("one two three", 0, 9) == ("one two\nthree", 5)
    assert wrap_delta(" next", 18, 20) == ("\nnext", 4)
    assert wrap_delta("line\nbreak", 15, 20) == ("line\nbreak", 5)


def test_wrap_delta_breaks_early_when_a_word_may_go_on_in_the_next_delta() -> None:
    assert wrap_delta(" wo", 70, 80) == ("\nwo", 2)
    assert wrap_delta(" wo", 60, 80) == (" wo", 63)


def test_title_from_takes_the_premise_first_words() -> None:
    assert (
        title_from("In the canal city of Veyra, the thief Ila plots.")
        == "In the canal city of Veyra"
    )


async def test_play_starts_a_template_with_its_opening_written(
    services: Services, env: dict[str, str], tmp_path: Path
) -> None:
    story_id = await asyncio.to_thread(
        drive, env, tmp_path, ["--template", "heist"], [("/quit", "luna play --story")]
    )
    async with services.db.sessions() as session:
        story = await stories.get_story(session, uuid.UUID(story_id))
        turns = await stories.list_turns(session, story.id, limit=10)
    assert story.title == "The Gilded Vault"
    assert [t.turn_number for t in turns.items] == [1]
    assert turns.items[0].user_action.startswith("A rented yacht in the harbour.")


def test_fallbacks_are_said_after_the_turn() -> None:
    turn = {
        "agents": [
            {"agent": "strategist", "provider": "fn", "model": "strategist", "fallbacks": []},
            {
                "agent": "writer",
                "provider": "local",
                "model": "smollm2",
                "fallbacks": [{"model": "ollama:llama3.1", "error": "HTTP 503: busy"}],
            },
        ]
    }
    assert fallback_notes(turn) == [
        "Writer: ollama:llama3.1 failed (HTTP 503: busy); local:smollm2 answered."
    ]
