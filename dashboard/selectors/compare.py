"""Runs side by side on one metric: curves, params against it, a table."""

from collections.abc import Sequence
from dataclasses import dataclass

from dashboard import figures
from dashboard.selectors.common import curves, run_labels
from experiments import ranking
from experiments.models import Run
from experiments.selectors import latest_metrics, params_of
from phases.models import Project

MAX_COMPARED = 20
# Overlaid curves share one budget, so a comparison of twenty runs weighs what one of five
# does in the browser; no curve gets fewer points than a chart needs to keep its shape.
COMPARE_POINTS = 8000
MIN_CURVE_POINTS = 200


def requested_runs(values: Sequence[str]) -> list[str]:
    """Run ids from ``?runs=a,b`` or ``?runs=a&runs=b`` (checkboxes), each once, in order."""
    ids = [part.strip() for value in values for part in value.split(",")]
    return list(dict.fromkeys(run_id for run_id in ids if run_id))


@dataclass(frozen=True, slots=True)
class ComparedRun:
    run: Run
    label: str
    value: float | None
    params: list[str]
    metrics: list[float | None]  # one per ``Comparison.keys``


@dataclass(slots=True)
class Comparison:
    key: str
    keys: list[str]
    runs: list[ComparedRun]
    param_keys: list[str]
    curves: list[figures.Curve]
    points: list[figures.RunParams]
    requested: int
    missing: int
    ranked: bool
    maximize: bool
    best: dict[str, float]
    lower: dict[str, bool]

    @property
    def run_ids(self) -> str:
        return ",".join(row.run.run_id for row in self.runs)

    @property
    def truncated(self) -> bool:
        return self.requested > MAX_COMPARED

    @property
    def placed(self) -> int:
        """How many runs have a value of the metric: the parallel coordinates need two."""
        return sum(row.value is not None for row in self.runs)


def compare_runs(*, project: Project, run_ids: Sequence[str], key: str = "") -> Comparison:
    """Selected runs of ``project`` side by side on one metric: their curves of it, and
    their params against its latest value. Ids of other projects' runs, and of deleted
    runs, are left out, as if they did not exist.

    At most ``MAX_COMPARED`` runs, so the page stays readable and bounded: three queries
    (the runs, their params, their series' latest values), then ``series.compare`` (one
    query, and one read per run). Which way is better is known for the success metric
    only; any other metric is coloured by its value, higher darker.
    """
    wanted = list(run_ids)[:MAX_COMPARED]
    # The runs that count: a deleted run is out of every list and chart until it is
    # restored, here as on the leaderboard and the run list, so it is left out as missing.
    found = {
        run.run_id: run
        for run in ranking.counted_runs(project)
        .filter(run_id__in=wanted)
        .select_related("experiment")
        .order_by()
    }
    runs = [found[run_id] for run_id in wanted if run_id in found]
    # Values are placed on axes and marked best, so a NaN or an infinity is no value here.
    latest = {
        (run_pk, metric): logged.finite
        for run_pk, values in latest_metrics(runs).items()
        for metric, logged in values.items()
    }
    keys = sorted({metric for _, metric in latest})
    if key not in keys:
        key = project.success_metric if project.success_metric in keys else ""
        key = key or (keys[0] if keys else "")
    params = params_of(runs) if runs else {}
    param_keys = figures.varying_params([params[run.pk] for run in runs], figures.MAX_PARAM_AXES)
    labels = run_labels(runs)
    compared = [
        ComparedRun(
            run=run,
            label=labels[run.pk],
            value=latest.get((run.pk, key)),
            params=[params[run.pk].get(param, "") for param in param_keys],
            metrics=[latest.get((run.pk, metric)) for metric in keys],
        )
        for run in runs
    ]
    lower = {metric: not project.maximizes_metric(metric) for metric in keys}
    best = {}
    for metric in keys:
        values = [v for v in (latest.get((run.pk, metric)) for run in runs) if v is not None]
        if len(set(values)) > 1:  # a value every run shares marks no run out
            best[metric] = min(values) if lower[metric] else max(values)
    budget = max(MIN_CURVE_POINTS, COMPARE_POINTS // max(len(runs), 1))
    return Comparison(
        key=key,
        keys=keys,
        runs=compared,
        param_keys=param_keys,
        curves=curves(runs, key=key, max_points=budget) if key and runs else [],
        points=[
            figures.RunParams(label=row.label, params=params[row.run.pk], value=row.value)
            for row in compared
        ],
        requested=len(list(run_ids)),
        missing=len(wanted) - len(runs),
        ranked=bool(key) and key == project.success_metric,
        maximize=project.maximizes_metric(key) if key else True,
        best=best,
        lower=lower,
    )
