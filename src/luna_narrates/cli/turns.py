"""`luna turns show STORY N`: what each agent saw and answered on one turn.

"What did the writer see on turn 37?" is one command: `luna turns show STORY 37 --agent writer`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from luna_narrates.errors import LunaError

turns_app = typer.Typer(help="Inspect committed turns.", no_args_is_help=True)
console = Console(highlight=False)


@turns_app.command("show")
def show(
    story_id: Annotated[uuid.UUID, typer.Argument(help="The story's id.")],
    turn_number: Annotated[int, typer.Argument(help="The turn on the story's active branch.")],
    agent: Annotated[
        str | None, typer.Option(help="Only this agent: preprocessor, strategist or writer.")
    ] = None,
) -> None:
    """Print the turn's passage and, per agent, its exact prompt, its output and its usage."""
    try:
        asyncio.run(_show(story_id, turn_number, agent))
    except LunaError as error:
        console.print(f"[red]{escape(error.message)}[/]")
        raise typer.Exit(1) from None


async def _show(story_id: uuid.UUID, turn_number: int, agent: str | None) -> None:
    from luna_narrates.cli.main import load_settings
    from luna_narrates.services import open_services
    from luna_narrates.stories import service

    async with (
        open_services(load_settings(), run_worker=False) as services,
        services.db.sessions() as session,
    ):
        turn = await service.get_turn(session, story_id, turn_number)
    runs = [run for run in turn.agents if agent is None or run.agent == agent]
    if not runs:
        console.print(f"[red]Turn {turn_number} has no {escape(agent or '')} run.[/]")
        raise typer.Exit(1)
    console.rule(f"Turn {turn.turn_number}: {escape(turn.user_action)}")
    for run in runs:
        console.rule(
            f"{run.agent} · {run.provider}:{run.model} · {run.input_tokens} in "
            f"({run.cache_read_tokens} cached) · {run.output_tokens} out · {run.seconds:.2f} s"
        )
        for message in run.prompt:
            console.print(f"[bold]{message['role']}[/]")
            console.print(escape(message["content"]))
        console.print("[bold]output[/]")
        output = run.output if isinstance(run.output, str) else json.dumps(run.output, indent=2)
        console.print(escape(output))
