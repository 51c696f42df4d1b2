"""The MLflow URL set, mounted twice: at the root, ``/api/2.0/``, and under each project's
tracking URI, ``/projects/<slug>/api/2.0/`` (see ``api.mlflow.scope``)."""

from django.urls import include, path, re_path

from api.mlflow import logged_models, proxy, registry, views
from experiments.validation import MAX_BATCH_LOG_REQUEST_SIZE

_v = views.endpoint


def _under(prefix: str, routes: dict) -> list:
    """A resource's routes, its prefix written once; the list stays flat (one pattern a
    route), as the role tests read it."""
    return [path(prefix + route, view) for route, view in routes.items()]


experiments = {
    "create": _v(views.experiments_create, "POST"),
    "get": _v(views.experiments_get, "GET"),
    "get-by-name": _v(views.experiments_get_by_name, "GET"),
    "search": _v(views.experiments_search, "GET", "POST"),
    "update": _v(views.experiments_update, "POST"),
    "delete": _v(views.experiments_delete, "POST"),
    "restore": _v(views.experiments_restore, "POST"),
    "set-experiment-tag": _v(views.experiments_set_tag, "POST"),
    "delete-experiment-tag": _v(views.experiments_delete_tag, "POST"),
}
runs = {
    "create": _v(views.runs_create, "POST"),
    "get": _v(views.runs_get, "GET"),
    "update": _v(views.runs_update, "POST"),
    "delete": _v(views.runs_delete, "POST"),
    "restore": _v(views.runs_restore, "POST"),
    "search": _v(views.runs_search, "POST"),
    "log-metric": _v(views.runs_log_metric, "POST"),
    "log-parameter": _v(views.runs_log_parameter, "POST"),
    "set-tag": _v(views.runs_set_tag, "POST"),
    "delete-tag": _v(views.runs_delete_tag, "POST"),
    "log-batch": _v(
        views.runs_log_batch,
        "POST",
        body_limit=MAX_BATCH_LOG_REQUEST_SIZE,
        too_large=views.batch_too_large,
    ),
    "log-inputs": _v(views.runs_log_inputs, "POST"),
    "outputs": _v(logged_models.runs_outputs, "POST"),
}
# MLflow 3's logged models.
logged = {
    "": _v(logged_models.logged_models_create, "POST"),
    "/search": _v(logged_models.logged_models_search, "POST"),
    "/<str:model_id>": _v(logged_models.logged_model, "GET", "PATCH", "DELETE"),
    "/<str:model_id>/tags": _v(logged_models.logged_models_set_tags, "PATCH"),
    "/<str:model_id>/tags/<path:tag_key>": _v(logged_models.logged_models_delete_tag, "DELETE"),
    "/<str:model_id>/params": _v(logged_models.logged_models_log_params, "POST"),
    "/<str:model_id>/artifacts/directories": _v(logged_models.logged_models_list_artifacts, "GET"),
}
# The model registry.
registered = {
    "create": _v(registry.registered_models_create, "POST"),
    "get": _v(registry.registered_models_get, "GET"),
    "rename": _v(registry.registered_models_rename, "POST"),
    "update": _v(registry.registered_models_update, "PATCH"),
    "delete": _v(registry.registered_models_delete, "DELETE"),
    "search": _v(registry.registered_models_search, "GET"),
    "get-latest-versions": _v(registry.registered_models_get_latest_versions, "GET", "POST"),
    "set-tag": _v(registry.registered_models_set_tag, "POST"),
    "delete-tag": _v(registry.registered_models_delete_tag, "DELETE"),
    "alias": _v(registry.registered_models_alias, "GET", "POST", "DELETE"),
}
versions = {
    "create": _v(registry.model_versions_create, "POST"),
    "get": _v(registry.model_versions_get, "GET"),
    "update": _v(registry.model_versions_update, "PATCH"),
    "delete": _v(registry.model_versions_delete, "DELETE"),
    "transition-stage": _v(registry.model_versions_transition_stage, "POST"),
    "search": _v(registry.model_versions_search, "GET"),
    "get-download-uri": _v(registry.model_versions_get_download_uri, "GET"),
    "set-tag": _v(registry.model_versions_set_tag, "POST"),
    "delete-tag": _v(registry.model_versions_delete_tag, "DELETE"),
}
# Artifacts of runs and logged models.
artifacts = {
    "mlflow/artifacts/list": _v(proxy.artifacts_list_for_run, "GET"),
    "mlflow-artifacts/artifacts": _v(proxy.proxy_list, "GET"),
    "mlflow-artifacts/artifacts/<path:artifact_path>": _v(proxy.proxy_file, "GET", "PUT", "DELETE"),
}

endpoints = [
    *_under("mlflow/experiments/", experiments),
    *_under("mlflow/runs/", runs),
    path("mlflow/metrics/get-history", _v(views.metrics_get_history, "GET")),
    *_under("mlflow/logged-models", logged),
    *_under("mlflow/registered-models/", registered),
    *_under("mlflow/model-versions/", versions),
    *_under("", artifacts),
    re_path(r"^mlflow(?:-artifacts)?/", views.unknown_endpoint),
]

urlpatterns = [
    path("api/2.0/", include(endpoints)),
    path("projects/<slug:project_slug>/api/2.0/", include(endpoints)),
]
