"""A project's run list: searched with MLflow's filter grammar, sorted by any column, with
the metric and param columns a reader picks, a page at a time."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator

from dashboard import figures
from dashboard.selectors.common import ms
from dashboard.selectors.leaderboard import LEADERBOARD_PARAMS
from experiments import ranking
from experiments.models import Run
from experiments.selectors import (
    Latest,
    RunKeys,
    latest_metrics,
    params_of,
    run_keys,
    runs_matching,
)
from phases.models import Project

RUNS_PAGE_SIZE = 50
# The column picker offers at most this many metric keys and as many param keys.
PICKER_KEYS = 100
METRIC_PREFIX, PARAM_PREFIX = "metrics.", "params."


@dataclass(frozen=True, slots=True)
class RunQuery:
    """What the reader asked for: an MLflow filter string, an experiment, a status, one
    MLflow ``order_by`` clause (empty: the ranking's order) and the columns to show
    (``metrics.<key>`` and ``params.<key>``; empty: the success metric and the params that
    differ)."""

    filter: str = ""
    experiment: int | None = None
    status: str = ""
    order: str = ""
    columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # as MLflow names it: metrics.val_auc, params.lr
    key: str
    metric: bool


@dataclass(frozen=True, slots=True)
class RunRow:
    run: Run
    started: dt.datetime | None
    duration: dt.timedelta | None
    cells: list  # one per column: a float (or None, or NaN) for metrics, text for params


class RunChoices(RunKeys):
    """What the search form offers: this project's experiments and the keys its runs use,
    and the columns those keys name."""

    __slots__ = ()

    @property
    def columns(self) -> list[str]:
        return [METRIC_PREFIX + key for key in self.metric_keys] + [
            PARAM_PREFIX + key for key in self.param_keys
        ]


@dataclass(slots=True)
class RunList:
    page: Page | None
    rows: list[RunRow]
    metric: str
    columns: list[Column]
    ranked: bool
    choices: RunChoices = field(default_factory=lambda: RunChoices([], [], []))

    @property
    def param_keys(self) -> list[str]:
        return [column.key for column in self.columns if not column.metric]


def run_choices(*, project: Project) -> RunChoices:
    """Three queries: the experiments, and the distinct metric and param keys of the runs."""
    return RunChoices(*run_keys(ranking.counted_runs(project), limit=PICKER_KEYS))


def _columns(names: Sequence[str]) -> list[Column]:
    columns = []
    for name in names:
        if name.startswith(METRIC_PREFIX):
            columns.append(Column(name, name.removeprefix(METRIC_PREFIX), metric=True))
        elif name.startswith(PARAM_PREFIX):
            columns.append(Column(name, name.removeprefix(PARAM_PREFIX), metric=False))
    return columns


def _value(found: Latest | None) -> float | None:
    """A metric cell: the latest value as logged (a NaN shows as "NaN"), ``None`` when the
    run never logged the key."""
    return None if found is None else found.value


def project_runs(
    *,
    project: Project,
    query: RunQuery = RunQuery(),
    page_number: object = 1,
    choices: RunChoices | None = None,
) -> RunList:
    """The project's active runs that match ``query``, one page at a time: by default in
    the ranking's order on the success metric (runs without a rank last), or in the order
    of an MLflow clause. Four queries for any number of runs (the count, the page, its
    params and its metrics' latest values). A filter or order that does not parse raises
    the search's ``DomainError``; the form checks both first."""
    metric = project.success_metric
    runs = ranking.counted_runs(project).select_related("experiment")
    if query.experiment is not None:
        runs = runs.filter(experiment_id=query.experiment)
    if query.status:
        runs = runs.filter(status=query.status)
    ranked = not query.order
    if query.filter or query.order:
        runs = runs_matching(
            runs, filter_string=query.filter, order_by=[query.order] if query.order else []
        )
    if ranked:
        runs = (
            ranking.runs_best_first(runs, project=project, key=metric)
            if metric
            else ranking.newest_first(runs)
        )
    page = Paginator(runs, RUNS_PAGE_SIZE).get_page(page_number)
    listed = list(page.object_list)
    params = params_of(listed) if listed else {}
    if query.columns:
        columns = _columns(query.columns)
    else:
        varying = figures.varying_params(list(params.values()), LEADERBOARD_PARAMS)
        columns = _columns(
            ([METRIC_PREFIX + metric] if metric else []) + [PARAM_PREFIX + key for key in varying]
        )
    latest = latest_metrics(listed, [column.key for column in columns if column.metric])
    rows = []
    for run in listed:
        started, ended = ms(run.start_time), ms(run.end_time)
        rows.append(
            RunRow(
                run=run,
                started=started,
                duration=ended - started if started and ended else None,
                cells=[
                    _value(latest[run.pk].get(column.key))
                    if column.metric
                    else params[run.pk].get(column.key, "")
                    for column in columns
                ],
            )
        )
    return RunList(
        page=page,
        rows=rows,
        metric=metric,
        columns=columns,
        ranked=ranked,
        choices=choices or RunChoices([], [], []),
    )
