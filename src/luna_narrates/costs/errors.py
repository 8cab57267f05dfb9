"""What pricing refuses, each with a sentence the operator can act on."""

from __future__ import annotations

from luna_narrates.errors import NotFound
from luna_narrates.llm.registry import ModelSpec


class NoOverride(NotFound):
    code = "no_price_override"

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(
            f"No operator price is in force for {spec}: genai-prices' price applies already, "
            "if it lists the model.",
            provider=spec.provider,
            model=spec.name,
        )
