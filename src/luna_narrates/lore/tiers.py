"""Cold storage: a cold book's entries packed with zstd and a dictionary trained on the book
itself, so that thousands of short, similar entries compress far better than one by one."""

from __future__ import annotations

import json
from typing import Any

import zstandard

LEVEL = 19
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


def unpack(blobs: list[bytes], dictionary: bytes | None) -> list[dict[str, Any]]:
    decompressor = zstandard.ZstdDecompressor(dict_data=_dict(dictionary))
    return [json.loads(decompressor.decompress(blob)) for blob in blobs]


def _dict(dictionary: bytes | None) -> zstandard.ZstdCompressionDict | None:
    return None if dictionary is None else zstandard.ZstdCompressionDict(dictionary)
