"""The Dreamer: ideas a story may need next, invented (and drawn) while the player thinks."""
