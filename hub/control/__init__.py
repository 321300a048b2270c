"""Operating a running writer: pauses and lane status through the hub database.

    hub office pause|resume ID ──┐                       ┌── every writer, every ~1 s:
    hub vendor pause|resume NAME ┼─▶ pauses (+ pause_log)┤   watcher ─▶ gate (per lane) ─▶ board
       (vendor: the broker also  │                       │   board ─▶ hub_lane_state, in flight
        refuses its publishes)   │                       │   reporter ─▶ lane_status
    hub status ◀── lane_status, pauses, writers, queue depths (management API)

Every writer also beats in ``writers``; from the live ones each computes which writer serves
each office (``ownership``), the same answer in every writer.

``commands`` is the operators' side, ``running`` the writer's.
"""
