"""`luna`: serve, worker, db, doctor, config, play, turns, export, import, bench."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from luna_narrates.cli.archive import export_command, import_command
from luna_narrates.cli.bench import bench_app
from luna_narrates.cli.config import config_app
from luna_narrates.cli.doctor import doctor
from luna_narrates.cli.library import cards_app, lorebooks_app
from luna_narrates.cli.play import play
from luna_narrates.cli.turns import turns_app
from luna_narrates.config import AGENTS, Settings

app = typer.Typer(
    help="LUNA-Narrates: a writers' room of AI agents for interactive stories.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")
app.add_typer(config_app, name="config")
app.add_typer(turns_app, name="turns")
app.add_typer(cards_app, name="cards")
app.add_typer(lorebooks_app, name="lorebooks")
app.command("doctor")(doctor)
app.command("play")(play)
app.command("export")(export_command)
app.command("import")(import_command)
console = Console()


def load_settings(model: str | None = None, **overrides: object) -> Settings:
    """Settings from the environment and .env; `--model` sets every agent's model at once."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if model:
        values.update({f"{agent}_model": model for agent in AGENTS})
    return Settings(**values)  # type: ignore[arg-type]


ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Use this 'provider:model' for every agent, e.g. 'test'."),
]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [env: LUNA_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env: LUNA_PORT].")] = None,
    model: ModelOption = None,
    worker: Annotated[bool, typer.Option(help="Run the job worker in this process.")] = True,
) -> None:
    """Serve the API (and the background-job worker) on the embedded defaults."""
    import uvicorn

    from luna_narrates.app import create_app

    settings = load_settings(model, luna_host=host, luna_port=port)
    application = create_app(settings, run_worker=worker and settings.luna_run_worker)
    where = (
        "embedded PostgreSQL in " + str(settings.embedded_database_dir)
        if settings.uses_embedded_database
        else "DATABASE_URL"
    )
    url = f"http://{settings.luna_host}:{settings.luna_port}"
    console.print(f"[bold]LUNA-Narrates[/] on {url} (API docs at {url}/docs; database: {where})")
    uvicorn.run(
        application,
        host=settings.luna_host,
        port=settings.luna_port,
        log_level=settings.luna_log_level,
    )


@app.command("worker")
def worker_command() -> None:
    """Run the background-job worker alone (scale out on other machines)."""
    from luna_narrates.services import open_services, run_job_worker

    async def main() -> None:
        async with open_services(load_settings(), run_worker=False) as services:
            console.print("Worker started; Ctrl+C stops it.")
            await run_job_worker(services)

    asyncio.run(main())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (start-up does this too)."""
    from luna_narrates.db import migrate
    from luna_narrates.db.engine import resolve_database_url

    url = resolve_database_url(load_settings())
    migrate.upgrade(url)
    console.print(f"Database at revision {migrate.current_revision(url)}.")


def run() -> None:
    app()
