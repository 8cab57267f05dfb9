"""One error root: each error carries its HTTP status and a sentence the user can act on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar


class LunaError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.detail}

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries (`WWW-Authenticate`, `Retry-After`)."""
        return {}


class NotFound(LunaError):
    status_code = 404
    code = "not_found"


class InvalidInput(LunaError):
    status_code = 422
    code = "invalid_input"


class Conflict(LunaError):
    status_code = 409
    code = "conflict"


class Busy(LunaError):
    """Another turn of the same story held the story for longer than we were willing to wait."""

    status_code = 409
    code = "story_busy"


class ProviderError(LunaError):
    """A model provider failed; names the agent and the provider so the user knows what to fix."""

    status_code = 502
    code = "provider_error"


class ProviderTimeout(ProviderError):
    status_code = 504
    code = "provider_timeout"


class ConfigurationError(LunaError):
    status_code = 500
    code = "configuration_error"


def problems(errors: Iterable[Mapping[str, Any]]) -> list[str]:
    """pydantic's validation errors as `where: what` lines (a request's `body` left out of
    where; a whole value that is wrong is `value`)."""
    return [
        f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'value'}: {e['msg']}"
        for e in errors
    ]
