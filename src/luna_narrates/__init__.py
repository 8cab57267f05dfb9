"""LUNA-Narrates: a writers room of AI agents that keeps an interactive story coherent."""
