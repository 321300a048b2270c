"""``hub chaos``: many intents over many offices and vendors while the simulator fails on purpose,
the writer is killed with SIGKILL and the broker restarted; then an accounting that proves the
hub lost nothing and applied nothing twice.

    report = await run_chaos(ChaosConfig(settings=HubSettings(), intents=5000), progress)
    print(report_json(report))          # or report_text(report); report.ok for the exit code

``stack`` brings up the run's own world (a RabbitMQ node of its own, throwaway databases, the
simulator as a ``hub sim`` process, a generated registry, the vendors' broker users, the writer
as supervised ``hub worker`` processes); ``plan`` is the mix, pure; ``publishing`` sends it as
the vendors; ``agent`` kills the writer and restarts the broker on a drawn ``Schedule``;
``drain`` waits for the writer to finish; ``ledger_rows``, ``dead_letters`` and ``od_rows`` read
the three sources, and ``accounting`` and ``effects`` judge every intent from them, never from
counters; ``report`` and ``text_view`` render. The simulator is never imported here.

``lab.chaos.outage`` is ``hub chaos --outage``: the same world, long outages instead of kills.
"""

from lab.chaos.config import ChaosConfig, ChaosError
from lab.chaos.report import ChaosReport, report_json
from lab.chaos.run import run_chaos
from lab.chaos.text_view import report_text

__all__ = ["ChaosConfig", "ChaosError", "ChaosReport", "report_json", "report_text", "run_chaos"]
