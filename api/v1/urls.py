from rest_framework.routers import DefaultRouter

from api.v1 import views

router = DefaultRouter()
router.register("lifecycles", views.LifecycleViewSet, basename="lifecycle")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("phases", views.PhaseViewSet, basename="phase")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("outcomes", views.OutcomeViewSet, basename="outcome")
router.register("transitions", views.TransitionViewSet, basename="transition")
router.register("tokens", views.TokenViewSet, basename="token")

app_name = "v1"
urlpatterns = router.urls
