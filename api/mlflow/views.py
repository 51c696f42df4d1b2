"""The MLflow tracking REST API 2.0 and its artifacts proxy, close enough to MLflow's server
that an unmodified mlflow client works against it.

Each endpoint is a small function of a :class:`Call`; :func:`endpoint` wraps it in a DRF
view for the project's authentication (bearer tokens and the session, with CSRF), its
throttles, and MLflow's error body. Reading needs the viewer role on the project, every
write the contributor role (``Action.LOG_DATA``); writes go through
``experiments.services`` and reads through ``experiments.selectors``. Logged models and the
model registry are in ``api.mlflow.logged_models`` and ``api.mlflow.registry``.
"""

from collections.abc import Callable
from functools import cached_property

from django.conf import settings
from django.http import HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from api.authentication import BearerTokenAuthentication
from api.mlflow import errors, shaping
from api.mlflow.parsing import (
    Fields,
    as_double,
    as_enum,
    as_integer,
    decode_token,
    encode_token,
    key_values,
    missing,
    offset_from,
    read_json,
    too_large,
    wrong_type,
)
from api.mlflow.scope import Scope
from experiments import selectors, services, validation
from experiments.choices import ViewType
from experiments.models import Run
from phases.roles import Action
from registry import selectors as registry_selectors
from registry import services as registry_services

SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_THRESHOLD = 50000
_STATUS_NUMBERS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_VIEW_NUMBERS = {1: ViewType.ACTIVE_ONLY, 2: ViewType.DELETED_ONLY, 3: ViewType.ALL}


class Call:
    """One request to one endpoint: its scope, its fields, the URL's keyword arguments."""

    def __init__(self, view: "MlflowView", request: Request, scope: Scope, kwargs: dict) -> None:
        self.view = view
        self.request = request
        self.scope = scope
        self.kwargs = kwargs

    @cached_property
    def fields(self) -> Fields:
        django_request = self.request._request
        if django_request.method == "GET":
            return Fields(django_request.GET, query=True)
        view = self.view
        return Fields(read_json(django_request, limit=view.body_limit, refuse=view.too_large))

    @property
    def user(self):
        return self.request.user

    def run_id(self) -> str:
        """``run_id``, or the deprecated ``run_uuid`` older clients still send."""
        run_id = self.fields.string("run_id") or self.fields.string("run_uuid")
        if not run_id:
            raise missing("run_id")
        return run_id


class MlflowView(APIView):
    """MLflow's protocol is documented by MLflow; it stays out of the v1 OpenAPI schema."""

    schema = None
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    handler: Callable[[Call], dict | HttpResponseBase]
    body_limit: int = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    too_large = staticmethod(too_large)

    def handle(self, request, project_slug: str | None = None, **kwargs):
        scope = Scope(request, project_slug)
        result = self.handler(Call(self, request, scope, kwargs))
        return result if isinstance(result, HttpResponseBase) else JsonResponse(result)

    get = post = put = patch = delete = handle

    def handle_exception(self, exc):
        return errors.response_for(
            exc, authenticate_header=self.get_authenticate_header(self.request)
        )


def endpoint(
    handler: Callable[[Call], dict | HttpResponseBase],
    *methods: str,
    body_limit: int | None = None,
    too_large: Callable[[int, int], Exception] | None = None,
):
    """A view for ``handler`` answering ``methods``, with its own body limit if given."""
    attributes = {
        "handler": staticmethod(handler),
        "http_method_names": [method.lower() for method in methods],
        "__doc__": handler.__doc__,
    }
    if body_limit is not None:
        attributes["body_limit"] = body_limit
    if too_large is not None:
        attributes["too_large"] = staticmethod(too_large)
    return type(handler.__name__, (MlflowView,), attributes).as_view()


@csrf_exempt
def unknown_endpoint(request, **kwargs):
    return errors.error_response(
        errors.ENDPOINT_NOT_FOUND, f"{request.method} {request.path} is not an MLflow endpoint."
    )


def max_results(
    fields: Fields,
    *,
    default: int = SEARCH_MAX_RESULTS_DEFAULT,
    threshold: int = SEARCH_MAX_RESULTS_THRESHOLD,
) -> int:
    value = fields.integer("max_results", default=default)
    if value <= 0 or value > threshold:
        raise errors.invalid(
            f"Invalid value {value} for parameter 'max_results' supplied. It must be a "
            f"positive integer of at most {threshold}."
        )
    return value


def _view_type(value, name: str) -> ViewType:
    if value is None or value == "":
        return ViewType.ACTIVE_ONLY
    return ViewType(as_enum(value, name, _VIEW_NUMBERS))


def paged(key: str, page: selectors.Page, items: list, offset: int) -> dict:
    """A search's answer: ``items`` under ``key`` (left out when empty, as MLflow does) and
    the token of the next page when there is one."""
    body = {key: items} if items else {}
    if page.more:
        body["next_page_token"] = encode_token({"offset": offset + len(page.items)})
    return body


def batch_too_large(size: int, limit: int) -> Exception:
    """MLflow's own refusal of a log-batch body past 1 MB."""
    return validation.batch_size_error(size)


# --- Experiments ------------------------------------------------------------------------


def experiments_create(call: Call) -> dict:
    """Create an experiment in the addressed project."""
    project = call.scope.require_project("create an experiment")
    call.scope.allow(project.caller_role, Action.LOG_DATA, f"project {project.slug}")
    fields = call.fields
    name = fields.string("name", required=True)
    if fields.string("artifact_location"):
        raise errors.invalid(
            "artifact_location cannot be chosen: this server keeps every experiment's "
            "artifacts itself, behind its artifacts proxy."
        )
    tags = key_values(fields.objects("tags"), "tags")
    experiment = services.experiment_create(project=project, name=name, by=call.user, tags=tags)
    return {"experiment_id": shaping.experiment_id(experiment, zero_is_default=True)}


def experiments_get(call: Call) -> dict:
    experiment = call.scope.experiment(
        call.fields.string("experiment_id", required=True), Action.VIEW
    )
    zero = call.scope.zero_is_default
    return {"experiment": shaping.experiment_json(experiment, zero_is_default=zero)}


def experiments_get_by_name(call: Call) -> dict:
    name = call.fields.string("experiment_name", required=True)
    scope = call.scope
    if scope.project is not None:
        scope.default_experiment()
    found = list(scope.experiments().prefetch_related("tags").filter(name=name)[:2])
    if not found:
        raise errors.not_found(f"Could not find experiment with name '{name}'")
    if len(found) > 1:
        scope.require_project(f"tell apart the experiments named {name!r} of several projects")
    return {"experiment": shaping.experiment_json(found[0], zero_is_default=scope.zero_is_default)}


def experiments_search(call: Call) -> dict:
    fields, scope = call.fields, call.scope
    if scope.project is not None:
        scope.default_experiment()
    offset = offset_from(fields.string("page_token"))
    page = selectors.search_experiments(
        experiments=scope.experiments(),
        filter_string=fields.string("filter"),
        view_type=_view_type(fields.raw("view_type"), "view_type"),
        order_by=fields.strings("order_by"),
        offset=offset,
        limit=max_results(fields),
        zero_is_default=scope.zero_is_default,
    )
    items = [shaping.experiment_json(e, zero_is_default=scope.zero_is_default) for e in page.items]
    return paged("experiments", page, items, offset)


def _writable_experiment(call: Call):
    return call.scope.experiment(
        call.fields.string("experiment_id", required=True), Action.LOG_DATA
    )


def experiments_update(call: Call) -> dict:
    new_name = call.fields.string("new_name", required=True)
    experiment = _writable_experiment(call)
    services.experiment_rename(experiment=experiment, new_name=new_name, by=call.user)
    return {}


def experiments_delete(call: Call) -> dict:
    services.experiment_delete(experiment=_writable_experiment(call), by=call.user)
    return {}


def experiments_restore(call: Call) -> dict:
    services.experiment_restore(experiment=_writable_experiment(call), by=call.user)
    return {}


def experiments_set_tag(call: Call) -> dict:
    key, value = call.fields.string("key", required=True), call.fields.string("value")
    experiment = _writable_experiment(call)
    services.experiment_set_tag(experiment=experiment, key=key, value=value, by=call.user)
    return {}


def experiments_delete_tag(call: Call) -> dict:
    key = call.fields.string("key", required=True)
    experiment = _writable_experiment(call)
    services.experiment_delete_tag(experiment=experiment, key=key, by=call.user)
    return {}


# --- Runs -------------------------------------------------------------------------------


def _run_body(call: Call, run: Run) -> dict:
    run = selectors.with_run_data(Run.objects.filter(pk=run.pk)).get()
    registry_selectors.attach_model_links([run])
    return shaping.run_json(run, zero_is_default=call.scope.zero_is_default)


def runs_create(call: Call) -> dict:
    """Start a run; the client sends experiment id "0" when no experiment is set."""
    fields = call.fields
    call.scope.require_project("create a run")
    experiment = call.scope.experiment(fields.string("experiment_id") or "0", Action.LOG_DATA)
    run = services.run_create(
        experiment=experiment,
        by=call.user,
        name=fields.string("run_name"),
        start_time=fields.integer("start_time"),
        tags=key_values(fields.objects("tags"), "tags"),
    )
    return {"run": _run_body(call, run)}


def runs_get(call: Call) -> dict:
    run = call.scope.run(call.run_id(), Action.VIEW, with_data=True)
    registry_selectors.attach_model_links([run])
    return {"run": shaping.run_json(run, zero_is_default=call.scope.zero_is_default)}


def _status(value) -> str | None:
    if value is None or value == "":
        return None
    return as_enum(value, "status", _STATUS_NUMBERS)


def runs_update(call: Call) -> dict:
    fields = call.fields
    run_id = call.run_id()
    status, end_time = _status(fields.raw("status")), fields.integer("end_time")
    name = fields.string("run_name") or None
    run = call.scope.run(run_id, Action.LOG_DATA)
    run = services.run_update(run=run, by=call.user, status=status, end_time=end_time, name=name)
    return {"run_info": shaping.run_info_json(run, zero_is_default=call.scope.zero_is_default)}


def runs_delete(call: Call) -> dict:
    services.run_delete(run=call.scope.run(call.run_id(), Action.LOG_DATA), by=call.user)
    return {}


def runs_restore(call: Call) -> dict:
    services.run_restore(run=call.scope.run(call.run_id(), Action.LOG_DATA), by=call.user)
    return {}


def _model_metric(item: dict, metric: services.MetricIn, index: int | None = None):
    """The point as a model's metric too, when it names a ``model_id``; None otherwise."""
    if item.get("model_id") in (None, ""):
        return None
    path = "" if index is None else f"metrics[{index}]."
    text = {}
    for name in ("model_id", "dataset_name", "dataset_digest"):
        value = item.get(name)
        if value is not None and not isinstance(value, str):
            raise wrong_type(f"{path}{name}", value)
        text[name] = value or ""
    return registry_services.ModelMetricIn(
        model_id=text["model_id"],
        key=metric.key,
        value=metric.value,
        timestamp=metric.timestamp,
        step=metric.step,
        dataset_name=text["dataset_name"],
        dataset_digest=text["dataset_digest"],
    )


def _metric(item: dict, index: int | None = None) -> services.MetricIn:
    key, value, timestamp = item.get("key"), item.get("value"), item.get("timestamp")
    step = item.get("step", 0)
    # The common case, checked cheaply: a batch holds up to a thousand of these.
    if type(key) is str and key and type(timestamp) is int and type(step) is int:
        if type(value) is float:
            return services.MetricIn(key, value, timestamp, step)
        if type(value) is int:
            return services.MetricIn(key, float(value), timestamp, step)
    path = "" if index is None else f"metrics[{index}]."
    for name in ("key", "value", "timestamp"):
        if item.get(name) is None or item.get(name) == "":
            raise missing(f"{path}{name}")
    if not isinstance(key, str):
        raise wrong_type(f"{path}key", key)
    return services.MetricIn(
        key=key,
        value=as_double(value, f"{path}value"),
        timestamp=as_integer(timestamp, f"{path}timestamp"),
        step=as_integer(step, f"{path}step", default=0),
    )


def runs_log_metric(call: Call) -> dict:
    run_id = call.run_id()
    metric = _metric(call.fields.data)
    model_metric = _model_metric(call.fields.data, metric)
    run = call.scope.run_to_write(run_id)
    if model_metric is None:
        services.log_batch(run=run, by=call.user, metrics=[metric])
    else:
        registry_services.log_batch(
            run=run, by=call.user, metrics=[metric], model_metrics=[model_metric]
        )
    return {}


def _log_pair(call: Call, kind: str) -> dict:
    """``runs/log-parameter`` and ``runs/set-tag``: one key and value, as a batch of one."""
    fields = call.fields
    run_id, key, value = call.run_id(), fields.string("key", required=True), fields.string("value")
    run = call.scope.run_to_write(run_id)
    services.log_batch(run=run, by=call.user, **{kind: [(key, value)]})
    return {}


def runs_log_parameter(call: Call) -> dict:
    return _log_pair(call, "params")


def runs_set_tag(call: Call) -> dict:
    return _log_pair(call, "tags")


def runs_delete_tag(call: Call) -> dict:
    fields = call.fields
    run_id, key = fields.string("run_id", required=True), fields.string("key", required=True)
    run = call.scope.run_to_write(run_id)
    services.run_delete_tag(run=run, key=key, by=call.user)
    return {}


def runs_log_batch(call: Call) -> dict:
    """MLflow's limits first (1 MB, 1000 metrics, 100 params, 100 tags, 1000 in all), then
    one atomic write: a bad item leaves nothing written."""
    fields = call.fields
    run_id = fields.string("run_id", required=True)
    metrics, params, tags = (fields.objects(n) for n in ("metrics", "params", "tags"))
    validation.check_batch_limits(metrics=len(metrics), params=len(params), tags=len(tags))
    items = metrics
    metrics = [_metric(item, index) for index, item in enumerate(items)]
    params, tags = key_values(params, "params"), key_values(tags, "tags")
    run = call.scope.run_to_write(run_id)
    if not any("model_id" in item for item in items):
        services.log_batch(run=run, by=call.user, metrics=metrics, params=params, tags=tags)
        return {}
    model_metrics = [
        found
        for index, (item, metric) in enumerate(zip(items, metrics, strict=True))
        if (found := _model_metric(item, metric, index)) is not None
    ]
    registry_services.log_batch(
        run=run,
        by=call.user,
        metrics=metrics,
        params=params,
        tags=tags,
        model_metrics=model_metrics,
    )
    return {}


def runs_log_inputs(call: Call) -> dict:
    """Datasets are kept minimally; model inputs (the run used these logged models, for
    example to evaluate them) are linked to the run."""
    fields = call.fields
    run_id = fields.string("run_id", required=True)
    datasets = []
    for index, item in enumerate(fields.objects("datasets")):
        dataset = item.get("dataset")
        if not isinstance(dataset, dict):
            raise missing(f"datasets[{index}].dataset")
        nested = Fields(dataset)
        tags = item.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
            raise wrong_type(f"datasets[{index}].tags", tags)
        datasets.append(
            services.DatasetIn(
                name=nested.string("name", required=True),
                digest=nested.string("digest", required=True),
                source_type=nested.string("source_type", required=True),
                source=nested.string("source", required=True),
                schema=nested.string("schema"),
                profile=nested.string("profile"),
                tags=key_values(tags, f"datasets[{index}].tags"),
            )
        )
    models = [Fields(item).string("model_id", required=True) for item in fields.objects("models")]
    run = call.scope.run_to_write(run_id)
    if datasets:
        services.log_inputs(run=run, datasets=datasets, by=call.user)
    if models:
        registry_services.run_link_models(run=run, by=call.user, inputs=models)
    return {}


def runs_search(call: Call) -> dict:
    fields, scope = call.fields, call.scope
    offset = offset_from(fields.string("page_token"))
    page = selectors.search_runs(
        runs=scope.runs(),
        experiment_ids=scope.experiment_pks(fields.strings("experiment_ids")),
        filter_string=fields.string("filter"),
        view_type=_view_type(fields.raw("run_view_type"), "run_view_type"),
        order_by=fields.strings("order_by"),
        offset=offset,
        limit=max_results(fields),
    )
    registry_selectors.attach_model_links(page.items)
    items = [shaping.run_json(r, zero_is_default=scope.zero_is_default) for r in page.items]
    return paged("runs", page, items, offset)


def metrics_get_history(call: Call) -> dict:
    """A series in step order; paged when ``max_results`` is given, with a keyset token."""
    fields = call.fields
    run_id = call.run_id()
    key = fields.string("metric_key", required=True)
    limit = fields.integer("max_results")
    if limit is not None and limit <= 0:
        raise errors.invalid(
            f"Invalid value {limit} for parameter 'max_results' supplied. It must be a "
            "positive integer."
        )
    after = None
    if token := fields.string("page_token"):
        try:
            step, timestamp, value, is_nan = decode_token(token)["after"]
            after = (int(step), int(timestamp), float.fromhex(value), bool(is_nan))
        except (KeyError, TypeError, ValueError) as error:
            raise errors.invalid(f"Invalid page token '{token}'.") from error
    run = call.scope.run(run_id, Action.VIEW)
    page = selectors.metric_history(run=run, key=key, after=after, limit=limit)
    body = {}
    if page.items:
        body["metrics"] = [shaping.metric_json(key, *point) for point in page.items]
    if page.more:
        step, timestamp, value, is_nan = page.items[-1]
        body["next_page_token"] = encode_token({"after": [step, timestamp, value.hex(), is_nan]})
    return body
