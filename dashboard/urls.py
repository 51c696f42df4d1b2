from django.urls import include, path

from dashboard import model_views, sweep_views, views

app_name = "dashboard"

model_version = [
    path("", model_views.model_version, name="model-version"),
    path("card.md", model_views.model_card_markdown, name="model-card-markdown"),
    path("promote/", model_views.model_version_promote, name="model-version-promote"),
]

sweep = [
    path("", sweep_views.sweep_detail, name="sweep"),
    path("progress/", sweep_views.sweep_progress, name="sweep-progress"),
    path("evidence/", sweep_views.sweep_evidence, name="sweep-evidence"),
    path("<str:verb>/", sweep_views.sweep_act, name="sweep-act"),
]

project = [
    path("", views.project_detail, name="project"),
    path("live/", views.project_live, name="project-live"),
    path("runs/", views.project_runs, name="runs"),
    # Before the run page, whose id segment would otherwise take "compare".
    path("runs/compare/", views.run_compare, name="run-compare"),
    path("runs/<str:run_id>/", views.run_detail, name="run"),
    path("models/<str:name>/v<int:number>/", include(model_version)),
    path("sweeps/new/", sweep_views.sweep_new, name="sweep-new"),
    path(
        "deployments/<int:deployment_id>/retrain/",
        sweep_views.sweep_retrain,
        name="sweep-retrain",
    ),
    path("sweeps/<int:sweep_id>/", include(sweep)),
    path("advance/", views.project_advance, name="project-advance"),
    path("move-back/", views.project_move_back, name="project-move-back"),
    path("complete/", views.project_complete, name="project-complete"),
    path("outcomes/<int:outcome_id>/accept/", views.outcome_accept, name="outcome-accept"),
    path("outcomes/<int:outcome_id>/reject/", views.outcome_reject, name="outcome-reject"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert-acknowledge"),
    path("alerts/<int:alert_id>/resolve/", views.alert_resolve, name="alert-resolve"),
    path("alerts/<int:alert_id>/move-back/", views.alert_move_back, name="alert-move-back"),
    path("links/", views.shared_link_create, name="shared-link-create"),
    path("links/<int:link_id>/revoke/", views.shared_link_revoke, name="shared-link-revoke"),
]

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("projects/<slug:slug>/", include(project)),
    path("shared/<str:token>/", views.shared_status, name="shared"),
    path("shared/<str:token>/live/", views.shared_live, name="shared-live"),
]
