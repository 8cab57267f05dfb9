"""The writers' room: one package per agent with its prompt templates and typed input/output.

Agents are pure: they receive their model as an argument and import only `llm/` and `kit/`.
"""
