"""`luna doctor`: the effective configuration and where each value came from, then a ✓/✗ line
per check (database, each distinct model, the embedder). Exit code 1 when any check fails.

The checks live in luna_narrates.db.health and luna_narrates.llm.health; this module prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Protocol

import typer
from pydantic import SecretStr, ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from luna_narrates.config import AGENTS, DEFAULT, Settings, environment_sources

COMMAND_LINE = "--model option"

TINY_MODEL_NOTE = """\
Note: local:smollm2 is a 135M-parameter model for trying the engine offline:
its passages will be short and often incoherent. Point each agent at a stronger
model (in the environment or in .env), for example:
  WRITER_MODEL=ollama:llama3.1                  Ollama (OLLAMA_BASE_URL)
  WRITER_MODEL=lmstudio:<model>                 LM Studio at http://127.0.0.1:1234/v1
  WRITER_MODEL=openai-compatible:<model>        any OpenAI-compatible server, with
      OPENAI_COMPATIBLE_BASE_URL=http://<host>:<port>/v1
  STRATEGIST_MODEL=anthropic:claude-sonnet-4-5  with ANTHROPIC_API_KEY=<key>
PREPROCESSOR_MODEL, STRATEGIST_MODEL and WRITER_MODEL each take any 'provider:model'."""


class Check(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def detail(self) -> str: ...


ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Check this 'provider:model' for every agent instead."),
]


def doctor(model: ModelOption = None) -> None:
    """Print the effective configuration and check the database, the models and the embedder."""
    # Imported here: the checks pull in pydantic-ai and SQLAlchemy, which `luna --help` need not.
    from luna_narrates.db.health import check_database
    from luna_narrates.llm.health import check_embedder, check_models, uses_tiny_local_model

    console = Console(highlight=False)
    overrides = {f"{agent}_model": model for agent in AGENTS} if model else {}
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        console.print(Text(f"✗ configuration: {error}", style="red"), soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(configuration_table(settings, setting_sources(set(overrides))))
    ok = print_checks(console, check_database(settings))
    ok = print_checks(console, check_models(settings)) and ok
    ok = print_checks(console, [check_embedder()]) and ok
    if uses_tiny_local_model(settings):
        console.print(Text("\n" + TINY_MODEL_NOTE), soft_wrap=True)
    raise typer.Exit(0 if ok else 1)


def setting_sources(overridden: set[str]) -> dict[str, str]:
    """Where each Settings field's value came from: the command line, the environment, `.env`
    or the default (stored settings are shown by `luna config show`)."""
    environment = environment_sources()
    return {
        name: COMMAND_LINE if name in overridden else environment.get(name, DEFAULT)
        for name in Settings.model_fields
    }


def display_value(name: str, value: object) -> str:
    """A value fit to print: secrets masked, a database password hidden."""
    if value is None:
        return "(unset)"
    if isinstance(value, SecretStr):
        return "******** (set)" if value.get_secret_value() else "(empty)"
    if name == "database_url":
        from luna_narrates.db.health import mask_database_url

        return mask_database_url(str(value))
    return str(value)


def configuration_table(settings: Settings, sources: dict[str, str]) -> Table:
    table = Table(title="Configuration", title_justify="left")
    table.add_column("Variable", no_wrap=True)
    table.add_column("Value", overflow="fold")
    table.add_column("Source", no_wrap=True)
    for name in Settings.model_fields:
        source = sources[name]
        style = "dim" if source == DEFAULT else ""
        value = display_value(name, getattr(settings, name))
        table.add_row(Text(name.upper()), Text(value, style=style), Text(source, style=style))
    return table


def print_checks(console: Console, checks: Sequence[Check]) -> bool:
    for check in checks:
        mark = ("✓ ", "green") if check.ok else ("✗ ", "bold red")
        console.print(
            Text.assemble(mark, (check.name, "bold"), f": {check.detail}"), soft_wrap=True
        )
    return all(check.ok for check in checks)
