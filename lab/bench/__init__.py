"""``hub bench``: the hub's throughput at the limits, measured end to end on this machine.

    fleet    K offices in remote mode (1 request/s per customer key) at offered loads of 0.5,
             1.0 and 1.5 times the allowance: applied/s against the allowances, throttle
             replies (counted by the simulator), publish-to-applied latency
    ceiling  service mode, no added latency: intents/s end to end and the writer's CPU per
             intent, beside a bare reference loop (consume → one POST → ack) on the same broker
             and simulator, and the ratio of the two
    scale    the writer's resident memory and start-up time with 1,000 offices

Every scenario builds its own world (throwaway ledger and office databases, a generated registry,
a vendor broker user, office queues), starts ``hub sim`` and ``hub worker`` as child processes
(so the writer's CPU and memory are its own, read from /proc) and removes it all at the end. The
simulator is only ever a child process here: nothing in this package imports it.
"""
