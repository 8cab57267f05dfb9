"""The FastAPI application: start-up wiring, error mapping, routers."""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlalchemy.exc import DataError

from luna_narrates.api.access import authorize, limiter
from luna_narrates.api.deps import refresh_settings
from luna_narrates.api.protection import BodyLimit, SecurityHeaders
from luna_narrates.config import Settings
from luna_narrates.errors import ConfigurationError, LunaError, problems
from luna_narrates.services import open_services

log = logging.getLogger("luna_narrates")


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> FastAPI:
    settings = settings or Settings()
    if settings.luna_auth == "local" and not is_loopback(settings.luna_host):
        raise ConfigurationError(
            f"LUNA_AUTH=local serves requests without a login, so it only binds to a loopback "
            f"address, not {settings.luna_host}; set LUNA_AUTH=required to serve others."
        )
    worker = settings.luna_run_worker if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings, run_worker=worker) as services:
            app.state.services = services
            yield

    app = FastAPI(
        title="LUNA-Narrates",
        version="0.1.0",
        summary="A writers' room of AI agents that keeps an interactive story coherent.",
        lifespan=lifespan,
        # Each operation is known by its route's name (`create_story`), as the SDK calls it.
        generate_unique_id_function=operation_id,
        # Every request sees the settings as they stand, whichever process changed them, then
        # passes its route's access rule (api/access.py).
        dependencies=[Depends(refresh_settings), Depends(authorize)],
    )
    install_error_handlers(app)
    app.state.limiter = limiter()
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=int(settings.luna_max_request_mb * 1024 * 1024))
    if settings.luna_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.luna_cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )

    from luna_narrates.api import (
        analytics,
        archive,
        assets,
        auth,
        characters,
        dreamer,
        health,
        images,
        lorebooks,
        memory,
        narrate,
        pricing,
        providers,
        stories,
        timelines,
        worlds,
    )
    from luna_narrates.api import settings as settings_api

    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(auth.admin_router)
    app.include_router(archive.router)
    app.include_router(stories.router)
    app.include_router(narrate.router)
    app.include_router(memory.router)
    app.include_router(timelines.router)
    app.include_router(lorebooks.router)
    app.include_router(lorebooks.stories_router)
    app.include_router(characters.router)
    app.include_router(worlds.router)
    app.include_router(analytics.router)
    app.include_router(analytics.metrics_router)
    app.include_router(pricing.router)
    app.include_router(providers.router)
    app.include_router(settings_api.router)
    app.include_router(images.router)
    app.include_router(assets.router)
    app.include_router(dreamer.router)
    # The web UI (web/, built by `make run`): `GET /` (api/health.py) answers its index.html,
    # and its scripts and styles are served from /ui (not /assets, the API's asset collections),
    # mounted last. Not at `/`: that would answer every unknown API path with the static files'
    # plain-text 404 and 405 instead of the API's JSON.
    if (health.WEB_UI / "index.html").is_file():
        app.mount("/ui", StaticFiles(directory=health.WEB_UI / "ui"), name="web")
    return app


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LunaError)
    async def luna_error(request: Request, error: LunaError) -> JSONResponse:
        return JSONResponse(error.to_dict(), status_code=error.status_code, headers=error.headers())

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        found = problems(error.errors())
        return JSONResponse(
            {"error": "invalid_input", "message": "; ".join(found), "problems": found},
            status_code=422,
        )

    @app.exception_handler(ValidationError)
    async def invalid_value(request: Request, error: ValidationError) -> JSONResponse:
        return JSONResponse(
            {"error": "invalid_input", "message": "; ".join(problems(error.errors()))},
            status_code=422,
        )

    @app.exception_handler(DataError)
    async def unstorable(request: Request, error: DataError) -> JSONResponse:
        """A value the database refuses (a NUL character in a text, a number out of range):
        the request's fault, and its transaction rolled back whole."""
        detail = getattr(getattr(error.orig, "diag", None), "message_primary", None)
        reason = detail or str(error.orig).splitlines()[0]
        return JSONResponse(
            {
                "error": "invalid_input",
                "message": f"A value in the request cannot be stored: {reason}.",
            },
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {
                "error": "internal_error",
                "message": "An unexpected error occurred; see the server log.",
            },
            status_code=500,
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def openapi_json() -> str:
    """The API's OpenAPI schema as the TypeScript SDK is generated from it (`make sdk`)."""
    schema = create_app(Settings(_env_file=None)).openapi()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def operation_id(route: APIRoute) -> str:
    return route.name
