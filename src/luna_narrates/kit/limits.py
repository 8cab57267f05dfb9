"""Limits shared by every reader of untrusted images."""

MAX_PIXELS = 64 * 1024 * 1024  # 8192 x 8192; a portrait is far smaller
