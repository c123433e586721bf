"""Duplicates: is a new report a problem we already know? Find, score, merge, subscribe, and undo a merge."""
