"""Typed dependencies for the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.narration.pipeline import Narrator
from luna_narrates.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def refresh_settings(services: ServicesDep) -> None:
    await services.store.refresh()


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    async with services.db.transaction() as session:
        yield session


def get_narrator(services: ServicesDep) -> Narrator:
    return services.narrator


SessionDep = Annotated[AsyncSession, Depends(get_session)]
NarratorDep = Annotated[Narrator, Depends(get_narrator)]

# Rows a page skips: bounded, so that no offset overflows the database's integer.
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Rows to skip.")]
