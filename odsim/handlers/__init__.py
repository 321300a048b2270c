"""The API methods, one module per resource; each exposes ``routes``."""
