"""The v1 router: a package per domain registers its resources here (``api.v1.<domain>``)."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from api.v1.errors import no_endpoint
from api.v1.experiments import sweeps
from api.v1.experiments import views as experiments
from api.v1.monitoring import views as monitoring
from api.v1.phases import views as phases
from api.v1.registry import views as registry
from api.v1.tokens import views as tokens

router = DefaultRouter()
router.register("lifecycles", phases.LifecycleViewSet, basename="lifecycle")
router.register("projects", phases.ProjectViewSet, basename="project")
router.register("memberships", phases.MembershipViewSet, basename="membership")
router.register("phases", phases.PhaseViewSet, basename="phase")
router.register("tasks", phases.TaskViewSet, basename="task")
router.register("outcomes", phases.OutcomeViewSet, basename="outcome")
router.register("transitions", phases.TransitionViewSet, basename="transition")
router.register("tokens", tokens.TokenViewSet, basename="token")
router.register("experiments", experiments.ExperimentViewSet, basename="experiment")
router.register("runs", experiments.RunViewSet, basename="run")
router.register("metrics", experiments.MetricViewSet, basename="metric")
router.register("registered-models", registry.RegisteredModelViewSet, basename="registered-model")
router.register("model-versions", registry.ModelVersionViewSet, basename="model-version")
router.register("deployment-events", registry.DeploymentEventViewSet, basename="deployment-event")
router.register("datasets", sweeps.DatasetViewSet, basename="dataset")
router.register("sweeps", sweeps.SweepViewSet, basename="sweep")
router.register("deployments", monitoring.DeploymentViewSet, basename="deployment")
router.register("monitors", monitoring.MonitorViewSet, basename="monitor")
router.register("results", monitoring.ResultViewSet, basename="result")
router.register("alerts", monitoring.AlertViewSet, basename="alert")

app_name = "v1"
# Last: any other path under /api/v1/ answers 404 in the API's error shape, not as a page.
urlpatterns = [*router.urls, re_path(r"^[\s\S]*/$", no_endpoint, name="no-endpoint")]
