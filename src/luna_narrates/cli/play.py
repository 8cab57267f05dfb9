"""`luna play`: play a story in the terminal, in process, on the embedded defaults (no server).

Heavy modules (the services, the pipeline) are imported inside the functions so that
`luna --help` stays fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import uuid
from collections.abc import Awaitable
from contextlib import AsyncExitStack
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.status import Status
from rich.table import Table
from rich.text import Text

from luna_narrates.config import AGENTS, Settings
from luna_narrates.db.tables import LOCAL_OWNER_ID
from luna_narrates.errors import LunaError, problems

if TYPE_CHECKING:
    from luna_narrates.narration.pipeline import Narrator, PreparedTurn
    from luna_narrates.narration.schemas import TurnEvent
    from luna_narrates.services import Services
    from luna_narrates.settings.service import SettingsStore
    from luna_narrates.stories.schemas import StoryOut

console = Console(highlight=False)

PROMPT = "> "
TITLE_WORDS = 6
TITLE_MAX_CHARS = 200
RECENT_STORIES = 10
WRAP_MARGIN = 10
WORD = re.compile(r"\S*")
QUIT_COMMANDS = ("/quit", "/exit")
HELP = """\
Type what your character does next, then Enter.
  /retry  another take of the last turn (the first is kept: see its versions in the API)
  /undo   take back the last turn
  /help   this list
  /quit   leave (Ctrl+D too); every finished turn is already saved
Ctrl+C leaves at once; a turn interrupted mid-way saves nothing."""

StoryOption = Annotated[
    str | None, typer.Option("--story", help="Resume the story with this id.", show_default=False)
]
NewOption = Annotated[
    str | None,
    typer.Option("--new", help="Start a new story from this premise.", show_default=False),
]
TitleOption = Annotated[
    str | None,
    typer.Option("--title", help="The new story's title (default: the premise's first words)."),
]
TemplateOption = Annotated[
    str | None,
    typer.Option(
        "--template",
        help="Start a new story from a template (fantasy, heist, horror…; GET /worlds/templates)"
        ", its cast and lore in place, and have its opening written.",
        show_default=False,
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Use this 'provider:model' for every agent, e.g. 'test'."),
]


def play(
    story: StoryOption = None,
    new: NewOption = None,
    title: TitleOption = None,
    template: TemplateOption = None,
    model: ModelOption = None,
) -> None:
    """Play a story in the terminal: type an action, read the next passage as it is written.

    With neither --story nor --new, pick one of your recent stories or type a premise.
    """
    if sum(bool(option) for option in (story, new, template)) > 1:
        fail("Give one of --story, --new and --template.", code=2)
    story_id = parse_story_id(story) if story else None
    try:
        asyncio.run(run_session(make_settings(model), story_id, new, title, template))
    except LunaError as error:
        fail(error.message)
    except ValidationError as error:
        fail(validation_message(error))
    except KeyboardInterrupt:
        console.print()
        raise typer.Exit(130) from None


def make_settings(model: str | None) -> Settings:
    # Imported here: cli.main imports this module to register the command.
    from luna_narrates.cli.main import load_settings

    try:
        return load_settings(model)
    except ValidationError as error:
        fail(validation_message(error))


def parse_story_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"{value!r} is not a story id; run `luna play` with no options to list your stories.")


def fail(message: str, *, code: int = 1) -> NoReturn:
    console.print(f"[red]{escape(message)}[/]")
    raise typer.Exit(code)


def validation_message(error: ValidationError) -> str:
    return "; ".join(problems(error.errors()))


async def run_session(
    settings: Settings,
    story_id: uuid.UUID | None,
    premise: str | None,
    title: str | None,
    template: str | None = None,
) -> None:
    from luna_narrates.services import open_services

    async with AsyncExitStack() as stack:
        with console.status("Opening the story database…"):
            services = await stack.enter_async_context(open_services(settings, run_worker=True))
        story: StoryOut | None
        if template is not None:
            story, opening = await start_from_template(services, template, title)
            await take_turn(services.narrator, story.id, opening)
        else:
            story = await choose_story(services, story_id, premise, title)
        if story is not None:
            await play_loop(services.narrator, services.store, story)


async def start_from_template(
    services: Services, template: str, title: str | None
) -> tuple[StoryOut, str]:
    """The story, with the template's cast and lore, and the situation its opening sets."""
    from luna_narrates.worlds import service as worlds
    from luna_narrates.worlds.schemas import StoryStart

    async with services.db.transaction() as session:
        start = StoryStart(template_id=template, title=title)
        started = await worlds.start_story(session, start, LOCAL_OWNER_ID)
    story = started.story
    console.print(f"[bold]{escape(story.title)}[/] [dim](new story {story.id})[/]")
    console.print(escape(story.premise))
    return story, started.opening


async def read_line(prompt: str = PROMPT) -> str | None:
    """input() on a daemon thread, so the in-process job worker keeps running while the player
    types, and Ctrl+C does not wait on a thread blocked in input(). None at end of input."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def settle(line: str | None) -> None:
        if not answer.done():
            answer.set_result(line)

    def read() -> None:
        try:
            line: str | None = input(prompt)
        except (EOFError, KeyboardInterrupt):
            line = None
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: we are exiting
            loop.call_soon_threadsafe(settle, line)

    threading.Thread(target=read, name="luna-play-input", daemon=True).start()
    return await answer


async def choose_story(
    services: Services, story_id: uuid.UUID | None, premise: str | None, title: str | None
) -> StoryOut | None:
    if story_id is None and premise is None:
        choice = await pick_story(services)
        if choice is None:
            return None
        story_id, premise = (choice, None) if isinstance(choice, uuid.UUID) else (None, choice)
    if premise is not None:
        return await create_story(services, premise, title)
    assert story_id is not None
    return await resume_story(services, story_id)


async def pick_story(services: Services) -> uuid.UUID | str | None:
    """A recent story's id, a premise for a new story, or None when the player leaves."""
    from luna_narrates.stories import service as stories

    async with services.db.sessions() as session:
        found = await stories.list_stories(session, LOCAL_OWNER_ID, limit=RECENT_STORIES, offset=0)
        recent = found.items
    if recent:
        console.print(story_table(recent))
        console.print("Pick a story by number, or type a premise for a new one.")
    else:
        console.print("No stories yet. Type a premise for a new one.")
    while (line := await read_line()) is not None:
        line = line.strip()
        if line in QUIT_COMMANDS:
            return None
        if line.isdigit():
            if 1 <= int(line) <= len(recent):
                return recent[int(line) - 1].id
            console.print(f"[red]No story number {line}.[/]")
        elif line.startswith("/"):
            console.print("Type a story's number, a premise, or /quit.")
        elif line:
            return line
    return None


def story_table(recent: list[StoryOut]) -> Table:
    table = Table(title="Recent stories", title_justify="left")
    for header in ("#", "Title", "Turns", "Last played", "Id"):
        table.add_column(header, justify="right" if header in ("#", "Turns") else "left")
    for number, story in enumerate(recent, start=1):
        played = f"{story.updated_at:%Y-%m-%d %H:%M}"
        table.add_row(str(number), story.title, str(story.turn_count), played, str(story.id))
    return table


def title_from(premise: str) -> str:
    return " ".join(premise.split()[:TITLE_WORDS]).rstrip(",.;:!?—-")[:TITLE_MAX_CHARS]


async def create_story(services: Services, premise: str, title: str | None) -> StoryOut:
    from luna_narrates.stories import service as stories
    from luna_narrates.stories.schemas import StoryCreate

    data = StoryCreate(title=title or title_from(premise), premise=premise)
    async with services.db.transaction() as session:
        story = await stories.create_story(session, data, LOCAL_OWNER_ID)
    console.print(f"[bold]{escape(story.title)}[/] [dim](new story {story.id})[/]")
    console.print(escape(story.premise))
    return story


async def resume_story(services: Services, story_id: uuid.UUID) -> StoryOut:
    from luna_narrates.stories import service as stories

    async with services.db.sessions() as session:
        story = await stories.get_story(session, story_id)
        first = max(story.turn_count, 1)
        turns = (await stories.list_turns(session, story_id, first=first, limit=1)).items
    console.print(f"[bold]{escape(story.title)}[/] [dim](story {story.id})[/]")
    if not turns:
        console.print(escape(story.premise))
        return story
    turn = turns[0]
    console.print(f"[dim]Turn {turn.turn_number} — {escape(turn.user_action)}[/]")
    console.print(Text(turn.narrative_text))
    return story


async def play_loop(narrator: Narrator, store: SettingsStore, story: StoryOut) -> None:
    """Each command runs on the settings as they stand, whichever process changed them."""
    console.print("[dim]What do you do? /help lists the commands.[/]")
    while (line := await read_line()) is not None:
        await store.refresh()
        action = line.strip()
        if action in QUIT_COMMANDS:
            break
        if action == "/help":
            console.print(HELP)
        elif action == "/retry":
            await retry_turn(narrator, story.id)
        elif action == "/undo":
            await undo_turn(narrator, story.id)
        elif action.startswith("/"):
            console.print(f"[red]Unknown command {escape(action)}[/]; /help lists the commands.")
        elif action:
            await take_turn(narrator, story.id, action)
    else:
        console.print()  # end of input: leave the shell prompt on a fresh line
    console.print(f"[dim]Saved. Resume with: luna play --story {story.id}[/]")


async def take_turn(narrator: Narrator, story_id: uuid.UUID, action: str) -> None:
    from luna_narrates.narration.schemas import TurnRequest

    await stream_turn(
        narrator, narrator.prepare(TurnRequest(story_id=story_id, user_action=action))
    )


async def retry_turn(narrator: Narrator, story_id: uuid.UUID) -> None:
    from luna_narrates.narration.schemas import RegenerateRequest

    last = await last_turn(narrator, story_id)
    if not last:
        console.print("[dim]There is no turn to retry yet.[/]")
        return
    await stream_turn(narrator, narrator.prepare_regeneration(story_id, last, RegenerateRequest()))


async def undo_turn(narrator: Narrator, story_id: uuid.UUID) -> None:
    from luna_narrates.timelines import service as timelines

    last = await last_turn(narrator, story_id)
    if not last:
        console.print("[dim]There is no turn to take back yet.[/]")
        return
    try:
        await narrator.held(
            story_id, lambda session: timelines.delete_turns_after(session, story_id, last - 1)
        )
    except LunaError as error:
        console.print(f"[red]{escape(error.message)}[/]")
        return
    console.print(f"[dim]Turn {last} is taken back; the story goes on from turn {last - 1}.[/]")


async def last_turn(narrator: Narrator, story_id: uuid.UUID) -> int:
    from luna_narrates.stories import service as stories

    async with narrator.db.sessions() as session:
        return (await stories.get_story(session, story_id)).turn_count


async def stream_turn(narrator: Narrator, preparing: Awaitable[PreparedTurn]) -> None:
    """Shows a turn's events as they come; a refusal or failure is shown, never raised."""
    with console.status("Starting the turn…") as status:
        view = TurnView(status)
        try:
            prepared = await preparing
            async for event in narrator.events(prepared):
                view.show(event)
        except LunaError as error:
            view.problem(error.message)
        except ValidationError as error:
            view.problem(validation_message(error))


class TurnView:
    """The spinner names the working agent; the Writer's prose replaces it as it streams in."""

    def __init__(self, status: Status) -> None:
        self.status = status
        self.seconds: dict[str, float] = {}
        self.column: int | None = None  # None while no prose is on the screen's last line

    def show(self, event: TurnEvent) -> None:
        data = event.data
        if event.type == "status":
            self.status.update(escape(str(data["message"])))
        elif event.type == "agent_start":
            self.status.update(self.pipeline(current=str(data["agent"])))
        elif event.type == "agent_complete":
            self.seconds[str(data["agent"])] = float(data["seconds"])
            self.end_prose()
            self.status.update(self.pipeline(current=None))
        elif event.type == "token":
            self.write(str(data["text"]))
        elif event.type == "error":
            self.problem(str(data.get("message", data)))
        elif event.type == "done":
            self.end_prose()
            self.status.stop()
            console.print(f"[dim]{escape(summary(data['turn']))}[/]")
            for note in fallback_notes(data["turn"]):
                console.print(f"[yellow]{escape(note)}[/]")

    def pipeline(self, current: str | None) -> str:
        steps = []
        for agent in AGENTS:
            label = agent.capitalize()
            if agent in self.seconds:
                steps.append(f"[green]{label} {self.seconds[agent]:.1f} s ✓[/]")
            elif agent == current:
                steps.append(f"[bold]{label}…[/]")
            else:
                steps.append(f"[dim]{label}[/]")
        return " → ".join(steps)

    def write(self, text: str) -> None:
        if self.column is None:
            self.status.stop()
            self.column = 0
        text, self.column = wrap_delta(text, self.column, console.width)
        console.print(Text(text), end="", soft_wrap=True)

    def end_prose(self) -> None:
        if self.column is not None:
            console.print()
            self.column = None
            self.status.start()

    def problem(self, message: str) -> None:
        self.end_prose()
        self.status.stop()
        console.print(f"[red]{escape(message)}[/]")


def wrap_delta(text: str, column: int, width: int) -> tuple[str, int]:
    """The delta with a space turned into a line break where the next word would overflow,
    and the column after it. Deltas are printed at once, so a word cut at the delta's end is
    judged by the room left: only words longer than WRAP_MARGIN may still be split."""
    out = []
    for index, char in enumerate(text):
        if char == "\n":
            column = 0
        elif char == " ":
            word = WORD.match(text, index + 1)
            length = word.end() - word.start() if word else 0
            room = width - column - 1
            cut_off = index + 1 + length == len(text)
            if length > room or (cut_off and room < WRAP_MARGIN):
                char, column = "\n", 0
            else:
                column += 1
        else:
            column += 1
        out.append(char)
    return "".join(out), column


def fallback_notes(turn: dict[str, Any]) -> list[str]:
    """One line per model an agent fell back from, and why."""
    return [
        f"{a['agent'].capitalize()}: {f['model']} failed ({f['error']}); "
        f"{a['provider']}:{a['model']} answered."
        for a in turn["agents"]
        for f in a.get("fallbacks", [])
    ]


def summary(turn: dict[str, Any]) -> str:
    agents = turn["agents"]
    tokens = sum(int(a["input_tokens"]) + int(a["output_tokens"]) for a in agents)
    per_agent = " · ".join(f"{a['agent'].capitalize()} {float(a['seconds']):.1f}" for a in agents)
    total = Decimal(str(turn["total_cost_usd"]))
    if turn["cost_complete"]:
        cost = f"${total:.4f}"
    else:
        cost = f"≥ ${total:.4f} (some prices unknown)" if total else "cost unknown"
    seconds = float(turn["total_execution_time_seconds"])
    return (
        f"Turn {turn['turn_number']} · {seconds:.1f} s ({per_agent}) · {tokens:,} tokens · {cost}"
    )
