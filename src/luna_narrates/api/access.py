"""Who may call what, in one place: every route of the API has one rule in `RULES`, applied
by one dependency (`authorize`) on every request; a route without a rule is refused (and a
test fails). Another player's story or image answers 404, never 403, so ids cannot be probed.

- `public`: anyone (health, registering, signing in);
- `user`: any signed-in player; the route acts on what is theirs (their stories, their assets);
- `owned`: the player who owns every card, lorebook and world the path names (`character_id`,
  `lorebook_id`, `world_id`): the player's library;
- `story`: the player who owns the story in the path (`story_id`), and every card or lorebook
  the path names (a story's cast and lorebooks);
- `image`: the player who owns the story of the image in the path (`image_id`);
- `admin`: admins only: the server's settings, workers and providers (URLs that the server
  calls: no SSRF from other players), global metrics and accounts.

Ids that arrive in a body (a card put into a story, the world a story starts in) are checked
by the route with the same `check_owned`.

In single-player mode (`LUNA_AUTH=local`, loopback only) a request without a token is the
local player, an admin.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.accounts import service as accounts
from luna_narrates.accounts.errors import Forbidden, TooManyAttempts, Unauthorized
from luna_narrates.accounts.service import LOCAL, Principal
from luna_narrates.api.deps import ServicesDep
from luna_narrates.characters.errors import CharacterNotFound
from luna_narrates.db.tables import CharacterCard, GeneratedImage, Lorebook, Story, World
from luna_narrates.errors import NotFound
from luna_narrates.lore.errors import LorebookNotFound
from luna_narrates.narration.schemas import ModelOverrides
from luna_narrates.stories.errors import StoryNotFound
from luna_narrates.worlds.errors import WorldNotFound

Rule = Literal["public", "user", "owned", "story", "image", "admin"]

_STORY = "/stories/{story_id}"
RULES: dict[str, Rule] = {
    "GET /": "public",
    "GET /health": "public",
    "POST /auth/register": "public",
    "POST /auth/login": "public",
    "GET /auth/me": "user",
    "POST /auth/stream-token": "user",
    "POST /auth/logout": "user",
    "POST /auth/change-password": "user",
    "POST /auth/invites": "admin",
    "GET /admin/users": "admin",
    "PATCH /admin/users/{user_id}": "admin",
    # Stories: a player's own.
    "POST /stories": "user",  # the world in the body is checked by the route
    "GET /stories": "user",
    "POST /stories/import": "user",
    "POST /narrate/turn": "user",  # the story in the body is checked by the route
    f"GET {_STORY}": "story",
    f"DELETE {_STORY}": "story",
    f"GET {_STORY}/export": "story",
    f"GET {_STORY}/turns": "story",
    f"GET {_STORY}/turns/{{turn_number}}": "story",
    f"PATCH {_STORY}/turns/{{turn_number}}": "story",
    f"POST {_STORY}/turns/import": "story",
    "GET /narrates/stories/{story_id}/generate": "story",
    "GET /narrates/stories/{story_id}/turns/{turn_number}/regenerate": "story",
    f"GET {_STORY}/memory/search": "story",
    f"GET {_STORY}/briefing": "story",
    f"GET {_STORY}/world": "story",
    f"GET {_STORY}/world/{{entity}}": "story",
    f"POST {_STORY}/branches": "story",
    f"GET {_STORY}/branches": "story",
    f"GET {_STORY}/branches/tree": "story",
    f"POST {_STORY}/branches/switch": "story",
    f"PATCH {_STORY}/branches/{{branch_id}}": "story",
    f"DELETE {_STORY}/branches/{{branch_id}}": "story",
    f"DELETE {_STORY}/turns/after/{{turn_number}}": "story",
    f"GET {_STORY}/turns/{{turn_number}}/versions": "story",
    f"POST {_STORY}/turns/{{turn_number}}/select": "story",
    f"POST {_STORY}/turns/{{turn_number}}/regenerate": "story",
    f"GET {_STORY}/lorebooks": "story",
    f"POST {_STORY}/lorebooks": "story",  # the lorebook in the body is checked by the route
    f"DELETE {_STORY}/lorebooks/{{lorebook_id}}": "story",
    f"GET {_STORY}/characters": "story",
    f"POST {_STORY}/characters": "story",  # the card in the body is checked by the route
    f"DELETE {_STORY}/characters/{{character_id}}": "story",
    f"GET {_STORY}/images": "story",
    f"GET {_STORY}/dreamer/pool": "story",
    f"GET {_STORY}/dreamer/stats": "story",
    "GET /cost-analytics/stories/{story_id}": "story",
    "GET /cost-analytics/stories/{story_id}/turns": "story",
    "GET /images/{image_id}": "image",
    # The library of cards, lorebooks and worlds: a player's own.
    "POST /lorebooks/upload": "user",
    "POST /lorebooks/extract": "user",  # the story in the body is checked by the route
    "POST /lorebooks": "user",
    "GET /lorebooks": "user",
    "GET /lorebooks/{lorebook_id}": "owned",
    "PATCH /lorebooks/{lorebook_id}": "owned",
    "DELETE /lorebooks/{lorebook_id}": "owned",
    "GET /lorebooks/{lorebook_id}/export": "owned",
    "GET /lorebooks/{lorebook_id}/entries": "owned",
    "POST /lorebooks/{lorebook_id}/entries": "owned",
    "GET /lorebooks/{lorebook_id}/characters": "owned",
    "GET /lorebooks/{lorebook_id}/locations": "owned",
    "GET /lorebooks/{lorebook_id}/entries/{entry_id}": "owned",
    "PATCH /lorebooks/{lorebook_id}/entries/{entry_id}": "owned",
    "DELETE /lorebooks/{lorebook_id}/entries/{entry_id}": "owned",
    "POST /character-cards/import": "user",
    "POST /character-cards": "user",
    "GET /character-cards": "user",
    "POST /character-cards/{character_id}/regenerate-section": "owned",
    "POST /character-cards/manual": "user",
    "GET /character-cards/{character_id}": "owned",
    "PATCH /character-cards/{character_id}": "owned",
    "DELETE /character-cards/{character_id}": "owned",
    "GET /character-cards/{character_id}/export": "owned",
    "GET /character-cards/{character_id}/portrait": "owned",
    "PUT /character-cards/{character_id}/portrait": "owned",
    "GET /worlds/templates": "user",
    "POST /worlds": "user",
    "GET /worlds": "user",
    "GET /worlds/{world_id}": "owned",
    "PATCH /worlds/{world_id}": "owned",  # the lorebook in the body is checked by the route
    "DELETE /worlds/{world_id}": "owned",
    "POST /worlds/{world_id}/characters": "owned",  # and the card in the body
    "DELETE /worlds/{world_id}/characters/{character_id}": "owned",
    # The server's: global figures, prices, providers, settings, workers.
    "GET /cost-analytics/agents": "user",  # a player's own stories; an admin's, all
    "GET /cost-analytics/daily": "user",
    "GET /cost-analytics/monthly": "user",
    "GET /cost-analytics/projection": "user",
    "GET /metrics": "admin",
    "GET /metrics/prometheus": "admin",
    "GET /pricing": "user",
    "PUT /pricing/{provider}/{model:path}": "admin",
    "DELETE /pricing/{provider}/{model:path}": "admin",
    "GET /providers": "admin",
    "POST /providers/validate": "admin",
    "GET /settings": "admin",
    "PUT /settings": "admin",
    "GET /image-workers": "admin",
    # The community asset library: the player's own, and what others made public.
    "POST /assets/collections": "user",
    "GET /assets/collections": "user",
    "GET /assets/collections/{collection_id}": "user",
    "PATCH /assets/collections/{collection_id}": "user",
    "DELETE /assets/collections/{collection_id}": "user",
    "PUT /assets/collections/{collection_id}/assets/{asset_id}": "user",
    "DELETE /assets/collections/{collection_id}/assets/{asset_id}": "user",
    "GET /assets/collections/{collection_id}/download": "user",
    "POST /assets/import": "user",
    "POST /assets/from-image/{image_id}": "image",
    "GET /assets": "user",
    "GET /assets/{asset_id}": "user",
    "PATCH /assets/{asset_id}": "user",
    "DELETE /assets/{asset_id}": "user",
    "GET /assets/{asset_id}/export": "user",
    "POST /assets/{asset_id}/vote": "user",
    "POST /assets/{asset_id}/report": "user",
}


# The player's library: each id a path or a body may name, its table and its "not found".
OwnedId = Literal["character_id", "lorebook_id", "world_id"]
Missing = Callable[[uuid.UUID], NotFound]
OWNED: dict[OwnedId, tuple[type[CharacterCard | Lorebook | World], Missing]] = {
    "character_id": (CharacterCard, CharacterNotFound),
    "lorebook_id": (Lorebook, LorebookNotFound),
    "world_id": (World, WorldNotFound),
}


def rule_of(method: str, path: str) -> Rule | None:
    return RULES.get(f"{method} {path}")


# Generating turns, per player (TURNS_PER_MINUTE).
LIMITED = {
    "POST /narrate/turn",
    "GET /narrates/stories/{story_id}/generate",
    "GET /narrates/stories/{story_id}/turns/{turn_number}/regenerate",
    "POST /stories/{story_id}/turns/{turn_number}/regenerate",
}


def limiter() -> MovingWindowRateLimiter:
    """The app's rate limits, counted by each server process (`app.state.limiter`)."""
    return MovingWindowRateLimiter(MemoryStorage())


async def within(request: Request, limit: RateLimitItem, too_many: str, *keys: str) -> None:
    """429 with Retry-After once `limit` is reached for `keys`."""
    counter: MovingWindowRateLimiter = request.app.state.limiter
    if not await counter.hit(limit, *keys):
        reset, _ = await counter.get_window_stats(limit, *keys)
        raise TooManyAttempts(f"{too_many}; wait a little.", reset - time.time())


async def authorize(request: Request, services: ServicesDep) -> None:
    """The one check every request passes: its route's rule, for whoever it is."""
    route = request.scope.get("route")
    assert isinstance(route, APIRoute)
    rule = rule_of(request.method, route.path)
    if rule is None:
        raise Forbidden(f"{request.method} {route.path} has no access rule; it is refused.")
    if rule == "public":
        return
    async with services.db.sessions() as session:
        principal = await _principal(request, session, services)
        request.state.principal = principal
        if rule == "admin" and not principal.is_admin:
            raise Forbidden("Only an admin may do this.")
        if rule == "story" and (story_id := _id(request, "story_id")):
            await check_story(session, principal, story_id)
        if rule in ("story", "owned"):
            for name in OWNED:
                if found := _id(request, name):
                    await check_owned(session, principal, name, found)
        if rule == "image" and (image_id := _id(request, "image_id")):
            await check_image(session, principal, image_id)
    if f"{request.method} {route.path}" in LIMITED:
        per_minute = RateLimitItemPerMinute(services.settings.turns_per_minute)
        await within(
            request, per_minute, "Too many turns in a minute", "turn", str(principal.user_id)
        )


def principal(request: Request) -> Principal:
    """Who the request is (set by `authorize`)."""
    found: Principal = request.state.principal
    return found


PrincipalDep = Annotated[Principal, Depends(principal)]


def check_models(who: Principal, models: ModelOverrides) -> None:
    """Putting an agent on another model for a turn is an admin's choice: it spends the keys
    and servers the admin configured."""
    if not who.is_admin and any(models.overrides().values()):
        raise Forbidden(
            "Only an admin may put an agent on another model for a turn "
            "(the *_model_override fields)."
        )


async def check_story(session: AsyncSession, who: Principal, story_id: uuid.UUID) -> None:
    """404 unless the story is the player's."""
    owner = await session.scalar(select(Story.owner_id).where(Story.id == story_id))
    if owner is None or owner != who.user_id:
        raise StoryNotFound(story_id)


async def check_owned(
    session: AsyncSession, who: Principal, name: OwnedId, owned_id: uuid.UUID
) -> None:
    """404, as for a missing one, unless the card, lorebook or world is the player's."""
    table, missing = OWNED[name]
    owner = await session.scalar(select(table.owner_id).where(table.id == owned_id))
    if owner is None or owner != who.user_id:
        raise missing(owned_id)


async def check_image(session: AsyncSession, who: Principal, image_id: uuid.UUID) -> None:
    owner = await session.scalar(
        select(Story.owner_id)
        .join(GeneratedImage, GeneratedImage.story_id == Story.id)
        .where(GeneratedImage.id == image_id)
    )
    if owner is None or owner != who.user_id:
        raise NotFound(f"No image {image_id}.", image_id=str(image_id))


async def _principal(request: Request, session: AsyncSession, services: ServicesDep) -> Principal:
    """A bearer token in the `Authorization` header, or a stream token as `access_token` in
    the query (an EventSource cannot send headers); without one, the local player in
    single-player mode."""
    if token := bearer_token(request):
        return await accounts.authenticate(session, services.settings, token)
    if token := request.query_params.get("access_token", "").strip():
        return await accounts.authenticate(session, services.settings, token, in_query=True)
    if services.settings.luna_auth == "local":
        return LOCAL
    raise Unauthorized("Log in first: send `Authorization: Bearer <access_token>`.")


def _id(request: Request, name: str) -> uuid.UUID | None:
    """The path's id; None when the path has none, or it is not one (the route's validation
    then answers 422)."""
    try:
        return uuid.UUID(request.path_params.get(name, ""))
    except ValueError:
        return None


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
