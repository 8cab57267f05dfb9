"""`luna doctor` against the real test database: configuration sources, masked secrets, ✓/✗
checks and the exit code; OpenAI-compatible servers faked over httpx.MockTransport and over a
real loopback HTTP server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from luna_narrates.cli.main import app
from luna_narrates.config import Settings
from luna_narrates.db.health import mask_database_url
from luna_narrates.llm.health import check_models
from tests.conftest import make_settings

# Every variable the doctor reads, unset unless a test sets it (a developer's shell may set them).
SETTINGS_VARIABLES = [name.upper() for name in Settings.model_fields]


@pytest.fixture
def base_env(
    database_url: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str | None]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    env: dict[str, str | None] = dict.fromkeys(SETTINGS_VARIABLES)
    env.update(
        DATABASE_URL=database_url,
        LUNA_DATA_DIR=str(data_dir),
        PREPROCESSOR_MODEL="test",
        STRATEGIST_MODEL="test",
        WRITER_MODEL="test",
        COLUMNS="200",
        FORCE_COLOR=None,  # plain text whatever the environment asks of rich
    )
    return env


def doctor(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(app, ["doctor", *args], env=env)


def row(output: str, variable: str) -> list[str]:
    """The cells of the configuration table's row for `variable`."""
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0] == variable:
            return cells
    raise AssertionError(f"no row for {variable} in:\n{output}")


def check_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("✓ ", "✗ "))]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def model_list(*ids: str) -> dict[str, Any]:
    """The documented `GET /v1/models` answer of the OpenAI API."""
    return {
        "object": "list",
        "data": [
            {"id": i, "object": "model", "created": 1_700_000_000, "owned_by": "me"} for i in ids
        ],
    }


# --- the command -------------------------------------------------------------------------------


def test_all_checks_pass_on_the_test_model(base_env: dict[str, str | None]) -> None:
    result = doctor(base_env)
    assert result.exit_code == 0, result.output
    lines = check_lines(result.output)
    assert any(line.startswith("✓ database: PostgreSQL ") for line in lines), result.output
    assert any(line.startswith("✓ pgvector: extension installed, version ") for line in lines)
    assert any(line.startswith("✓ migrations: at head") for line in lines)
    assert "✓ embedder all-MiniLM-L6-v2: embeds a sentence in 384 dimensions" in result.output
    # Three agents share one model: one check.
    [model] = [line for line in lines if line.startswith(("✓ model", "✗ model"))]
    assert model.startswith(
        "✓ model test (preprocessor, strategist, writer, summariser, extractor, dreamer): the "
        "deterministic"
    )
    assert "135M" not in result.output


def test_the_table_shows_every_setting_and_its_source(base_env: dict[str, str | None]) -> None:
    Path(".env").write_text("LUNA_LOG_LEVEL=debug\n")
    result = doctor({**base_env, "LUNA_PORT": "8123"})
    assert result.exit_code == 0, result.output
    for variable in SETTINGS_VARIABLES:
        row(result.output, variable)
    assert row(result.output, "LUNA_PORT") == ["LUNA_PORT", "8123", "environment"]
    assert row(result.output, "LUNA_LOG_LEVEL") == ["LUNA_LOG_LEVEL", "debug", ".env file"]
    assert row(result.output, "LUNA_HOST") == ["LUNA_HOST", "127.0.0.1", "default"]


def test_secrets_are_masked(base_env: dict[str, str | None]) -> None:
    env = {
        **base_env,
        "STRATEGIST_MODEL": "anthropic:claude-sonnet-4-5",
        "ANTHROPIC_API_KEY": "sk-secret-123",
    }
    result = doctor(env)
    assert result.exit_code == 0, result.output
    assert "sk-secret-123" not in result.output
    assert row(result.output, "ANTHROPIC_API_KEY") == [
        "ANTHROPIC_API_KEY",
        "******** (set)",
        "environment",
    ]
    assert row(result.output, "OPENAI_API_KEY") == ["OPENAI_API_KEY", "(unset)", "default"]
    assert "✓ model anthropic:claude-sonnet-4-5 (strategist): ANTHROPIC_API_KEY is set" in (
        result.output
    )


def test_a_missing_key_fails(base_env: dict[str, str | None]) -> None:
    result = doctor({**base_env, "WRITER_MODEL": "openai:gpt-4.1"})
    assert result.exit_code == 1
    assert "✗ model openai:gpt-4.1 (writer): OPENAI_API_KEY is not set" in result.output


def test_a_password_in_the_database_url_is_hidden() -> None:
    masked = mask_database_url("postgresql://luna:hunter2@db.example:5432/luna?sslmode=require")
    assert masked == "postgresql://luna:***@db.example:5432/luna?sslmode=require"
    masked = mask_database_url("postgresql://db.example/luna?user=luna&password=hunter2")
    assert "hunter2" not in masked and masked.endswith("?user=luna&password=***")
    assert mask_database_url("postgresql:///luna?host=/tmp/pg") == "postgresql:///luna?host=/tmp/pg"


def test_the_embedded_database_is_checked(base_env: dict[str, str | None], data_dir: Path) -> None:
    # LUNA_DATA_DIR/pg is where the session's server already runs: the doctor joins it.
    result = doctor({**base_env, "DATABASE_URL": None})
    assert result.exit_code == 0, result.output
    assert f"(embedded PostgreSQL in {data_dir / 'pg'})" in result.output
    assert row(result.output, "DATABASE_URL") == ["DATABASE_URL", "(unset)", "default"]


def test_an_unreachable_database_fails(base_env: dict[str, str | None]) -> None:
    url = f"postgresql://luna:hunter2@127.0.0.1:{closed_port()}/luna"
    result = doctor({**base_env, "DATABASE_URL": url})
    assert result.exit_code == 1
    assert "hunter2" not in result.output
    assert "✗ database: postgresql://luna:***@127.0.0.1" in result.output


def test_an_unreachable_server_fails(base_env: dict[str, str | None]) -> None:
    env = {
        **base_env,
        "WRITER_MODEL": "openai-compatible:foo",
        "OPENAI_COMPATIBLE_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1",
    }
    result = doctor(env)
    assert result.exit_code == 1
    [line] = [x for x in check_lines(result.output) if "openai-compatible:foo" in x]
    assert line.startswith("✗ model openai-compatible:foo (writer): cannot reach http://127.0.0.1")


def test_an_invalid_model_fails_before_any_check(base_env: dict[str, str | None]) -> None:
    result = doctor({**base_env, "WRITER_MODEL": "gpt4"})
    assert result.exit_code == 1
    assert "✗ configuration:" in result.output and "'gpt4'" in result.output


def test_the_model_option_overrides_every_agent(base_env: dict[str, str | None]) -> None:
    env = {**base_env, "PREPROCESSOR_MODEL": "openai:x", "STRATEGIST_MODEL": "google:y"}
    result = doctor(env, "--model", "test")
    assert result.exit_code == 0, result.output
    assert row(result.output, "WRITER_MODEL") == ["WRITER_MODEL", "test", "--model option"]


@pytest.mark.llm
def test_the_embedded_model_loads_and_the_note_says_it_is_tiny(
    base_env: dict[str, str | None],
) -> None:
    result = doctor(
        {**base_env, "STRATEGIST_MODEL": "local:smollm2", "WRITER_MODEL": "local:smollm2"}
    )
    assert result.exit_code == 0, result.output
    [line] = [x for x in check_lines(result.output) if "local:smollm2" in x]
    assert line.startswith("✓ model local:smollm2 (strategist, writer): SmolLM2-135M-Instruct")
    assert " MB, loaded in " in line
    note = result.output.split("Note:", 1)[1]
    assert "135M-parameter model" in note
    for advice in (
        "WRITER_MODEL=ollama:llama3.1",
        "WRITER_MODEL=lmstudio:<model>",
        "http://127.0.0.1:1234/v1",
        "WRITER_MODEL=openai-compatible:<model>",
        "OPENAI_COMPATIBLE_BASE_URL",
        "STRATEGIST_MODEL=anthropic:claude-sonnet-4-5",
        "ANTHROPIC_API_KEY",
    ):
        assert advice in note


# --- a real loopback server --------------------------------------------------------------------


@pytest.fixture
def ollama_url() -> Iterator[str]:
    """A loopback server answering `GET /v1/models` the way Ollama's OpenAI API does."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/v1/models"
            body = json.dumps(model_list("llama3.1:latest", "qwen3:8b")).encode()
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_a_reachable_server_listing_the_model_passes(
    base_env: dict[str, str | None], ollama_url: str
) -> None:
    env = {**base_env, "WRITER_MODEL": "ollama:llama3.1", "OLLAMA_BASE_URL": ollama_url}
    result = doctor(env)
    assert result.exit_code == 0, result.output
    assert f"✓ model ollama:llama3.1 (writer): {ollama_url}/models lists llama3.1" in result.output


def test_a_reachable_server_without_the_model_fails(
    base_env: dict[str, str | None], ollama_url: str
) -> None:
    env = {**base_env, "WRITER_MODEL": "ollama:mistral", "OLLAMA_BASE_URL": ollama_url}
    result = doctor(env)
    assert result.exit_code == 1
    assert "✗ model ollama:mistral (writer): " in result.output
    assert "does not list mistral (it lists: llama3.1:latest, qwen3:8b)" in result.output


# --- the checker over httpx.MockTransport ------------------------------------------------------


def mock_client(seen: list[httpx.Request], status: int = 200, **body: Any) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path != "/v1/models":
            return httpx.Response(404)
        return httpx.Response(status, json=body or model_list("foo", "bar"))

    return httpx.Client(transport=httpx.MockTransport(handler))


def server_settings(database_url: str, data_dir: Path, model: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "writer_model": model,
        "openai_compatible_base_url": "http://models.test/v1/",
        "openai_compatible_api_key": None,
        **extra,
    }
    return make_settings(database_url, data_dir, **values)


def test_the_model_is_listed(database_url: str, data_dir: Path) -> None:
    seen: list[httpx.Request] = []
    settings = server_settings(
        database_url, data_dir, "openai-compatible:foo", openai_compatible_api_key="sk-local"
    )
    checks = check_models(settings, client=mock_client(seen))
    [writer] = [c for c in checks if "writer" in c.name]
    assert writer.ok and writer.detail == "http://models.test/v1/models lists foo"
    assert seen[0].method == "GET" and seen[0].headers["Authorization"] == "Bearer sk-local"


def test_the_model_is_not_listed(database_url: str, data_dir: Path) -> None:
    settings = server_settings(database_url, data_dir, "lmstudio:qux")
    [writer] = [c for c in check_models(settings, client=mock_client([])) if "writer" in c.name]
    assert not writer.ok
    assert writer.detail == "http://models.test/v1/models does not list qux (it lists: foo, bar)"


def test_a_server_error_or_a_strange_answer_fails(database_url: str, data_dir: Path) -> None:
    settings = server_settings(database_url, data_dir, "openai-compatible:foo")
    [error] = [c for c in check_models(settings, client=mock_client([], 500)) if "writer" in c.name]
    assert not error.ok and "answered HTTP 500" in error.detail
    odd = mock_client([], models=["foo"])
    [strange] = [c for c in check_models(settings, client=odd) if "writer" in c.name]
    assert not strange.ok and "did not answer with an OpenAI-style model list" in strange.detail


def test_openai_compatible_needs_a_base_url(database_url: str, data_dir: Path) -> None:
    settings = server_settings(
        database_url, data_dir, "openai-compatible:foo", openai_compatible_base_url=None
    )
    [writer] = [c for c in check_models(settings, client=mock_client([])) if "writer" in c.name]
    assert not writer.ok and "OPENAI_COMPATIBLE_BASE_URL" in writer.detail
