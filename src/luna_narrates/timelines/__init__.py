"""Timelines: branches of a story, redo, alternate takes of a turn, and edits."""
