"""``hub chaos --outage``: an office's week in a few minutes. On a RabbitMQ node of the run's own
whose short ``consumer_timeout`` and one-second channel tick stand in for days of default
settings, several offices' Open Dental goes away for at least 25 of those timeouts each (a
refused connection, the eConnector's 400, a refused key's 401), an operator pauses and resumes an
office and a vendor, and a vendor's outcome queue is deleted and declared again, while every
vendor keeps publishing to every office; then everything comes back, the writer drains, and the
run accounts for every intent as ``hub chaos`` does, and for what the broker did by itself.

    report = await run_outage(OutageConfig(settings=HubSettings()), progress)
    print(outage_json(report))          # or outage_text(report); report.ok for the exit code

``timeline`` is who is disrupted how and when, pure; ``acts`` performs it on the world
(``lab.chaos.stack`` with a ``StackShape``: the tuned node, a ``Forwarder`` per office whose
connection is refused); ``publishing`` paces every stream on its own and keeps what a paused
vendor is refused; ``outcomes`` watches the deleted queue's vendor; ``broker_log`` counts the
node's consumer timeouts; ``accounting`` judges order, held work, pace and outcomes, pure;
``report`` and ``text_view`` render.
"""

from lab.chaos.outage.config import OutageConfig
from lab.chaos.outage.report import OutageReport, outage_dict, outage_json
from lab.chaos.outage.run import run_outage
from lab.chaos.outage.text_view import outage_text

__all__ = ["OutageConfig", "OutageReport", "outage_dict", "outage_json", "outage_text",
           "run_outage"]
