"""PNG files as chunks, read and written byte for byte, so an image's pixels are never
re-encoded when metadata (a character card, a NovelAI lorebook) is read from it or put into it.

Text chunks are bounded: a compressed zTXt/iTXt chunk that would inflate past `MAX_TEXT_BYTES`
is refused rather than decompressed, and so is an image whose header claims more pixels than
`MAX_PIXELS` (a decompression bomb for whoever decodes it next).
"""

from __future__ import annotations

import struct
import zlib

from luna_narrates.kit.limits import MAX_PIXELS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_BYTES = 32 * 1024 * 1024

Chunk = tuple[bytes, bytes]  # (kind, body)


class PngError(ValueError):
    """The bytes are not a PNG we can read safely; the message says why."""


def chunks(png: bytes) -> list[Chunk]:
    if not png.startswith(PNG_SIGNATURE):
        raise PngError("Not a PNG file.")
    found: list[Chunk] = []
    at = len(PNG_SIGNATURE)
    while at < len(png):
        if at + 8 > len(png):
            raise PngError("The PNG is truncated (a chunk header is cut off).")
        length, kind = struct.unpack(">I4s", png[at : at + 8])
        body = png[at + 8 : at + 8 + length]
        if len(body) != length or at + 12 + length > len(png):
            raise PngError(f"The PNG is truncated (its {kind.decode('latin-1')} chunk is cut off).")
        found.append((kind, body))
        at += 12 + length
        if kind == b"IEND":
            break
    if not found or found[0][0] != b"IHDR" or len(found[0][1]) < 8:
        raise PngError("The PNG has no image header (IHDR).")
    if found[-1][0] != b"IEND":
        raise PngError("The PNG is truncated (no IEND chunk).")
    width, height = image_size(found)
    if width * height > MAX_PIXELS:
        raise PngError(
            f"The image is {width}×{height} pixels; images over {MAX_PIXELS:,} pixels are "
            "refused (a decompression bomb for whoever decodes them)."
        )
    return found


def image_size(found: list[Chunk]) -> tuple[int, int]:
    """(width, height) from the IHDR of chunks `chunks` has checked."""
    width, height = struct.unpack(">II", found[0][1][:8])
    return width, height


def texts(found: list[Chunk], keywords: tuple[str, ...]) -> list[tuple[str, str]]:
    """(keyword, text) of the tEXt, zTXt and iTXt chunks whose keyword is one of `keywords`
    (compared without case), in file order. Only those are inflated, and never more than
    `MAX_TEXT_BYTES` in all."""
    wanted = {k.lower() for k in keywords}
    budget = MAX_TEXT_BYTES
    read: list[tuple[str, str]] = []
    for chunk in found:
        keyword = chunk_keyword(chunk)
        if keyword is None or keyword.lower() not in wanted:
            continue
        text = chunk_text(chunk, budget)
        if text is not None:
            budget -= len(text[1])
            read.append(text)
    return read


def chunk_keyword(chunk: Chunk) -> str | None:
    """The keyword of a text chunk, read without inflating anything."""
    kind, body = chunk
    if kind not in (b"tEXt", b"zTXt", b"iTXt") or b"\0" not in body:
        return None
    return body.partition(b"\0")[0].decode("latin-1")


def chunk_text(chunk: Chunk, budget: int = MAX_TEXT_BYTES) -> tuple[str, str] | None:
    kind, body = chunk
    keyword, _, rest = body.partition(b"\0")
    try:
        if kind == b"tEXt":
            return keyword.decode("latin-1"), rest.decode("latin-1")
        if kind == b"zTXt":
            return keyword.decode("latin-1"), _inflate(rest[1:], budget).decode("latin-1")
        if kind == b"iTXt":
            compressed, rest = rest[0], rest[2:]
            _language, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            raw = _inflate(text, budget) if compressed else text
            return keyword.decode("latin-1"), raw.decode("utf-8")
    except (zlib.error, UnicodeDecodeError, IndexError):
        return None
    return None


def text_chunk(keyword: str, text: bytes) -> Chunk:
    return b"tEXt", keyword.encode("latin-1") + b"\0" + text


def text_or_itxt(keyword: str, text: str) -> Chunk:
    """tEXt when the text is Latin-1 (all a tEXt chunk may hold), else an uncompressed UTF-8
    iTXt: what Pillow's `PngInfo.add_text` writes, so A1111 and Pillow-based readers find the
    text under the same keyword either way."""
    try:
        return text_chunk(keyword, text.encode("latin-1"))
    except UnicodeEncodeError:
        # keyword, then compression flag and method (none), empty language and translation
        return b"iTXt", keyword.encode("latin-1") + b"\0\0\0\0\0" + text.encode()


def replace_texts(
    found: list[Chunk], keywords: tuple[str, ...], added: list[Chunk], *, before: bytes = b"IEND"
) -> bytes:
    """The PNG with its text chunks named by `keywords` dropped and `added` written just
    before the first `before` chunk (IEND, or IDAT where Pillow writes text, so that readers
    stopping at the pixels see it); every other chunk is kept byte for byte."""
    return assemble(insert_before(without_texts(found, keywords), added, before))


def without_texts(found: list[Chunk], keywords: tuple[str, ...]) -> list[Chunk]:
    """The chunks less the text chunks whose keyword is one of `keywords` (compared without
    case)."""
    wanted = {k.lower() for k in keywords}
    return [chunk for chunk in found if (chunk_keyword(chunk) or "").lower() not in wanted]


def assemble(found: list[Chunk]) -> bytes:
    return PNG_SIGNATURE + b"".join(_pack(kind, body) for kind, body in found)


def insert_before(found: list[Chunk], added: list[Chunk], kind: bytes) -> list[Chunk]:
    """`added` just before the first chunk of `kind`, or before IEND when there is none."""
    at = next(i for i, (found_kind, _) in enumerate(found) if found_kind in (kind, b"IEND"))
    return [*found[:at], *added, *found[at:]]


def _inflate(data: bytes, budget: int) -> bytes:
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, max(budget, 0) + 1)
    if len(text) > budget or inflater.unconsumed_tail:
        raise PngError(f"The PNG's text chunks inflate past {MAX_TEXT_BYTES // 2**20} MiB.")
    return text


def _pack(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
