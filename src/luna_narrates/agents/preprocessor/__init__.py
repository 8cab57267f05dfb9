"""Preprocessor: turns the story's memory into a small, token-budgeted briefing."""
