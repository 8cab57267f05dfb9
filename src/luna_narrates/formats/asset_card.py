"""Asset cards: the record every image LUNA-Narrates makes carries inside its PNG (what it
shows, how it was made, who made it, under which licence), so the image stays a portable asset
wherever it is copied. Bytes in, a card out, and back; the pixels are never re-encoded.

`embed` writes three text chunks before the pixels (IDAT), where Pillow, and so ComfyUI and
A1111, write theirs and where `Image.open(…).info` finds them without decoding the image; every
other chunk is kept byte for byte:

- `LUNA-Asset-Card`: the card as JSON in a tEXt chunk. tEXt holds Latin-1 only, so the JSON is
  written with `ensure_ascii` (a name in any script survives as `\\uXXXX` escapes that every JSON
  reader turns back). tEXt rather than iTXt because some readers look at tEXt alone (ComfyUI's
  PNG loader among them), and ComfyUI writes its own JSON chunks the same way.
- `parameters`: A1111's infotext (the prompt, a `Negative prompt:` line, then `Steps: …, CFG
  scale: …, Seed: …, Size: …, Model: …, Version: …`), which A1111's and Forge's PNG Info,
  Civitai and ComfyUI (an image dropped on its canvas becomes a txt2img graph) all read. tEXt
  when Latin-1, else iTXt, as A1111 writes it through Pillow.
- `model`: the model's name alone, for scripts that read `Image.open(…).info["model"]`.

No `prompt` chunk is written: ComfyUI reads `prompt` as its API-format graph (`JSON.parse`,
before it looks at `parameters`), so a prompt's text there would break opening the image in
ComfyUI. An image ComfyUI made keeps its own `prompt` and `workflow` chunks untouched, and
ComfyUI still reopens the exact graph.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from luna_narrates.formats import png_chunks
from luna_narrates.kit import json_text

KEYWORD = "LUNA-Asset-Card"
WRITTEN = (KEYWORD, "parameters", "model")  # replaced by `embed`; every other chunk is kept
FORMAT_VERSION = "1.0"  # a newer minor version is read, a newer major one refused
MAX_CARD_CHARS = 1024 * 1024
NO_CARD = (
    "This PNG has no LUNA asset card (no `LUNA-Asset-Card` text chunk): it was not made by "
    "LUNA-Narrates or its card was stripped."
)

# What the image shows: `character` a portrait, `location` a place as the player arrives,
# `background` a backdrop behind the story text, `action` the moment of a turn, `item` one
# object, `scene` the whole moment with its cast.
ContentType = Literal["character", "location", "background", "action", "item", "scene"]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
AttributeValue = Annotated[str, StringConstraints(max_length=1000)] | int | float | bool


class AssetCardError(ValueError):
    """The bytes hold no asset card we can read, or the card cannot be written; the message
    says why."""


class AssetGeneration(BaseModel):
    """How the pixels were made. `steps`, `cfg` and `seed` are None for a renderer that has
    none (the placeholder, an API that hides them)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    prompt: Annotated[str, StringConstraints(max_length=20_000)]
    model: Name
    steps: Annotated[int, Field(ge=1, le=10_000)] | None = None
    cfg: Annotated[float, Field(ge=0, le=100)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**64 - 1)] | None = None  # ComfyUI's seeds are 64-bit


class AssetCard(BaseModel):
    """Fields of a newer card (top level or in `generation`) are kept, so it round-trips."""

    model_config = ConfigDict(extra="allow", frozen=True)

    format_version: Annotated[str, StringConstraints(pattern=r"^\d{1,4}\.\d{1,4}$")] = (
        FORMAT_VERSION
    )
    content_type: ContentType
    name: Name
    description: Annotated[str, StringConstraints(max_length=4000)] = ""
    attributes: Annotated[
        dict[Annotated[str, StringConstraints(min_length=1, max_length=100)], AttributeValue],
        Field(max_length=100),
    ] = Field(default_factory=dict)
    generation: AssetGeneration
    created_by: Name
    created_at: AwareDatetime
    license: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "CC-BY-SA-4.0"

    @field_validator("created_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _storable(self) -> Self:
        """A NUL would end a PNG text early and PostgreSQL refuses it, as it refuses NaN."""
        where = json_text.find_unstorable(self.model_dump())
        if where is not None:
            raise ValueError(f"{where} holds a NUL character or a number that is not finite")
        return self


def embed(png: bytes, card: AssetCard) -> bytes:
    """The PNG with `card` written in, replacing the chunks named in `WRITTEN` it had (an
    older card among them); every other chunk is kept byte for byte. The card is checked
    again first: `model_copy(update=…)` skips validation."""
    found = _chunks(png)
    try:
        card = AssetCard.model_validate(card.model_dump())
    except ValidationError as error:
        raise AssetCardError(f"The asset card is not valid: {_problems(error)}.") from None
    text = json.dumps(card.model_dump(mode="json"), ensure_ascii=True)
    if len(text) > MAX_CARD_CHARS:
        raise AssetCardError(f"The asset card is larger than {MAX_CARD_CHARS // 2**20} MiB.")
    written = [
        png_chunks.text_chunk(KEYWORD, text.encode("ascii")),
        png_chunks.text_or_itxt("parameters", infotext(card, png_chunks.image_size(found))),
        png_chunks.text_or_itxt("model", card.generation.model),
    ]
    return png_chunks.replace_texts(found, WRITTEN, written, before=b"IDAT")


def extract(png: bytes) -> AssetCard:
    """The card in the PNG, validated. A card of a newer minor version is read (its unknown
    fields kept); a newer major version is refused, as its fields may mean something else."""
    texts = _texts(png, (KEYWORD,))
    if KEYWORD.lower() not in texts:
        raise AssetCardError(NO_CARD)
    text = texts[KEYWORD.lower()]
    if len(text) > MAX_CARD_CHARS:
        raise AssetCardError(f"The PNG's asset card is larger than {MAX_CARD_CHARS // 2**20} MiB.")
    try:
        found = json_text.loads(text)
    except json_text.JsonRefused as error:
        raise AssetCardError(f"The PNG's asset card is not JSON: {error}.") from None
    if not isinstance(found, dict):
        raise AssetCardError("The PNG's asset card is not a JSON object.")
    _check_version(found.get("format_version", FORMAT_VERSION))
    try:
        return AssetCard.model_validate(found)
    except ValidationError as error:
        raise AssetCardError(f"The PNG's asset card is not valid: {_problems(error)}.") from None


def infotext(card: AssetCard, size: tuple[int, int]) -> str:
    """A1111's infotext for the card's generation. The `Negative prompt:` line is written even
    when empty, as ComfyUI imports no infotext without one; `Size`, `Model` and `Version` are
    always there, so the settings line has the three settings A1111 needs to recognise it."""
    generation = card.generation
    settings = {
        "Steps": generation.steps,
        "CFG scale": generation.cfg,
        "Seed": generation.seed,
        "Size": f"{size[0]}x{size[1]}",
        "Model": generation.model,
        "Version": card.created_by,
    }
    line = ", ".join(f"{k}: {_quoted(str(v))}" for k, v in settings.items() if v is not None)
    return f"{generation.prompt}\nNegative prompt: \n{line}"


def generation_parameters(png: bytes) -> dict[str, str]:
    """How another tool says it made the image, in A1111's words (`Prompt`, `Negative prompt`,
    `Steps`, `Sampler`, `CFG scale`, `Seed`, `Size`, `Model`, …): A1111's `parameters` chunk,
    else the first sampler of ComfyUI's `prompt` graph. Empty when it records neither. A hint
    to fill a card from, for a PNG that has none; nothing in it is checked."""
    texts = _texts(png, ("parameters", "prompt"))
    if "parameters" in texts:
        return parse_infotext(texts["parameters"])
    if "prompt" in texts:
        return _comfyui_parameters(texts["prompt"])
    return {}


# A `Key: value` setting of an infotext's last line; a value with `,` or `:` is JSON-quoted.
SETTING = re.compile(r'\s*(\w[\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def parse_infotext(text: str) -> dict[str, str]:
    """An A1111 infotext as `{"Prompt", "Negative prompt", setting: value}`. Like A1111, the
    last line is read as settings only when it holds at least three: a prompt may hold `a: b`."""
    *lines, last = text.strip().split("\n")
    settings = SETTING.findall(last)
    if len(settings) < 3:
        lines, settings = [*lines, last], []
    prompt: list[str] = []
    negative: list[str] = []
    for line in lines:
        if line.startswith("Negative prompt:") and not negative:
            negative.append(line.removeprefix("Negative prompt:").strip())
        else:
            (negative or prompt).append(line)
    found = {"Prompt": "\n".join(prompt).strip(), "Negative prompt": "\n".join(negative).strip()}
    for key, value in settings:
        found[key.strip()] = _unquoted(value.strip())
    return found


def _comfyui_parameters(text: str) -> dict[str, str]:
    """The seed, steps, cfg and sampler of the graph's first KSampler, the text of the prompts
    it is linked to and the checkpoint its model comes from (through LoRA loaders and the
    like), as far as the common graph shapes go."""
    try:
        graph = json_text.loads(text)
    except json_text.JsonRefused:
        return {}
    nodes = graph if isinstance(graph, dict) else {}
    sampler = next(
        (
            node["inputs"]
            for node in nodes.values()
            if isinstance(node, dict)
            and node.get("class_type") in ("KSampler", "KSamplerAdvanced")
            and isinstance(node.get("inputs"), dict)
        ),
        None,
    )
    if sampler is None:
        return {}
    found = {
        "Prompt": _linked(nodes, sampler.get("positive"), "text", "conditioning"),
        "Negative prompt": _linked(nodes, sampler.get("negative"), "text", "conditioning"),
        "Steps": sampler.get("steps"),
        "Sampler": sampler.get("sampler_name"),
        "CFG scale": sampler.get("cfg"),
        "Seed": sampler.get("seed", sampler.get("noise_seed")),
        "Model": _linked(nodes, sampler.get("model"), "ckpt_name", "model"),
    }
    return {k: str(v) for k, v in found.items() if isinstance(v, str | int | float)}


def _linked(nodes: dict[str, Any], link: Any, wanted: str, via: str) -> Any:
    """The literal `wanted` input of the node `link` points to, following its `via` input
    from node to node (a few hops at most) while the node has none."""
    for _ in range(16):
        if not (isinstance(link, list) and link and isinstance(nodes.get(str(link[0])), dict)):
            return None
        inputs = nodes[str(link[0])].get("inputs") or {}
        if not isinstance(inputs, dict):
            return None
        if isinstance(inputs.get(wanted), str):
            return inputs[wanted]
        link = inputs.get(via)
    return None


def _texts(png: bytes, keywords: tuple[str, ...]) -> dict[str, str]:
    """The first text chunk of each keyword, by lower-cased keyword."""
    found = _chunks(png)
    try:
        read = png_chunks.texts(found, keywords)
    except png_chunks.PngError as error:  # a compressed chunk that inflates past the limit
        raise AssetCardError(str(error)) from None
    return {k.lower(): v for k, v in reversed(read)}


def _chunks(png: bytes) -> list[png_chunks.Chunk]:
    try:
        return png_chunks.chunks(png)
    except png_chunks.PngError as error:
        raise AssetCardError(str(error)) from None


def _check_version(version: Any) -> None:
    major = str(version).partition(".")[0]
    if major.isdigit() and int(major) > int(FORMAT_VERSION.partition(".")[0]):
        raise AssetCardError(
            f"This asset card is format {version}, newer than the {FORMAT_VERSION} this "
            "LUNA-Narrates reads: update LUNA-Narrates to open it."
        )


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'the card'}: {problem['msg']}"
        for problem in error.errors()[:10]
    )


def _quoted(value: str) -> str:
    """A setting's value as A1111 writes it, JSON-quoted when it would end the setting early,
    and also when it has spaces at either end, which a reader would strip."""
    quote = re.search(r'[,:"\n]', value) or value != value.strip()
    return json.dumps(value, ensure_ascii=False) if quote else value


def _unquoted(value: str) -> str:
    if value.startswith('"') and value.endswith('"') and len(value) > 1:
        try:
            return str(json.loads(value))
        except json.JSONDecodeError:
            return value
    return value
