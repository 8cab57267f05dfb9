"""The story's memory: what later turns can retrieve of earlier ones."""
