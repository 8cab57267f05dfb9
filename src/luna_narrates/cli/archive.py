"""`luna export STORY` and `luna import FILE`: a story out to a file and back in."""

from __future__ import annotations

import asyncio
import functools
import sys
import uuid
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.markup import escape

from luna_narrates.archive.schemas import ExportFormat, StoryImported
from luna_narrates.db.tables import LOCAL_OWNER_ID
from luna_narrates.errors import LunaError

console = Console(highlight=False, stderr=True)


def export_command(
    story_id: Annotated[uuid.UUID, typer.Argument(help="The story's id.")],
    format: Annotated[
        str, typer.Option("--format", "-f", help="json (everything), markdown, html or epub.")
    ] = "json",
    branch: Annotated[
        uuid.UUID | None,
        typer.Option(help="For the book formats: this branch instead of the active one."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="The file to write; the story's name by default."),
    ] = None,
) -> None:
    """Export a story: `json` is the lossless archive `luna import` reads back."""
    if format not in ("json", "markdown", "html", "epub"):
        console.print(f"[red]Unknown format {escape(format)}: use json, markdown, html or epub.[/]")
        raise typer.Exit(2)
    try:
        written = asyncio.run(_export(story_id, cast(ExportFormat, format), branch, output))
    except LunaError as error:
        console.print(f"[red]{escape(error.message)}[/]")
        raise typer.Exit(1) from None
    console.print(f"Wrote {written}.")


def import_command(
    file: Annotated[Path, typer.Argument(help="A JSON export, or - for standard input.")],
) -> None:
    """Import a story from a JSON export, as a new story."""
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as error:
        console.print(f"[red]Cannot read {escape(str(file))}: {escape(error.strerror or '')}[/]")
        raise typer.Exit(1) from None
    try:
        imported = asyncio.run(_import(data))
    except LunaError as error:
        console.print(f"[red]{escape(error.message)}[/]")
        raise typer.Exit(1) from None
    console.print(
        f"Imported {escape(imported.title)!r} as story {imported.story_id}: "
        f"{imported.branches} branch(es), {imported.turns} turn row(s)."
    )
    print(imported.story_id)


async def _export(
    story_id: uuid.UUID, kind: ExportFormat, branch: uuid.UUID | None, output: Path | None
) -> Path:
    from luna_narrates.archive.export import open_export
    from luna_narrates.cli.main import load_settings
    from luna_narrates.services import open_services

    async with open_services(load_settings(), run_worker=False) as services:
        found = await open_export(
            services.db,
            services.settings.luna_data_dir,
            story_id,
            kind,
            branch,
            services.settings.arc_length_turns,
        )
        target = output or Path(found.filename)
        partial = target.with_name(target.name + ".partial")
        try:
            with partial.open("wb") as handle:
                async for piece in found.chunks:
                    handle.write(piece)
        except BaseException:
            partial.unlink(missing_ok=True)  # a failed export leaves no half-written file
            raise
        partial.replace(target)
    return target


async def _import(data: bytes) -> StoryImported:
    from luna_narrates.archive.imports import import_story
    from luna_narrates.cli.main import load_settings
    from luna_narrates.jobs.queue import enqueue_lore_embedding
    from luna_narrates.services import open_services

    async with open_services(load_settings(), run_worker=False) as services:
        return await import_story(
            services.db,
            LOCAL_OWNER_ID,
            services.settings.luna_data_dir,
            services.embedder,
            services.narrator.enqueue_post_turn,
            data,
            functools.partial(enqueue_lore_embedding, services.jobs),
        )
