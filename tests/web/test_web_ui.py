"""The web UI (web/): its Vitest tests pass, it builds into the package, and the app serves it:
index.html at `/`, its scripts under /ui, the API beside it unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from luna_narrates.api import health
from luna_narrates.app import create_app
from luna_narrates.services import Services
from tests.sdk.test_typescript_sdk import _run
from tests.shared_fixtures import FIXTURES

WEB = Path(__file__).resolve().parents[2] / "web"


async def npm(*args: str, env: dict[str, str] | None = None) -> str:
    """Runs npm in web/, installing its locked packages first if they are missing; its tests
    find the shared fixtures (../shared/fixtures) through LUNA_FIXTURES."""
    if not (WEB / "node_modules").is_dir():
        await _run("npm", "ci", "--no-audit", "--no-fund", cwd=WEB)
    fixtures = {"LUNA_FIXTURES": str(FIXTURES)} if FIXTURES is not None else {}
    return await _run("npm", *args, cwd=WEB, env={**fixtures, **(env or {})})


@pytest.mark.timeout(300)
async def test_the_web_ui_is_tested_built_and_served(services: Services) -> None:
    tested = await npm("test")
    assert re.search(r"Tests\s+\d+ passed", tested) and "failed" not in tested, tested
    await npm("run", "build")
    index = (health.WEB_UI / "index.html").read_text()
    script = re.search(r'src="(/ui/[^"]+\.js)"', index)
    assert script, index

    app = create_app(services.settings, run_worker=False)
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        root = await client.get("/")
        assert root.status_code == 200 and root.headers["content-type"].startswith("text/html")
        assert root.text == index
        asset = await client.get(script[1])
        assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
        assert (await client.get("/health")).json() == {"status": "ok"}
        missing = await client.get("/no-such-route")
        assert missing.status_code == 404 and missing.json()


def test_the_dev_server_proxies_every_api_path() -> None:
    """`npm run dev` sends the API's paths to the server: every first segment of the schema's
    paths is in vite.config.ts's list."""
    config = (WEB / "vite.config.ts").read_text()
    listed = set(
        re.findall(r"'(/[a-z.-]+)'", config.split("const API_PATHS = [", 1)[1].split("]")[0])
    )
    paths = create_app().openapi()["paths"]
    assert {"/" + path.split("/")[1] for path in paths} | {"/docs", "/openapi.json"} == listed
