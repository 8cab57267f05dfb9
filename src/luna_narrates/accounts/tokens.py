"""Access tokens: JWTs (HS256, PyJWT) naming the account (`sub`) and the sign-in (`sid`), short
lived; a sign-in's row is checked on every request, so a revoked one stops at once. Only HS256
is accepted (never `alg: none`)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jwt

from luna_narrates.accounts.errors import Unauthorized
from luna_narrates.config import Settings

ALGORITHM = "HS256"
KEY_FILE = "secret_key"


STREAM = "stream"  # a token's `use`: only for a URL's query (an EventSource's), seconds long


@dataclass(frozen=True)
class Claims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    use: str | None = None


def signing_key(settings: Settings) -> str:
    """`LUNA_SECRET_KEY`, else a random key made once and kept (mode 0600) in the data
    directory, so tokens outlive a restart."""
    if settings.luna_secret_key is not None:
        return settings.luna_secret_key.get_secret_value()
    path: Path = settings.luna_data_dir / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(secrets.token_hex(32))
        partial.chmod(0o600)
        partial.replace(path)
    return path.read_text().strip()


def issue(key: str, claims: Claims, expires: datetime) -> str:
    payload = {"sub": str(claims.user_id), "sid": str(claims.session_id), "exp": expires}
    if claims.use is not None:
        payload["use"] = claims.use
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def read(key: str, token: str) -> Claims:
    try:
        payload = jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "sid"]}
        )
        return Claims(uuid.UUID(payload["sub"]), uuid.UUID(payload["sid"]), payload.get("use"))
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired; log in again.") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized("The access token is not valid; log in again.") from None
