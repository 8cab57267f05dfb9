"""Placeholders: clearly labelled stand-ins, the same for the same prompt, never mistaken for
generated art."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from luna_narrates.kit.images import inspect, placeholder_image, placeholder_portrait


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_a_placeholder_image_is_a_png_of_the_size_asked_for() -> None:
    png = placeholder_image(
        "The Ferry Landing", "a jetty at dusk", width=768, height=512, kind="location"
    )
    assert inspect(png).media_type == "image/png"
    assert decoded(png).size == (768, 512)


def test_the_same_prompt_gives_the_same_picture_and_another_prompt_another_palette() -> None:
    def draw(prompt: str) -> bytes:
        return placeholder_image("Mira", prompt, width=64, height=96, kind="character")

    assert draw("a girl by the sea") == draw("a girl by the sea")
    top = {prompt: decoded(draw(prompt)).getpixel((1, 1)) for prompt in ("a", "b", "c")}
    assert len(set(top.values())) == 3


def test_warm_words_give_warm_hues_and_cool_words_cool_ones() -> None:
    def top_colour(prompt: str) -> tuple[int, int, int]:
        png = placeholder_image("x", prompt, width=32, height=32, kind="scene")
        return decoded(png).convert("RGB").getpixel((0, 0))  # type: ignore[return-value]

    red, _, blue = top_colour("the village on fire at sunset")
    assert red > blue
    red, _, blue = top_colour("the frozen sea at night")
    assert blue > red


def test_the_card_says_placeholder_and_its_kind_in_visible_text() -> None:
    plain = decoded(placeholder_image("", "p", width=400, height=300, kind="")).convert("L")
    labelled = decoded(placeholder_image("", "p", width=400, height=300, kind="item")).convert("L")
    assert plain.getextrema()[1] > 200, "white lettering (PLACEHOLDER, Untitled) is drawn"
    assert plain.tobytes() != labelled.tobytes(), "the kind is written on it"


@pytest.mark.parametrize(("width", "height"), [(0, 100), (100, 2049), (4096, 4096), (-5, 10)])
def test_a_placeholder_is_at_most_2048_pixels_a_side(width: int, height: int) -> None:
    with pytest.raises(ValueError, match="2048 pixels a side"):
        placeholder_image("x", "p", width=width, height=height, kind="background")


def test_the_placeholder_portrait_keeps_its_size() -> None:
    assert decoded(placeholder_portrait("Ila Varo")).size == (400, 600)
