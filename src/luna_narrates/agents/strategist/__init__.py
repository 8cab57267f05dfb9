"""Strategist: plans the next passage as a typed ResponseTemplate before any prose is written."""
