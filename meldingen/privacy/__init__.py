"""Privacy: the public text of a report, what public outputs show, retention and the resident's rights."""
