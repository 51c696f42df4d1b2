"""The retraining sweep production asks for: prefilled from the deployed version's run, on
the newer data.

:func:`retraining_spec` is the sweep spec a person reviews (the dashboard's form) or an API
call starts as it is: ``experiments.selectors.sweep_spec_from_run`` of the deployed run (its
dataset, task, target, folds, metrics and seed, its family, a space around its params), on
the export of production's labelled rows that is still current when there is one, else the
run's own dataset. :func:`retraining_sweep_start` starts it through
``experiments.services.sweep_create``, with the caller's changes on top; unless the caller
names a dataset, it runs on production's labelled rows, exported then (or the current
export again), and is refused when there are too few of them.
"""

from experiments import selectors as experiments
from experiments import services as experiment_services
from experiments.models import Dataset, Run, Sweep
from mlprojects.exceptions import DomainError
from monitoring.models import Deployment
from monitoring.selectors import RetrainingPlan, production_dataset_current, retraining_plan
from monitoring.services import production_dataset_export


def _on(spec: dict, dataset: Dataset, *, swept: bool) -> None:
    """Point ``spec`` at ``dataset``. A deployed run that was a sweep's trial (``swept``)
    keeps its sweep's task; otherwise the task is the dataset's hint."""
    spec["dataset"] = dataset.pk
    spec["target"] = dataset.target
    if not swept or not spec.get("task"):
        spec["task"] = dataset.task


def _prefilled(deployment: Deployment) -> tuple[dict, RetrainingPlan, bool]:
    plan = retraining_plan(deployment=deployment)
    run = Run.objects.filter(run_id=plan.run_id).first() if plan.run_id else None
    spec = experiments.sweep_spec_from_run(run) if run is not None else {}
    # Only a sweep's trial has a dataset in its spec: its sweep's.
    swept = "dataset" in spec
    spec["name"] = f"retrain {deployment.name}"[:200]
    return spec, plan, swept


def retraining_spec(*, deployment: Deployment) -> tuple[dict, RetrainingPlan]:
    """The prefilled spec and the plan it came from. Seven queries and the spec's own."""
    spec, plan, swept = _prefilled(deployment)
    if plan.export is not None:
        _on(spec, plan.export, swept=swept)
    return spec, plan


def retraining_sweep_start(
    *, deployment: Deployment, user, with_training: bool = False, **changes
) -> Sweep:
    """Start the retraining sweep of ``deployment``: its prefilled spec, ``changes`` on top.
    Without a ``dataset`` among the changes it runs on production's labelled rows (with the
    training rows when ``with_training``): the current export, else a new one."""
    changes = {key: value for key, value in changes.items() if value is not None}
    if with_training and "dataset" in changes:
        raise DomainError.invalid(
            "with_training", "adds training rows to production's export; leave it out when "
            "naming a dataset",
        )  # fmt: skip
    with experiment_services.atomic_with_files():
        spec, _, swept = _prefilled(deployment)
        spec.update(changes)
        if not spec.get("families"):
            raise DomainError.invalid(
                "families",
                "the deployed version's run names no estimator family of the allowlist; "
                "choose the families to search",
            )
        if "dataset" not in changes:
            dataset = production_dataset_current(
                deployment=deployment, with_training=with_training
            ) or production_dataset_export(
                deployment=deployment, by=user, with_training=with_training
            )
            _on(spec, dataset, swept=swept)
        return experiment_services.sweep_create(project=deployment.project, user=user, **spec)
