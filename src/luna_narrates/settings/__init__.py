"""Settings changed while the server runs: stored in `luna.settings`, reloaded by every process."""
