"""Errors of the community asset library. What a player may not see is not found, so a private
asset or collection of someone else's answers 404, never 403."""

from __future__ import annotations

import uuid

from luna_narrates.errors import InvalidInput, LunaError, NotFound


class AssetNotFound(NotFound):
    def __init__(self, asset_id: uuid.UUID) -> None:
        super().__init__(f"No asset {asset_id} in your library.", asset_id=str(asset_id))


class CollectionNotFound(NotFound):
    def __init__(self, collection_id: uuid.UUID) -> None:
        super().__init__(
            f"No collection {collection_id} in your library.", collection_id=str(collection_id)
        )


class AssetRefused(InvalidInput):
    """A file that is not an asset card, or an edit that cannot be stored; says why."""

    code = "invalid_asset"


class NotYours(LunaError):
    """A public asset or collection of someone else's: it may be read, not changed."""

    status_code = 403
    code = "not_yours"

    def __init__(self, what: str, thing_id: uuid.UUID) -> None:
        super().__init__(
            f"The {what} {thing_id} is not yours: only its owner may change it.", id=str(thing_id)
        )

    @classmethod
    def unless(cls, player: uuid.UUID, owner: uuid.UUID, what: str, thing_id: uuid.UUID) -> None:
        """Raises unless `player` is the `owner` of the thing."""
        if player != owner:
            raise cls(what, thing_id)
