"""Grafana, as code: dashboard sources (``dashboards_src``, Python over grafana-foundation-sdk),
the JSON generated from them (``dashboards/``, committed; ``hub dashboards export|check``), the
list of every PromQL expression they use (``queries.json``), and the provisioning files that give
Grafana the Prometheus data source and the dashboards at start (``provisioning/``)."""
