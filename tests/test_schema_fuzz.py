"""schemathesis against the server's own OpenAPI schema, on the embedded database and the
deterministic test models, as the single local player: a bounded number of generated requests
per operation (examples, then fuzzing), and none may answer 5xx or break the documented shape
of its answer. The counts go to the test's output and into docs/accounts.md."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from luna_narrates.app import create_app
from luna_narrates.kit.serving import serve_on_loopback
from luna_narrates.services import Services

ST = Path(sys.executable).with_name("st")
EXAMPLES = 5
SEED = 20261123


async def test_no_generated_request_gets_a_server_error_or_an_undocumented_shape(
    services: Services, tmp_path: Path
) -> None:
    app = create_app(services.settings, run_worker=False)
    app.state.services = services
    async with serve_on_loopback(app, lifespan="off") as base:
        run = await asyncio.create_subprocess_exec(
            str(ST),
            "run",
            f"{base}/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            str(SEED),
            "--generation-database",
            "none",
            "--suppress-health-check",
            "all",
            "--workers",
            "1",
            "--no-color",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
        )
        output = (await run.communicate())[0].decode()
    tested = re.search(r"Tested: (\d+)", output)
    generated = re.search(r"(\d+) generated", output)
    print(f"schemathesis: {tested and tested[1]} operations, {generated and generated[1]} requests")
    assert run.returncode == 0, output[-6000:]
    operations = sum(len(ops) for ops in app.openapi()["paths"].values())
    assert tested is not None and int(tested[1]) == operations
    assert generated is not None and int(generated[1]) >= 3 * operations
