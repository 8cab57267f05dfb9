"""The root, liveness and readiness."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from sqlalchemy import text

from luna_narrates.api.deps import SessionDep

router = APIRouter(tags=["health"])

# Where `npm run build` (web/) writes the web UI; app.py serves its files when it is there.
WEB_UI = Path(__file__).resolve().parents[1] / "web"


@router.get("/", include_in_schema=False, response_model=None)
async def root() -> FileResponse | dict[str, str]:
    """The web UI when it is built; otherwise where the API's documentation is, and how to build
    the UI."""
    if (WEB_UI / "index.html").is_file():
        return FileResponse(WEB_UI / "index.html")
    return {
        "name": "LUNA-Narrates",
        "docs": "/docs",
        "openapi": "/openapi.json",
        "ui": "not built: run make run with Node.js ≥ 20.19",
    }


@router.get("/health")
async def health(session: SessionDep) -> dict[str, str]:
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}
