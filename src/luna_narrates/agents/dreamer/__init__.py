"""Dreamer: while the player reads and types, invents what the story may need next (characters,
places, items, scenes, plot twists) so that its picture is drawn before a turn asks for it."""
