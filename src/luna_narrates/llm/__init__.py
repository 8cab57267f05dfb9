"""Models: the registry of `provider:model` strings, the embedded llama.cpp model, test models."""
