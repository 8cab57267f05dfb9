"""Worlds and story templates: settings with their lore and cast that stories start in."""
