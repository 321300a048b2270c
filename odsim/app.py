"""The aiohttp application: middlewares auth → network → outages → throttle → faults → (errors)
→ handler, the API routes under /api/v1, the fault, outage, throttle, network and door admin
routes, Open Dental's replies to unknown paths, and the subscriptions' poller running beside
them."""

from __future__ import annotations

import secrets

from aiohttp import web
from aiohttp.typedefs import Handler

from odsim.auth import API_PREFIX, auth_middleware
from odsim.config import SimConfig
from odsim.db import OfficePools
from odsim.doors import doors_routes
from odsim.errors import api_errors, bad_request, not_found
from odsim.events import SubscriptionPoller
from odsim.faults import FaultController
from odsim.handlers import (
    allergies,
    appointment_actions,
    appointment_notes,
    appointment_reads,
    appointments,
    commlogs,
    diseases,
    documents,
    medicationpats,
    patfields,
    patient_reads,
    patients,
    payment_refunds,
    payments,
    reference,
    securitylogs,
    sheets,
    subscriptions,
)
from odsim.network import Network
from odsim.outages import OutageController
from odsim.state import STATE_KEY, SimState
from odsim.throttle import ThrottleCounts, throttle_middleware

ROUTE_TABLES = (
    patients.routes, patient_reads.routes, appointments.routes, appointment_actions.routes,
    appointment_reads.routes, commlogs.routes, documents.routes, payments.routes,
    securitylogs.routes, reference.routes,
    appointment_notes.routes, payment_refunds.routes,
    patfields.routes, allergies.routes, medicationpats.routes, diseases.routes,
    sheets.routes, subscriptions.routes,
)


def _resources() -> frozenset[str]:
    """The first path segment of every API route, e.g. "patients"."""
    names = set()
    for routes in ROUTE_TABLES:
        for route in routes:
            if isinstance(route, web.RouteDef):
                names.add(route.path.removeprefix(API_PREFIX + "/").split("/", 1)[0])
    return frozenset(names)


def _unknown_path_handler() -> Handler:
    known = _resources()

    async def unknown(request: web.Request) -> web.StreamResponse:
        resource = request.match_info["tail"].split("/", 1)[0]
        if resource in known:
            raise bad_request(f"{resource} {request.method} is not a valid method.")
        raise not_found(f"{resource} is not a valid resource.")

    return unknown


def build_app(
    config: SimConfig, pools: OfficePools, faults: FaultController, outages: OutageController
) -> web.Application:
    throttle_counts = ThrottleCounts()
    network = Network(
        config.latency,
        ((c.key, c.latency) for c in config.customers if c.latency is not None),
        config.latency_seed,
    )
    app = web.Application(
        middlewares=[
            auth_middleware(config),
            # Outside the throttle: Open Dental registers a request after its way in, and its
            # reply is sent before its way back.
            network.middleware(),
            # Before the throttle: an office that cannot be served answers at once, as Open
            # Dental's front does without reaching the office.
            outages.middleware,
            throttle_middleware(config.throttle, throttle_counts),
            faults.middleware,
            api_errors,
        ],
        client_max_size=17 * 1024 * 1024,  # Open Dental takes bodies up to 16.8 million chars
    )
    events = SubscriptionPoller(config, pools)
    secret = config.security_hash_secret
    app[STATE_KEY] = SimState(
        config=config, pools=pools, events=events,
        # Random when unset: nobody outside this run can compute a row's SecurityHash.
        hash_secret=(secret.get_secret_value().encode() if secret else secrets.token_bytes(32)),
    )
    app.cleanup_ctx.append(events.context)
    for routes in ROUTE_TABLES:
        app.router.add_routes(routes)
    app.router.add_routes(faults.admin_routes())
    app.router.add_routes(outages.admin_routes())
    app.router.add_routes(throttle_counts.admin_routes())
    app.router.add_routes(doors_routes())
    app.router.add_routes(network.admin_routes())
    app.router.add_route("*", API_PREFIX + "/{tail:.*}", _unknown_path_handler())
    return app
