"""A real uvicorn server on a loopback port, for tests that need real streaming and disconnects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from luna_narrates.kit.serving import serve_on_loopback


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """The app's services are set up by the test, so its own lifespan stays off."""
    async with serve_on_loopback(app, lifespan="off") as url:
        yield url
