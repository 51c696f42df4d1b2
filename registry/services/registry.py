"""Writes of the model registry: registered models, versions, tags, legacy stages and
aliases. Moving a project's production alias is a deployment, recorded by
``registry.services.deployments``, in the same transaction as the move."""

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from django.db import IntegrityError, transaction

from experiments.models import Run
from experiments.validation import check_pairs, invalid
from mlprojects.db import locked
from mlprojects.exceptions import DomainError
from phases.models import Project
from registry import validation
from registry.choices import Stage
from registry.models import (
    LoggedModel,
    ModelAlias,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)
from registry.services import deployments
from registry.services.common import User, now_ms, touched


def model_not_found(name: str) -> DomainError:
    return DomainError("not_found", f"Registered Model with name={name} not found")


def version_not_found(name: str, version) -> DomainError:
    return DomainError("not_found", f"Model Version (name={name}, version={version}) not found")


def _name_taken(name: str) -> DomainError:
    return DomainError.name_taken(f"Registered Model (name={name}) already exists.")


# --- Registered models ------------------------------------------------------------------


@transaction.atomic
def registered_model_create(
    *,
    project: Project,
    name: str,
    by: User | None,
    description: str = "",
    tags: Sequence[tuple[str, str]] = (),
) -> RegisteredModel:
    validation.check_model_name(name)
    validation.check_description(description)
    tags = check_pairs(tags, validation.check_tag, "tags")
    if RegisteredModel.objects.filter(project=project, name=name).exists():
        raise _name_taken(name)
    now = now_ms()
    try:
        with transaction.atomic():
            registered_model = RegisteredModel.objects.create(
                project=project,
                name=name,
                description=description,
                created_by=by,
                creation_time=now,
                last_update_time=now,
            )
    except IntegrityError as error:
        raise _name_taken(name) from error
    RegisteredModelTag.objects.bulk_create(
        [
            RegisteredModelTag(registered_model=registered_model, key=k, value=v)
            for k, v in tags.items()
        ]
    )
    return registered_model


@transaction.atomic
def registered_model_rename(
    *, registered_model: RegisteredModel, new_name: str, by: User | None
) -> RegisteredModel:
    validation.check_model_name(new_name, field="new_name")
    registered_model = locked(registered_model, "project")
    if new_name == registered_model.name:
        return registered_model
    taken = RegisteredModel.objects.filter(project_id=registered_model.project_id, name=new_name)
    if taken.exists():
        raise _name_taken(new_name)
    return touched(registered_model, name=new_name)


@transaction.atomic
def registered_model_update(
    *, registered_model: RegisteredModel, description: str, by: User | None
) -> RegisteredModel:
    validation.check_description(description)
    registered_model = locked(registered_model, "project")
    return touched(registered_model, description=description)


@transaction.atomic
def registered_model_delete(*, registered_model: RegisteredModel, by: User | None) -> None:
    """Delete the model with its versions and aliases, as MLflow does. If one of its versions
    was at the production alias, that is recorded as a withdrawal first."""
    registered_model = locked(registered_model, "project")
    deployments.withdraw_if_in_production(registered_model=registered_model, by=by)
    registered_model.delete()


@transaction.atomic
def registered_model_set_tag(
    *, registered_model: RegisteredModel, key: str, value: str, by: User | None
) -> None:
    validation.check_tag(key, value)
    registered_model = locked(registered_model, "project")
    RegisteredModelTag.objects.update_or_create(
        registered_model=registered_model, key=key, defaults={"value": value}
    )


@transaction.atomic
def registered_model_delete_tag(
    *, registered_model: RegisteredModel, key: str, by: User | None
) -> None:
    """Deleting a tag that is not there is fine, as in MLflow's registry."""
    validation.check_tag(key, "")
    registered_model = locked(registered_model, "project")
    RegisteredModelTag.objects.filter(registered_model=registered_model, key=key).delete()


# --- Versions ---------------------------------------------------------------------------


class Source(NamedTuple):
    """A version's ``source`` (the URI the client loads) and ``storage_location`` (where the
    files are), for :func:`model_version_create`."""

    uri: str
    storage_location: str


def logged_model_source(model: LoggedModel) -> Source:
    """``models:/<model id>``: the logged model's own artifacts."""
    return Source(f"models:/{model.model_id}", model.artifact_location)


def run_source(run: Run, path: str) -> Source:
    """``runs:/<run id>/<path>``: ``path`` (a clean relative path) in the run's artifacts,
    the whole of them when it is empty."""
    storage = f"{run.artifact_uri}/{path}" if path else run.artifact_uri
    return Source(f"runs:/{run.run_id}/{path}", storage)


@transaction.atomic
def model_version_create(
    *,
    registered_model: RegisteredModel,
    by: User | None,
    source: str,
    storage_location: str,
    run: Run | None = None,
    logged_model: LoggedModel | None = None,
    run_link: str = "",
    description: str = "",
    tags: Sequence[tuple[str, str]] = (),
) -> ModelVersion:
    """The next version of ``registered_model``. ``source`` is what the client sent,
    ``storage_location`` where the artifacts are; the run and the logged model they came from
    must be of the model's project. Numbers are handed out under the model's lock, once."""
    for field, uri in (("source", source), ("storage_location", storage_location)):
        if not uri:
            raise validation.missing(field)
        validation.check_uri(field, uri)
    validation.check_uri("run_link", run_link)
    validation.check_description(description)
    tags = check_pairs(tags, validation.check_tag, "tags")
    registered_model = locked(registered_model, "project")
    project_id = registered_model.project_id
    if run is not None:
        run = Run.objects.select_related("experiment").get(pk=run.pk)
        if run.experiment.project_id != project_id:
            raise invalid("run_id", "The run belongs to another project than the model.")
    if logged_model is not None:
        logged_model = LoggedModel.objects.select_related("experiment").get(pk=logged_model.pk)
        if logged_model.experiment.project_id != project_id:
            raise invalid("model_id", "The logged model belongs to another project than the model.")
        if run is None and logged_model.source_run_id is not None:
            run = logged_model.source_run
    now = now_ms()
    touched(registered_model, now=now, last_version=registered_model.last_version + 1)
    version = ModelVersion.objects.create(
        registered_model=registered_model,
        version=registered_model.last_version,
        source=source,
        storage_location=storage_location,
        run=run,
        logged_model=logged_model,
        run_link=run_link,
        description=description,
        created_by=by,
        user_id=by.get_username() if by is not None else "",
        creation_time=now,
        last_update_time=now,
    )
    ModelVersionTag.objects.bulk_create(
        [ModelVersionTag(model_version=version, key=k, value=v) for k, v in tags.items()]
    )
    return version


def model_version_register(
    *,
    registered_model: RegisteredModel,
    by: User | None,
    run: Run | None = None,
    artifact_path: str = "",
    logged_model: LoggedModel | None = None,
    description: str = "",
    tags: Sequence[tuple[str, str]] = (),
) -> ModelVersion:
    """The next version of ``registered_model``, of a logged model's artifacts or, without
    one, of ``artifact_path`` in ``run``'s: its source and storage location follow from
    them (:func:`logged_model_source`, :func:`run_source`)."""
    if logged_model is not None:
        source = logged_model_source(logged_model)
    else:
        source = run_source(run, artifact_path)
    return model_version_create(
        registered_model=registered_model,
        by=by,
        source=source.uri,
        storage_location=source.storage_location,
        run=run,
        logged_model=logged_model,
        description=description,
        tags=tags,
    )


@transaction.atomic
def model_version_update(
    *, version: ModelVersion, description: str, by: User | None
) -> ModelVersion:
    validation.check_description(description)
    version = locked(version, "registered_model__project")
    return touched(version, description=description)


@transaction.atomic
def model_version_delete(*, version: ModelVersion, by: User | None) -> None:
    """Its aliases go with it; if one was the production alias, that is a withdrawal. Its
    number is never handed out again."""
    registered_model = locked(version.registered_model, "project")
    version = locked(version, "registered_model__project")
    deployments.withdraw_if_in_production(
        registered_model=registered_model, by=by, only_version=version
    )
    version.delete()
    touched(registered_model)


@transaction.atomic
def model_version_set_tag(*, version: ModelVersion, key: str, value: str, by: User | None) -> None:
    validation.check_tag(key, value)
    version = locked(version, "registered_model__project")
    ModelVersionTag.objects.update_or_create(
        model_version=version, key=key, defaults={"value": value}
    )


@transaction.atomic
def model_version_delete_tag(*, version: ModelVersion, key: str, by: User | None) -> None:
    validation.check_tag(key, "")
    version = locked(version, "registered_model__project")
    ModelVersionTag.objects.filter(model_version=version, key=key).delete()


@transaction.atomic
def model_version_transition_stage(
    *, version: ModelVersion, stage: str, archive_existing_versions: bool, by: User | None
) -> ModelVersion:
    """The legacy stages, for clients older than aliases. Archiving the others is allowed
    only into Staging or Production, as in MLflow."""
    stage = validation.canonical_stage(stage)
    if archive_existing_versions and stage not in (Stage.STAGING, Stage.PRODUCTION):
        raise invalid(
            "archive_existing_versions",
            "Model version transition cannot archive existing model versions because "
            f"'{stage}' is not an Active stage. Valid stages are "
            f"{[Stage.STAGING.value, Stage.PRODUCTION.value]}",
        )
    registered_model = locked(version.registered_model, "project")
    version = locked(version, "registered_model__project")
    now = now_ms()
    if archive_existing_versions:
        ModelVersion.objects.filter(registered_model=registered_model, current_stage=stage).exclude(
            pk=version.pk
        ).update(current_stage=Stage.ARCHIVED, last_update_time=now)
    touched(version, now=now, current_stage=stage)
    touched(registered_model, now=now)
    return version


# --- Aliases ----------------------------------------------------------------------------


@transaction.atomic
def alias_set(
    *, version: ModelVersion, alias: str, by: User | None, now: dt.datetime | None = None
) -> ModelAlias:
    """Point ``alias`` at ``version``, wherever it pointed before. At the project's production
    alias this is a deployment: recorded, with what was there before, and announced.
    ``now`` dates the move (a history replayed, as the demo does); it is the present
    unless given."""
    validation.check_alias(alias)
    validation.check_alias_not_reserved(alias)
    registered_model = locked(version.registered_model, "project")
    version = locked(version, "registered_model__project")
    found = ModelAlias.objects.filter(registered_model=registered_model, alias=alias).first()
    previous = found.model_version if found is not None else None
    if found is not None and found.model_version_id == version.pk:
        return found
    if found is None:
        found = ModelAlias(registered_model=registered_model, alias=alias)
    found.model_version = version
    found.set_by = by
    found.set_at = now or deployments.now()
    found.save()
    if alias == deployments.production_alias(registered_model.project):
        deployments.record_promotion(
            version=version, previous=previous, alias=alias, by=by, at=found.set_at
        )
    return found


@transaction.atomic
def alias_delete(*, registered_model: RegisteredModel, alias: str, by: User | None) -> None:
    """Deleting an alias that is not set is fine, as in MLflow. Deleting the production alias
    is a withdrawal."""
    validation.check_alias(alias)
    registered_model = locked(registered_model, "project")
    if alias == deployments.production_alias(registered_model.project):
        deployments.withdraw_if_in_production(registered_model=registered_model, by=by)
    ModelAlias.objects.filter(registered_model=registered_model, alias=alias).delete()
