"""Every write of experiment tracking. Keyword-only, atomic, with MLflow's semantics.

The MLflow layer, and later the native bulk endpoint and the admin, call these; nothing else
writes the models. Refusals raise :class:`mlprojects.exceptions.DomainError` with the code
``invalid``, ``not_found`` or ``already_exists`` and leave nothing half-written: a batch is
stored whole or not at all.
"""

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from experiments import ingest, validation
from experiments.choices import LifecycleStage, RunStatus
from experiments.models import (
    Experiment,
    ExperimentTag,
    Param,
    Run,
    RunEvidence,
    RunInput,
    RunTag,
    new_run_id,
)
from mlprojects.db import locked
from mlprojects.exceptions import DomainError
from phases.models import Outcome, Project

User = AbstractBaseUser

DEFAULT_EXPERIMENT_NAME = "Default"
RUN_NAME_TAG = "mlflow.runName"
DATASET_CONTEXT_TAG = "mlflow.data.context"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def touched(instance, *, now: int | None = None, **changes):
    """Apply ``changes`` to an MLflow object that keeps a ``last_update_time`` (experiments,
    logged and registered models, versions) and move that time, as MLflow does on every
    change; saves only those columns."""
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.last_update_time = now_ms() if now is None else now
    instance.save(update_fields=[*changes, "last_update_time"])
    return instance


class MetricIn(NamedTuple):
    """One point as a client logs it; ``value`` may be NaN or ±inf. A tuple, because a batch
    holds thousands and they are made and unpacked in the hot path."""

    key: str
    value: float
    timestamp: int
    step: int = 0


@dataclass(frozen=True, slots=True)
class DatasetIn:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str = ""
    profile: str = ""
    tags: Sequence[tuple[str, str]] = field(default_factory=tuple)


def artifact_location(experiment: Experiment) -> str:
    """Where the mlflow client sends an experiment's artifacts: the artifacts proxy of the
    tracking URI it was given (``mlflow-artifacts:/`` has no host, so the client resolves it
    against its own tracking URI, per-project prefix included)."""
    return f"mlflow-artifacts:/{experiment.pk}"


# --- Experiments ------------------------------------------------------------------------


def ensure_default_experiment(*, project: Project) -> Experiment:
    """The project's default experiment ("Default", MLflow's experiment 0), created on first
    use: the mlflow client logs there when no experiment is set. Safe under concurrency."""
    found = Experiment.objects.filter(project=project, is_default=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            named = Experiment.objects.filter(project=project, name=DEFAULT_EXPERIMENT_NAME).first()
            if named is not None:
                named.is_default = True
                named.save(update_fields=["is_default"])
                return named
            return _experiment_insert(project=project, name=DEFAULT_EXPERIMENT_NAME, default=True)
    except IntegrityError:
        return Experiment.objects.get(project=project, is_default=True)


def _experiment_insert(*, project: Project, name: str, default: bool = False) -> Experiment:
    now = now_ms()
    experiment = Experiment.objects.create(
        project=project,
        name=name,
        is_default=default,
        creation_time=now,
        last_update_time=now,
    )
    experiment.artifact_location = artifact_location(experiment)
    experiment.save(update_fields=["artifact_location"])
    return experiment


def _name_taken(project: Project, name: str) -> DomainError:
    return DomainError.name_taken(
        f"Experiment(name={name}) already exists in project {project.slug}."
    )


@transaction.atomic
def experiment_create(
    *, project: Project, name: str, by: User | None, tags: Iterable[tuple[str, str]] = ()
) -> Experiment:
    validation.check_experiment_name(name)
    tags = list(tags)
    for key, value in tags:
        validation.check_experiment_tag(key, value)
    if Experiment.objects.filter(project=project, name=name).exists():
        raise _name_taken(project, name)
    try:
        with transaction.atomic():
            experiment = _experiment_insert(project=project, name=name)
    except IntegrityError as error:
        raise _name_taken(project, name) from error
    ExperimentTag.objects.bulk_create(
        [ExperimentTag(experiment=experiment, key=k, value=v) for k, v in dict(tags).items()]
    )
    return experiment


def _require_active_experiment(experiment: Experiment, doing: str) -> None:
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise validation.invalid(
            "experiment_id",
            f"Cannot {doing}: the experiment {experiment.name!r} must be in the 'active' state. "
            f"Current state is {experiment.lifecycle_stage}.",
        )


@transaction.atomic
def experiment_rename(*, experiment: Experiment, new_name: str, by: User | None) -> Experiment:
    validation.check_experiment_name(new_name)
    experiment = locked(experiment, "project")
    _require_active_experiment(experiment, "rename it")
    if new_name == experiment.name:
        return experiment
    taken = Experiment.objects.filter(project_id=experiment.project_id, name=new_name)
    if taken.exists():
        raise _name_taken(experiment.project, new_name)
    return touched(experiment, name=new_name)


@transaction.atomic
def experiment_delete(*, experiment: Experiment, by: User | None) -> Experiment:
    """Mark an experiment and all its runs deleted, as MLflow does; restore brings them back.

    The default experiment stays: clients that set no experiment log into it.
    """
    experiment = locked(experiment, "project")
    if experiment.is_default:
        raise validation.invalid(
            "experiment_id", "The default experiment (ID 0) cannot be deleted."
        )
    _require_active_experiment(experiment, "delete it")
    return _set_experiment_stage(experiment, LifecycleStage.DELETED)


@transaction.atomic
def experiment_restore(*, experiment: Experiment, by: User | None) -> Experiment:
    experiment = locked(experiment, "project")
    if experiment.lifecycle_stage != LifecycleStage.DELETED:
        raise validation.invalid(
            "experiment_id",
            f"Cannot restore the experiment {experiment.name!r}: it is not deleted.",
        )
    return _set_experiment_stage(experiment, LifecycleStage.ACTIVE)


def _set_experiment_stage(experiment: Experiment, stage: str) -> Experiment:
    touched(experiment, lifecycle_stage=stage)
    experiment.runs.update(lifecycle_stage=stage)
    return experiment


@transaction.atomic
def experiment_set_tag(
    *, experiment: Experiment, key: str, value: str, by: User | None
) -> ExperimentTag:
    validation.check_experiment_tag(key, value)
    experiment = locked(experiment, "project")
    _require_active_experiment(experiment, "set a tag")
    tag, _ = ExperimentTag.objects.update_or_create(
        experiment=experiment, key=key, defaults={"value": value}
    )
    return tag


@transaction.atomic
def experiment_delete_tag(*, experiment: Experiment, key: str, by: User | None) -> None:
    experiment = locked(experiment, "project")
    _require_active_experiment(experiment, "delete a tag")
    deleted, _ = ExperimentTag.objects.filter(experiment=experiment, key=key).delete()
    if not deleted:
        raise DomainError(
            "not_found", f"No tag with name: {key} in experiment with id {experiment.pk}"
        )


# --- Runs -------------------------------------------------------------------------------


def _check_run_name(name: str) -> None:
    validation.check_length("run_name", name, validation.MAX_RUN_NAME_LENGTH)


@transaction.atomic
def run_create(
    *,
    experiment: Experiment,
    by: User | None,
    name: str = "",
    start_time: int | None = None,
    tags: Iterable[tuple[str, str]] = (),
) -> Run:
    """Start a run. Its name and the ``mlflow.runName`` tag always agree, as in MLflow."""
    return _run_insert(experiment=experiment, by=by, name=name, start_time=start_time, tags=tags)


def _run_insert(
    *, experiment: Experiment, by: User | None, name: str, start_time: int | None,
    tags: Iterable[tuple[str, str]], status: str = RunStatus.RUNNING, end_time: int | None = None,
) -> Run:  # fmt: skip
    tags = dict(tags)
    for key, value in tags.items():
        validation.check_tag(key, value)
    tagged_name = tags.get(RUN_NAME_TAG, "")
    if name and tagged_name and name != tagged_name:
        raise validation.invalid(
            "run_name",
            "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
            f"different values (run_name='{name}', mlflow.runName='{tagged_name}').",
        )
    if start_time is not None:
        validation.check_int64("start_time", start_time)
    experiment = locked(experiment)
    _require_active_experiment(experiment, "create a run")
    run_id = new_run_id()
    name = name or tagged_name or f"run-{run_id[:8]}"
    _check_run_name(name)
    tags[RUN_NAME_TAG] = name
    run = Run.objects.create(
        run_id=run_id,
        experiment=experiment,
        name=name,
        created_by=by,
        user_id=by.get_username() if by is not None else "",
        status=status,
        start_time=now_ms() if start_time is None else start_time,
        end_time=end_time,
        artifact_uri=f"{artifact_location(experiment)}/{run_id}/artifacts",
    )
    RunTag.objects.bulk_create([RunTag(run=run, key=k, value=v) for k, v in tags.items()])
    return run


@transaction.atomic
def run_record(
    *, experiment: Experiment, by: User | None, name: str, start_time: int, end_time: int,
    status: str, metrics: Sequence[MetricIn] = (), params: Sequence[tuple[str, str]] = (),
    tags: Sequence[tuple[str, str]] = (),
) -> Run:  # fmt: skip
    """A run that has ended, written whole: what ``run_create``, ``log_batch`` and
    ``run_update`` would store, with their checks, in one INSERT per table (the run, its
    tags, its params, its series, their chunks and rollups). What a sweep's trial logs."""
    _check_status(status)
    validation.check_int64("end_time", end_time)
    columns = _metric_columns(metrics) if metrics else None
    _check_params(params)
    run = _run_insert(
        experiment=experiment, by=by, name=name, start_time=start_time, tags=tags,
        status=status, end_time=end_time,
    )  # fmt: skip
    Param.objects.bulk_create([Param(run=run, key=k, value=v) for k, v in params])
    if columns is not None:
        ingest.write_new(run_pk=run.pk, columns=columns)
    return run


def _check_status(status: str) -> None:
    if status not in RunStatus.values:
        raise validation.invalid_value("status", status, f"must be one of {RunStatus.values}.")


def _locked_active_run(run: Run, *, only: Sequence[str] = ()) -> Run:
    """The run's row, locked until commit: writers of one run go one after the other, so
    params stay write-once and series upserts never deadlock. ``only``: the columns the
    caller reads (the rest load on first use), for the logging hot path."""
    runs = Run.objects.select_for_update(no_key=True)
    locked = (runs.only("lifecycle_stage", "run_id", *only) if only else runs).get(pk=run.pk)
    if locked.lifecycle_stage != LifecycleStage.ACTIVE:
        raise validation.invalid(
            "run_id",
            f"The run {locked.run_id} must be in the 'active' state. "
            f"Current state is {locked.lifecycle_stage}.",
        )
    return locked


@transaction.atomic
def run_update(
    *,
    run: Run,
    by: User | None,
    status: str | None = None,
    end_time: int | None = None,
    name: str | None = None,
) -> Run:
    if status is not None:
        _check_status(status)
    if end_time is not None:
        validation.check_int64("end_time", end_time)
    if name:
        _check_run_name(name)
    run = _locked_active_run(run)
    if status is not None:
        run.status = status
    if end_time is not None:
        run.end_time = end_time
    if name:
        _rename(run, name)
    run.save(update_fields=["status", "end_time", "name"])
    return run


def _rename(run: Run, name: str) -> None:
    run.name = name
    RunTag.objects.update_or_create(run=run, key=RUN_NAME_TAG, defaults={"value": name})


@transaction.atomic
def run_delete(*, run: Run, by: User | None) -> Run:
    return _set_run_stage(run, LifecycleStage.DELETED)


@transaction.atomic
def run_restore(*, run: Run, by: User | None) -> Run:
    return _set_run_stage(run, LifecycleStage.ACTIVE)


def _set_run_stage(run: Run, stage: str) -> Run:
    run = locked(run, "experiment")
    if stage == LifecycleStage.ACTIVE:
        _require_active_experiment(run.experiment, "restore a run")
    run.lifecycle_stage = stage
    run.save(update_fields=["lifecycle_stage"])
    return run


@transaction.atomic
def log_batch(
    *,
    run: Run,
    by: User | None,
    metrics: Sequence[MetricIn] = (),
    params: Sequence[tuple[str, str]] = (),
    tags: Sequence[tuple[str, str]] = (),
) -> None:
    """Log metrics, params and tags of one run, all or nothing, with MLflow's rules.

    Params are write-once: the same value again is accepted, a different one refused.
    Tags are overwritten (the last of a key in the batch wins). An identical metric point
    logged again changes nothing, so a retried batch is harmless. Batch sizes are the
    caller's to limit (``validation.check_batch_limits`` for MLflow's ``log-batch``).
    """
    columns = _metric_columns(metrics) if metrics else None
    _check_params(params)
    validation.check_pairs(tags, validation.check_tag, "tags")
    run = _locked_active_run(run, only=["name"])
    if params:
        _log_params(run, dict(params))
    if columns is not None:
        ingest.write(run_pk=run.pk, columns=columns)
    if tags:
        _set_tags(run, dict(tags))


@transaction.atomic
def log_columns(*, run: Run, by: User | None, columns: ingest.Columns) -> int:
    """Log points that arrive as arrays (bulk uploads), with ``log_batch``'s rules for
    metrics; the number of points that were new. A refusal names the rule, not the point:
    callers that can say where the point was (``bulk``) check the input themselves first."""
    for index, key in enumerate(columns.keys):
        validation.check_metric_key(key, path=f"keys[{index}]")
    lowest = int(columns.timestamps.min()) if len(columns) else 0
    if lowest < 0:
        raise validation.invalid_value(
            "timestamp", lowest, "Timestamps must be nonnegative longs (64-bit integers)."
        )
    run = _locked_active_run(run, only=["name"])
    return ingest.write(run_pk=run.pk, columns=columns)


def _check_params(params: Sequence[tuple[str, str]]) -> None:
    validation.check_pairs(params, validation.check_param, "params")
    keys = [key for key, _ in params]
    if len(set(keys)) != len(keys):
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        raise validation.invalid(
            "params",
            f"Duplicate parameter keys have been submitted: {duplicates}. Please ensure the "
            "request contains only one param value per param key.",
        )


def _metric_columns(metrics: Sequence[MetricIn]) -> ingest.Columns:
    """``metrics`` as arrays, after MLflow's checks: each distinct key once, then the
    points' types and ranges all at once; the first bad point is then found one by one."""
    keys, values, timestamps, steps = zip(*metrics, strict=True)
    codes: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key not in codes:
            validation.check_metric_key(key, path=f"metrics[{index}]")
            codes[key] = len(codes)
    regular = (
        all(type(value) is float for value in values)
        and all(type(number) is int and number >= 0 for number in timestamps)
        and all(type(number) is int for number in steps)
    )
    try:
        columns = ingest.Columns(
            keys=list(codes),
            key=np.fromiter((codes[key] for key in keys), dtype=np.intp, count=len(keys)),
            steps=np.array(steps, dtype=np.int64),
            timestamps=np.array(timestamps, dtype=np.int64),
            values=np.array(values, dtype=np.float64),
        )
    except (OverflowError, TypeError, ValueError):
        regular = False
    if not regular:
        for index, (key, value, timestamp, step) in enumerate(metrics):
            validation.check_metric_point(key, value, timestamp, step, path=f"metrics[{index}]")
        raise AssertionError("a point that failed the checks above passed them one by one")
    return columns


def _log_params(run: Run, params: dict[str, str]) -> None:
    existing = dict(Param.objects.filter(run=run, key__in=params).values_list("key", "value"))
    changed = [
        {"key": key, "old_value": existing[key], "new_value": value}
        for key, value in params.items()
        if key in existing and existing[key] != value
    ]
    if len(changed) == 1:
        (change,) = changed
        raise validation.invalid(
            "params",
            f"Changing param values is not allowed. Param with key='{change['key']}' was "
            f"already logged with value='{change['old_value']}' for run ID='{run.run_id}'. "
            f"Attempted logging new value '{change['new_value']}'.",
        )
    if changed:
        raise validation.invalid(
            "params",
            f"Changing param values is not allowed. Params were already logged='{changed}' "
            f"for run ID='{run.run_id}'.",
        )
    Param.objects.bulk_create(
        [Param(run=run, key=k, value=v) for k, v in params.items() if k not in existing]
    )


def _set_tags(run: Run, tags: dict[str, str]) -> None:
    RunTag.objects.bulk_create(
        [RunTag(run=run, key=k, value=v) for k, v in tags.items()],
        update_conflicts=True,
        unique_fields=["run", "key"],
        update_fields=["value"],
    )
    if RUN_NAME_TAG in tags and tags[RUN_NAME_TAG] != run.name:
        run.name = tags[RUN_NAME_TAG]
        _check_run_name(run.name)
        run.save(update_fields=["name"])


@transaction.atomic
def run_delete_tag(*, run: Run, key: str, by: User | None) -> None:
    run = _locked_active_run(run)
    deleted, _ = RunTag.objects.filter(run=run, key=key).delete()
    if not deleted:
        raise DomainError("not_found", f"No tag with name: {key} in run with id {run.run_id}")


@transaction.atomic
def log_inputs(*, run: Run, datasets: Sequence[DatasetIn], by: User | None) -> None:
    """Record the datasets a run used; logging the same dataset again changes nothing."""
    if len(datasets) > validation.MAX_DATASETS_PER_BATCH:
        raise validation.invalid(
            "datasets",
            f"A request can log at most {validation.MAX_DATASETS_PER_BATCH} datasets; "
            f"got {len(datasets)}.",
        )
    for index, dataset in enumerate(datasets):
        path = f"datasets[{index}].dataset"
        for subject, text, limit in (
            ("name", dataset.name, validation.MAX_DATASET_NAME_SIZE),
            ("digest", dataset.digest, validation.MAX_DATASET_DIGEST_SIZE),
            ("source_type", dataset.source_type, validation.MAX_DATASET_SOURCE_TYPE_SIZE),
            ("source", dataset.source, validation.MAX_DATASET_SOURCE_SIZE),
            ("schema", dataset.schema, validation.MAX_DATASET_SCHEMA_SIZE),
            ("profile", dataset.profile, validation.MAX_DATASET_PROFILE_SIZE),
        ):
            validation.check_length(f"{path}.{subject}", text, limit)
        if not dataset.name or not dataset.digest:
            raise validation.invalid(path, f"Dataset {index} needs a name and a digest.")
        for key, value in dataset.tags:
            validation.check_length("key", key, validation.MAX_INPUT_TAG_KEY_SIZE)
            validation.check_length("value", value, validation.MAX_INPUT_TAG_VALUE_SIZE)
    run = _locked_active_run(run)
    RunInput.objects.bulk_create(
        [
            RunInput(
                run=run,
                name=d.name,
                digest=d.digest,
                source_type=d.source_type,
                source=d.source,
                schema=d.schema,
                profile=d.profile,
                context=dict(d.tags).get(DATASET_CONTEXT_TAG, ""),
                tags=[{"key": k, "value": v} for k, v in d.tags],
            )
            for d in datasets
        ],
        ignore_conflicts=True,
    )


# --- Evidence ---------------------------------------------------------------------------


@transaction.atomic
def run_evidence_link(
    *, run: Run, outcome: Outcome, by: User | None, note: str = ""
) -> RunEvidence:
    """Offer a run as evidence for an outcome of the same project."""
    run = Run.objects.select_related("experiment").get(pk=run.pk)
    outcome = Outcome.objects.select_related("phase").get(pk=outcome.pk)
    if run.experiment.project_id != outcome.phase.project_id:
        raise validation.invalid("run", "the run belongs to another project than the outcome")
    evidence, _ = RunEvidence.objects.get_or_create(
        run=run, outcome=outcome, defaults={"note": note.strip(), "linked_by": by}
    )
    return evidence


# --- Sweeps (experiment jobs), written in ``experiments.sweeps`` ---------------------------

from experiments.sweeps import services as _sweeps  # noqa: E402 (after what it builds on)

atomic_with_files = _sweeps.atomic_with_files
dataset_create = _sweeps.dataset_create
experimentation_outcome = _sweeps.experimentation_outcome
sweep_best_as_evidence = _sweeps.sweep_best_as_evidence
sweep_cancel = _sweeps.sweep_cancel
sweep_importances_keep = _sweeps.sweep_importances_keep
sweep_create = _sweeps.sweep_create
sweep_resume = _sweeps.sweep_resume
sweep_retry_failed = _sweeps.sweep_retry_failed
trial_quota_set = _sweeps.trial_quota_set
