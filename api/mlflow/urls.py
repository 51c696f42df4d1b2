"""The MLflow URL set, mounted twice: at the root, ``/api/2.0/``, and under each project's
tracking URI, ``/projects/<slug>/api/2.0/`` (see ``api.mlflow.scope``)."""

from django.urls import include, path, re_path

from api.mlflow import views
from experiments.validation import MAX_BATCH_LOG_REQUEST_SIZE

_v = views.endpoint

endpoints = [
    path("mlflow/experiments/create", _v(views.experiments_create, "POST")),
    path("mlflow/experiments/get", _v(views.experiments_get, "GET")),
    path("mlflow/experiments/get-by-name", _v(views.experiments_get_by_name, "GET")),
    path("mlflow/experiments/search", _v(views.experiments_search, "GET", "POST")),
    path("mlflow/experiments/update", _v(views.experiments_update, "POST")),
    path("mlflow/experiments/delete", _v(views.experiments_delete, "POST")),
    path("mlflow/experiments/restore", _v(views.experiments_restore, "POST")),
    path("mlflow/experiments/set-experiment-tag", _v(views.experiments_set_tag, "POST")),
    path("mlflow/experiments/delete-experiment-tag", _v(views.experiments_delete_tag, "POST")),
    path("mlflow/runs/create", _v(views.runs_create, "POST")),
    path("mlflow/runs/get", _v(views.runs_get, "GET")),
    path("mlflow/runs/update", _v(views.runs_update, "POST")),
    path("mlflow/runs/delete", _v(views.runs_delete, "POST")),
    path("mlflow/runs/restore", _v(views.runs_restore, "POST")),
    path("mlflow/runs/search", _v(views.runs_search, "POST")),
    path("mlflow/runs/log-metric", _v(views.runs_log_metric, "POST")),
    path("mlflow/runs/log-parameter", _v(views.runs_log_parameter, "POST")),
    path("mlflow/runs/set-tag", _v(views.runs_set_tag, "POST")),
    path("mlflow/runs/delete-tag", _v(views.runs_delete_tag, "POST")),
    path(
        "mlflow/runs/log-batch",
        _v(
            views.runs_log_batch,
            "POST",
            body_limit=MAX_BATCH_LOG_REQUEST_SIZE,
            too_large=views.batch_too_large,
        ),
    ),
    path("mlflow/runs/log-inputs", _v(views.runs_log_inputs, "POST")),
    path("mlflow/logged-models/search", _v(views.logged_models_search, "POST")),
    path("mlflow/metrics/get-history", _v(views.metrics_get_history, "GET")),
    path("mlflow/artifacts/list", _v(views.artifacts_list_for_run, "GET")),
    path("mlflow-artifacts/artifacts", _v(views.proxy_list, "GET")),
    path(
        "mlflow-artifacts/artifacts/<path:artifact_path>",
        _v(views.proxy_file, "GET", "PUT", "DELETE"),
    ),
    re_path(r"^mlflow(?:-artifacts)?/", views.unknown_endpoint),
]

urlpatterns = [
    path("api/2.0/", include(endpoints)),
    path("projects/<slug:project_slug>/api/2.0/", include(endpoints)),
]
