"""Nothing lost, nothing doubled: the retry policy shared by every sweep, and the staff "stuck" list.

Each kind of durable work keeps its own attempts, last and next attempt on its own row (inbound events,
outbox messages, conversations whose quiet period passed) and its sweep lives with it; this package holds
what they share: when to try again (`policy`) and what staff see and do about work that keeps failing
(`stuck`). See docs/RECOVERY.md.
"""
