"""The one ranking of a project's runs on a metric: which run is best, and in what order the
others follow. The gate (``evidence``), the leaderboard and the run list (``dashboard``) read
it here, so the gate and the leaderboard cannot name different runs on the same page.

- *Which runs.* The project's active runs in active experiments (a deleted run, or one of a
  deleted experiment, is out until it is restored), and not failed: a run that crashed is
  not evidence of a model, whatever it logged before it did.
- *Which value.* Each run's latest value of the metric (``MetricSeries.latest_value``, what
  MLflow shows as the run's metric), not its best step: the model a run leaves is the one
  of its last step.
- *Which values count.* Finite ones. A NaN is no measurement, and an infinite score is a
  diverged or broken evaluation, never credible evidence that a model is good enough.
- *Which way.* The project's ``success_direction``; what meets the target is
  ``phases.metrics.meets_target``.
- *Ties* go to the run that started first, then to the smaller run id: see
  :func:`best_first`.
"""

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from experiments.choices import LifecycleStage, RunStatus
from experiments.models import MetricSeries, Run, epoch_ms
from phases.models import Project

# Runs of these statuses have no rank, whatever they logged.
UNRANKED_STATUSES = (RunStatus.FAILED,)


def finite(prefix: str = "") -> Q:
    """Series whose latest value is a number a chart can place: not NaN, not infinite.
    ``prefix`` reaches the series from another model (``"metric_series__"``)."""
    return Q(
        **{
            f"{prefix}latest_is_nan": False,
            f"{prefix}latest_value__gt": -math.inf,
            f"{prefix}latest_value__lt": math.inf,
        }
    )


def counted_runs(project: Project) -> QuerySet[Run]:
    """The project's runs that count: a deleted run (or one of a deleted experiment, which
    deletes its runs) is out of every list, chart and gate until it is restored."""
    return Run.objects.filter(_counted(project))


def _counted(project: Project, prefix: str = "") -> Q:
    return Q(
        **{
            f"{prefix}experiment__project": project,
            f"{prefix}experiment__lifecycle_stage": LifecycleStage.ACTIVE,
            f"{prefix}lifecycle_stage": LifecycleStage.ACTIVE,
        }
    )


def ranks(prefix: str = "") -> Q:
    """Runs whose status lets them rank; ``prefix`` reaches the run (``"run__"``)."""
    return ~Q(**{f"{prefix}status__in": UNRANKED_STATUSES})


def best_first(*, maximize: bool, value: str, run: str = "") -> list:
    """The ranking's order: the best ``value`` first in the metric's direction, rows without
    one last; ``run`` is the path to the run (``"run__"`` when ordering series).

    Ties go to the run that started first, then to the smaller run id, so the order is the
    same from one page load to the next. The earlier run reached the value first: a later
    run that only matches it is no improvement, so the run the gate names as its evidence
    does not change each time a run ties it, and the leaderboard puts that same run first.
    """
    field = F(value)
    ordered = field.desc(nulls_last=True) if maximize else field.asc(nulls_last=True)
    return [ordered, F(f"{run}start_time").asc(), F(f"{run}run_id").asc()]


def ranked_series(
    *, project: Project, key: str, since: dt.datetime | None = None
) -> QuerySet[MetricSeries]:
    """The series of ``key`` of every run that has a rank, best first: ``[0]`` is the best
    run's. Callers take a slice (``[:10]``) or ``.first()``; the query reads only those.
    With ``since``, only runs that started at or after it (the evidence after a loop back)."""
    series = MetricSeries.objects.filter(
        _counted(project, "run__"), ranks("run__"), finite(), key=key
    )
    if since is not None:
        series = series.filter(run__start_time__gte=epoch_ms(since))
    return series.order_by(
        *best_first(maximize=project.maximizes, value="latest_value", run="run__")
    )


def runs_best_first(runs: QuerySet[Run], *, project: Project, key: str) -> QuerySet[Run]:
    """``runs`` (of ``project``) in the ranking's order, each with ``metric_value``: its
    latest finite value of ``key``, or ``None``. The runs that have a rank come first, best
    first (:func:`best_first`); those without one follow, newest first, as a list of runs
    without a metric is ordered: a failed run keeps its value on show, without a rank."""
    latest = MetricSeries.objects.filter(finite(), run=OuterRef("pk"), key=key)
    ranked = Q(metric_value__isnull=False) & ranks()
    runs = runs.annotate(metric_value=Subquery(latest.values("latest_value")[:1])).alias(
        rank_value=Case(When(ranked, then=F("metric_value")), output_field=FloatField()),
        rank_start=Case(When(ranked, then=F("start_time")), default=-F("start_time")),
    )
    value, _, run_id = best_first(maximize=project.maximizes, value="rank_value")
    return runs.order_by(value, F("rank_start").asc(), run_id)


def newest_first(runs: QuerySet[Run]) -> QuerySet[Run]:
    """``runs`` newest first, with no ``metric_value``: a project without a success metric."""
    return runs.annotate(metric_value=Value(None, output_field=FloatField())).order_by(
        F("start_time").desc(), "run_id"
    )


def best_values(projects: Sequence[Project]) -> dict[int, float]:
    """The best ranked value of each project's success metric, by project primary key (a
    project without a metric or a ranked run is absent): one query for any number of
    projects, the value the leaderboard's first row shows."""
    metrics = {project.success_metric for project in projects if project.success_metric}
    if not metrics:
        return {}
    rows = (
        MetricSeries.objects.filter(
            finite(),
            ranks("run__"),
            key__in=metrics,
            run__experiment__project__in=[project.pk for project in projects],
            run__experiment__lifecycle_stage=LifecycleStage.ACTIVE,
            run__lifecycle_stage=LifecycleStage.ACTIVE,
        )
        .order_by()
        .values_list("run__experiment__project_id", "key")
        .annotate(high=Max("latest_value"), low=Min("latest_value"))
    )
    found = {(project_id, key): (high, low) for project_id, key, high, low in rows}
    best = {}
    for project in projects:
        values = found.get((project.pk, project.success_metric))
        if values is not None:
            best[project.pk] = values[0] if project.maximizes else values[1]
    return best


@dataclass(frozen=True, slots=True)
class Position:
    """Where a run stands in its project's ranking: ``rank`` of ``ranked``, and the run
    ids and names just above and below it (``None`` at either end)."""

    rank: int
    ranked: int
    previous: tuple[str, str] | None
    next: tuple[str, str] | None


def position(*, project: Project, run: Run) -> Position | None:
    """``run``'s place in the ranking on the success metric, in four queries; ``None``
    when the project has no metric or the run has no rank (failed, deleted, unmeasured)."""
    key = project.success_metric
    if not key:
        return None
    series = ranked_series(project=project, key=key)
    mine = series.filter(run=run).values_list("latest_value", "run__start_time").first()
    if mine is None:
        return None
    value, start = mine
    better = Q(latest_value__gt=value) if project.maximizes else Q(latest_value__lt=value)
    # Ties go to the earlier start (a missing one sorts last), then to the smaller run id.
    if start is None:
        earlier = Q(run__start_time__isnull=False) | Q(
            run__start_time__isnull=True, run__run_id__lt=run.run_id
        )
    else:
        earlier = Q(run__start_time__lt=start) | Q(
            run__start_time=start, run__run_id__lt=run.run_id
        )
    ahead = better | (Q(latest_value=value) & earlier)
    counts = series.aggregate(ranked=Count("pk"), ahead=Count("pk", filter=ahead))
    ordered = best_first(maximize=project.maximizes, value="latest_value", run="run__")
    backwards = [expression.copy() for expression in ordered]
    for expression in backwards:
        expression.reverse_ordering()
    neighbour = ("run__run_id", "run__name")
    previous = series.filter(ahead).order_by(*backwards).values_list(*neighbour).first()
    following = (
        series.exclude(ahead).exclude(run=run).order_by(*ordered).values_list(*neighbour).first()
    )
    return Position(
        rank=counts["ahead"] + 1,
        ranked=counts["ranked"],
        previous=previous,
        next=following,
    )
