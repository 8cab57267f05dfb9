"""Schema-valid structured output from llama.cpp's OpenAI-compatible servers, by grammar.

Providers whose models call tools (openai, anthropic, google, ollama, openai-compatible,
lmstudio) use pydantic-ai's default tool output; the embedded model (local) and the scripted
one (test) handle pydantic-ai's output tool themselves. llama.cpp's servers need another way:

- llama-cpp-python's `llama_cpp.server` rejects `response_format.type=json_schema` (HTTP 500,
  a validation error), so `NativeOutput` fails;
- it constrains a forced tool call by grammar only when `tool_choice` names the function, and
  pydantic-ai sends `"required"`, so a small model answers the output tool with free text;
- `PromptedOutput` alone leaves a small model to write JSON unaided, and it fails validation.

Both llama-cpp-python's server and llama.cpp's own `llama-server` accept
`response_format={"type": "json_object", "schema": {...}}` and sample under a grammar built from
the schema. So `LlamaCppServerModel` (the `llama-cpp-server:<model>` provider) makes prompted
output its default structured mode and sends the output schema that way, in `extra_body`,
which the OpenAI client merges over the plain `{"type": "json_object"}` that pydantic-ai sends
for prompted output. The schema is pydantic-ai's own output object for the request: the one
its instructions show the model and its validator checks (for one pydantic model, the bare
object; for several, pydantic-ai's `{"result": {"kind", "data"}}` wrapper), so the grammar and
the validation cannot disagree.

Why a model rather than a choice of output type in `calls.run_structured`: the choice is made
per model, when pydantic-ai prepares each request, so an agent's fallback chain can mix a
llama.cpp server with tool-calling providers (a request-level `extra_body` would reach an
Anthropic or OpenAI fallback, which refuse it), and the agent code needs no change.

Why a provider of its own rather than the default for `openai-compatible`: that provider also
serves vLLM, LM Studio and OpenRouter, where capable models call tools well, and where
`json_object` with a `schema` is ignored (unconstrained JSON instead of a forced tool call) or
refused (LM Studio takes only `json_schema`). Grammar-constrained output is a property of
llama.cpp's servers, so it is chosen by naming one.

Every string bound in the schema must stay within MAX_GRAMMAR_STRING_LENGTH characters: a
longer `maxLength` crashes llama.cpp's grammar sampler, and the server with it, so such a
schema is refused before it is sent. (A schema that cannot be made into a grammar at all is
silently replaced by a plain JSON grammar in llama-cpp-python's server.)
"""

from __future__ import annotations

from typing import Any

from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.profiles.openai import OpenAIModelProfile
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.settings import ModelSettings

from luna_narrates.errors import ConfigurationError

MAX_GRAMMAR_STRING_LENGTH = 600

LLAMA_CPP_SERVER_PROFILE = OpenAIModelProfile(
    default_structured_output_mode="prompted",
    supports_json_object_output=True,
    supports_json_schema_output=False,
    # llama-cpp-python's server ignores `max_completion_tokens` and would generate to the end
    # of its context; `max_tokens` is what both servers read.
    openai_chat_supports_max_completion_tokens=False,
)


class LlamaCppServerModel(OpenAIChatModel):
    """An OpenAI chat model on a llama.cpp server, whose structured output is grammar-bound."""

    def __init__(self, model_name: str, *, provider: OpenAIProvider) -> None:
        super().__init__(model_name, provider=provider, profile=LLAMA_CPP_SERVER_PROFILE)

    def prepare_request(
        self,
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelSettings | None, ModelRequestParameters]:
        settings, parameters = super().prepare_request(model_settings, model_request_parameters)
        output = parameters.output_object
        if parameters.output_mode != "prompted" or output is None:
            return settings, parameters
        return with_json_schema(settings, output.json_schema, output.name), parameters


def with_json_schema(
    settings: ModelSettings | None, schema: dict[str, Any], name: str | None = None
) -> ModelSettings:
    """`settings` asking a llama.cpp server for JSON under `schema`'s grammar; any other
    `extra_body` fields are kept."""
    _check_string_bounds(schema, name or "the output schema")
    merged = ModelSettings(**(settings or {}))
    extra = merged.get("extra_body")
    merged["extra_body"] = {
        **(extra if isinstance(extra, dict) else {}),
        "response_format": {"type": "json_object", "schema": schema},
    }
    return merged


def _check_string_bounds(schema: Any, name: str) -> None:
    if isinstance(schema, dict):
        bound = schema.get("maxLength")
        if isinstance(bound, int) and bound > MAX_GRAMMAR_STRING_LENGTH:
            raise ConfigurationError(
                f"{name} allows a string of {bound} characters; a llama.cpp grammar takes at "
                f"most {MAX_GRAMMAR_STRING_LENGTH}."
            )
        for value in schema.values():
            _check_string_bounds(value, name)
    elif isinstance(schema, list):
        for value in schema:
            _check_string_bounds(value, name)
