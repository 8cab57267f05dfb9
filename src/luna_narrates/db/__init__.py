"""Engine, sessions, the embedded PostgreSQL and migrations."""
