"""Residents and their conversations: who wrote, on which channel, and the draft of what they tell."""
