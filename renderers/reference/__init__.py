"""The reference renderer: deterministic, physically based path tracing of world states (Mitsuba 3)."""
