"""Background jobs on procrastinate: the app, its tasks, and the worker."""
