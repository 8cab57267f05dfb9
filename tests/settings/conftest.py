"""Settings tests play turns on the recording models of tests/scripted.py."""

from tests.narration.conftest import room, services, settings

__all__ = ["room", "services", "settings"]
