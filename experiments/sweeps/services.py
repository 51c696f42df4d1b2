"""Every write of sweeps and datasets: keyword-only and atomic; a refusal is a
:class:`DomainError` naming the field and the rule, and leaves nothing created.

Roles are the interfaces' to check (as for runs): contributors (``Action.LOG_DATA``) create
datasets and start, cancel, resume and retry sweeps; managers (``Action.REVIEW_OUTCOMES``)
also make a sweep's best trial the evidence of an outcome.
"""

import contextlib
import contextvars

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from experiments.choices import SWEEP_ACTIVE, DatasetSource, SweepStatus, TrialStatus
from experiments.models import Dataset, RunEvidence, Sweep, Trial, TrialQuota
from experiments.sweeps import datasets, ledger, sampling, spec
from mlprojects.db import locked
from mlprojects.exceptions import DomainError
from phases.choices import EvidenceRule, OutcomeKind
from phases.models import Outcome, Project

MAX_UPLOAD_NAME = 200

# The dataset files written inside the innermost ``atomic_with_files`` block: (storage, name).
_new_files: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "new_dataset_files", default=None
)


@contextlib.contextmanager
def atomic_with_files():
    """A transaction whose dataset files go with it. A file is written before its row, so
    when the block fails the row rolls back and the file is deleted; a nested block that
    succeeds hands its files to the enclosing one, which deletes them if it fails later."""
    made: list = []
    outer = _new_files.get()
    token = _new_files.set(made)
    try:
        with transaction.atomic():
            yield
    except BaseException:
        for storage, name in made:
            storage.delete(name)
        raise
    finally:
        _new_files.reset(token)
    if outer is not None:
        outer.extend(made)


def _written(file) -> None:
    made = _new_files.get()
    if made is not None:
        made.append((file.storage, file.name))


def _read(file) -> bytes:
    """The upload's bytes, read no further than one byte past the limit."""
    limit = settings.EXPERIMENTS_MAX_DATASET_BYTES
    if hasattr(file, "size") and file.size is not None and file.size > limit:
        raise DomainError.invalid(
            "file", f"is {file.size:,} bytes, over the limit of {limit:,} bytes"
        )
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    return data if isinstance(data, bytes) else data.encode()


@atomic_with_files()
def dataset_create(
    *, project: Project, user, name: str, builtin: str | None = None, file=None,
    target: str | None = None, origin: dict | None = None,
) -> Dataset:  # fmt: skip
    """A built-in dataset (``builtin``: iris, wine, breast_cancer, digits, diabetes) or a
    CSV file (``file``, with its ``target`` column): uploaded, or exported from production
    when ``origin`` says where its rows came from (``monitoring`` makes those)."""
    name = (name or "").strip()
    if not name:
        raise DomainError.invalid("name", "must not be blank")
    if len(name) > MAX_UPLOAD_NAME:
        raise DomainError.invalid("name", f"must be at most {MAX_UPLOAD_NAME} characters")
    if (builtin is None) == (file is None):
        raise DomainError.invalid("builtin", "give either a built-in dataset or a file")
    if origin is not None and (file is None or not isinstance(origin, dict) or not origin):
        raise DomainError.invalid("origin", "an exported dataset is a file and says its origin")
    if Dataset.objects.filter(project=project, name=name).exists():
        raise DomainError.name_taken()
    if builtin is not None:
        described = datasets.describe_builtin(builtin)
        if target and target != described["target"]:
            raise DomainError.invalid("target", f"the target of {builtin} is “target”")
        dataset = Dataset(project=project, name=name, source=DatasetSource.BUILTIN, builtin=builtin)
    else:
        data = _read(file)
        described = datasets.describe_upload(
            data, target=target, limit=settings.EXPERIMENTS_MAX_DATASET_BYTES
        )
        source = DatasetSource.PRODUCTION if origin else DatasetSource.UPLOAD
        dataset = Dataset(project=project, name=name, source=source, origin=origin or {})
        dataset.file.save("upload.csv", ContentFile(data), save=False)
        _written(dataset.file)
    for key, value in described.items():
        setattr(dataset, key, value)
    dataset.created_by = user
    try:
        with transaction.atomic():
            dataset.save()
    except IntegrityError as error:
        raise DomainError.name_taken() from error
    return dataset


@transaction.atomic
def sweep_create(*, project: Project, user, **fields) -> Sweep:
    """Check the spec, make the sweep's experiment and its trials (queued), and start it:
    the first trials go to the experiments queue once this commits.

    ``dataset`` is a Dataset of the project (or its id); see ``spec.check`` for the rest."""
    from experiments import services as tracking

    dataset = _dataset_of(project, fields.get("dataset"))
    checked = spec.check(project=project, spec=fields, dataset=dataset)
    if Sweep.objects.filter(project=project, name=checked.name).exists():
        raise DomainError.name_taken()
    experiment_name = f"sweep: {checked.name}"
    if tracking.Experiment.objects.filter(project=project, name=experiment_name).exists():
        raise DomainError.invalid("name", f"an experiment named “{experiment_name}” exists already")
    experiment = tracking.experiment_create(
        project=project,
        name=experiment_name,
        by=user,
        tags=[("sweep.strategy", checked.strategy), ("sweep.dataset", dataset.name)],
    )
    sweep = Sweep.objects.create(
        project=project,
        experiment=experiment,
        name=checked.name,
        dataset=dataset,
        task=checked.task,
        target=checked.target,
        families=checked.families,
        space=checked.space,
        strategy=checked.strategy,
        pruner=checked.pruner,
        max_trials=checked.max_trials,
        max_seconds=checked.max_seconds,
        folds=checked.folds,
        metrics=checked.metrics,
        direction=checked.direction,
        seed=checked.seed,
        max_concurrent=checked.max_concurrent,
        created_by=user,
    )
    grid = checked.grid or []
    Trial.objects.bulk_create(
        [
            Trial(
                sweep=sweep,
                number=number,
                grid_point=number if grid else None,
                params=grid[number] if grid else {},
            )
            for number in range(checked.max_trials)
        ]
    )
    ledger.dispatch(sweep)
    return sweep


def _dataset_of(project: Project, value) -> Dataset:
    if value is None or value == "":
        raise DomainError.invalid("dataset", "choose a dataset of the project")
    pk = value.pk if isinstance(value, Dataset) else value
    if isinstance(pk, bool) or not isinstance(pk, int | str):
        raise DomainError.invalid("dataset", "must be a dataset id")
    try:
        return Dataset.objects.get(project=project, pk=int(pk))
    except (Dataset.DoesNotExist, ValueError) as error:
        raise DomainError.invalid("dataset", "no dataset of this project has that id") from error


@transaction.atomic
def sweep_cancel(*, sweep: Sweep, user) -> Sweep:
    """Queued trials never start; running ones stop at their next fold. Once the last
    running trial has stopped, the sweep is cancelled."""
    sweep = locked(sweep)
    if sweep.status not in (SweepStatus.QUEUED, SweepStatus.RUNNING):
        raise DomainError.invalid("status", f"a {sweep.status} sweep cannot be cancelled")
    Trial.objects.filter(sweep=sweep, status=TrialStatus.QUEUED).update(
        status=TrialStatus.CANCELLED,
        error="the sweep was cancelled before the trial started",
        finished_at=timezone.now(),
    )
    sweep.status = SweepStatus.CANCELLING
    sweep.save(update_fields=["status"])
    ledger.settle(sweep)
    return sweep


def _restart(sweep: Sweep, trials) -> Sweep:
    """Back to the queue: ``trials`` queued again with their params, the sweep running."""
    trials.update(
        status=TrialStatus.QUEUED,
        error="",
        attempts=0,
        lease_owner="",
        lease_expires_at=None,
        enqueued_at=None,
        started_at=None,
        finished_at=None,
        intermediate=[],
    )
    sweep.status = SweepStatus.RUNNING if sweep.started_at else SweepStatus.QUEUED
    if sweep.max_seconds and sweep.started_at:
        sweep.started_at = timezone.now()  # the wall-time budget starts afresh
    sweep.finished_at = None
    sweep.save(update_fields=["status", "started_at", "finished_at"])
    ledger.dispatch(sweep)
    return sweep


@transaction.atomic
def sweep_resume(*, sweep: Sweep, user) -> Sweep:
    """Run a cancelled sweep's cancelled trials, or get an interrupted sweep moving again:
    its queued trials are sent to the queue anew (the ledger makes a second copy of a
    message harmless) and the trials of workers that died are taken over."""
    sweep = locked(sweep)
    if sweep.status == SweepStatus.CANCELLING:
        raise DomainError.invalid("status", "the sweep is still cancelling; resume it after")
    if sweep.status in (SweepStatus.QUEUED, SweepStatus.RUNNING):
        stale = Trial.objects.filter(sweep=sweep, status=TrialStatus.RUNNING,
                                     lease_expires_at__lt=timezone.now())  # fmt: skip
        lost = list(stale.values_list("pk", flat=True))
        transaction.on_commit(lambda: ledger.send(lost))
        return _restart(sweep, Trial.objects.filter(sweep=sweep, status=TrialStatus.QUEUED))
    cancelled = Trial.objects.filter(sweep=sweep, status=TrialStatus.CANCELLED)
    if not cancelled.exists():
        raise DomainError.invalid("status", "the sweep has no cancelled trial to resume")
    return _restart(sweep, cancelled)


@transaction.atomic
def sweep_retry_failed(*, sweep: Sweep, user) -> Sweep:
    """Run the failed trials again with the same params."""
    sweep = locked(sweep)
    if sweep.status == SweepStatus.CANCELLING:
        raise DomainError.invalid("status", "the sweep is still cancelling; retry after")
    failed = Trial.objects.filter(sweep=sweep, status=TrialStatus.FAILED)
    if not failed.exists():
        raise DomainError.invalid("status", "the sweep has no failed trial")
    return _restart(sweep, failed)


def sweep_importances_keep(*, trial_id: int) -> None:
    """Once the sweep of ``trial_id`` has settled, keep its params' importances on it
    (``Sweep.importances``), computed once here in the worker that ended its last trial
    rather than on every view of its page. Nothing while the sweep runs, or when what is
    kept is still current; two workers ending the last trials together write the same."""
    sweep = Sweep.objects.filter(trials=trial_id).first()
    if sweep is None or sweep.status in SWEEP_ACTIVE:
        return
    trials = list(Trial.objects.filter(sweep=sweep, status=TrialStatus.SUCCEEDED))
    if sweep.importances.get("succeeded") == len(trials):
        return
    found = sampling.importances(sweep, trials)
    kept = {"succeeded": len(trials), "family": found.family, "values": found.values}
    Sweep.objects.filter(pk=sweep.pk).update(importances=kept)


def experimentation_outcome(project: Project) -> Outcome | None:
    """The outcome a sweep's best run is evidence for: the one judged by "best run meets
    target", else the first model outcome (Experimentation's, or Modeling's in the MLOps
    lifecycle). One query."""
    return (
        Outcome.objects.filter(phase__project=project)
        .filter(Q(evidence_rule=EvidenceRule.BEST_RUN_MEETS_TARGET) | Q(kind=OutcomeKind.MODEL))
        .annotate(
            judged=Case(
                When(evidence_rule=EvidenceRule.BEST_RUN_MEETS_TARGET, then=Value(0)),
                default=Value(1),
            )
        )
        .order_by("judged", "phase__order", "pk")
        .first()
    )


@transaction.atomic
def sweep_best_as_evidence(*, sweep: Sweep, user, outcome: Outcome | None = None) -> Outcome:
    """The best trial's run becomes the evidence of ``outcome`` (by default the project's
    Experimentation outcome), linked as any run is linked, with a note naming the trial."""
    from experiments import services as tracking

    sweep = Sweep.objects.select_related("best_trial__run", "project").get(pk=sweep.pk)
    best = sweep.best_trial
    if best is None or best.run is None:
        raise DomainError.invalid("sweep", "the sweep has no best trial yet")
    if outcome is None:
        outcome = experimentation_outcome(sweep.project)
        if outcome is None:
            raise DomainError.invalid(
                "outcome", "the project has no model outcome for the run to be evidence of"
            )
    metric = sweep.metrics[0]
    note = (
        f"Best trial #{best.number} of sweep “{sweep.name}”: {metric} {best.value:.6g} "
        f"({best.params.get('family')})."
    )
    tracking.run_evidence_link(run=best.run, outcome=outcome, by=user, note=note)
    RunEvidence.objects.filter(run=best.run, outcome=outcome).update(note=note)
    outcome.refresh_from_db()
    return outcome


@transaction.atomic
def trial_quota_set(*, project: Project, max_concurrent: int | None, by=None) -> TrialQuota | None:
    """Cap how many of the project's trials run at once (None removes the cap)."""
    if max_concurrent is None:
        TrialQuota.objects.filter(project=project).delete()
        return None
    if (
        isinstance(max_concurrent, bool)
        or not isinstance(max_concurrent, int)
        or max_concurrent < 1
    ):
        raise DomainError.invalid("max_concurrent", "must be a whole number, at least 1")
    quota, _ = TrialQuota.objects.update_or_create(
        project=project, defaults={"max_concurrent": max_concurrent}
    )
    return quota
