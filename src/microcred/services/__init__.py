"""Use cases: the only layer that combines the others."""
