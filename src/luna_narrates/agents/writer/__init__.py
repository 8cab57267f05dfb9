"""Writer: turns the Strategist's plan into prose, streamed to the player."""
