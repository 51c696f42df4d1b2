from django.urls import path

from dashboard import model_views, sweep_views, views

app_name = "dashboard"

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("projects/<slug:slug>/", views.project_detail, name="project"),
    path("projects/<slug:slug>/live/", views.project_live, name="project-live"),
    path("projects/<slug:slug>/runs/", views.project_runs, name="runs"),
    # Before the run page, whose id segment would otherwise take "compare".
    path("projects/<slug:slug>/runs/compare/", views.run_compare, name="run-compare"),
    path("projects/<slug:slug>/runs/<str:run_id>/", views.run_detail, name="run"),
    path(
        "projects/<slug:slug>/models/<str:name>/v<int:number>/",
        model_views.model_version,
        name="model-version",
    ),
    path(
        "projects/<slug:slug>/models/<str:name>/v<int:number>/card.md",
        model_views.model_card_markdown,
        name="model-card-markdown",
    ),
    path(
        "projects/<slug:slug>/models/<str:name>/v<int:number>/promote/",
        model_views.model_version_promote,
        name="model-version-promote",
    ),
    path("projects/<slug:slug>/sweeps/new/", sweep_views.sweep_new, name="sweep-new"),
    path(
        "projects/<slug:slug>/deployments/<int:deployment_id>/retrain/",
        sweep_views.sweep_retrain,
        name="sweep-retrain",
    ),
    path("projects/<slug:slug>/sweeps/<int:sweep_id>/", sweep_views.sweep_detail, name="sweep"),
    path(
        "projects/<slug:slug>/sweeps/<int:sweep_id>/progress/",
        sweep_views.sweep_progress,
        name="sweep-progress",
    ),
    path(
        "projects/<slug:slug>/sweeps/<int:sweep_id>/evidence/",
        sweep_views.sweep_evidence,
        name="sweep-evidence",
    ),
    path(
        "projects/<slug:slug>/sweeps/<int:sweep_id>/<str:verb>/",
        sweep_views.sweep_act,
        name="sweep-act",
    ),
    path("projects/<slug:slug>/advance/", views.project_advance, name="project-advance"),
    path("projects/<slug:slug>/move-back/", views.project_move_back, name="project-move-back"),
    path("projects/<slug:slug>/complete/", views.project_complete, name="project-complete"),
    path(
        "projects/<slug:slug>/outcomes/<int:outcome_id>/accept/",
        views.outcome_accept,
        name="outcome-accept",
    ),
    path(
        "projects/<slug:slug>/outcomes/<int:outcome_id>/reject/",
        views.outcome_reject,
        name="outcome-reject",
    ),
    path(
        "projects/<slug:slug>/alerts/<int:alert_id>/acknowledge/",
        views.alert_acknowledge,
        name="alert-acknowledge",
    ),
    path(
        "projects/<slug:slug>/alerts/<int:alert_id>/resolve/",
        views.alert_resolve,
        name="alert-resolve",
    ),
    path(
        "projects/<slug:slug>/alerts/<int:alert_id>/move-back/",
        views.alert_move_back,
        name="alert-move-back",
    ),
    path("projects/<slug:slug>/links/", views.shared_link_create, name="shared-link-create"),
    path(
        "projects/<slug:slug>/links/<int:link_id>/revoke/",
        views.shared_link_revoke,
        name="shared-link-revoke",
    ),
    path("shared/<str:token>/", views.shared_status, name="shared"),
    path("shared/<str:token>/live/", views.shared_live, name="shared-live"),
]
