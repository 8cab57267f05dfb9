"""The turn orchestrator: Preprocessor → Strategist → Writer, streamed, committed once."""
