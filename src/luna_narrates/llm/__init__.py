"""Models: the registry of `provider:model` strings, the embedded llama.cpp model, test models."""

import pydantic_ai

# No advertising banner in a player's terminal or a server log.
pydantic_ai.BANNER_ENABLED = False
