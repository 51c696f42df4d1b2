"""Reads of the model registry, shaped for the MLflow endpoints, the gates and the pages, and
free of N+1 queries. Callers pass querysets already cut to what the caller may see."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import (
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce

from experiments.choices import LifecycleStage
from experiments.models import MetricSeries
from experiments.search import (
    ATTRIBUTE,
    METRIC,
    PARAM,
    TAG,
    Clause,
    Grammar,
    OrderBy,
    parse_filter,
    parse_order_by,
)
from experiments.selectors import Page, compare, keyed_clause
from mlprojects.exceptions import DomainError
from registry.choices import DEFAULT_PRODUCTION_ALIAS
from registry.models import (
    LoggedModel,
    LoggedModelMetric,
    LoggedModelParam,
    LoggedModelTag,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
    RegistrySettings,
    RunModelLink,
)


def _finite_or_none(value: float, is_nan: bool) -> float | None:
    return None if is_nan or not math.isfinite(value) else value


def many_version_metrics(versions: Iterable[ModelVersion]) -> dict[int, dict[str, float | None]]:
    """Each version's metric values by key, in two queries for any number of versions: the
    logged model's own metrics (its latest point of each key, MLflow's order: newest
    timestamp, then highest step), then, for keys the model has not logged, its run's latest
    value. NaN and infinities are None: no measurement a gate or a card can compare (and
    JSON, where deployment events keep them, has no spelling for them)."""
    versions = list(versions)
    by_model: dict[int, list[int]] = {}
    by_run: dict[int, list[int]] = {}
    for version in versions:
        if version.logged_model_id is not None:
            by_model.setdefault(version.logged_model_id, []).append(version.pk)
        if version.run_id is not None:
            by_run.setdefault(version.run_id, []).append(version.pk)
    found: dict[int, dict[str, float | None]] = {version.pk: {} for version in versions}
    if by_model:
        points = (
            LoggedModelMetric.objects.filter(model_id__in=by_model)
            .order_by("model_id", "key", "-timestamp", "-step", "-pk")
            .values_list("model_id", "key", "value", "is_nan")
        )
        for model_id, key, value, is_nan in points:
            for pk in by_model[model_id]:
                found[pk].setdefault(key, _finite_or_none(value, is_nan))
    if by_run:
        latest = MetricSeries.objects.filter(run_id__in=by_run).values_list(
            "run_id", "key", "latest_value", "latest_is_nan"
        )
        for run_id, key, value, is_nan in latest:
            for pk in by_run[run_id]:
                found[pk].setdefault(key, _finite_or_none(value, is_nan))
    return {pk: dict(sorted(values.items())) for pk, values in found.items()}


def version_metrics(version: ModelVersion) -> dict[str, float | None]:
    return many_version_metrics([version])[version.pk]


def production_alias_of(project_ref: str) -> Coalesce:
    """The production alias of the project at ``project_ref`` (an ``OuterRef`` path), as an
    annotation: a list of models or versions learns each one's alias in the same query."""
    named = RegistrySettings.objects.filter(project=OuterRef(project_ref)).values(
        "production_alias"
    )[:1]
    return Coalesce(Subquery(named), Value(DEFAULT_PRODUCTION_ALIAS))


def with_production_alias(queryset: QuerySet, project_path: str) -> QuerySet:
    """``queryset`` annotated with ``production_alias_name``, the alias of each row's
    project (``project_path`` leads there: ``project`` for registered models)."""
    return queryset.annotate(production_alias_name=production_alias_of(project_path))


# --- Search -----------------------------------------------------------------------------

REGISTERED_MODELS = Grammar(
    entities=frozenset({TAG, ATTRIBUTE}),
    string_attributes=frozenset({"name"}),
    numeric_attributes=frozenset(),
    list_attributes=frozenset({"name"}),
    null_entities=frozenset(),
)
REGISTERED_MODELS_ORDER = Grammar(
    entities=frozenset({ATTRIBUTE}),
    string_attributes=frozenset({"name"}),
    numeric_attributes=frozenset({"timestamp", "last_updated_timestamp", "creation_timestamp"}),
    list_attributes=frozenset(),
    null_entities=frozenset(),
)
MODEL_VERSIONS = Grammar(
    entities=frozenset({TAG, ATTRIBUTE}),
    string_attributes=frozenset({"name", "run_id", "source_path"}),
    numeric_attributes=frozenset({"version_number"}),
    list_attributes=frozenset({"name", "run_id"}),
    null_entities=frozenset(),
)
MODEL_VERSIONS_ORDER = Grammar(
    entities=frozenset({ATTRIBUTE}),
    string_attributes=frozenset({"name"}),
    numeric_attributes=frozenset(
        {"version_number", "creation_timestamp", "last_updated_timestamp"}
    ),
    list_attributes=frozenset(),
    null_entities=frozenset(),
)
LOGGED_MODELS = Grammar(
    entities=frozenset({METRIC, PARAM, TAG, ATTRIBUTE}),
    string_attributes=frozenset(
        {"name", "model_id", "model_type", "status", "source_run_id", "experiment_id"}
    ),
    numeric_attributes=frozenset(
        {
            "creation_timestamp",
            "creation_time",
            "last_updated_timestamp",
            "creation_timestamp_ms",
            "last_updated_timestamp_ms",
        }
    ),
    list_attributes=frozenset({"name", "model_id", "model_type", "status", "source_run_id"}),
    null_entities=frozenset(),
)

_REGISTERED_MODEL_FIELDS = {
    "name": "name",
    "timestamp": "last_update_time",
    "last_updated_timestamp": "last_update_time",
    "creation_timestamp": "creation_time",
}
_VERSION_FIELDS = {
    "name": "registered_model__name",
    "run_id": "run__run_id",
    "source_path": "source",
    "version_number": "version",
    "creation_timestamp": "creation_time",
    "last_updated_timestamp": "last_update_time",
}
_LOGGED_MODEL_FIELDS = {
    "name": "name",
    "model_id": "model_id",
    "model_type": "model_type",
    "status": "status",
    "source_run_id": "source_run__run_id",
    "experiment_id": "experiment_id",
    "creation_timestamp": "creation_time",
    "creation_time": "creation_time",
    "creation_timestamp_ms": "creation_time",
    "last_updated_timestamp": "last_update_time",
    "last_updated_timestamp_ms": "last_update_time",
}


def with_registered_model_data(queryset: QuerySet[RegisteredModel]) -> QuerySet[RegisteredModel]:
    return queryset.prefetch_related("tags", "aliases__model_version")


def with_version_data(queryset: QuerySet[ModelVersion]) -> QuerySet[ModelVersion]:
    return queryset.select_related("registered_model", "run", "logged_model").prefetch_related(
        "tags", "aliases"
    )


def attach_model_links(runs: Sequence) -> None:
    """Each run's model inputs and outputs as ``run.prefetched_model_links``, in one query
    for any number of runs (``runs/get`` and ``runs/search`` show them)."""
    prefetch_related_objects(
        list(runs),
        Prefetch(
            "model_links",
            RunModelLink.objects.select_related("model").only(
                "run_id", "direction", "step", "model__model_id"
            ),
            to_attr="prefetched_model_links",
        ),
    )


def with_logged_model_data(queryset: QuerySet[LoggedModel]) -> QuerySet[LoggedModel]:
    return queryset.select_related("experiment", "source_run").prefetch_related(
        "tags", "params", Prefetch("metrics", LoggedModelMetric.objects.select_related("run"))
    )


def latest_versions(
    registered_models: Sequence[RegisteredModel], stages: Sequence[str] = ()
) -> dict[int, list[ModelVersion]]:
    """MLflow's ``latest_versions``: per model, the highest version in each stage (in
    ``stages``, or every stage), in four queries for any number of models."""
    if not registered_models:
        return {}
    tops = ModelVersion.objects.filter(registered_model__in=registered_models)
    if stages:
        tops = tops.filter(current_stage__in=stages)
    tops = tops.values("registered_model", "current_stage").annotate(top=Max("version")).order_by()
    wanted = Q(pk__in=[])
    for row in tops:
        wanted |= Q(registered_model=row["registered_model"], version=row["top"])
    found: dict[int, list[ModelVersion]] = {rm.pk: [] for rm in registered_models}
    for version in with_version_data(ModelVersion.objects.filter(wanted)).order_by("version"):
        found[version.registered_model_id].append(version)
    return found


IS_PROMPT_TAG = "mlflow.prompt.is_prompt"


def _without_prompts(queryset: QuerySet, clauses: list[Clause], tags, owner: str):
    """MLflow's registry keeps prompts beside models, told apart by a tag, and its searches
    leave prompts out unless the filter asks for them (the client always adds
    ``tags.`mlflow.prompt.is_prompt` != 'true'``). So a clause on that tag is dropped and
    prompts are left out, unless it asks for prompts (``= 'true'``, ``!= 'false'``)."""
    wanted = [c for c in clauses if c.entity == TAG and c.key == IS_PROMPT_TAG]
    asks_for_prompts = any(
        (c.comparator == "=" and str(c.value).lower() == "true")
        or (c.comparator == "!=" and str(c.value).lower() == "false")
        for c in wanted
    )
    if asks_for_prompts:
        return queryset, clauses
    prompts = tags.objects.filter(
        **{owner: OuterRef("pk")}, key=IS_PROMPT_TAG, value__iexact="true"
    )
    rest = [c for c in clauses if not (c.entity == TAG and c.key == IS_PROMPT_TAG)]
    return queryset.filter(~Exists(prompts)), rest


def _version_clause(clause: Clause) -> Q:
    if clause.entity == TAG:
        return keyed_clause(ModelVersionTag, clause, "model_version")
    value = clause.value
    if clause.key == "version_number":
        if isinstance(value, float) and not value.is_integer():
            raise DomainError(
                "invalid",
                f"Invalid value for numeric attribute 'version_number': {value!r}",
                fields={"filter": [str(value)]},
            )
        value = int(value)
    return compare(_VERSION_FIELDS[clause.key], clause.comparator, value)


def _order(orders: Sequence[OrderBy], fields: dict[str, str]) -> list:
    return [F(fields[o.key]).asc() if o.ascending else F(fields[o.key]).desc() for o in orders]


def search_registered_models(
    *,
    registered_models: QuerySet[RegisteredModel],
    filter_string: str = "",
    order_by: Sequence[str] = (),
    offset: int = 0,
    limit: int = 100,
) -> Page:
    """Ordered by the clauses given, then by name, as MLflow's registry orders."""
    clauses = parse_filter(filter_string, REGISTERED_MODELS)
    orders = parse_order_by(list(order_by), REGISTERED_MODELS_ORDER)
    fields = [_REGISTERED_MODEL_FIELDS[o.key] for o in orders]
    if len(set(fields)) != len(fields):
        raise DomainError(
            "invalid",
            f"`order_by` contains duplicate fields: {list(order_by)}",
            fields={"order_by": list(order_by)},
        )
    queryset, clauses = _without_prompts(
        registered_models, clauses, RegisteredModelTag, "registered_model"
    )
    for clause in clauses:
        if clause.entity == TAG:
            queryset = queryset.filter(keyed_clause(RegisteredModelTag, clause, "registered_model"))
        else:
            queryset = queryset.filter(compare("name", clause.comparator, clause.value))
    ordering = _order(orders, _REGISTERED_MODEL_FIELDS)
    if "name" not in fields:
        ordering.append(F("name").asc())
    ordering.append(F("pk").asc())
    found = list(
        with_registered_model_data(queryset.order_by(*ordering))[offset : offset + limit + 1]
    )
    return Page(found[:limit], len(found) > limit)


def search_model_versions(
    *,
    versions: QuerySet[ModelVersion],
    filter_string: str = "",
    order_by: Sequence[str] = (),
    offset: int = 0,
    limit: int = 10_000,
) -> Page:
    clauses = parse_filter(filter_string, MODEL_VERSIONS)
    orders = parse_order_by(
        list(order_by) or ["last_updated_timestamp DESC", "name ASC", "version_number DESC"],
        MODEL_VERSIONS_ORDER,
    )
    queryset, clauses = _without_prompts(versions, clauses, ModelVersionTag, "model_version")
    for clause in clauses:
        queryset = queryset.filter(_version_clause(clause))
    ordering = _order(orders, _VERSION_FIELDS)
    keys = {o.key for o in orders}
    if "name" not in keys:
        ordering.append(F("registered_model__name").asc())
    if "version_number" not in keys:
        ordering.append(F("version").desc())
    ordering.append(F("pk").asc())
    found = list(with_version_data(queryset.order_by(*ordering))[offset : offset + limit + 1])
    return Page(found[:limit], len(found) > limit)


@dataclass(frozen=True, slots=True)
class ModelOrder:
    """One ``order_by`` item of ``logged-models/search``: a field, and for a metric the
    dataset its value must be on."""

    field_name: str
    ascending: bool = True
    dataset_name: str = ""
    dataset_digest: str = ""


def _metric_rows(key: str, dataset_name: str = "", dataset_digest: str = "") -> QuerySet:
    rows = LoggedModelMetric.objects.filter(model=OuterRef("pk"), key=key)
    if dataset_name:
        rows = rows.filter(dataset_name=dataset_name)
    if dataset_digest:
        rows = rows.filter(dataset_digest=dataset_digest)
    return rows


def _logged_model_clause(clause: Clause, datasets: Sequence[tuple[str, str]]) -> Q:
    if clause.entity == TAG:
        return keyed_clause(LoggedModelTag, clause, "model")
    if clause.entity == PARAM:
        return keyed_clause(LoggedModelParam, clause, "model")
    if clause.entity == METRIC:
        rows = LoggedModelMetric.objects.filter(model=OuterRef("pk"), key=clause.key)
        if datasets:
            rows = rows.filter(_on_datasets(datasets))
        if clause.comparator == "!=":
            matching = Q(is_nan=True) | ~Q(value=clause.value)
        else:
            matching = Q(is_nan=False) & compare("value", clause.comparator, clause.value)
        return Q(Exists(rows.filter(matching)))
    value = clause.value
    if clause.key == "experiment_id":
        wanted = value if isinstance(value, tuple) else (value,)
        value = [int(v) for v in wanted if str(v).isdigit() and len(str(v)) < 19]
        matching = Q(experiment_id__in=value)
        return ~matching if clause.comparator in ("!=", "NOT IN") else matching
    return compare(_LOGGED_MODEL_FIELDS[clause.key], clause.comparator, value)


def _on_datasets(datasets: Sequence[tuple[str, str]]) -> Q:
    wanted = Q(pk__in=[])
    for name, digest in datasets:
        one = Q(dataset_name=name)
        if digest:
            one &= Q(dataset_digest=digest)
        wanted |= one
    return wanted


def search_logged_models(
    *,
    models: QuerySet[LoggedModel],
    experiment_ids: Sequence[int],
    filter_string: str = "",
    datasets: Sequence[tuple[str, str]] = (),
    order_by: Sequence[ModelOrder] = (),
    offset: int = 0,
    limit: int = 50,
) -> Page:
    """MLflow's search of logged models: active models of the experiments, filtered by
    attributes, metrics (on ``datasets`` if given), params and tags; ordered by the items
    given (a metric by its latest value, missing values last), then newest first."""
    clauses = parse_filter(filter_string, LOGGED_MODELS)
    queryset = models.filter(
        experiment_id__in=experiment_ids, lifecycle_stage=LifecycleStage.ACTIVE
    )
    for clause in clauses:
        queryset = queryset.filter(_logged_model_clause(clause, datasets))
    if datasets and not any(clause.entity == METRIC for clause in clauses):
        queryset = queryset.filter(
            Exists(LoggedModelMetric.objects.filter(_on_datasets(datasets), model=OuterRef("pk")))
        )
    ordering, keys = [], set()
    for index, item in enumerate(order_by):
        (order,) = parse_order_by([item.field_name], LOGGED_MODELS)
        if order.entity == ATTRIBUTE:
            field = _LOGGED_MODEL_FIELDS[order.key]
            keys.add(field)
            value = F(field)
        elif order.entity == METRIC:
            latest = _metric_rows(order.key, item.dataset_name, item.dataset_digest).order_by(
                "-timestamp", "-step", "pk"
            )
            alias = f"order_{index}"
            queryset = queryset.annotate(
                **{alias: Subquery(latest.filter(is_nan=False).values("value")[:1])}
            )
            value = F(alias)
        else:
            raise DomainError(
                "invalid",
                f"Invalid order by field name: {item.field_name}. Only metrics are supported.",
                fields={"order_by": [item.field_name]},
            )
        ordering.append(
            value.asc(nulls_last=True) if item.ascending else value.desc(nulls_last=True)
        )
    if "creation_time" not in keys:
        ordering.append(F("creation_time").desc())
    if "model_id" not in keys:
        ordering.append(F("model_id").asc())
    found = list(with_logged_model_data(queryset.order_by(*ordering))[offset : offset + limit + 1])
    return Page(found[:limit], len(found) > limit)
