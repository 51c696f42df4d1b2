"""The experiments section of a project page: the leaderboard and its curves."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from dashboard import figures
from dashboard.selectors.common import curves, run_labels
from experiments import ranking
from experiments.models import MetricSeries, Run, epoch_ms
from experiments.selectors import params_of
from phases.metrics import meets_target
from phases.models import Project
from phases.selectors import reopened_at

LEADERBOARD_SIZE = 10
LEADERBOARD_PARAMS = 4
CURVE_RUNS = 5
CURVE_POINTS = 1000


@dataclass(frozen=True, slots=True)
class LeaderRow:
    rank: int
    run: Run
    label: str
    value: float
    params: list[str]
    meets: bool
    # Started before the current phase was last reopened: no evidence for its gate.
    before_reopen: bool = False


@dataclass(frozen=True, slots=True)
class SinceReopen:
    """The current phase was reopened by a loop back at ``at``: from then on its gate reads
    only the runs started since (``experiments.evidence``); ``best`` is the best of those."""

    at: dt.datetime
    best: MetricSeries | None
    meets: bool | None


@dataclass(slots=True)
class ProjectExperiments:
    """The experiments section of a project page: how many runs there are, the best ones
    on the success metric, and their curves of it."""

    metric: str
    target: float | None
    maximize: bool
    runs: int | None
    measured: int
    leaders: list[LeaderRow]
    param_keys: list[str]
    curves: list[figures.Curve]
    since_reopen: SinceReopen | None = None

    @property
    def best(self) -> LeaderRow | None:
        return self.leaders[0] if self.leaders else None

    @property
    def met(self) -> bool | None:
        """Whether the best run reaches the target; ``None`` when there is nothing to judge."""
        if self.best is None or self.target is None:
            return None
        return meets_target(self.best.value, self.target, maximize=self.maximize)

    @property
    def gap(self) -> float | None:
        return None if self.best is None or self.target is None else self.best.value - self.target


def project_experiments(*, project: Project) -> ProjectExperiments:
    """The leaderboard and its curves in a fixed number of queries, however many runs the
    project holds: one count, the ten best series (with their runs and experiments), their
    params, and the best few runs' series of the metric (``series.compare``); none at all
    while the project has no success metric (``runs`` is then ``None``: not counted).

    The ranking is ``experiments.ranking``'s, the one the gate reads: the value each run
    ended with, finite values only, failed runs out, ties to the earlier run.
    """
    metric = project.success_metric
    runs = ranking.counted_runs(project)
    maximize = project.maximizes
    if not metric:
        # Nothing to rank, and nothing to count: the section only asks for a metric.
        return ProjectExperiments(
            metric="",
            target=project.success_target,
            maximize=maximize,
            runs=None,
            measured=0,
            leaders=[],
            param_keys=[],
            curves=[],
        )
    counts = runs.aggregate(
        runs=Count("pk", distinct=True),
        measured=Count(
            "metric_series",
            filter=Q(metric_series__key=metric)
            & ranking.finite("metric_series__")
            & ranking.ranks(),
        ),
    )
    ranked = []
    if counts["measured"]:
        ranked = list(
            ranking.ranked_series(project=project, key=metric).select_related("run__experiment")[
                :LEADERBOARD_SIZE
            ]
        )
    top = [row.run for row in ranked]
    params = params_of(top) if top else {}
    keys = figures.varying_params([params[run.pk] for run in top], LEADERBOARD_PARAMS)
    labels = run_labels(top)
    since = _since_reopen(project, ranked)
    cutoff = epoch_ms(since.at) if since else None
    return ProjectExperiments(
        metric=metric,
        target=project.success_target,
        maximize=maximize,
        runs=counts["runs"],
        measured=counts["measured"],
        leaders=[
            LeaderRow(
                rank=rank,
                run=row.run,
                label=labels[row.run.pk],
                value=row.latest_value,
                params=[params[row.run.pk].get(key, "") for key in keys],
                meets=_meets(project, row.latest_value),
                before_reopen=cutoff is not None and row.run.start_time < cutoff,
            )
            for rank, row in enumerate(ranked, start=1)
        ],
        param_keys=keys,
        curves=curves(top[:CURVE_RUNS], key=metric, max_points=CURVE_POINTS) if top else [],
        since_reopen=since,
    )


def _meets(project: Project, value: float) -> bool:
    target = project.success_target
    return target is not None and meets_target(value, target, maximize=project.maximizes)


def _since_reopen(project: Project, ranked: list[MetricSeries]) -> SinceReopen | None:
    """What the current phase's gate reads when a loop back reopened it: the best run since
    (from the leaderboard's rows when one of them is that recent, else one more query)."""
    if project.current_phase_id is None or project.completed_at is not None or not ranked:
        return None
    at = reopened_at(phase_id=project.current_phase_id)
    if at is None:
        return None
    cutoff = epoch_ms(at)
    best = next((row for row in ranked if row.run.start_time >= cutoff), None)
    if best is None and len(ranked) == LEADERBOARD_SIZE:
        best = (
            ranking.ranked_series(project=project, key=project.success_metric, since=at)
            .select_related("run")
            .first()
        )
    meets = None
    if best is not None and project.success_target is not None:
        meets = _meets(project, best.latest_value)
    return SinceReopen(at=at, best=best, meets=meets)
