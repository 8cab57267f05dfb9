"""Cold storage: a cold book's entries packed with zstd and a dictionary trained on the book
itself, so that thousands of short, similar entries compress far better than one by one."""

from __future__ import annotations

import json
from typing import Any

import zstandard

LEVEL = 19
MAX_ENTRY_BYTES = 4 * 1024 * 1024  # far above any entry we pack; a frame claiming more is bad
DICTIONARY_BYTES = 16 * 1024
# zstd cannot train a useful dictionary on a handful of samples; below this, entries are
# packed without one.
MIN_SAMPLES = 16


def encode(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()


def train(samples: list[bytes]) -> bytes | None:
    if len(samples) < MIN_SAMPLES:
        return None
    size = min(DICTIONARY_BYTES, max(1024, sum(map(len, samples)) // 8))
    try:
        return zstandard.train_dictionary(
            size, list[bytes | bytearray | memoryview](samples), level=LEVEL
        ).as_bytes()
    except zstandard.ZstdError:  # too little or too uniform data: no dictionary helps
        return None


def pack(entries: list[dict[str, Any]], dictionary: bytes | None) -> list[bytes]:
    compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=_dict(dictionary))
    return [compressor.compress(encode(entry)) for entry in entries]


class PackError(ValueError):
    """A packed entry that cannot be read back: damaged, or not one of ours."""


def unpack(blobs: list[bytes], dictionary: bytes | None) -> list[dict[str, Any]]:
    """Every blob as the entry it packs. Each frame must say its size (ours do) and stay under
    `MAX_ENTRY_BYTES`, so a forged one cannot inflate without bound."""
    try:
        decompressor = zstandard.ZstdDecompressor(dict_data=_dict(dictionary))
    except zstandard.ZstdError as error:
        raise PackError(f"the book's dictionary cannot be read: {error}") from None
    found: list[dict[str, Any]] = []
    for blob in blobs:
        try:
            size = zstandard.frame_content_size(blob)
            if size < 0 or size > MAX_ENTRY_BYTES:
                raise PackError(f"a packed entry claims {size} bytes")
            entry = json.loads(decompressor.decompress(blob, max_output_size=MAX_ENTRY_BYTES))
        except (zstandard.ZstdError, ValueError, UnicodeDecodeError) as error:
            raise PackError(f"a packed entry cannot be read: {error}") from None
        if not isinstance(entry, dict):
            raise PackError("a packed entry is not an object")
        found.append(entry)
    return found


def _dict(dictionary: bytes | None) -> zstandard.ZstdCompressionDict | None:
    return None if dictionary is None else zstandard.ZstdCompressionDict(dictionary)
