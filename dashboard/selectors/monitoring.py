"""A project's monitoring section: the deployment, each monitor's recent results against
its threshold, the drift of every feature in the latest window, open alerts, last runs.

Four queries whatever the number of monitors and results (one for a project without
monitors): the monitors with the deployment they follow, their latest ``SERIES_WINDOWS``
results each (one windowed query), the details of the latest data drift result, and the
open alerts; a fifth when there are open alerts: the phases the project may move back to.
"""

from dataclasses import dataclass, field

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from dashboard import figures
from monitoring.choices import OPEN_ALERT_STATES, DriftMethod, MonitorKind, ResultStatus
from monitoring.models import Alert, Deployment, Monitor, Result
from phases.models import Project
from phases.selectors import back_targets

SERIES_WINDOWS = 60
UNITS = {
    MonitorKind.DATA_DRIFT: "share of drifted features",
    MonitorKind.PREDICTION_DRIFT: "drift score",
    MonitorKind.PERFORMANCE: "metric",
    MonitorKind.DATA_QUALITY: "columns breaking limits",
    MonitorKind.FRESHNESS: "hours since the last batch",
    MonitorKind.HEALTH: "health",
}


@dataclass
class MonitorRow:
    monitor: Monitor
    points: list[figures.Point] = field(default_factory=list)
    latest: Result | None = None
    threshold: float | None = None

    @property
    def unit(self) -> str:
        return UNITS[MonitorKind(self.monitor.kind)]

    @property
    def charted(self) -> bool:
        """Whether a chart has anything to draw: results with no number ("not enough data",
        freshness before a reference) would be a bare 0 to 1 axis; the status says it all."""
        return any(point.value is not None for point in self.points)


@dataclass(frozen=True)
class FeatureRow:
    name: str
    kind: str
    method: str
    score: float | None
    threshold: float | None
    drifted: bool
    status: str


@dataclass(frozen=True)
class ProjectMonitoring:
    deployment: Deployment | None
    monitors: list[MonitorRow]
    drift_window: Result | None
    features: list[FeatureRow]
    alerts: list[Alert]

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.state == "firing"]

    @property
    def last_run_at(self):
        runs = [row.monitor.last_run_at for row in self.monitors if row.monitor.last_run_at]
        return max(runs) if runs else None


def _method_label(method: str | None) -> str:
    return DriftMethod(method).label if method in DriftMethod.values else "—"


def project_monitoring(*, project: Project) -> ProjectMonitoring | None:
    """None when the project has no monitor (it was never deployed)."""
    monitors = list(
        Monitor.objects.filter(project=project)
        .select_related("deployment__model_version__registered_model")
        .order_by("kind", "name")
    )
    if not monitors:
        return None
    # Deployment monitors always point at the current deployment (re-baselined with it).
    deployment = next(
        (m.deployment for m in monitors if m.deployment and m.deployment.ended_at is None), None
    )
    rows = {m.pk: MonitorRow(monitor=m) for m in monitors}
    recent = (
        Result.objects.filter(monitor__project=project)
        .defer("details")
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("monitor_id")], order_by=F("window_start").desc()
            )
        )
        .filter(rank__lte=SERIES_WINDOWS)
        .order_by("monitor_id", "window_start")
    )
    for result in recent:
        row = rows[result.monitor_id]
        row.points.append(
            figures.Point(
                at=timezone.localtime(result.window_end), value=result.value, status=result.status
            )
        )
        row.latest = result
        if result.threshold is not None:
            row.threshold = result.threshold
    drift_window = (
        Result.objects.filter(
            monitor__project=project,
            monitor__kind=MonitorKind.DATA_DRIFT,
            status__in=[ResultStatus.OK, ResultStatus.WARNING, ResultStatus.ALERT],
        )
        .order_by("-window_start")
        .first()
    )
    features = []
    if drift_window is not None:
        for item in drift_window.details.get("features", []):
            features.append(
                FeatureRow(
                    name=item["name"],
                    kind=item["kind"],
                    method=_method_label(item["method"]),
                    score=item["score"],
                    threshold=item["threshold"],
                    drifted=item["drifted"],
                    status=item["status"],
                )
            )
        features.sort(key=lambda f: (not f.drifted, f.name))
    alerts = list(
        Alert.objects.filter(monitor__project=project, state__in=OPEN_ALERT_STATES)
        .select_related("monitor", "follow_up_task__phase", "acknowledged_by")
        .order_by("-started_at")
    )
    if alerts:
        # Move back only where the lifecycle lets the project go back from here: the
        # follow-up's phase may be the current one already (another alert moved it there).
        back = set(back_targets(project=project).values_list("pk", flat=True))
        for alert in alerts:
            task = alert.follow_up_task
            alert.move_back_to = task.phase if task and task.phase_id in back else None
    return ProjectMonitoring(
        deployment=deployment,
        monitors=list(rows.values()),
        drift_window=drift_window,
        features=features,
        alerts=alerts,
    )


def drift_chart_rows(features: list[FeatureRow], window: Result | None) -> list:
    """The latest window's features for the chart, with raw method names."""
    if window is None:
        return []
    return [
        figures.FeatureScore(
            name=item["name"],
            method=item["method"] or "",
            score=item["score"],
            threshold=item["threshold"],
            drifted=item["drifted"],
            status=item["status"],
        )
        for item in window.details.get("features", [])
    ]
