"""Reads of experiment tracking, shaped for the MLflow endpoints and the dashboard's pages
and free of N+1 queries.

Callers pass querysets already cut to what the caller may see (the API scopes them by
project role); selectors only filter, order and page them. A page of runs costs five
queries whatever its size: the runs, then their params, tags, latest metrics and inputs.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from django.db.models import (
    Case,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from experiments.choices import ViewType
from experiments.models import (
    Experiment,
    ExperimentTag,
    MetricChunk,
    MetricSeries,
    Param,
    Run,
    RunInput,
    RunTag,
)
from experiments.points import Points, canonical, unpack
from experiments.search import (
    ATTRIBUTE,
    DATASET,
    EXPERIMENTS,
    METRIC,
    PARAM,
    RUNS,
    TAG,
    Clause,
    OrderBy,
    parse_filter,
    parse_order_by,
)
from mlprojects.exceptions import DomainError

_NUMERIC_LOOKUPS = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_RUN_FIELDS = {
    "run_id": "run_id",
    "run_name": "name",
    "user_id": "user_id",
    "status": "status",
    "artifact_uri": "artifact_uri",
    "start_time": "start_time",
    "end_time": "end_time",
}
_EXPERIMENT_FIELDS = {
    "name": "name",
    "experiment_id": "pk",
    "creation_time": "creation_time",
    "last_update_time": "last_update_time",
}


def _like(pattern: str) -> str:
    """SQL's LIKE pattern as an anchored regular expression, the same on every database."""
    body = "".join(
        ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern
    )
    return f"^{body}$"


def compare(field: str, comparator: str, value) -> Q:
    """One comparison as SQL reads it: a NULL never matches, not even ``!=``."""
    if comparator == "LIKE":
        return Q(**{f"{field}__regex": _like(value)})
    if comparator == "ILIKE":
        return Q(**{f"{field}__iregex": _like(value)})
    if comparator == "IN":
        return Q(**{f"{field}__in": value})
    if comparator == "NOT IN":
        return Q(**{f"{field}__isnull": False}) & ~Q(**{f"{field}__in": value})
    if comparator == "!=":
        return Q(**{f"{field}__isnull": False}) & ~Q(**{field: value})
    return Q(**{f"{field}__{_NUMERIC_LOOKUPS[comparator]}": value})


def keyed_clause(model, clause: Clause, owner: str) -> Q:
    """A clause on a keyed child (param, tag): the key must exist and its value match."""
    rows = model.objects.filter(**{owner: OuterRef("pk")}, key=clause.key)
    if clause.comparator == "IS NULL":
        return ~Exists(rows)
    if clause.comparator == "IS NOT NULL":
        return Q(Exists(rows))
    return Q(Exists(rows.filter(compare("value", clause.comparator, clause.value))))


def _metric(clause: Clause) -> Q:
    """MLflow's rule for NaN: it satisfies only ``!=``; its stored 0 never matches."""
    rows = MetricSeries.objects.filter(run=OuterRef("pk"), key=clause.key)
    if clause.comparator == "!=":
        matching = Q(latest_is_nan=True) | ~Q(latest_value=clause.value)
    else:
        matching = Q(latest_is_nan=False) & compare("latest_value", clause.comparator, clause.value)
    return Q(Exists(rows.filter(matching)))


def _run_clause(clause: Clause) -> Q:
    if clause.entity == METRIC:
        return _metric(clause)
    if clause.entity == PARAM:
        return keyed_clause(Param, clause, "run")
    if clause.entity == TAG:
        return keyed_clause(RunTag, clause, "run")
    if clause.entity == DATASET:
        rows = RunInput.objects.filter(run=OuterRef("pk"))
        return Q(Exists(rows.filter(compare(clause.key, clause.comparator, clause.value))))
    return compare(_RUN_FIELDS[clause.key], clause.comparator, clause.value)


def _ordering(queryset: QuerySet, order_by: Sequence[OrderBy]) -> tuple[QuerySet, list]:
    """MLflow's order: each clause with missing values last (and NaN just before them),
    then the newest start time, then the run id."""
    expressions: list = []
    for index, order in enumerate(order_by):
        if order.entity == ATTRIBUTE:
            value = F(_RUN_FIELDS[order.key])
        else:
            alias = f"order_{index}"
            relation = {METRIC: "metric_series", PARAM: "params", TAG: "tags"}[order.entity]
            queryset = queryset.alias(
                **{
                    alias: FilteredRelation(
                        relation, condition=Q(**{f"{relation}__key": order.key})
                    )
                }
            )
            if order.entity == METRIC:
                value = F(f"{alias}__latest_value")
                expressions.append(
                    Case(
                        When(**{f"{alias}__latest_is_nan": True}, then=Value(1)),
                        When(**{f"{alias}__latest_value__isnull": True}, then=Value(2)),
                        default=Value(0),
                    ).asc()
                )
            else:
                value = F(f"{alias}__value")
        expressions.append(
            value.asc(nulls_last=True) if order.ascending else value.desc(nulls_last=True)
        )
    if not any(o.entity == ATTRIBUTE and o.key == "start_time" for o in order_by):
        expressions.append(F("start_time").desc())
    expressions.append(F("run_id").asc())
    return queryset, expressions


def params_of(runs: Sequence[Run]) -> dict[int, dict[str, str]]:
    """Every param of ``runs`` in one query, by run primary key (an empty dict for a run
    without params), for pages that show a few params of many runs."""
    params: dict[int, dict[str, str]] = {run.pk: {} for run in runs}
    rows = Param.objects.filter(run__in=[run.pk for run in runs]).values_list(
        "run_id", "key", "value"
    )
    for run_pk, key, value in rows:
        params[run_pk][key] = value
    return params


@dataclass(frozen=True, slots=True)
class Latest:
    """A series' latest point: ``value`` is what MLflow shows as the run's metric
    (``math.nan`` for a NaN, an infinity as logged), at ``step`` and ``timestamp``, the last
    of ``points``."""

    value: float
    step: int
    timestamp: int
    points: int

    @property
    def is_nan(self) -> bool:
        return math.isnan(self.value)

    @property
    def finite(self) -> float | None:
        """The value where a page must place it or compare it (an axis, a best mark):
        ``None`` for a NaN or an infinity, which measure nothing, as the ranking has it."""
        return self.value if math.isfinite(self.value) else None


def latest_metrics(
    runs: Sequence[Run], keys: Sequence[str] | None = None
) -> dict[int, dict[str, Latest]]:
    """Each run's latest point of each of ``keys`` (of every key it logged, for ``None``),
    by run primary key, then by key in key order; a key a run never logged is absent. One
    query for any number of runs, none when there is nothing to ask.

    The one read of "a run's latest metric values" the pages ask, so they cannot differ:

    - *NaN and infinities come as they were logged.* A run that logged NaN is not one that
      logged nothing, and the run list and run page say "NaN" where a value is missing
      "—". Where a value must be placed or compared, a page takes :attr:`Latest.finite`.
    - *Deleted runs are read like any other.* Which runs count is the caller's choice:
      lists and charts take theirs from ``ranking.counted_runs`` (deleted runs out), while
      a deleted run's own page still shows what it logged.
    """
    found: dict[int, dict[str, Latest]] = {run.pk: {} for run in runs}
    if not found or (keys is not None and not keys):
        return found
    rows = MetricSeries.objects.filter(run__in=list(found))
    if keys is not None:
        rows = rows.filter(key__in=keys)
    fields = ("latest_value", "latest_step", "latest_timestamp", "point_count")
    for run_pk, key, is_nan, value, *rest in rows.order_by("run_id", "key").values_list(
        "run_id", "key", "latest_is_nan", *fields
    ):
        found[run_pk][key] = Latest(math.nan if is_nan else value, *rest)
    return found


class RunKeys(NamedTuple):
    """What ``runs`` hold that a search can name: their experiments as (id, name) by
    name, and their distinct metric keys and param keys in key order."""

    experiments: list[tuple[int, str]]
    metric_keys: list[str]
    param_keys: list[str]


def run_keys(runs: QuerySet[Run], *, limit: int) -> RunKeys:
    """The experiments of ``runs``, and the first ``limit`` of their metric keys and of
    their param keys: three queries, each over ``runs`` as a subquery, for any number."""
    experiments = Experiment.objects.filter(pk__in=runs.values("experiment_id")).order_by("name")
    keys = [
        list(
            model.objects.filter(run__in=runs)
            .order_by("key")
            .values_list("key", flat=True)
            .distinct()[:limit]
        )
        for model in (MetricSeries, Param)
    ]
    return RunKeys(list(experiments.values_list("pk", "name")), *keys)


def with_run_data(queryset: QuerySet[Run]) -> QuerySet[Run]:
    """Runs with everything ``runs/get`` shows, in four extra queries for any number."""
    return queryset.select_related("experiment").prefetch_related(
        "params", "tags", "metric_series", "inputs"
    )


@dataclass(frozen=True, slots=True)
class Page:
    items: list
    more: bool


def search_runs(
    *,
    runs: QuerySet[Run],
    experiment_ids: Sequence[int],
    filter_string: str = "",
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] = (),
    offset: int = 0,
    limit: int = 1000,
) -> Page:
    queryset = runs.filter(experiment_id__in=experiment_ids, lifecycle_stage__in=view_type.stages)
    queryset = runs_matching(queryset, filter_string=filter_string, order_by=order_by)
    found = list(with_run_data(queryset)[offset : offset + limit + 1])
    return Page(found[:limit], len(found) > limit)


def runs_matching(
    runs: QuerySet[Run], *, filter_string: str = "", order_by: Sequence[str] = ()
) -> QuerySet[Run]:
    """``runs`` that match an MLflow filter string, in the order of MLflow ``order_by``
    clauses (missing values last, then newest first); what ``runs/search`` and the
    dashboard's run list both read. A string that does not parse is a ``DomainError``."""
    clauses = parse_filter(filter_string, RUNS)
    orders = parse_order_by(list(order_by), RUNS)
    for clause in clauses:
        runs = runs.filter(_run_clause(clause))
    runs, ordering = _ordering(runs, orders)
    return runs.order_by(*ordering)


def _experiment_clause(clause: Clause, *, zero_is_default: bool) -> Q:
    if clause.entity == TAG:
        return keyed_clause(ExperimentTag, clause, "experiment")
    if clause.key != "experiment_id":
        return compare(_EXPERIMENT_FIELDS[clause.key], clause.comparator, clause.value)
    wanted = clause.value if isinstance(clause.value, tuple) else (clause.value,)
    ids = [int(v) for v in wanted if str(v).isdigit() and not (zero_is_default and v == "0")]
    matching = Q(pk__in=ids)
    if zero_is_default and "0" in wanted:
        matching |= Q(is_default=True)
    if clause.comparator in ("=", "IN"):
        return matching
    if clause.comparator in ("!=", "NOT IN"):
        return ~matching
    raise DomainError(
        "invalid",
        f"Invalid comparator '{clause.comparator}' for experiment_id; use =, !=, IN or NOT IN.",
        fields={"filter": [clause.comparator]},
    )


def search_experiments(
    *,
    experiments: QuerySet[Experiment],
    filter_string: str = "",
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] = (),
    offset: int = 0,
    limit: int = 1000,
    zero_is_default: bool = False,
) -> Page:
    """``zero_is_default``: in one project's scope, experiment id ``0`` names its default."""
    clauses = parse_filter(filter_string, EXPERIMENTS)
    orders = parse_order_by(list(order_by) or ["creation_time DESC"], EXPERIMENTS)
    queryset = experiments.filter(lifecycle_stage__in=view_type.stages)
    for clause in clauses:
        queryset = queryset.filter(_experiment_clause(clause, zero_is_default=zero_is_default))
    ordering = []
    for order in orders:
        if order.entity != ATTRIBUTE:
            raise DomainError(
                "invalid",
                f"Invalid order_by entity: {order.entity}",
                fields={"order_by": [order.key]},
            )
        value = F(_EXPERIMENT_FIELDS[order.key])
        ordering.append(value.asc() if order.ascending else value.desc())
    if not any(o.key == "experiment_id" for o in orders):
        ordering.append(F("pk").asc())
    found = list(queryset.prefetch_related("tags").order_by(*ordering)[offset : offset + limit + 1])
    return Page(found[:limit], len(found) > limit)


# (step, timestamp, stored value, is_nan): a point's place in its series, NaN stored as 0.
HistoryKey = tuple[int, int, float, bool]


def series_points(series_id: int, chunks: QuerySet[MetricChunk] | None = None) -> Points:
    """A series' points (or those of ``chunks`` of it) in (step, timestamp, value) order."""
    if chunks is None:
        chunks = MetricChunk.objects.filter(series_id=series_id)
    return many_series_points([series_id], chunks).get(series_id, Points.empty())


def many_series_points(
    series_ids: Sequence[int], chunks: QuerySet[MetricChunk] | None = None
) -> dict[int, Points]:
    """Each series' points, in one query; series without points are left out."""
    if chunks is None:
        chunks = MetricChunk.objects.filter(series_id__in=series_ids)
    rows = chunks.order_by("series_id", "first_step", "pk").values_list(
        "series_id", "first_step", "last_step", "data"
    )
    grouped: dict[int, list[tuple[int, int, bytes]]] = {}
    for series_id, first_step, last_step, data in rows:
        grouped.setdefault(series_id, []).append((first_step, last_step, data))
    return {series_id: _merged(found) for series_id, found in grouped.items()}


def _merged(chunks: list[tuple[int, int, bytes]]) -> Points:
    merged = Points.concat([unpack(data) for _, _, data in chunks])
    # Chunks that overlap in steps (a late batch) interleave: put their points in order.
    if any(chunks[i][0] <= chunks[i - 1][1] for i in range(1, len(chunks))):
        merged = canonical(merged)
    return merged


def _after(points: Points, key: HistoryKey) -> np.ndarray:
    """Which of ``points`` come after ``key`` in history order (a NaN after numbers)."""
    step, timestamp, value, is_nan = key
    nan = np.isnan(points.values)
    place = (points.steps, points.timestamps)
    later = (place[0] > step) | ((place[0] == step) & (place[1] > timestamp))
    tied = (place[0] == step) & (place[1] == timestamp)
    if is_nan:
        return later
    return later | (tied & (nan | (points.values > value)))


def metric_history(
    *, run: Run, key: str, after: HistoryKey | None = None, limit: int | None = None
) -> Page:
    """A series in step order as ``(step, timestamp, stored value, is_nan)``, ``limit``
    points after ``after``. A page reads only the chunks it needs (those that hold its
    points, and any that overlap them), so a page deep into a million points costs what the
    first one does."""
    series = MetricSeries.objects.filter(run=run, key=key).values_list("pk", flat=True).first()
    if series is None:
        return Page([], False)
    chunks = MetricChunk.objects.filter(series_id=series)
    if after is not None:
        chunks = chunks.filter(last_step__gte=after[0])
    if limit is None:
        points = series_points(series, chunks)
    else:
        points = _history_page(series, chunks, after, limit)
    if after is not None:
        points = points[_after(points, after)]
    more = limit is not None and len(points) > limit
    if limit is not None:
        points = points[:limit]
    nan = np.isnan(points.values)
    values = np.where(nan, 0.0, points.values)
    items = list(
        zip(
            points.steps.tolist(),
            points.timestamps.tolist(),
            values.tolist(),
            nan.tolist(),
            strict=True,
        )
    )
    return Page(items, more)


def _history_page(
    series: int, chunks: QuerySet[MetricChunk], after: HistoryKey | None, limit: int
) -> Points:
    """At least the first ``limit + 1`` points after ``after`` (all there are, if fewer),
    in order: the chunks are taken in step order until they hold that many, then any chunk
    that starts before the last of them, since its points may come first."""
    meta = list(chunks.order_by("first_step", "pk").values_list("pk", "first_step", "size"))

    def grow(end: int, wanted: int) -> int:
        """The end of the shortest run of chunks after ``end`` holding ``wanted`` points."""
        while end < len(meta) and wanted > 0:
            wanted -= meta[end][2]
            end += 1
        return end

    end = grow(0, limit + 1)
    while True:
        points = series_points(series, chunks.filter(pk__in=[m[0] for m in meta[:end]]))
        if after is not None:
            points = points[_after(points, after)]
        if len(points) > limit:
            bound, further = int(points.steps[limit]), end
            while further < len(meta) and meta[further][1] <= bound:
                further += 1
            if further == end:
                return points
            end = further
        elif end == len(meta):
            return points
        else:
            end = grow(end, limit + 1 - len(points))


# --- Sweeps (experiment jobs), read in ``experiments.sweeps`` ----------------------------

from experiments.sweeps import datasets as _datasets  # noqa: E402
from experiments.sweeps import selectors as _sweeps  # noqa: E402 (after what it builds on)

dataset_table = _datasets.load

sweep_best_so_far = _sweeps.sweep_best_so_far
sweep_importances = _sweeps.sweep_importances
sweep_progress = _sweeps.sweep_progress
sweep_spec_from_run = _sweeps.sweep_spec_from_run
sweep_trials = _sweeps.sweep_trials
sweeps_of_project = _sweeps.sweeps_of_project
