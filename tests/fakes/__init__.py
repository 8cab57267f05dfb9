"""Fakes of remote LLM servers (Anthropic, Ollama) that speak their documented wire protocols.

Each fake is an ASGI app served on loopback in a test (`async with fake.serve() as url`), answers
from a script, and records every request it received. See tests/fakes/common.py for what they share.
"""
