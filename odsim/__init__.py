"""A stand-in for Open Dental's REST API over MariaDB: the only code that writes an office database.

It is kept apart from the hub: nothing here imports ``hub``, and only ``hub sim`` imports this.
"""
