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

from phases.gates import (
    EVIDENCE,
    Criterion,
    judge_target,
    number,
    target_evidence,
    target_unset,
    target_words,
)
from phases.models import Outcome, Project
from registry.choices import DEFAULT_PRODUCTION_ALIAS
from registry.models import ModelAlias, RegistrySettings
from registry.selectors import many_version_metrics


def _evidence(project: Project, alias: str, *, version=None, value=None, gap=None) -> dict:
    return {
        "alias": alias,
        "model": version.registered_model.name if version else None,
        "version": version.version if version else None,
        "run_id": version.run.run_id if version and version.run else None,
        **target_evidence(project, value=value, gap=gap),
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
    unset = target_unset(outcome, project, evidence=_evidence(project, alias))
    if unset:
        return unset
    deployed = [
        found.model_version
        for found in ModelAlias.objects.filter(registered_model__project=project, alias=alias)
        .select_related("model_version__registered_model", "model_version__run")
        .order_by("registered_model__name")
    ]
    if not deployed:
        return Criterion(
            EVIDENCE,
            outcome.name,
            False,
            f"No registered model of this project has a version at the production alias "
            f"“{alias}” yet.",
            evidence=_evidence(project, alias),
        )
    metric = project.success_metric
    values = many_version_metrics(deployed)
    scored = [(values[v.pk].get(metric), v) for v in deployed]
    scored = [(value, v) for value, v in scored if value is not None]
    if not scored:
        names = ", ".join(f"{v.registered_model.name} v{v.version}" for v in deployed)
        return Criterion(
            EVIDENCE,
            outcome.name,
            False,
            f"The version at “{alias}” ({names}) has no value of {metric}; "
            f"{target_words(project)}.",
            evidence=_evidence(project, alias, version=deployed[0]),
        )
    pick = max if project.maximizes else min
    value, version = pick(scored, key=lambda item: item[0])
    verdict = judge_target(project, value)
    who = f"{version.registered_model.name} v{version.version} at “{alias}”"
    if verdict.met:
        message = f"{who} has {metric} {number(value)}, which meets {verdict.wanted}."
    else:
        message = (
            f"{who} has {metric} {number(value)}, {number(verdict.gap)} short of {verdict.wanted}."
        )
    return Criterion(
        EVIDENCE,
        outcome.name,
        verdict.met,
        message,
        evidence=_evidence(project, alias, version=version, value=value, gap=verdict.gap),
    )
