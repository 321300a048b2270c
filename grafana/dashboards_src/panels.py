"""The few panel shapes the hub's dashboards use, over grafana-foundation-sdk's builders.

Every panel reads the Prometheus data source provisioned with the fixed uid ``prometheus``
(grafana/provisioning/datasources/prometheus.yml).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as gdash
from grafana_foundation_sdk.builders import prometheus, stat, statetimeline, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    ValueMap,
    ValueMappingResult,
    VariableRefresh,
    VariableSort,
)

DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
RATE = "$__rate_interval"  # Grafana's safe rate window: at least four scrape intervals
QUANTILES = (0.5, 0.95, 0.99)
PanelBuilder = timeseries.Panel | stat.Panel | statetimeline.Panel
HALF, QUARTER, FULL = 12, 6, 24
HEIGHT = 8


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


def _target(query: Query, index: int) -> prometheus.Dataquery:
    return (
        prometheus.Dataquery()
        .expr(query.expr)
        .legend_format(query.legend or "__auto")
        .ref_id(chr(ord("A") + index))
        .datasource(DATASOURCE)
    )


def graph(
    title: str, description: str, unit: str, *queries: Query, width: int = HALF, stack: bool = False
) -> timeseries.Panel:
    """A time series panel, one line per query (and per series a query returns)."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(HEIGHT)
        .fill_opacity(10)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
    )
    if stack:
        panel = panel.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    for index, query in enumerate(queries):
        panel = panel.with_target(_target(query, index))
    return panel


def single(title: str, description: str, unit: str, query: Query) -> stat.Panel:
    """A big number: the query's latest value, with its trend behind it."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(QUARTER)
        .height(4)
        .graph_mode(common.BigValueGraphMode.AREA)
        .with_target(_target(query, 0))
    )


def states(title: str, description: str, query: Query) -> statetimeline.Panel:
    """A state timeline of 0/1 series (a lane's states): coloured while 1."""
    on_off = ValueMap(
        options={
            "0": ValueMappingResult(text="", color="transparent"),
            "1": ValueMappingResult(text="yes", color="orange"),
        }
    )
    return (
        statetimeline.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .span(FULL)
        .height(HEIGHT)
        .mappings([on_off])
        .with_target(_target(query, 0))
    )


def quantiles(title: str, description: str, histogram: str, selector: str = "") -> timeseries.Panel:
    """p50, p95 and p99 of a histogram, over every series the selector picks."""
    rate = f"rate({_select(histogram + '_bucket', selector)}[{RATE}])"
    queries = [
        Query(f"histogram_quantile({q}, sum by (le) ({rate}))", f"p{round(q * 100)}")
        for q in QUANTILES
    ]
    return graph(title, description, "s", *queries)


def variable(name: str, label: str, metric: str) -> gdash.QueryVariable:
    """A multi-value dashboard variable over one label's values, "All" meaning any."""
    return (
        gdash.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(f"label_values({metric}, {name})")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def dashboard(uid: str, title: str, description: str) -> gdash.Dashboard:
    """A dashboard with the hub's defaults: last hour, refreshed every 30 s, tagged ``hub``."""
    return (
        gdash.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["hub"])
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("browser")
        .editable()
    )


def rate_sum(metric: str, selector: str = "", by: str = "") -> str:
    """``sum [by (...)] (rate(metric{selector}[$__rate_interval]))``."""
    grouping = f" by ({by}) " if by else ""
    return f"sum{grouping}(rate({_select(metric, selector)}[{RATE}]))"


def p95_by(histogram: str, by: str, selector: str = "") -> str:
    """The 95th percentile of a histogram per value of ``by``."""
    rate = f"rate({_select(histogram + '_bucket', selector)}[{RATE}])"
    return f"histogram_quantile(0.95, sum by (le, {by}) ({rate}))"


def _select(metric: str, selector: str) -> str:
    return f"{metric}{{{selector}}}" if selector else metric


Section = tuple[str, Sequence[PanelBuilder]]


def assemble(board: gdash.Dashboard, sections: Sequence[Section]) -> gdash.Dashboard:
    """Lay the sections out in order: a row title, then its panels left to right."""
    for title, panels in sections:
        board = board.with_row(gdash.Row(title))
        for panel in panels:
            board = board.with_panel(panel)
    return board
