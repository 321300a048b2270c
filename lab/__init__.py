"""The lab beside the product: ``hub demo``, ``hub chaos``, ``hub bench`` and ``hub bench-sim``.

It imports the product (``hub``, ``contracts``, ``adapters``), never the reverse; the production
image ships without it. See lab/README.md.
"""
