"""Photos: checking, converting and cleaning image bytes, and storing them for the reports they belong to."""
