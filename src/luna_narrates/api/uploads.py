"""Reading an uploaded file: a multipart `file` (with its form fields) or the raw body (any
content type: what the file is, is recognised from its bytes), never more than the limit,
refused with 413 before it is read whole when the size is declared."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.types import Message

from luna_narrates.errors import InvalidInput, LunaError

FORM_SLACK = 64 * 1024  # multipart boundaries and the other form fields


class TooLarge(LunaError):
    status_code = 413
    code = "too_large"


class BadUpload(InvalidInput):
    code = "bad_upload"


@dataclass
class Upload:
    data: bytes
    filename: str | None = None
    form: dict[str, str] = field(default_factory=dict)


def multipart_body(*fields: str) -> dict[str, object]:
    """The OpenAPI request body of a route that takes a multipart `file` plus `fields`, or
    the file's JSON as the body."""
    properties: dict[str, object] = {"file": {"type": "string", "format": "binary"}}
    properties.update({name: {"type": "string"} for name in fields})
    return {
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": properties, "required": ["file"]}
                },
            },
            "required": True,
        }
    }


async def read_upload(request: Request, limit: int, what: str) -> Upload:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + FORM_SLACK:
        raise _too_large(what, limit)
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        # Starlette spools a file part to disk whole: count the body as it arrives instead,
        # for uploads that declare no size (chunked).
        async with _limited(request, limit, what).form(max_files=1, max_fields=20) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise BadUpload(f"Send the {what} as the multipart field `file`.")
            data = await upload.read(limit + 1)
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            found = Upload(data, upload.filename, fields)
    else:  # the file itself as the body (JSON, image/png, octet-stream…), read by content
        buffer = bytearray()
        async for piece in request.stream():
            buffer += piece
            if len(buffer) > limit:
                break
        found = Upload(bytes(buffer))
    if len(found.data) > limit:
        raise _too_large(what, limit)
    if not found.data:
        raise BadUpload(f"The {what} is empty.")
    return found


def _limited(request: Request, limit: int, what: str) -> Request:
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit + FORM_SLACK:
                raise _too_large(what, limit)
        return message

    return Request(request.scope, receive)


def _too_large(what: str, limit: int) -> TooLarge:
    size = f"{limit / 2**20:g} MiB"
    return TooLarge(f"The {what} is larger than {size}.", limit_bytes=limit)
