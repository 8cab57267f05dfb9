"""Lorebooks (universes): storage in tiers, entry editing, and activation in the briefing."""
