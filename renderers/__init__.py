"""Renderers: everything that turns world state into pixels."""
