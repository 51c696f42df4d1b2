"""Reads shaped for the dashboard's pages, each in a fixed number of queries: a module a page
or section (``portfolio_page``, ``project``, ``links``, ``leaderboard``, ``runs``, ``run_page``,
``compare``, ``monitoring``, ``models``), with what they share in ``common``. A new section
adds a module and its names here; experiment reads that are not about a page live in
``experiments`` (``experiments.ranking``, ``experiments.selectors``).

Every read starts from :func:`phases.roles.visible_projects` / :func:`phases.roles.with_role`,
so a page can only ever show what its caller may see. Query counts do not grow with the
number of projects, phases, tasks, transitions or runs: lists are fetched in one query
each, charts from aggregates or a single pass over the transition history, and metric
curves from a capped number of series that ``experiments.series`` reduces on the server.
"""

from dashboard.selectors.common import http_url
from dashboard.selectors.compare import (
    COMPARE_POINTS,
    MAX_COMPARED,
    MIN_CURVE_POINTS,
    ComparedRun,
    Comparison,
    compare_runs,
    requested_runs,
)
from dashboard.selectors.leaderboard import (
    CURVE_POINTS,
    CURVE_RUNS,
    LEADERBOARD_PARAMS,
    LEADERBOARD_SIZE,
    LeaderRow,
    ProjectExperiments,
    project_experiments,
)
from dashboard.selectors.links import SharedLinkRow, shared_link_from_token, shared_links
from dashboard.selectors.models import (
    MODELS_SHOWN,
    VERSIONS_SHOWN,
    ModelRow,
    ProjectModels,
    VersionPage,
    VersionRow,
    project_models,
    project_version,
    version_page,
)
from dashboard.selectors.monitoring import (
    SERIES_WINDOWS,
    FeatureRow,
    MonitorRow,
    ProjectMonitoring,
    drift_chart_rows,
    project_monitoring,
)
from dashboard.selectors.portfolio_page import (
    PAGE_SIZE,
    RECENT_LOOP_BACKS,
    SORTS,
    STAY_PROJECTS,
    FilterChoices,
    LoopBackRow,
    Portfolio,
    PortfolioFilters,
    PortfolioRow,
    filter_choices,
    portfolio,
)
from dashboard.selectors.project import (
    CriterionRow,
    HistoryRow,
    Live,
    PhaseWork,
    ProjectStatus,
    project_for,
    project_live,
    project_status,
)
from dashboard.selectors.run_page import (
    RUN_CHART_POINTS,
    RUN_CHARTS,
    SYSTEM_TAG_PREFIX,
    MetricRow,
    RunChart,
    RunDetail,
    run_detail,
)
from dashboard.selectors.runs import (
    RUNS_PAGE_SIZE,
    Column,
    RunChoices,
    RunList,
    RunQuery,
    RunRow,
    project_runs,
    run_choices,
)
from mlprojects.people import display_name

__all__ = [
    "COMPARE_POINTS",
    "CURVE_POINTS",
    "CURVE_RUNS",
    "LEADERBOARD_PARAMS",
    "LEADERBOARD_SIZE",
    "MAX_COMPARED",
    "MIN_CURVE_POINTS",
    "MODELS_SHOWN",
    "PAGE_SIZE",
    "RECENT_LOOP_BACKS",
    "RUNS_PAGE_SIZE",
    "RUN_CHARTS",
    "RUN_CHART_POINTS",
    "SERIES_WINDOWS",
    "SORTS",
    "STAY_PROJECTS",
    "SYSTEM_TAG_PREFIX",
    "VERSIONS_SHOWN",
    "Column",
    "ComparedRun",
    "Comparison",
    "CriterionRow",
    "FeatureRow",
    "FilterChoices",
    "HistoryRow",
    "LeaderRow",
    "Live",
    "LoopBackRow",
    "MetricRow",
    "ModelRow",
    "MonitorRow",
    "PhaseWork",
    "Portfolio",
    "PortfolioFilters",
    "PortfolioRow",
    "ProjectExperiments",
    "ProjectModels",
    "ProjectMonitoring",
    "ProjectStatus",
    "RunChart",
    "RunChoices",
    "RunDetail",
    "RunList",
    "RunQuery",
    "RunRow",
    "SharedLinkRow",
    "VersionPage",
    "VersionRow",
    "compare_runs",
    "display_name",
    "drift_chart_rows",
    "filter_choices",
    "http_url",
    "portfolio",
    "project_experiments",
    "project_for",
    "project_live",
    "project_models",
    "project_monitoring",
    "project_runs",
    "project_status",
    "project_version",
    "requested_runs",
    "run_choices",
    "run_detail",
    "shared_link_from_token",
    "shared_links",
    "version_page",
]
