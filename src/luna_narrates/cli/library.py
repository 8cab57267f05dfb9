"""`luna cards …` and `luna lorebooks …`: character cards and lorebooks in and out of the
library from the command line, in the same formats as the API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args

import typer
from rich.console import Console
from rich.markup import escape

from luna_narrates.characters.schemas import CardFormat
from luna_narrates.db.tables import LOCAL_OWNER_ID
from luna_narrates.errors import LunaError
from luna_narrates.lore.schemas import LorebookFormat, Tier

console = Console(highlight=False, stderr=True)
cards_app = typer.Typer(help="Character cards: import and export.", no_args_is_help=True)
lorebooks_app = typer.Typer(help="Lorebooks (world info): import and export.", no_args_is_help=True)
T = TypeVar("T")
Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="The file to write; its name by default.")
]


@cards_app.command("import")
def import_card(
    file: Annotated[Path, typer.Argument(help="A card: .png, .json or .charx.")],
    library: Annotated[
        bool, typer.Option("--library/--no-library", help="List it in the library.")
    ] = True,
) -> None:
    """Import a SillyTavern/TavernAI/RisuAI card; its character_book becomes a lorebook."""

    async def work(services: Any) -> Any:
        from luna_narrates.characters import service
        from luna_narrates.jobs.queue import enqueue_lore_embedding

        async with services.db.transaction() as session:
            imported = await service.import_card(
                session, _read(file), LOCAL_OWNER_ID, save_to_library=library
            )
            if imported.row.lorebook_id is not None:
                await enqueue_lore_embedding(services.jobs, session, imported.row.lorebook_id)
            return imported

    imported = _run(work)
    for warning in imported.warnings:
        console.print(f"[yellow]{escape(warning)}[/]")
    book = f", with lorebook {imported.row.lorebook_id}" if imported.row.lorebook_id else ""
    console.print(f"Imported {escape(imported.row.name)!r}{book}.")
    print(imported.row.id)


@cards_app.command("export")
def export_card(
    character_id: Annotated[uuid.UUID, typer.Argument(help="The character's id.")],
    format: Annotated[str, typer.Option("--format", "-f", help="tavernai, v2, v3 or png.")] = "png",
    output: Output = None,
) -> None:
    """Export a card as SillyTavern and its peers read it."""
    kind = _choice(format, CardFormat)

    async def work(services: Any) -> Any:
        from luna_narrates.characters import service

        async with services.db.sessions() as session:
            return await service.export(session, character_id, kind)

    found = _run(work)
    _write(output or Path(found.filename), found.data)


@lorebooks_app.command("import")
def import_lorebook(
    file: Annotated[Path, typer.Argument(help="World info or a lorebook (.json, or a PNG).")],
    tier: Annotated[str, typer.Option(help="hot, warm or cold.")] = "warm",
    universe: Annotated[str | None, typer.Option(help="The universe it belongs to.")] = None,
    name: Annotated[str | None, typer.Option(help="Its name; the file's by default.")] = None,
) -> None:
    """Import SillyTavern World Info, a character_book, NovelAI, KoboldAI, Agnai or RisuAI."""
    storage = _choice(tier, Tier)

    async def work(services: Any) -> Any:
        from luna_narrates.jobs.queue import enqueue_lore_embedding
        from luna_narrates.lore import service

        book = service.parse_file(_read(file))
        async with services.db.transaction() as session:
            row = await service.store(
                session, book, LOCAL_OWNER_ID, name=name or book.name or file.stem,
                universe_name=universe, tier=storage,
            )  # fmt: skip
            if storage != "cold":
                await enqueue_lore_embedding(services.jobs, session, row.id)
            return row

    row = _run(work)
    console.print(f"Imported {escape(row.name)!r}: {row.entry_count} entries, {row.storage_tier}.")
    print(row.id)


@lorebooks_app.command("export")
def export_lorebook(
    lorebook_id: Annotated[uuid.UUID, typer.Argument(help="The lorebook's id.")],
    format: Annotated[
        str, typer.Option("--format", "-f", help="world_info, character_book or lorebook_v3.")
    ] = "world_info",
    output: Output = None,
) -> None:
    """Export a lorebook as SillyTavern World Info or as a card's character_book."""
    kind = _choice(format, LorebookFormat)

    async def work(services: Any) -> tuple[str, bytes]:
        import json

        from luna_narrates.kit.names import slug
        from luna_narrates.lore import service

        async with services.db.sessions() as session:
            row = await service.require(session, lorebook_id)
            body = await service.export(session, lorebook_id, kind)
        data = json.dumps(body, ensure_ascii=False, indent=2).encode()
        return f"{slug(row.name, 'lorebook')}.json", data

    filename, data = _run(work)
    _write(output or Path(filename), data)


def _choice(value: str, options: Any) -> Any:
    allowed = get_args(options)
    if value not in allowed:
        console.print(f"[red]Unknown {escape(value)}: use {', '.join(allowed)}.[/]")
        raise typer.Exit(2)
    return value


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as error:
        console.print(f"[red]Cannot read {escape(str(file))}: {escape(error.strerror or '')}[/]")
        raise typer.Exit(1) from None


def _write(target: Path, data: bytes) -> None:
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    partial.replace(target)
    console.print(f"Wrote {target}.")


def _run(work: Callable[[Any], Awaitable[T]]) -> T:
    async def main() -> T:
        from luna_narrates.cli.main import load_settings
        from luna_narrates.services import open_services

        async with open_services(load_settings(), run_worker=False) as services:
            return await work(services)

    try:
        return asyncio.run(main())
    except LunaError as error:
        console.print(f"[red]{escape(error.message)}[/]")
        raise typer.Exit(1) from None
