"""The hub's Grafana dashboards, as Python over grafana-foundation-sdk.

``export.render_all()`` turns them into the committed files under grafana/: one JSON per
dashboard in ``dashboards/`` and ``queries.json``, every PromQL expression they use.
"""
