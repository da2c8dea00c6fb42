"""Exports of clip and dataset folders to the formats other tools read: one table of formats,
``registry.EXPORT_TABLE``, behind ``worldsim export --format`` and ``worldsim dataset --export``."""
