"""Datasets the simulator makes: training data for the renderers (``training_clips``) from random
procedural scenes (``random_scenes``). Part of the orchestration layer, so it may reach ``renderers``."""
