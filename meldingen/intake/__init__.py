"""Intake: from separate chat messages to one draft, and from a complete draft to a report."""
