"""The web UI end to end: web/e2e's scenario (create a story, play two turns watching the text
stream in, branch and switch, import a card PNG, the cost chart, world info whose entry fires in
a turn, the settings, a phone-width screen) in
Debian's Chromium, headless, driven by playwright-core, against the real server on loopback with
the scripted test models (the Writer on `test:paced`, so its words arrive one by one) and
the job worker drawing each turn's pictures with the placeholder renderer.
Screenshots of each screen go to test-artifacts/web/ (not committed)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from luna_narrates.app import create_app
from luna_narrates.config import Settings
from luna_narrates.kit.serving import serve_on_loopback
from luna_narrates.services import Services, run_job_worker
from tests.conftest import make_settings, services_on
from tests.shared_fixtures import FIXTURES
from tests.web.test_web_ui import WEB, npm

ROOT = WEB.parent
SCREENSHOTS = ROOT / "test-artifacts" / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
async def services(database_url: str, data_dir: Path) -> AsyncIterator[Services]:
    # Pictures on (no worker configured: the labelled placeholder renderer draws them).
    settings: Settings = make_settings(
        database_url, data_dir, writer_model="test:paced", images_enabled=True
    )
    async with services_on(settings) as opened:
        yield opened


@pytest.mark.timeout(420)
async def test_a_player_session_in_a_real_browser(services: Services) -> None:
    assert shutil.which(CHROMIUM), (
        f"No Chromium at {CHROMIUM}: `make test` installs Debian's (apt-get install chromium), "
        "or set CHROMIUM to another Chromium."
    )
    assert FIXTURES is not None, "the shared fixtures (../shared/fixtures) are missing"
    await npm("run", "build")
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    app = create_app(services.settings, run_worker=False)
    app.state.services = services
    # The job worker, as `luna serve` runs it: memory, pictures, the Dreamer.
    worker = asyncio.create_task(run_job_worker(services))
    try:
        async with serve_on_loopback(app, lifespan="off") as base:
            output = await npm(
                "run",
                "e2e",
                env={
                    "LUNA_URL": base,
                    "LUNA_SCREENSHOTS": str(SCREENSHOTS),
                    "CHROMIUM": CHROMIUM,
                },
            )
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    assert "8 passed" in output and "failed" not in output, output
    taken = sorted(path.name for path in SCREENSHOTS.glob("*.png"))
    assert len(taken) == 11, taken
