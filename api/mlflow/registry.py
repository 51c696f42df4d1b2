"""The MLflow model registry: registered models of a project, their versions, tags, aliases,
the legacy stages and the download URI, as ``mlflow.register_model`` and
``load_model("models:/<name>@<alias>")`` use them.

Roles: a viewer reads; a contributor registers, versions, tags and sets aliases; moving
or removing the project's production alias (a deployment), putting a version in the legacy
``Production`` stage, deleting the version at the production alias and deleting a registered
model are a manager's (``Action.MANAGE_MODELS``), as ``registry.services.alias_action``,
``version_delete_action`` and ``stage_action`` decide for both APIs.

A version's source must be something this server stores for the project: a logged model
(``models:/<model id>``), another version (``models:/<name>/<version>``), or a run's or a
logged model's artifacts (``runs:/<run id>/<path>``, ``mlflow-artifacts:/...``). Anything
else (a local path, another server) is refused: a version here is one the project can load.
"""

import urllib.parse

from api.mlflow import artifacts, errors, shaping
from api.mlflow.parsing import key_values, missing, offset_from
from api.mlflow.proxy import proxied_model, proxied_run
from api.mlflow.views import Call, max_results, paged
from phases.roles import Action
from registry import selectors, services, validation
from registry.models import ModelVersion, RegisteredModel

REGISTERED_MAX_RESULTS_DEFAULT = 100
REGISTERED_MAX_RESULTS_THRESHOLD = 1000
VERSIONS_MAX_RESULTS_DEFAULT = 10_000
VERSIONS_MAX_RESULTS_THRESHOLD = 200_000
_LATEST = "latest"


def _name(call: Call) -> str:
    return call.fields.string("name", required=True)


def _registered_body(registered_model: RegisteredModel) -> dict:
    found = selectors.with_registered_model_data(
        RegisteredModel.objects.filter(pk=registered_model.pk)
    ).get()
    latest = selectors.latest_versions([found])[found.pk]
    return {"registered_model": shaping.registered_model_json(found, latest)}


def _version_body(version: ModelVersion) -> dict:
    found = selectors.with_version_data(ModelVersion.objects.filter(pk=version.pk)).get()
    return {"model_version": shaping.model_version_json(found)}


def _production(registered_model: RegisteredModel) -> str:
    return services.production_alias(registered_model.project)


def _allow(call: Call, registered_model: RegisteredModel, action: Action) -> None:
    call.scope.allow(
        registered_model.caller_role, action, f"project {registered_model.project.slug}"
    )


# --- Registered models ------------------------------------------------------------------


def registered_models_create(call: Call) -> dict:
    fields, scope = call.fields, call.scope
    project = scope.require_project("create a registered model")
    scope.allow(project.caller_role, Action.LOG_DATA, f"project {project.slug}")
    registered_model = services.registered_model_create(
        project=project,
        name=_name(call),
        by=call.user,
        description=fields.string("description"),
        tags=key_values(fields.objects("tags"), "tags"),
    )
    return _registered_body(registered_model)


def registered_models_get(call: Call) -> dict:
    return _registered_body(call.scope.registered_model(_name(call), Action.VIEW))


def registered_models_rename(call: Call) -> dict:
    new_name = call.fields.string("new_name")
    if not new_name:
        raise missing("new_name")
    registered_model = call.scope.registered_model(_name(call), Action.LOG_DATA)
    services.registered_model_rename(
        registered_model=registered_model, new_name=new_name, by=call.user
    )
    return _registered_body(registered_model)


def registered_models_update(call: Call) -> dict:
    description = call.fields.string("description")
    registered_model = call.scope.registered_model(_name(call), Action.LOG_DATA)
    services.registered_model_update(
        registered_model=registered_model, description=description, by=call.user
    )
    return _registered_body(registered_model)


def registered_models_delete(call: Call) -> dict:
    registered_model = call.scope.registered_model(_name(call), Action.MANAGE_MODELS)
    services.registered_model_delete(registered_model=registered_model, by=call.user)
    return {}


def _search(call: Call, search, *, default: int, threshold: int, **rows) -> tuple:
    """A page of a registry search and its offset: registered models and versions are
    searched alike (a filter, an order, a page token) within limits of their own."""
    fields = call.fields
    offset = offset_from(fields.string("page_token"))
    page = search(
        **rows,
        filter_string=fields.string("filter"),
        order_by=fields.strings("order_by"),
        offset=offset,
        limit=max_results(fields, default=default, threshold=threshold),
    )
    return page, offset


def registered_models_search(call: Call) -> dict:
    page, offset = _search(
        call,
        selectors.search_registered_models,
        registered_models=call.scope.registered_models(),
        default=REGISTERED_MAX_RESULTS_DEFAULT,
        threshold=REGISTERED_MAX_RESULTS_THRESHOLD,
    )
    latest = selectors.latest_versions(page.items)
    items = [shaping.registered_model_json(rm, latest[rm.pk]) for rm in page.items]
    return paged("registered_models", page, items, offset)


def registered_models_get_latest_versions(call: Call) -> dict:
    """The legacy stages' latest versions; every stage when none is asked for."""
    stages = [validation.canonical_stage(stage) for stage in call.fields.strings("stages")]
    registered_model = call.scope.registered_model(_name(call), Action.VIEW)
    latest = selectors.latest_versions([registered_model], stages)[registered_model.pk]
    return {"model_versions": [shaping.model_version_json(v) for v in latest]} if latest else {}


def registered_models_set_tag(call: Call) -> dict:
    fields = call.fields
    key, value = fields.string("key", required=True), fields.string("value")
    registered_model = call.scope.registered_model(_name(call), Action.LOG_DATA)
    services.registered_model_set_tag(
        registered_model=registered_model, key=key, value=value, by=call.user
    )
    return {}


def registered_models_delete_tag(call: Call) -> dict:
    key = call.fields.string("key", required=True)
    registered_model = call.scope.registered_model(_name(call), Action.LOG_DATA)
    services.registered_model_delete_tag(registered_model=registered_model, key=key, by=call.user)
    return {}


# --- Aliases ----------------------------------------------------------------------------


def _alias_action(registered_model: RegisteredModel, alias: str) -> Action:
    return services.alias_action(alias, production_alias=_production(registered_model))


def registered_models_alias(call: Call) -> dict:
    """``POST`` sets an alias, ``DELETE`` removes it, ``GET`` reads the version it names."""
    method, fields, scope = call.request.method, call.fields, call.scope
    name, alias = _name(call), fields.string("alias", required=True)
    validation.check_alias(alias)
    if method == "GET":
        registered_model = scope.registered_model(name, Action.VIEW)
        return {"model_version": shaping.model_version_json(_by_alias(registered_model, alias))}
    if method == "POST":
        version = scope.version(name, fields.string("version", required=True), None)
        registered_model = version.registered_model
        _allow(call, registered_model, _alias_action(registered_model, alias))
        services.alias_set(version=version, alias=alias, by=call.user)
        return {}
    registered_model = scope.registered_model(name, None)
    _allow(call, registered_model, _alias_action(registered_model, alias))
    services.alias_delete(registered_model=registered_model, alias=alias, by=call.user)
    return {}


def _by_alias(registered_model: RegisteredModel, alias: str) -> ModelVersion:
    versions = selectors.with_version_data(
        ModelVersion.objects.filter(registered_model=registered_model)
    )
    if alias.lower() == _LATEST:
        found = versions.order_by("-version").first()
        if found is None:
            raise errors.not_found(f"Latest version not found for model {registered_model.name}.")
        return found
    found = versions.filter(aliases__alias=alias).first()
    if found is None:
        raise errors.invalid(f"Registered model alias {alias} not found.")
    return found


# --- Versions ---------------------------------------------------------------------------


def _refuse_source(source: str, what: str = "") -> errors.MlflowError:
    tail = f" {what}" if what else ""
    return errors.invalid(
        f"Invalid model version source: '{source}'.{tail} A source must be something this "
        "server stores for the project: models:/<model id>, models:/<name>/<version>, "
        "runs:/<run id>/<path> or mlflow-artifacts:/<experiment id>/... ."
    )


def _resolve_source(call: Call, source: str):
    """``(storage location, run, logged model)`` of a version's source, each found through
    the caller's scope, or a refusal."""
    scope = call.scope
    parsed = urllib.parse.urlparse(source)
    if parsed.netloc or parsed.params or parsed.query or parsed.fragment:
        raise _refuse_source(source)
    try:
        parts = artifacts.clean(parsed.path.lstrip("/")).split("/")
    except errors.MlflowError as error:
        raise _refuse_source(source) from error
    if parsed.scheme == "models" and len(parts) == 1 and parts[0].startswith("m-"):
        model = scope.logged_model(parts[0], Action.VIEW)
        return services.logged_model_source(model).storage_location, model.source_run, model
    if parsed.scheme == "models" and len(parts) == 2:
        other = scope.version(parts[0], parts[1], Action.VIEW)
        return other.storage_location, other.run, other.logged_model
    if parsed.scheme == "runs" and parts[0]:
        run = scope.run(parts[0], Action.VIEW)
        return services.run_source(run, "/".join(parts[1:])).storage_location, run, None
    if parsed.scheme == "mlflow-artifacts" and len(parts) >= 3:
        location = f"mlflow-artifacts:/{'/'.join(parts)}"
        if parts[1] == "models":
            model, _ = proxied_model(call, parts, Action.VIEW)
            return location, model.source_run, model
        run, _ = proxied_run(call, parts, Action.VIEW)
        return location, run, None
    raise _refuse_source(source)


def model_versions_create(call: Call) -> dict:
    fields, scope = call.fields, call.scope
    name, source = _name(call), fields.string("source", required=True)
    run_id, model_id = fields.string("run_id"), fields.string("model_id")
    tags = key_values(fields.objects("tags"), "tags")
    registered_model = scope.registered_model(name, Action.LOG_DATA)
    storage, run, logged_model = _resolve_source(call, source)
    if run_id:
        given = scope.run(run_id, Action.VIEW)
        if run is not None and run.pk != given.pk:
            raise _refuse_source(source, "The run_id does not identify the run it belongs to.")
        run = given
    if model_id:
        given = scope.logged_model(model_id, Action.VIEW)
        if logged_model is None or logged_model.pk != given.pk:
            raise _refuse_source(source, "The model_id does not identify the model it belongs to.")
    version = services.model_version_create(
        registered_model=registered_model,
        by=call.user,
        source=source,
        storage_location=storage,
        run=run,
        logged_model=logged_model,
        run_link=fields.string("run_link"),
        description=fields.string("description"),
        tags=tags,
    )
    return _version_body(version)


def _version(call: Call, action: Action | None) -> ModelVersion:
    return call.scope.version(_name(call), call.fields.string("version", required=True), action)


def model_versions_get(call: Call) -> dict:
    return {"model_version": shaping.model_version_json(_version(call, Action.VIEW))}


def model_versions_update(call: Call) -> dict:
    description = call.fields.string("description")
    version = _version(call, Action.LOG_DATA)
    services.model_version_update(version=version, description=description, by=call.user)
    return _version_body(version)


def model_versions_delete(call: Call) -> dict:
    version = _version(call, None)
    registered_model = version.registered_model
    production = _production(registered_model)
    _allow(
        call, registered_model, services.version_delete_action(version, production_alias=production)
    )
    services.model_version_delete(version=version, by=call.user)
    return {}


def model_versions_transition_stage(call: Call) -> dict:
    fields = call.fields
    stage = validation.canonical_stage(fields.string("stage", required=True))
    archive = fields.raw("archive_existing_versions")
    if isinstance(archive, str):
        archive = archive.lower() == "true"
    version = _version(call, None)
    _allow(call, version.registered_model, services.stage_action(stage))
    services.model_version_transition_stage(
        version=version, stage=stage, archive_existing_versions=bool(archive), by=call.user
    )
    return _version_body(version)


def model_versions_search(call: Call) -> dict:
    page, offset = _search(
        call,
        selectors.search_model_versions,
        versions=call.scope.versions(),
        default=VERSIONS_MAX_RESULTS_DEFAULT,
        threshold=VERSIONS_MAX_RESULTS_THRESHOLD,
    )
    items = [shaping.model_version_json(v) for v in page.items]
    return paged("model_versions", page, items, offset)


def model_versions_get_download_uri(call: Call) -> dict:
    return {"artifact_uri": _version(call, Action.VIEW).storage_location}


def model_versions_set_tag(call: Call) -> dict:
    fields = call.fields
    key, value = fields.string("key", required=True), fields.string("value")
    version = _version(call, Action.LOG_DATA)
    services.model_version_set_tag(version=version, key=key, value=value, by=call.user)
    return {}


def model_versions_delete_tag(call: Call) -> dict:
    key = call.fields.string("key", required=True)
    version = _version(call, Action.LOG_DATA)
    services.model_version_delete_tag(version=version, key=key, by=call.user)
    return {}
