"""The audit log: an append-only record of what staff did and which residents' personal data they read."""
