"""The two-level category tree with handling times, residents' texts and responsible departments."""
