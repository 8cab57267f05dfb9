"""`.env.example` and Settings cannot drift: the same variables, each explained, same defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_core import PydanticUndefined

from luna_narrates.config import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
# `NAME=value` or, for a setting without a default, `# NAME=example`.
VARIABLE = re.compile(r"^(?:#\s?)?([A-Z][A-Z0-9_]*)=")


def example_lines() -> list[str]:
    return EXAMPLE.read_text(encoding="utf-8").splitlines()


def example_variables() -> list[str]:
    return [m.group(1) for line in example_lines() if (m := VARIABLE.match(line))]


def test_every_setting_is_documented() -> None:
    missing = {name.upper() for name in Settings.model_fields} - set(example_variables())
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_every_documented_variable_is_a_setting() -> None:
    unknown = set(example_variables()) - {name.upper() for name in Settings.model_fields}
    assert not unknown, f"not Settings fields: {sorted(unknown)}"


def test_each_variable_appears_once() -> None:
    variables = example_variables()
    assert len(variables) == len(set(variables))


def test_each_variable_has_a_line_of_explanation() -> None:
    lines = example_lines()
    for index, line in enumerate(lines):
        if VARIABLE.match(line):
            above = lines[index - 1]
            assert above.startswith("# ") and not VARIABLE.match(above), line


def test_only_settings_without_a_fixed_default_are_commented_out() -> None:
    active = {m.group(1) for line in example_lines() if (m := re.match(r"^([A-Z0-9_]+)=", line))}
    for name, field in Settings.model_fields.items():
        fixed = field.default_factory is None and field.default not in (None, PydanticUndefined)
        assert (name.upper() in active) == fixed, name


def test_the_uncommented_values_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    from_example = Settings(_env_file=EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_example.model_dump() == defaults.model_dump()
