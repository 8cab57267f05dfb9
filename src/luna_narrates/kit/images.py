"""Images we are handed (portraits) checked without trusting them, and the labelled
placeholders drawn when there is no generated image: a character's portrait, and a title card
for any other kind of image."""

from __future__ import annotations

import colorsys
import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from luna_narrates.kit.limits import MAX_PIXELS

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
PLACEHOLDER_SIZE = (400, 600)
MIN_PLACEHOLDER_SIDE, MAX_PLACEHOLDER_SIDE = 16, 2048
Colour = tuple[int, int, int]


class ImageRefused(ValueError):
    """Not an image we accept; the message says why."""


@dataclass(frozen=True)
class ImageInfo:
    media_type: str
    width: int
    height: int
    sha256: str


@dataclass(frozen=True)
class _Label:
    text: str
    centre: tuple[float, float]
    size: int
    fill: Colour | str = "white"


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
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "?"
    width, height = PLACEHOLDER_SIZE
    _write(
        image,
        [
            _Label(initials, (width / 2, height / 2 - 40), 160),
            _Label(name[:28], (width / 2, height - 70), 28),
            _Label("PLACEHOLDER", (width / 2, height - 30), 28, (230, 230, 230)),
        ],
    )
    return _png(image)


def placeholder_image(title: str, prompt: str, *, width: int, height: int, kind: str) -> bytes:
    """A title card standing in for a generated image: the subject, the kind of image and the
    word PLACEHOLDER on a gradient whose hues come from the prompt (warm for fire and sunsets,
    cool for night and sea), the same prompt giving the same picture."""
    if not (MIN_PLACEHOLDER_SIDE <= width <= MAX_PLACEHOLDER_SIDE) or not (
        MIN_PLACEHOLDER_SIDE <= height <= MAX_PLACEHOLDER_SIDE
    ):
        raise ValueError(
            f"A placeholder is {MIN_PLACEHOLDER_SIDE} to {MAX_PLACEHOLDER_SIDE} pixels a side, "
            f"not {width}×{height}."
        )
    top, bottom = _prompt_colours(prompt)
    image = Image.composite(
        Image.new("RGB", (width, height), bottom),
        Image.new("RGB", (width, height), top),
        Image.linear_gradient("L").resize((width, height)),
    )
    unit = min(width, height) / 100
    heading = max(8, round(unit * 9))
    small = max(6, round(unit * 5))
    _write(
        image,
        [
            _Label(
                _fitted(title or "Untitled", heading, width * 0.9), (width / 2, height / 2), heading
            ),
            _Label(kind.upper()[:40], (width / 2, height / 2 + heading), small, (230, 230, 230)),
            _Label("PLACEHOLDER", (width / 2, height - small * 1.5), small, (230, 230, 230)),
        ],
    )
    return _png(image)


# Words that pull the palette's hue (degrees) their way; the first found wins.
HUE_WORDS = {
    ("fire", "flame", "ember", "sunset", "dusk", "lava", "blood", "autumn", "desert"): 20,
    ("forest", "grass", "meadow", "jungle", "moss", "swamp"): 110,
    ("sea", "ocean", "river", "ice", "snow", "rain", "winter", "water"): 200,
    ("night", "moon", "star", "dream", "magic", "shadow", "void"): 250,
}


def _prompt_colours(prompt: str) -> tuple[Colour, Colour]:
    """Two colours of one hue, a light top and a dark bottom, so white text stays readable."""
    digest = hashlib.sha256(prompt.encode()).digest()
    words = set(re.findall(r"\w+", prompt.lower()))
    hue = next((h for group, h in HUE_WORDS.items() if words & set(group)), digest[0] * 360 / 256)
    hue = (hue + digest[1] % 30 - 15) % 360

    def colour(saturation: float, value: float) -> Colour:
        red, green, blue = colorsys.hsv_to_rgb(hue / 360, saturation, value)
        return round(red * 255), round(green * 255), round(blue * 255)

    return colour(0.45, 0.55 + digest[2] % 20 / 100), colour(0.7, 0.18 + digest[3] % 10 / 100)


def _fitted(text: str, size: int, width: float) -> str:
    """`text`, cut with an ellipsis to fit `width` pixels at `size`."""
    font = ImageFont.load_default(size=size)
    text = text[:200]  # a longer one never fits, and each cut is measured
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _write(image: Image.Image, labels: list[_Label]) -> None:
    draw = ImageDraw.Draw(image)
    for label in labels:
        font = ImageFont.load_default(size=label.size)
        draw.text(label.centre, label.text, fill=label.fill, font=font, anchor="mm")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
