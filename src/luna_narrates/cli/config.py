"""`luna config show`: every setting, its effective value, and where it came from (the
environment, `.env`, the command line, the stored settings, or the default)."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from luna_narrates.config import Settings
from luna_narrates.settings.schemas import SettingsOut

config_app = typer.Typer(help="The configuration and where each value comes from.")


@config_app.command("show")
def show() -> None:
    """Print every setting with its value, its source, and whether the API may change it."""
    out = asyncio.run(_read(Settings()))
    console = Console(highlight=False)
    table = Table(title=f"Configuration (stored revision {out.revision})", title_justify="left")
    for column in ("Variable", "Value", "Source", "Changeable"):
        table.add_column(column, overflow="fold")
    for setting in out.settings:
        style = "dim" if setting.source == "default" else ""
        value = "(unset)" if setting.value is None else str(setting.value)
        if setting.shadowed is not None:
            value += f"  (stored {setting.shadowed!r} is overridden)"
        changeable = "yes" if setting.editable else ("locked" if setting.locked else "restart")
        table.add_row(
            Text(setting.variable),
            Text(value, style=style),
            Text(setting.source, style=style),
            Text(changeable, style=style),
        )
    console.print(table)
    console.print(
        "Precedence: environment (and .env) > stored (PUT /settings) > default. "
        "'locked': set in the environment, so the API cannot change it; "
        "'restart': read once at start-up."
    )


async def _read(settings: Settings) -> SettingsOut:
    from luna_narrates.db import migrate
    from luna_narrates.db.engine import Database, resolve_database_url
    from luna_narrates.llm.registry import ModelRegistry
    from luna_narrates.settings.service import SettingsStore

    url = await asyncio.to_thread(resolve_database_url, settings)
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database.connect(url)
    try:
        store = SettingsStore(settings, db, ModelRegistry(settings))
        await store.refresh()
        return store.show()
    finally:
        await db.dispose()
