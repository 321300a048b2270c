"""Contracts, major version 2: served beside version 1, each validated and applied by its own
rules (contracts/README.md, "Versions")."""
