from django.urls import re_path
from rest_framework.routers import DefaultRouter

from api.v1 import experiments, views

router = DefaultRouter()
router.register("lifecycles", views.LifecycleViewSet, basename="lifecycle")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("phases", views.PhaseViewSet, basename="phase")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("outcomes", views.OutcomeViewSet, basename="outcome")
router.register("transitions", views.TransitionViewSet, basename="transition")
router.register("tokens", views.TokenViewSet, basename="token")
router.register("experiments", experiments.ExperimentViewSet, basename="experiment")
router.register("runs", experiments.RunViewSet, basename="run")
router.register("metrics", experiments.MetricViewSet, basename="metric")

app_name = "v1"
# Last: any other path under /api/v1/ answers 404 in the API's error shape, not as a page.
urlpatterns = [*router.urls, re_path(r"^[\s\S]*/$", views.no_endpoint, name="no-endpoint")]
