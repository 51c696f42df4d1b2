"""MLflow 3's logged models: ``mlflow.<flavor>.log_model`` creates one, uploads its
artifacts through the artifacts proxy (``<experiment id>/models/<model id>/artifacts/``),
links it to the run (``runs/outputs``) and finalizes it; ``load_model("models:/<id>")``
reads it back. Reading needs the viewer role, every write the contributor role."""

from api.mlflow import artifacts, errors, shaping
from api.mlflow.parsing import (
    Fields,
    as_enum,
    as_integer,
    key_values,
    missing,
    offset_from,
    wrong_type,
)
from api.mlflow.views import Call, max_results, paged
from phases.roles import Action
from registry import selectors, services
from registry.choices import LoggedModelStatus
from registry.models import LoggedModel

MAX_RESULTS_DEFAULT = 50
_STATUS_NUMBERS = {
    1: LoggedModelStatus.PENDING,
    2: LoggedModelStatus.READY,
    3: LoggedModelStatus.UPLOAD_FAILED,
}


def _model_body(call: Call, model: LoggedModel) -> dict:
    model = selectors.with_logged_model_data(LoggedModel.objects.filter(pk=model.pk)).get()
    return {"model": shaping.logged_model_json(model, zero_is_default=call.scope.zero_is_default)}


def _model_id(call: Call) -> str:
    return call.kwargs["model_id"]


def logged_models_create(call: Call) -> dict:
    fields, scope = call.fields, call.scope
    scope.require_project("create a logged model")
    experiment = scope.experiment(fields.string("experiment_id", required=True), Action.LOG_DATA)
    source_run = None
    if run_id := fields.string("source_run_id"):
        source_run = scope.run(run_id, Action.LOG_DATA)
    params, tags = fields.objects("params"), fields.objects("tags")
    model = services.logged_model_create(
        experiment=experiment,
        by=call.user,
        name=fields.string("name"),
        model_type=fields.string("model_type"),
        source_run=source_run,
        params=key_values(params, "params"),
        tags=key_values(tags, "tags"),
    )
    return _model_body(call, model)


def _status(value) -> str:
    if value is None or value == "":
        raise missing("status")
    return as_enum(value, "status", _STATUS_NUMBERS)


def logged_model(call: Call) -> dict:
    """``GET`` reads, ``PATCH`` finalizes, ``DELETE`` deletes (MLflow's soft delete)."""
    method, scope = call.request.method, call.scope
    if method == "GET":
        model = scope.logged_model(_model_id(call), Action.VIEW, with_data=True)
        zero = scope.zero_is_default
        return {"model": shaping.logged_model_json(model, zero_is_default=zero)}
    if method == "PATCH":
        status = _status(call.fields.raw("status"))
        model = scope.logged_model(_model_id(call), Action.LOG_DATA)
        model = services.logged_model_finalize(model=model, status=status, by=call.user)
        return _model_body(call, model)
    model = scope.logged_model(_model_id(call), Action.LOG_DATA)
    services.logged_model_delete(model=model, by=call.user)
    return {}


def logged_models_set_tags(call: Call) -> dict:
    tags = key_values(call.fields.objects("tags"), "tags")
    model = call.scope.logged_model(_model_id(call), Action.LOG_DATA)
    services.logged_model_set_tags(model=model, tags=tags, by=call.user)
    return _model_body(call, model)


def logged_models_delete_tag(call: Call) -> dict:
    model = call.scope.logged_model(_model_id(call), Action.LOG_DATA)
    services.logged_model_delete_tag(model=model, key=call.kwargs["tag_key"], by=call.user)
    return {}


def logged_models_log_params(call: Call) -> dict:
    params = key_values(call.fields.objects("params"), "params")
    model = call.scope.logged_model(_model_id(call), Action.LOG_DATA)
    services.logged_model_log_params(model=model, params=params, by=call.user)
    return {}


def _orders(items: list[dict]) -> list[selectors.ModelOrder]:
    orders = []
    for index, item in enumerate(items):
        nested = Fields(item)
        ascending = item.get("ascending", True)
        if not isinstance(ascending, bool):
            raise wrong_type(f"order_by[{index}].ascending", ascending)
        orders.append(
            selectors.ModelOrder(
                field_name=nested.string("field_name", required=True),
                ascending=ascending,
                dataset_name=nested.string("dataset_name"),
                dataset_digest=nested.string("dataset_digest"),
            )
        )
    return orders


def logged_models_search(call: Call) -> dict:
    fields, scope = call.fields, call.scope
    experiment_ids = fields.strings("experiment_ids")
    if not experiment_ids:
        raise missing("experiment_ids")
    datasets = []
    for item in fields.objects("datasets"):
        nested = Fields(item)
        name = nested.string("dataset_name")
        if not name:
            raise errors.invalid("`dataset_name` in the `datasets` clause must be specified.")
        datasets.append((name, nested.string("dataset_digest")))
    offset = offset_from(fields.string("page_token"))
    page = selectors.search_logged_models(
        models=scope.logged_models(),
        experiment_ids=scope.experiment_pks(experiment_ids),
        filter_string=fields.string("filter"),
        datasets=datasets,
        order_by=_orders(fields.objects("order_by")),
        offset=offset,
        limit=max_results(fields, default=MAX_RESULTS_DEFAULT),
    )
    zero = scope.zero_is_default
    items = [shaping.logged_model_json(m, zero_is_default=zero) for m in page.items]
    return paged("models", page, items, offset)


def logged_models_list_artifacts(call: Call) -> dict:
    """``GET logged-models/<id>/artifacts/directories``: paths relative to the model's root."""
    relative = artifacts.clean(call.fields.string("artifact_directory_path"))
    model = call.scope.logged_model(_model_id(call), Action.VIEW)
    prefix = f"{relative}/" if relative else ""
    files = [
        shaping.file_json(prefix + name, is_dir, size)
        for name, is_dir, size in artifacts.listing(artifacts.logged_model_folder(model), relative)
    ]
    body = {"root_uri": model.artifact_location}
    if files:
        body["files"] = files
    return body


def runs_outputs(call: Call) -> dict:
    """``POST runs/outputs``: the run produced these models (at these steps)."""
    fields = call.fields
    run_id = fields.string("run_id", required=True)
    items = fields.objects("models")
    if not items:
        raise missing("models")
    outputs = []
    for index, item in enumerate(items):
        model_id = Fields(item).string("model_id", required=True)
        outputs.append((model_id, as_integer(item.get("step"), f"models[{index}].step", default=0)))
    run = call.scope.run(run_id, Action.LOG_DATA)
    services.run_link_models(run=run, by=call.user, outputs=outputs)
    return {}
