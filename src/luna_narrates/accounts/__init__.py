"""Accounts: players, their passwords and sign-ins, and who a request is."""
