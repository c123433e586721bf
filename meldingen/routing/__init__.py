"""Routing: which organisation and department a report goes to, by ordered rules that are data."""
