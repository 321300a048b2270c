"""The writer (``hub worker``): applies vendors' intents to Open Dental exactly once, in order per
office.

    lanes ── one per office queue: its own consumer, one message at a time, in delivery order
      │
      ▼  wrappers (log, measure) around
    pipeline.process(delivery) -> Decision
        sender ─▶ validation ─▶ authorization ─▶ claiming (ledger) ─▶ resolution (vendor refs)
        ─▶ reconciling (only an attempt in doubt: read-only SQL says found, not found, ambiguous)
        ─▶ application (begin_attempt, paced API call, record_api_call; failures.py classifies)
        ─▶ settlement (dead letter, ledger result, outcome event; shielded)
      │
      ▼
    acking.act(message, decision) ── the one place a decision becomes ack, nack or hold

A step that decides the intent's fate early raises ``Early(verdict)``; the pipeline catches it
once. ``worker`` runs the lanes and drains them on SIGTERM; ``hub/bootstrap.py`` builds the parts.
"""
