"""llama-cpp-server models ask for grammar-bound JSON; other OpenAI-compatible ones do not.

The real server is exercised in test_openai_compatible_server.py; these check the requests
without one."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.output import OutputObjectDefinition
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition

from luna_narrates.agents.preprocessor.schemas import SceneReading
from luna_narrates.agents.strategist.schemas import ResponseTemplate
from luna_narrates.config import Settings
from luna_narrates.errors import ConfigurationError
from luna_narrates.llm.registry import ModelRegistry
from luna_narrates.llm.structured import LlamaCppServerModel, with_json_schema


def registry() -> ModelRegistry:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, openai_compatible_base_url="http://127.0.0.1:9/v1"
    )
    return ModelRegistry(settings)


def prompted(output: type[BaseModel]) -> ModelRequestParameters:
    """What an agent with `output_type=output` asks of a model that picks the mode itself."""
    schema = output.model_json_schema()
    return ModelRequestParameters(
        output_mode="auto",
        output_object=OutputObjectDefinition(json_schema=schema, name=output.__name__),
        output_tools=[ToolDefinition(name="final_result", parameters_json_schema=schema)],
        allow_text_output=False,
    )


@pytest.mark.parametrize("output", [SceneReading, ResponseTemplate])
def test_a_llama_cpp_server_is_asked_for_json_under_the_output_schema(
    output: type[BaseModel],
) -> None:
    reg = registry()
    model = reg.model(reg.spec("llama-cpp-server:smollm2"), "strategist")
    assert isinstance(model, LlamaCppServerModel)
    given: ModelSettings = {"max_tokens": 50, "extra_body": {"min_tokens": 5}}
    settings, parameters = model.prepare_request(given, prompted(output))
    assert parameters.output_mode == "prompted"
    assert parameters.output_object is not None
    assert settings is not None
    assert settings["extra_body"] == {
        "min_tokens": 5,
        "response_format": {"type": "json_object", "schema": parameters.output_object.json_schema},
    }
    assert given["extra_body"] == {"min_tokens": 5}, "the caller's settings are not changed"
    assert model.profile.get("openai_chat_supports_max_completion_tokens") is False


def test_other_openai_compatible_servers_keep_tool_output_and_send_max_tokens() -> None:
    reg = registry()
    model = reg.model(reg.spec("openai-compatible:qwen3"), "strategist")
    settings, parameters = model.prepare_request({"max_tokens": 50}, prompted(SceneReading))
    assert parameters.output_mode == "tool"
    assert "extra_body" not in (settings or {})
    assert model.profile.get("openai_chat_supports_max_completion_tokens") is False


def test_an_explicit_tool_output_is_left_alone() -> None:
    reg = registry()
    model = reg.model(reg.spec("llama-cpp-server:smollm2"), "strategist")
    parameters = prompted(SceneReading)
    parameters.output_mode = "tool"
    settings, _ = model.prepare_request({"max_tokens": 50}, parameters)
    assert "extra_body" not in (settings or {})


def test_a_string_bound_a_grammar_cannot_take_is_refused() -> None:
    class Essay(BaseModel):
        text: str = Field(max_length=601)

    with pytest.raises(ConfigurationError, match="601 characters"):
        with_json_schema(None, Essay.model_json_schema(), "Essay")
    bounded = with_json_schema(None, SceneReading.model_json_schema())
    assert bounded["extra_body"] == {
        "response_format": {"type": "json_object", "schema": SceneReading.model_json_schema()}
    }
