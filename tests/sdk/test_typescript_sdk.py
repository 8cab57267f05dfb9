"""The TypeScript SDK (sdk/typescript) is generated from the server's OpenAPI schema and must
not drift from it: the committed schema is the server's, the committed client is what the
generator makes of it; and it works, from Node, against a real server on the test models."""

from __future__ import annotations

import asyncio
import filecmp
import os
import re
import shutil
from pathlib import Path

import pytest

from luna_narrates.app import create_app, openapi_json
from luna_narrates.kit.serving import serve_on_loopback
from luna_narrates.services import Services

SDK = Path(__file__).resolve().parents[2] / "sdk" / "typescript"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
STALE = "The TypeScript SDK is out of date with the API: run `make sdk` and commit the result."


async def npm(*args: str, cwd: Path = SDK, env: dict[str, str] | None = None) -> str:
    """Runs npm (installing the SDK's locked packages first if they are missing)."""
    if not (SDK / "node_modules").is_dir():
        await _run("npm", "ci", "--no-audit", "--no-fund", cwd=SDK)
    return await _run("npm", *args, cwd=cwd, env=env)


async def _run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        # Plain text whatever the terminal: CI's environment may ask tools for colours.
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = ANSI.sub("", (await process.communicate())[0].decode())
    assert process.returncode == 0, f"{' '.join(command)} failed:\n{output[-4000:]}"
    return output


def test_the_committed_schema_is_the_servers() -> None:
    assert (SDK / "openapi.json").read_text() == openapi_json(), STALE


async def test_the_committed_client_is_what_the_generator_makes(tmp_path: Path) -> None:
    copy = tmp_path / "sdk"
    shutil.copytree(SDK, copy, ignore=shutil.ignore_patterns("node_modules", "dist", "client"))
    await npm("ci", "--no-audit", "--no-fund", cwd=copy)
    await npm("run", "generate", cwd=copy)
    compared = filecmp.dircmp(SDK / "src" / "client", copy / "src" / "client")
    assert not _differences(compared), STALE + f" ({_differences(compared)})"


def _differences(compared: filecmp.dircmp[str]) -> list[str]:
    found = [*compared.left_only, *compared.right_only, *compared.diff_files, *compared.funny_files]
    for sub in compared.subdirs.values():
        found += _differences(sub)
    return found


@pytest.mark.timeout(300)
async def test_the_sdk_plays_a_turn_on_a_real_server(services: Services) -> None:
    await npm("run", "build")
    app = create_app(services.settings, run_worker=False)
    app.state.services = services
    async with serve_on_loopback(app, lifespan="off") as base:
        output = await npm("test", env={"LUNA_URL": base})
    assert "# pass 4" in output and "# fail 0" in output, output
