"""What signing in and asking for something one may not have answer."""

from __future__ import annotations

import math
from typing import Any

from luna_narrates.errors import LunaError


class Unauthorized(LunaError):
    """No valid sign-in: the client should log in (`WWW-Authenticate: Bearer`)."""

    status_code = 401
    code = "not_signed_in"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(LunaError):
    status_code = 403
    code = "forbidden"


class TooManyAttempts(LunaError):
    """429, with `Retry-After` in whole seconds."""

    status_code = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: float, **detail: Any) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message, retry_after_seconds=self.retry_after, **detail)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
