"""Real files from other projects in ../shared/fixtures (SillyTavern's Seraphina card and
Eldoria world info: AGPL-3.0 content, kept outside the repository on purpose)."""

from __future__ import annotations

from pathlib import Path

import pytest

# ../shared beside the repository, or the workplace's own copy for a clone made elsewhere.
SHARED = next(
    (
        path
        for path in (Path(__file__).resolve().parents[2] / "shared", Path("/work/shared"))
        if path.is_dir()
    ),
    None,
)
FIXTURES = SHARED / "fixtures" if SHARED is not None else None
needs_fixtures = pytest.mark.skipif(FIXTURES is None, reason="../shared/fixtures is not here")


def fixture(name: str) -> bytes:
    assert FIXTURES is not None
    return (FIXTURES / "sillytavern" / name).read_bytes()
