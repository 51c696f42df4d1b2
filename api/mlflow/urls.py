"""The MLflow URL set, mounted twice: at the root, ``/api/2.0/``, and under each project's
tracking URI, ``/projects/<slug>/api/2.0/`` (see ``api.mlflow.scope``)."""

from django.urls import include, path, re_path

from api.mlflow import logged_models, proxy, registry, views
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
    path("mlflow/runs/outputs", _v(logged_models.runs_outputs, "POST")),
    path("mlflow/metrics/get-history", _v(views.metrics_get_history, "GET")),
    # MLflow 3's logged models.
    path("mlflow/logged-models", _v(logged_models.logged_models_create, "POST")),
    path("mlflow/logged-models/search", _v(logged_models.logged_models_search, "POST")),
    path(
        "mlflow/logged-models/<str:model_id>",
        _v(logged_models.logged_model, "GET", "PATCH", "DELETE"),
    ),
    path(
        "mlflow/logged-models/<str:model_id>/tags",
        _v(logged_models.logged_models_set_tags, "PATCH"),
    ),
    path(
        "mlflow/logged-models/<str:model_id>/tags/<path:tag_key>",
        _v(logged_models.logged_models_delete_tag, "DELETE"),
    ),
    path(
        "mlflow/logged-models/<str:model_id>/params",
        _v(logged_models.logged_models_log_params, "POST"),
    ),
    path(
        "mlflow/logged-models/<str:model_id>/artifacts/directories",
        _v(logged_models.logged_models_list_artifacts, "GET"),
    ),
    # The model registry.
    path("mlflow/registered-models/create", _v(registry.registered_models_create, "POST")),
    path("mlflow/registered-models/get", _v(registry.registered_models_get, "GET")),
    path("mlflow/registered-models/rename", _v(registry.registered_models_rename, "POST")),
    path("mlflow/registered-models/update", _v(registry.registered_models_update, "PATCH")),
    path("mlflow/registered-models/delete", _v(registry.registered_models_delete, "DELETE")),
    path("mlflow/registered-models/search", _v(registry.registered_models_search, "GET")),
    path(
        "mlflow/registered-models/get-latest-versions",
        _v(registry.registered_models_get_latest_versions, "GET", "POST"),
    ),
    path("mlflow/registered-models/set-tag", _v(registry.registered_models_set_tag, "POST")),
    path(
        "mlflow/registered-models/delete-tag",
        _v(registry.registered_models_delete_tag, "DELETE"),
    ),
    path(
        "mlflow/registered-models/alias",
        _v(registry.registered_models_alias, "GET", "POST", "DELETE"),
    ),
    path("mlflow/model-versions/create", _v(registry.model_versions_create, "POST")),
    path("mlflow/model-versions/get", _v(registry.model_versions_get, "GET")),
    path("mlflow/model-versions/update", _v(registry.model_versions_update, "PATCH")),
    path("mlflow/model-versions/delete", _v(registry.model_versions_delete, "DELETE")),
    path(
        "mlflow/model-versions/transition-stage",
        _v(registry.model_versions_transition_stage, "POST"),
    ),
    path("mlflow/model-versions/search", _v(registry.model_versions_search, "GET")),
    path(
        "mlflow/model-versions/get-download-uri",
        _v(registry.model_versions_get_download_uri, "GET"),
    ),
    path("mlflow/model-versions/set-tag", _v(registry.model_versions_set_tag, "POST")),
    path("mlflow/model-versions/delete-tag", _v(registry.model_versions_delete_tag, "DELETE")),
    # Artifacts of runs and logged models.
    path("mlflow/artifacts/list", _v(proxy.artifacts_list_for_run, "GET")),
    path("mlflow-artifacts/artifacts", _v(proxy.proxy_list, "GET")),
    path(
        "mlflow-artifacts/artifacts/<path:artifact_path>",
        _v(proxy.proxy_file, "GET", "PUT", "DELETE"),
    ),
    re_path(r"^mlflow(?:-artifacts)?/", views.unknown_endpoint),
]

urlpatterns = [
    path("api/2.0/", include(endpoints)),
    path("projects/<slug:project_slug>/api/2.0/", include(endpoints)),
]
