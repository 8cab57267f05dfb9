"""The community asset library: asset cards a player keeps, shares and finds, and collections."""
