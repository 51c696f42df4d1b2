"""One run's page: its params, tags, datasets and a chart per metric."""

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Prefetch

from dashboard import figures
from dashboard.selectors.common import curve, ms
from experiments import ranking, series
from experiments.choices import LifecycleStage
from experiments.models import Param, Run, RunTag
from experiments.selectors import latest_metrics
from phases.models import Project

RUN_CHARTS = 12
RUN_CHART_POINTS = 1000
SYSTEM_TAG_PREFIX = "mlflow."


@dataclass(frozen=True, slots=True)
class MetricRow:
    index: int
    key: str
    value: float | None
    is_nan: bool
    step: int
    logged: dt.datetime | None
    points: int
    chart_page: int | None  # None: a single value, shown as a number rather than a chart

    @property
    def single(self) -> bool:
        return self.points <= 1


@dataclass(frozen=True, slots=True)
class RunChart:
    index: int
    key: str
    curve: figures.Curve

    @property
    def chart_id(self) -> str:
        """Numbered, never derived from the key: a key may hold any character."""
        return f"chart-metric-{self.index}"

    @property
    def data_id(self) -> str:
        return f"{self.chart_id}-data"


@dataclass(slots=True)
class RunDetail:
    run: Run
    started: dt.datetime | None
    ended: dt.datetime | None
    params: list[Param]
    tags: list[RunTag]
    system_tags: list[RunTag]
    inputs: list
    metrics: list[MetricRow]
    charts: list[RunChart]
    chart_page: int
    chart_pages: int
    success: MetricRow | None
    position: ranking.Position | None = None

    @property
    def singles(self) -> list[MetricRow]:
        return [row for row in self.metrics if row.single]

    @property
    def duration(self) -> dt.timedelta | None:
        if self.started is None or self.ended is None:
            return None
        return self.ended - self.started

    @property
    def deleted(self) -> bool:
        return self.run.lifecycle_stage == LifecycleStage.DELETED


def run_detail(*, project: Project, run_id: str, chart_page: object = 1) -> RunDetail | None:
    """A run of ``project`` (``None`` for a run of any other project) with its params, tags,
    datasets and the charts of one page of its metrics.

    Charts come ``RUN_CHARTS`` at a time, so a run that logs hundreds of metrics costs the
    page what one with twelve does: five queries, four for its place in the ranking, then
    the charts' series (``series.run_series``). A metric of a single point is no chart.
    """
    run = (
        Run.objects.filter(experiment__project=project, run_id=run_id)
        .select_related("experiment", "created_by")
        .prefetch_related(
            Prefetch("params", queryset=Param.objects.order_by("key")),
            Prefetch("tags", queryset=RunTag.objects.order_by("key")),
            "inputs",
        )
        .first()
    )
    if run is None:
        return None
    # Every key the run logged, NaN and infinities as they were: a run's page shows what it
    # logged, even when the run is deleted.
    latest = latest_metrics([run])[run.pk]
    # A metric logged once is a number, not a chart: only series of two points or more are
    # drawn, and paged.
    charted = [key for key, found in latest.items() if found.points > 1]
    pages = max(1, math.ceil(len(charted) / RUN_CHARTS))
    try:
        page = min(max(int(chart_page), 1), pages)
    except (TypeError, ValueError):
        page = 1
    chart_index = {key: index for index, key in enumerate(charted)}
    metrics = [
        MetricRow(
            index=index,
            key=key,
            value=None if found.is_nan else found.value,
            is_nan=found.is_nan,
            step=found.step,
            logged=ms(found.timestamp),
            points=found.points,
            chart_page=chart_index[key] // RUN_CHARTS + 1 if key in chart_index else None,
        )
        for index, (key, found) in enumerate(latest.items(), start=1)
    ]
    drawable = [row for row in metrics if not row.single]
    shown = drawable[(page - 1) * RUN_CHARTS : page * RUN_CHARTS]
    charts = []
    drawn = series.run_series(run=run, keys=[row.key for row in shown], max_points=RUN_CHART_POINTS)
    for row, found in zip(shown, drawn, strict=True):
        charts.append(
            RunChart(
                index=row.index,
                key=row.key,
                curve=curve(found, label=run.name),
            )
        )
    tags = list(run.tags.all())
    return RunDetail(
        run=run,
        started=ms(run.start_time),
        ended=ms(run.end_time),
        params=list(run.params.all()),
        tags=[tag for tag in tags if not tag.key.startswith(SYSTEM_TAG_PREFIX)],
        system_tags=[tag for tag in tags if tag.key.startswith(SYSTEM_TAG_PREFIX)],
        inputs=list(run.inputs.all()),
        metrics=metrics,
        charts=charts,
        chart_page=page,
        chart_pages=pages,
        success=next((m for m in metrics if m.key == project.success_metric), None),
        position=ranking.position(project=project, run=run),
    )
