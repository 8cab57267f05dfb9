"""Images we are handed (portraits) checked without trusting them, and the labelled
placeholder portrait used when a character has none."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from luna_narrates.kit.limits import MAX_PIXELS

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
PLACEHOLDER_SIZE = (400, 600)


class ImageRefused(ValueError):
    """Not an image we accept; the message says why."""


@dataclass(frozen=True)
class ImageInfo:
    media_type: str
    width: int
    height: int
    sha256: str


def inspect(data: bytes) -> ImageInfo:
    """Reads the header and checks the file decodes, refusing decompression bombs (more than
    `MAX_PIXELS`) before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind, (width, height) = image.format, image.size
                if width * height > MAX_PIXELS:
                    raise ImageRefused(
                        f"The image is {width}×{height} pixels; the limit is {MAX_PIXELS:,}."
                    )
                image.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise ImageRefused(f"The image is too large to decode safely: {error}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageRefused):
            raise
        raise ImageRefused(f"Not a readable image: {error}") from None
    if kind not in FORMATS:
        raise ImageRefused(f"{kind} images are not accepted; send PNG, JPEG or WebP.")
    return ImageInfo(FORMATS[kind], width, height, hashlib.sha256(data).hexdigest())


def as_png(data: bytes) -> bytes:
    """A JPEG or WebP portrait re-encoded as PNG, for cards, which live in PNG files."""
    with Image.open(io.BytesIO(data)) as image:
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()


def placeholder_portrait(name: str) -> bytes:
    """A plain portrait that says what it is: the name's initials on a colour taken from the
    name, and the word PLACEHOLDER, so nobody mistakes it for generated art."""
    digest = hashlib.sha256(name.encode()).digest()
    background = (40 + digest[0] % 80, 40 + digest[1] % 80, 60 + digest[2] % 100)
    image = Image.new("RGB", PLACEHOLDER_SIZE, background)
    draw = ImageDraw.Draw(image)
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "?"
    big = ImageFont.load_default(size=160)
    small = ImageFont.load_default(size=28)
    width, height = PLACEHOLDER_SIZE
    draw.text((width / 2, height / 2 - 40), initials, fill="white", font=big, anchor="mm")
    draw.text((width / 2, height - 70), name[:28], fill="white", font=small, anchor="mm")
    draw.text(
        (width / 2, height - 30), "PLACEHOLDER", fill=(230, 230, 230), font=small, anchor="mm"
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
