"""The root, liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from luna_narrates.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/", include_in_schema=False)
async def root() -> dict[str, str]:
    """Until the web UI exists, the root points people at the API documentation."""
    return {"name": "LUNA-Narrates", "docs": "/docs", "openapi": "/openapi.json"}


@router.get("/health")
async def health(session: SessionDep) -> dict[str, str]:
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}
