"""The evidence rule about registered versions, for the gates of ``phases``, registered in
``RegistryConfig.ready``.

**A registered version of this project is at the production alias and meets the target.**
Decided:

- *Which versions.* Those at the project's production alias (``champion`` unless the project
  names another), over every registered model of the project: what is deployed, not what is
  merely registered.
- *Which value.* The version's value of the project's success metric as
  ``selectors.many_version_metrics`` reads it: the logged model's own latest value of that
  metric, else its run's latest value (what the run left). Finite values only.
- *Which one is named.* The best of them in the project's direction; ties go to the model
  whose name sorts first, so the message is stable.

Three queries whatever the number of models: the project, the aliases with their versions,
and the metric values.
"""

from experiments.evidence import KIND
from phases.choices import MetricDirection
from phases.gates import Criterion
from phases.models import Outcome, Project
from registry.choices import DEFAULT_PRODUCTION_ALIAS
from registry.models import ModelAlias, RegistrySettings
from registry.selectors import many_version_metrics


def _number(value: float) -> str:
    return f"{value:.6g}"


def _evidence(project: Project, alias: str, *, version=None, value=None, gap=None) -> dict:
    return {
        "alias": alias,
        "model": version.registered_model.name if version else None,
        "version": version.version if version else None,
        "run_id": version.run.run_id if version and version.run else None,
        "metric": project.success_metric or None,
        "value": value,
        "target": project.success_target,
        "direction": project.success_direction,
        "gap": gap,
    }


def production_version_meets_target(outcome: Outcome) -> Criterion:
    """Does a version at the production alias of the outcome's project reach the target?"""
    project = (
        Project.objects.filter(phases=outcome.phase_id)
        .only("success_metric", "success_target", "success_direction")
        .get()
    )
    alias = next(
        iter(
            RegistrySettings.objects.filter(project=project).values_list(
                "production_alias", flat=True
            )
        ),
        DEFAULT_PRODUCTION_ALIAS,
    )
    metric, target = project.success_metric, project.success_target
    if not metric or target is None:
        missing = " and ".join(
            words
            for words, unset in (
                ("its success metric", not metric),
                ("its success target", target is None),
            )
            if unset
        )
        return Criterion(
            KIND,
            outcome.name,
            False,
            f"“{outcome.name}” is judged against the project's success metric: set {missing} "
            "on the project.",
            evidence=_evidence(project, alias),
        )
    deployed = [
        found.model_version
        for found in ModelAlias.objects.filter(registered_model__project=project, alias=alias)
        .select_related("model_version__registered_model", "model_version__run")
        .order_by("registered_model__name")
    ]
    if not deployed:
        return Criterion(
            KIND,
            outcome.name,
            False,
            f"No registered model of this project has a version at the production alias "
            f"“{alias}” yet.",
            evidence=_evidence(project, alias),
        )
    maximize = project.success_direction == MetricDirection.MAXIMIZE
    values = many_version_metrics(deployed)
    scored = [(values[v.pk].get(metric), v) for v in deployed]
    scored = [(value, v) for value, v in scored if value is not None]
    direction = MetricDirection(project.success_direction)
    wanted = f"the target {_number(target)} ({direction.label.lower()})"
    if not scored:
        names = ", ".join(f"{v.registered_model.name} v{v.version}" for v in deployed)
        return Criterion(
            KIND,
            outcome.name,
            False,
            f"The version at “{alias}” ({names}) has no value of {metric}; {wanted}.",
            evidence=_evidence(project, alias, version=deployed[0]),
        )
    value, version = (
        max(scored, key=lambda item: item[0]) if maximize else min(scored, key=lambda item: item[0])
    )
    shortfall = target - value if maximize else value - target
    met = shortfall <= 0
    gap = 0.0 if met else float(f"{shortfall:.12g}")
    who = f"{version.registered_model.name} v{version.version} at “{alias}”"
    if met:
        message = f"{who} has {metric} {_number(value)}, which meets {wanted}."
    else:
        message = f"{who} has {metric} {_number(value)}, {_number(gap)} short of {wanted}."
    return Criterion(
        KIND,
        outcome.name,
        met,
        message,
        evidence=_evidence(project, alias, version=version, value=value, gap=gap),
    )
