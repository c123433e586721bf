"""Staff accounts and the keys systems use: staff users, API tokens, Open311 keys."""
