"""A project's run list, in the ranking's order, a page at a time."""

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Page, Paginator

from dashboard import figures
from dashboard.selectors.common import ms
from dashboard.selectors.leaderboard import LEADERBOARD_PARAMS
from experiments import ranking
from experiments.models import Run
from experiments.selectors import params_of
from phases.models import Project

RUNS_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class RunRow:
    run: Run
    value: float | None
    started: dt.datetime | None
    params: list[str]


@dataclass(slots=True)
class RunList:
    page: Page
    rows: list[RunRow]
    metric: str
    param_keys: list[str]


def project_runs(*, project: Project, page_number: object = 1) -> RunList:
    """Every active run of the project in the ranking's order on the success metric (runs
    without a rank last), one page at a time: three queries for any number of runs."""
    metric = project.success_metric
    runs = ranking.counted_runs(project).select_related("experiment")
    if metric:
        runs = ranking.runs_best_first(runs, project=project, key=metric)
    else:
        runs = ranking.newest_first(runs)
    page = Paginator(runs, RUNS_PAGE_SIZE).get_page(page_number)
    listed = list(page.object_list)
    params = params_of(listed) if listed else {}
    keys = figures.varying_params(list(params.values()), LEADERBOARD_PARAMS)
    return RunList(
        page=page,
        rows=[
            RunRow(
                run=run,
                value=run.metric_value,
                started=ms(run.start_time),
                params=[params[run.pk].get(key, "") for key in keys],
            )
            for run in listed
        ],
        metric=metric,
        param_keys=keys,
    )
