"""The Open Dental integration hub: vendors' intents in, Open Dental API writes out, once."""
