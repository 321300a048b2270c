"""The writer (``hub worker``): applies vendors' intents to Open Dental exactly once, in order per
office. One ``patient.create`` goes from delivery to ack through eight modules:

    lanes ── one per office queue (office_queue: the consumer on a channel of the lane's own,
      │      the decoded ``Delivery``, the ack): one message at a time, in delivery order; a hold
      │      that fits half the broker's timeout waits in place, a longer one parks the office's
      │      deliveries in the hub database (hub/custody) and drains them later
      ▼
    pipeline.run(delivery) ── run after run until decided or held; logged, measured (metrics)
        intake       identify, validate, authorize, claim (ledger: new, duplicate, in doubt)
        application  the request (vendor refs resolved), the attempt, the call to Open Dental
        finishing    dead letter, ledger finish, outcome event or the outbox; shielded
      │
      ▼
    decisions ── the one vocabulary: ``Final`` (an ``OutcomeStatus``: acked once durable) or
                 ``Hold`` (a ``HoldCause``: the lane keeps the delivery)

Off that path: ``reconciling`` (an attempt in doubt: read-only SQL says found, not found,
ambiguous), ``retrying`` (the one retry policy: classify, charge, delay, exhausted), and
``worker`` (runs the lanes, drains them on SIGTERM). ``hub/bootstrap.py`` builds the parts.
Every step returns what it produced or a decision; none raises to say what happens to a message.
"""
