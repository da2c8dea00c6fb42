"""Exports of clip folders to formats other tools read (``worldsim export CLIP --format ...``)."""
