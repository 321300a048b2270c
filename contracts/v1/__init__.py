"""Contracts, major version 1."""
