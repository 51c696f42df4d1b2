"""Deployments: the version at a project's production alias is what is deployed, and every
move of that alias is a recorded :class:`DeploymentEvent` (who, when, which version, from
which run, the metric values it had, and what it replaced), announced to
``registry.hooks`` callbacks inside the same transaction.

These helpers run inside the registry services' transactions (they expect the registered
model's row locked); the public services here are the project's alias setting and the
manager's word that a version's run is the evidence for an outcome.

Who may deploy is decided here too, for every interface: a change that moves or removes the
production alias (or puts a version in the legacy ``Production`` stage, the old clients'
deployment) is a manager's (``Action.MANAGE_MODELS``), any other a contributor's. The API
layers ask :func:`alias_action`, :func:`version_delete_action` and :func:`stage_action`
which role a call needs, and check it against the caller's.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from experiments import services as experiments
from experiments.models import RunEvidence
from experiments.validation import invalid
from phases.models import Outcome, Project
from phases.roles import Action
from registry import hooks, selectors, validation
from registry.choices import DEFAULT_PRODUCTION_ALIAS, DeploymentKind, Stage
from registry.models import (
    DeploymentEvent,
    ModelAlias,
    ModelVersion,
    RegisteredModel,
    RegistrySettings,
)
from registry.services.common import User

now = timezone.now


def production_alias(project: Project) -> str:
    """The alias that means "in production" for ``project`` (``champion`` unless set)."""
    found = RegistrySettings.objects.filter(project=project).values_list(
        "production_alias", flat=True
    )
    return next(iter(found), DEFAULT_PRODUCTION_ALIAS)


def alias_action(alias: str, *, production_alias: str) -> Action:
    """The role setting or removing ``alias`` needs: at ``production_alias`` (the project's,
    :func:`production_alias`) it is a deployment or a withdrawal."""
    return Action.MANAGE_MODELS if alias == production_alias else Action.LOG_DATA


def version_delete_action(version: ModelVersion, *, production_alias: str) -> Action:
    """The role deleting ``version`` needs: its aliases go with it, so the version at the
    production alias is withdrawn. Reads ``version.aliases``, prefetched or not."""
    at_production = any(row.alias == production_alias for row in version.aliases.all())
    return Action.MANAGE_MODELS if at_production else Action.LOG_DATA


def stage_action(stage: str) -> Action:
    """The role moving a version to the legacy ``stage`` needs: ``Production`` is a manager's."""
    return Action.MANAGE_MODELS if stage == Stage.PRODUCTION else Action.LOG_DATA


@transaction.atomic
def production_alias_update(*, project: Project, alias: str, by: User | None) -> RegistrySettings:
    """Rename the project's production alias. Nothing moves: versions already at an alias of
    the new name count as in production from now on, and the history keeps the old name."""
    validation.check_alias(alias)
    validation.check_alias_not_reserved(alias)
    settings, _ = RegistrySettings.objects.update_or_create(
        project=project, defaults={"production_alias": alias}
    )
    return settings


def _record(
    *,
    registered_model: RegisteredModel,
    kind: str,
    alias: str,
    by: User | None,
    version: ModelVersion | None,
    previous: ModelVersion | None,
    at: dt.datetime | None = None,
) -> DeploymentEvent:
    run = version.run if version is not None else None
    event = DeploymentEvent.objects.create(
        project_id=registered_model.project_id,
        kind=kind,
        alias=alias,
        registered_model=registered_model,
        model_name=registered_model.name,
        model_version=version,
        version=version.version if version is not None else None,
        previous_model_version=previous,
        previous_version=previous.version if previous is not None else None,
        run=run,
        mlflow_run_id=run.run_id if run is not None else "",
        metrics=selectors.version_metrics(version) if version is not None else {},
        by=by,
        created_at=at or now(),
    )
    hooks.production_alias_moved(event=event)
    return event


def record_promotion(
    *,
    version: ModelVersion,
    previous: ModelVersion | None,
    alias: str,
    by: User | None,
    at: dt.datetime | None = None,
) -> DeploymentEvent:
    return _record(
        registered_model=version.registered_model,
        kind=DeploymentKind.PROMOTED,
        alias=alias,
        by=by,
        version=version,
        previous=previous,
        at=at,
    )


def withdraw_if_in_production(
    *, registered_model: RegisteredModel, by: User | None, only_version: ModelVersion | None = None
) -> DeploymentEvent | None:
    """Record that the production alias of ``registered_model`` is going away (with
    ``only_version``: if that version is what it points at)."""
    alias = production_alias(registered_model.project)
    found = (
        ModelAlias.objects.filter(registered_model=registered_model, alias=alias)
        .select_related("model_version")
        .first()
    )
    if found is None or (only_version is not None and found.model_version_id != only_version.pk):
        return None
    return _record(
        registered_model=registered_model,
        kind=DeploymentKind.WITHDRAWN,
        alias=alias,
        by=by,
        version=None,
        previous=found.model_version,
    )


@transaction.atomic
def version_offer_as_evidence(
    *, version: ModelVersion, outcome: Outcome, by: User | None, note: str = ""
) -> RunEvidence:
    """The manager's word that this version's run is the evidence for ``outcome`` (typically
    "a model good enough for production"): the run is linked to the outcome, naming the
    version, so the review and the model card both show it."""
    version = ModelVersion.objects.select_related("registered_model", "run").get(pk=version.pk)
    if version.run is None:
        raise invalid(
            "version",
            f"Version {version.version} of {version.registered_model.name} has no run of this "
            "project to offer as evidence.",
        )
    note = note.strip() or f"Registered as {version.registered_model.name} v{version.version}."
    return experiments.run_evidence_link(run=version.run, outcome=outcome, by=by, note=note)
