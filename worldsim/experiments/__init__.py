"""Experiment sweeps: scenes x renderers x seeds x clip lengths, scored by ``worldsim.metrics``."""
