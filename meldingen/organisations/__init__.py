"""Organisations (municipalities, service points, other bodies) and their departments."""
