"""``direct``: a deterministic direct-lighting baseline from the guidance's lighting maps."""
