"""Writes of MLflow 3's logged models: create, finalize, delete, tags, params, the metrics a
run logs for a model, and the links between runs and the models they produce or use."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from experiments import services as experiments
from experiments import validation as tracking_validation
from experiments.choices import LifecycleStage
from experiments.models import Experiment, Run
from experiments.validation import check_pairs
from mlprojects.db import locked
from mlprojects.exceptions import DomainError
from registry import validation
from registry.choices import LoggedModelStatus
from registry.models import (
    LoggedModel,
    LoggedModelMetric,
    LoggedModelParam,
    LoggedModelTag,
    RunModelLink,
    new_model_id,
)
from registry.services.common import User, now_ms, touched


@dataclass(frozen=True, slots=True)
class ModelMetricIn:
    """A ``log-batch`` metric that names a model: the point, the model and its dataset."""

    model_id: str
    key: str
    value: float
    timestamp: int
    step: int = 0
    dataset_name: str = ""
    dataset_digest: str = ""


def not_found(model_id: str) -> DomainError:
    return DomainError("not_found", f"Logged model with ID '{model_id}' not found.")


def _require_active(model: LoggedModel) -> None:
    if model.lifecycle_stage != LifecycleStage.ACTIVE:
        raise not_found(model.model_id)


@transaction.atomic
def logged_model_create(
    *,
    experiment: Experiment,
    by: User | None,
    name: str = "",
    model_type: str = "",
    source_run: Run | None = None,
    params: Sequence[tuple[str, str]] = (),
    tags: Sequence[tuple[str, str]] = (),
) -> LoggedModel:
    """A pending model in ``experiment``; its artifacts go to the experiment's
    ``models/<model id>/artifacts`` folder, as MLflow's server places them."""
    if name:
        validation.check_logged_model_name(name)
    tracking_validation.check_length("model_type", model_type, 500)
    params, tags = (
        check_pairs(params, tracking_validation.check_param, "params"),
        check_pairs(tags, validation.check_tag, "tags"),
    )
    experiment = locked(experiment)
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise tracking_validation.invalid(
            "experiment_id",
            f"The experiment {experiment.pk} must be in the 'active' state. "
            f"Current state is {experiment.lifecycle_stage}.",
        )
    if source_run is not None:
        source_run = Run.objects.select_related("experiment").get(pk=source_run.pk)
        if source_run.experiment.project_id != experiment.project_id:
            raise tracking_validation.invalid(
                "source_run_id", "The source run belongs to another project than the experiment."
            )
    model_id = new_model_id()
    now = now_ms()
    model = LoggedModel.objects.create(
        model_id=model_id,
        experiment=experiment,
        name=name or f"model-{model_id[2:10]}",
        source_run=source_run,
        model_type=model_type,
        artifact_location=f"{experiment.artifact_location}/models/{model_id}/artifacts",
        created_by=by,
        creation_time=now,
        last_update_time=now,
    )
    LoggedModelParam.objects.bulk_create(
        [LoggedModelParam(model=model, key=k, value=v) for k, v in params.items()]
    )
    LoggedModelTag.objects.bulk_create(
        [LoggedModelTag(model=model, key=k, value=v) for k, v in tags.items()]
    )
    return model


@transaction.atomic
def logged_model_finalize(*, model: LoggedModel, status: str, by: User | None) -> LoggedModel:
    if status not in (LoggedModelStatus.READY, LoggedModelStatus.UPLOAD_FAILED):
        raise tracking_validation.invalid(
            "status",
            f"Invalid value for 'status': {status}. A model is finalized as "
            f"{LoggedModelStatus.READY} or {LoggedModelStatus.UPLOAD_FAILED}.",
        )
    model = locked(model)
    _require_active(model)
    return touched(model, status=status)


@transaction.atomic
def logged_model_delete(*, model: LoggedModel, by: User | None) -> LoggedModel:
    """MLflow's soft delete: the model leaves searches and reads; its artifacts and the
    registered versions made from it stay."""
    model = locked(model)
    _require_active(model)
    return touched(model, lifecycle_stage=LifecycleStage.DELETED)


@transaction.atomic
def logged_model_set_tags(
    *, model: LoggedModel, tags: Sequence[tuple[str, str]], by: User | None
) -> None:
    """Tags are overwritten; the last of a key in one request wins."""
    validation.check_request_counts(tags=len(tags))
    tags = check_pairs(tags, validation.check_tag, "tags")
    model = locked(model)
    _require_active(model)
    LoggedModelTag.objects.bulk_create(
        [LoggedModelTag(model=model, key=k, value=v) for k, v in tags.items()],
        update_conflicts=True,
        unique_fields=["model", "key"],
        update_fields=["value"],
    )
    touched(model)


@transaction.atomic
def logged_model_delete_tag(*, model: LoggedModel, key: str, by: User | None) -> None:
    model = locked(model)
    _require_active(model)
    deleted, _ = LoggedModelTag.objects.filter(model=model, key=key).delete()
    if not deleted:
        raise DomainError(
            "not_found", f"No tag with key {key!r} found for model with ID {model.model_id!r}."
        )
    touched(model)


@transaction.atomic
def logged_model_log_params(
    *, model: LoggedModel, params: Sequence[tuple[str, str]], by: User | None
) -> None:
    """Params are write-once, as a run's: the same value again is fine, another refused."""
    validation.check_request_counts(params=len(params))
    keys = [key for key, _ in params]
    if len(set(keys)) != len(keys):
        raise tracking_validation.invalid(
            "params", f"Duplicate parameter keys have been submitted: {sorted(keys)}."
        )
    params = check_pairs(params, tracking_validation.check_param, "params")
    model = locked(model)
    _require_active(model)
    existing = dict(
        LoggedModelParam.objects.filter(model=model, key__in=params).values_list("key", "value")
    )
    for key, value in params.items():
        if key in existing and existing[key] != value:
            raise tracking_validation.invalid(
                "params",
                f"Changing param values is not allowed. Param with key='{key}' was already "
                f"logged with value='{existing[key]}' for model ID='{model.model_id}'. "
                f"Attempted logging new value '{value}'.",
            )
    LoggedModelParam.objects.bulk_create(
        [
            LoggedModelParam(model=model, key=k, value=v)
            for k, v in params.items()
            if k not in existing
        ]
    )
    touched(model)


def _project_models(run: Run, model_ids: set[str]) -> dict[str, LoggedModel]:
    """The active logged models of the run's project among ``model_ids``; a missing one is
    refused by its id, whether it does not exist or belongs to another project."""
    found = {
        model.model_id: model
        for model in LoggedModel.objects.filter(
            model_id__in=model_ids,
            experiment__project_id=run.experiment.project_id,
            lifecycle_stage=LifecycleStage.ACTIVE,
        )
    }
    for model_id in sorted(model_ids - set(found)):
        raise not_found(model_id)
    return found


@transaction.atomic
def log_batch(
    *,
    run: Run,
    by: User | None,
    metrics: Sequence[experiments.MetricIn] = (),
    params: Sequence[tuple[str, str]] = (),
    tags: Sequence[tuple[str, str]] = (),
    model_metrics: Sequence[ModelMetricIn] = (),
) -> None:
    """``experiments.services.log_batch``, plus the points that name a model, stored for it
    as well, in the same transaction: all or nothing. Each model must be of the run's
    project. A point logged again for a model changes nothing."""
    experiments.log_batch(run=run, by=by, metrics=metrics, params=params, tags=tags)
    if not model_metrics:
        return
    run = Run.objects.select_related("experiment").get(pk=run.pk)
    models = _project_models(run, {m.model_id for m in model_metrics})
    for index, metric in enumerate(model_metrics):
        tracking_validation.check_length(f"metrics[{index}].dataset_name", metric.dataset_name, 500)
        tracking_validation.check_length(
            f"metrics[{index}].dataset_digest", metric.dataset_digest, 36
        )
    rows = []
    for metric in model_metrics:
        is_nan = metric.value != metric.value
        rows.append(
            LoggedModelMetric(
                model=models[metric.model_id],
                run=run,
                key=metric.key,
                value=0.0 if is_nan else metric.value,
                is_nan=is_nan,
                timestamp=metric.timestamp,
                step=metric.step,
                dataset_name=metric.dataset_name,
                dataset_digest=metric.dataset_digest,
            )
        )
    LoggedModelMetric.objects.bulk_create(rows, ignore_conflicts=True)


@transaction.atomic
def run_link_models(
    *,
    run: Run,
    by: User | None,
    outputs: Sequence[tuple[str, int]] = (),
    inputs: Sequence[str] = (),
) -> None:
    """Record that ``run`` produced models (``runs/outputs``: model id and step) or used them
    (model inputs of ``runs/log-inputs``). Linking the same model again keeps its first step."""
    run = Run.objects.select_related("experiment").get(pk=run.pk)
    if run.lifecycle_stage != LifecycleStage.ACTIVE:
        raise tracking_validation.invalid(
            "run_id",
            f"The run {run.run_id} must be in the 'active' state. "
            f"Current state is {run.lifecycle_stage}.",
        )
    for index, (_, step) in enumerate(outputs):
        tracking_validation.check_int64(f"models[{index}].step", step)
    models = _project_models(run, {m for m, _ in outputs} | set(inputs))
    RunModelLink.objects.bulk_create(
        [
            RunModelLink(run=run, model=models[m], direction=RunModelLink.Direction.OUTPUT, step=s)
            for m, s in outputs
        ]
        + [
            RunModelLink(run=run, model=models[m], direction=RunModelLink.Direction.INPUT)
            for m in inputs
        ],
        ignore_conflicts=True,
    )
