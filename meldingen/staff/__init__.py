"""Staff: accounts, roles, API tokens, sign-in, and the staff web pages."""
