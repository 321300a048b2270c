"""``hub demo``: the whole flow on this machine, end to end, with an accounting that can be checked.

    report = await run_demo(DemoConfig(settings=HubSettings()), start_simulator, progress)
    print(report_json(report))          # or report_text(report); report.ok for the exit code

``stack`` brings up the embedded hub (ledger migrated, topology, the simulator on the registry
office's URL, the two vendors' broker users with fresh passwords, the writer as ``hub worker``
runs it) and drains it afterwards. ``script`` is the scripted mix, pure; ``vendors`` publishes it
through the vendor publisher library; ``outcomes`` reads both vendors' outcome queues;
``accounting`` pairs every publish with its end; ``checks`` proves the effects in Open Dental's
tables (read-only SQL) and the ledger's API calls; ``doors`` changes rows through the simulator's
other doors and holds the watch's attributions (and the change events told) against what each
did; ``report`` and ``text_view`` render.

The simulator is never imported here: the caller passes a ``StartSimulator`` (``hub demo``'s
command module builds it). Everything is parameterised by ``DemoConfig`` (registry path, ledger
database, the office database and port through the registry, vendor and office names), so tests
run it on throwaway databases and names.
"""

from lab.demo.config import Cast, DemoConfig, DemoError, SimTarget, StartSimulator
from lab.demo.report import DemoReport, report_json
from lab.demo.run import run_demo
from lab.demo.text_view import report_text

__all__ = [
    "Cast",
    "DemoConfig",
    "DemoError",
    "DemoReport",
    "SimTarget",
    "StartSimulator",
    "report_json",
    "report_text",
    "run_demo",
]
