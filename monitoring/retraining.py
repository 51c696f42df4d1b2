"""The retraining sweep production asks for: prefilled from the deployed version's run, on
the newer data.

:func:`retraining_spec` is the sweep spec a person reviews (the dashboard's form) or an API
call starts as it is: ``experiments.selectors.sweep_spec_from_run`` of the deployed run (its
dataset, task, target, folds, metrics and seed, its family, a space around its params), on
the project's newest dataset added since the deployment went live when there is one (the
data production has taught since), else the run's own. :func:`retraining_sweep_start`
starts it through ``experiments.services.sweep_create``, with the caller's changes on top.
"""

from django.db import transaction

from experiments import selectors as experiments
from experiments import services as experiment_services
from experiments.models import Dataset, Run, Sweep
from mlprojects.exceptions import DomainError
from monitoring.models import Deployment
from monitoring.selectors import RetrainingPlan, retraining_plan


def retraining_spec(*, deployment: Deployment) -> tuple[dict, RetrainingPlan]:
    """The prefilled spec and the plan it came from. Four queries and the spec's own."""
    plan = retraining_plan(deployment=deployment)
    run = Run.objects.filter(run_id=plan.run_id).first() if plan.run_id else None
    spec = experiments.sweep_spec_from_run(run) if run is not None else {}
    newer = (
        Dataset.objects.filter(project=deployment.project_id, created_at__gte=deployment.started_at)
        .order_by("-created_at", "-pk")
        .first()
    )
    if newer is not None:
        spec["dataset"] = newer.pk
        spec["target"] = newer.target
        spec["task"] = newer.task
    spec["name"] = f"retrain {deployment.name}"[:200]
    return spec, plan


@transaction.atomic
def retraining_sweep_start(*, deployment: Deployment, user, **changes) -> Sweep:
    """Start the retraining sweep of ``deployment``: its prefilled spec, ``changes`` on top."""
    spec, _ = retraining_spec(deployment=deployment)
    spec.update({key: value for key, value in changes.items() if value is not None})
    if not spec.get("families"):
        raise DomainError.invalid(
            "families",
            "the deployed version's run names no estimator family of the allowlist; "
            "choose the families to search",
        )
    return experiment_services.sweep_create(project=deployment.project, user=user, **spec)
