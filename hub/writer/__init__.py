"""The writer (``hub worker``): applies vendors' intents to Open Dental exactly once, in order per
office.

    lanes ── one per office queue, on a channel of its own: one message at a time, in delivery
      │      order; a hold that fits half the broker's timeout waits in place, a longer one
      │      parks the office's deliveries in the hub database (hub/custody) and drains them later
      │      runs ── one delivery's runs until decided or held (crashes, giving up, reports)
      ▼  wrappers (log, measure) around
    pipeline.process(delivery) -> Decision
        sender ─▶ validation ─▶ authorization ─▶ claiming (ledger) ─▶ resolution (vendor refs)
        ─▶ reconciling (only an attempt in doubt: read-only SQL says found, not found, ambiguous)
        ─▶ application (begin_attempt, paced API call, record_api_call; failures.py classifies)
        ─▶ settlement (dead letter, ledger result, outcome event or the outbox; shielded)
      │
      ▼
    acking ── the one place a decision becomes ack or hold

A step that decides the intent's fate early raises ``Early(verdict)``; the pipeline catches it
once. ``worker`` runs the lanes and drains them on SIGTERM; ``hub/bootstrap.py`` builds the parts.
"""
