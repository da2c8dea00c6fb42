"""Calibration renderers: a consistent flat shader and two deliberately inconsistent ones."""
