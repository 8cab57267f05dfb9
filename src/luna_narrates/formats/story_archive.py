"""The story archive: our lossless JSON export, versioned. Bytes in, a checked envelope out.

The envelope names the format and its version; the rows of each table travel as plain JSON
objects, checked against the tables by the importer. Version 1 is the first; a file from a
newer LUNA-Narrates is refused rather than half-understood. Version 2 added a story's
pictures: the image and Dreamer tables, and the `files` section (a path → the PNG as base64).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

FORMAT = "luna-narrates.story"
VERSION = 2


class ArchiveError(ValueError):
    """The file cannot be imported; the message says where it goes wrong."""


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["luna-narrates.story"]
    version: int
    exported_at: datetime
    application: str
    story: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    files: dict[str, str] = Field(default_factory=dict)


def parse(data: bytes | str | dict[str, Any]) -> Envelope:
    if not isinstance(data, dict):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as error:
            raise ArchiveError(
                f"The file is not complete JSON (it may be truncated): {error.msg} at line "
                f"{error.lineno}, column {error.colno}."
            ) from None
        except UnicodeDecodeError:
            raise ArchiveError("The file is not UTF-8 text; is it a story export?") from None
    if not isinstance(data, dict):
        raise ArchiveError("The file holds JSON, but not a story export (no top-level object).")
    version = data.get("version")
    if data.get("format") == FORMAT and isinstance(version, int) and version > VERSION:
        raise ArchiveError(
            f"This export is format version {version}, made by a newer LUNA-Narrates; this one "
            f"reads versions up to {VERSION}."
        )
    try:
        envelope = Envelope.model_validate(data)
    except ValidationError as error:
        raise ArchiveError(describe(error)) from None
    if envelope.version < 1:
        raise ArchiveError(
            f"Format version {envelope.version} does not exist; versions start at 1."
        )
    return envelope


def describe(error: ValidationError, prefix: tuple[str | int, ...] = (), limit: int = 5) -> str:
    """Pydantic's errors as "where: what" sentences, e.g. `tables.turns[3].turn_number: …`."""
    problems = [f"{location(prefix + tuple(e['loc']))}: {e['msg']}" for e in error.errors()]
    more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
    return "; ".join(problems[:limit]) + more


def location(parts: tuple[str | int, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the file"
