"""Consistency metrics against the simulator's exact ground truth (pure numpy on arrays)."""
