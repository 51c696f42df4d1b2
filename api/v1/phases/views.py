"""The lifecycle resources. Every queryset is scoped to the caller's projects in
``get_queryset``; every write goes through a service; lifecycle verbs are POST actions."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api.models import ApiToken
from api.permissions import require
from api.v1.base import READ, ProjectScopedViewSet, WriteThroughServices
from api.v1.errors import REFUSED
from api.v1.phases import filters, serializers
from mlprojects.exceptions import DomainError
from phases import services
from phases.models import (
    LifecycleTemplate,
    Membership,
    Outcome,
    Phase,
    PhaseTemplate,
    Project,
    Task,
    Transition,
    TransitionRule,
)
from phases.roles import Action
from phases.selectors import phase_gate

# --- Lifecycle templates ----------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List lifecycle templates"),
    retrieve=extend_schema(summary="A lifecycle template with its phases and transitions"),
)
class LifecycleViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.LifecycleSerializer
    permission_classes = [IsAuthenticated]
    lookup_field = "slug"
    search_fields = ["name", "description"]
    ordering_fields = ["name", "id"]
    filterset_class = filters.LifecycleFilter

    def get_queryset(self):
        return LifecycleTemplate.objects.prefetch_related(
            Prefetch(
                "phase_templates",
                queryset=PhaseTemplate.objects.prefetch_related(
                    "tasks",
                    "outcomes",
                    Prefetch(
                        "transitions_out",
                        queryset=TransitionRule.objects.select_related("source", "target"),
                    ),
                ),
            )
        )


# --- Projects ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List the projects you are a member of"),
    create=extend_schema(
        summary="Create a project from a lifecycle template",
        description="Creates its phases, tasks and outcomes; you become its manager.",
    ),
    retrieve=extend_schema(summary="A project"),
    update=extend_schema(summary="Replace a project's plain fields (manager)"),
    partial_update=extend_schema(summary="Change a project's plain fields (manager)"),
    destroy=extend_schema(summary="Delete a project and all its data (manager)"),
)
class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProjectScopedViewSet,
):
    queryset = Project.objects.select_related("owner", "lifecycle", "current_phase")
    serializer_class = serializers.ProjectSerializer
    update_serializer_class = serializers.ProjectUpdateSerializer
    lookup_field = "slug"
    filterset_class = filters.ProjectFilter
    search_fields = ["name", "slug", "description"]
    ordering_fields = ["name", "created_at", "updated_at", "health"]
    role_actions = {
        **READ,
        "update": Action.EDIT_PROJECT,
        "partial_update": Action.EDIT_PROJECT,
        "destroy": Action.EDIT_PROJECT,
        "advance": Action.MOVE_PHASES,
        "move_back": Action.MOVE_PHASES,
        "complete": Action.MOVE_PHASES,
        "gate": Action.VIEW,
    }

    def perform_create(self, serializer):
        if isinstance(self.request.auth, ApiToken) and self.request.auth.project_id:
            raise PermissionDenied("A token bound to one project cannot create projects.")
        project = services.project_create(
            owner=self.request.user, by=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=project.pk)

    def perform_update(self, serializer):
        services.project_update(
            project=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def _phase(self, project: Project, phase_id: int | None, field: str) -> Phase | None:
        if phase_id is None:
            return None
        phase = project.phases.filter(pk=phase_id).first()
        if phase is None:
            raise DomainError.invalid(field, f"project {project.slug} has no phase {phase_id}")
        return phase

    def _answer(self, project: Project, transition: Transition) -> Response:
        transition = Transition.objects.select_related(
            "project", "from_phase", "to_phase", "by"
        ).get(pk=transition.pk)
        return Response(
            serializers.TransitionSerializer(transition).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Advance to the next phase when the gate holds (manager)",
        description="Answers 409 `gate_not_met` with each unmet criterion in `details` when "
        "the gate of the current phase does not hold.",
        request=serializers.AdvanceSerializer,
        responses={201: serializers.TransitionSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def advance(self, request, slug=None):
        project = self.get_object()
        body = serializers.AdvanceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        target = self._phase(project, body.validated_data.get("to_phase"), "to_phase")
        transition = services.phase_advance(
            project=project, by=request.user, to_phase=target, reason=body.validated_data["reason"]
        )
        return self._answer(project, transition)

    @extend_schema(
        summary="Loop back to an earlier phase, with a reason (manager)",
        request=serializers.MoveBackSerializer,
        responses={201: serializers.TransitionSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="move-back")
    def move_back(self, request, slug=None):
        project = self.get_object()
        body = serializers.MoveBackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        target = self._phase(project, body.validated_data["to_phase"], "to_phase")
        transition = services.phase_move_back(
            project=project, by=request.user, to_phase=target, reason=body.validated_data["reason"]
        )
        return self._answer(project, transition)

    @extend_schema(
        summary="Complete the project at its last phase when the gate holds (manager)",
        description="Recorded as a `complete` transition; a loop back reopens the project. "
        "Answers 409 `gate_not_met` with each unmet criterion in `details` when the gate of "
        "the last phase does not hold, `not_last_phase` before the last phase and "
        "`project_completed` when it is already completed.",
        request=serializers.CompleteSerializer,
        responses={201: serializers.TransitionSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, slug=None):
        project = self.get_object()
        body = serializers.CompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        transition = services.project_complete(
            project=project, by=request.user, reason=body.validated_data["reason"]
        )
        return self._answer(project, transition)

    @extend_schema(
        summary="Evaluate the gate of the current phase without moving",
        request=None,
        responses={200: serializers.GateSerializer, **REFUSED},
    )
    @action(detail=True, methods=["get"])
    def gate(self, request, slug=None):
        project = self.get_object()
        if project.current_phase is None:
            raise NotFound("The project has no active phase.")
        return Response(gate_body(project.current_phase))


def gate_body(phase: Phase) -> dict:
    gate = phase_gate(phase=phase)
    return serializers.GateSerializer(
        {"phase": phase, "met": gate.met, "criteria": gate.criteria, "unmet": gate.unmet}
    ).data


# --- Memberships ------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List memberships of your projects"),
    create=extend_schema(summary="Add a member to a project (manager)"),
    retrieve=extend_schema(summary="A membership"),
    update=extend_schema(summary="Change a member's role (manager)"),
    partial_update=extend_schema(summary="Change a member's role (manager)"),
    destroy=extend_schema(summary="Remove a member (manager)"),
)
class MembershipViewSet(viewsets.ModelViewSet, ProjectScopedViewSet):
    queryset = Membership.objects.select_related("project", "user")
    serializer_class = serializers.MembershipSerializer
    update_serializer_class = serializers.MembershipUpdateSerializer
    project_path = "project"
    filterset_class = filters.MembershipFilter
    ordering_fields = ["created_at", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    role_actions = {
        **READ,
        "update": Action.MANAGE_MEMBERS,
        "partial_update": Action.MANAGE_MEMBERS,
        "destroy": Action.MANAGE_MEMBERS,
    }

    def perform_create(self, serializer):
        data = serializer.validated_data
        require(data["project"].caller_role, Action.MANAGE_MEMBERS)
        membership = services.membership_set(
            project=data["project"], user=data["user"], role=data["role"]
        )
        serializer.instance = self.get_queryset().get(pk=membership.pk)

    def perform_update(self, serializer):
        membership = serializer.instance
        role = serializer.validated_data.get("role", membership.role)
        updated = services.membership_set(
            project=membership.project, user=membership.user, role=role
        )
        serializer.instance = self.get_queryset().get(pk=updated.pk)

    def perform_destroy(self, instance):
        services.membership_remove(membership=instance)


# --- Phases -----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List phases of your projects"),
    retrieve=extend_schema(summary="A phase"),
    update=extend_schema(summary="Re-plan a phase's dates (manager)"),
    partial_update=extend_schema(summary="Re-plan a phase's dates (manager)"),
)
class PhaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    ProjectScopedViewSet,
):
    queryset = Phase.objects.select_related("project")
    serializer_class = serializers.PhaseSerializer
    project_path = "project"
    filterset_class = filters.PhaseFilter
    ordering_fields = ["order", "due_date", "start_date"]
    search_fields = ["name", "goal"]
    role_actions = {
        **READ,
        "update": Action.EDIT_PROJECT,
        "partial_update": Action.EDIT_PROJECT,
        "gate": Action.VIEW,
    }

    def perform_update(self, serializer):
        services.phase_update(
            phase=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    @extend_schema(
        summary="Evaluate the gate of this phase without moving",
        request=None,
        responses={200: serializers.GateSerializer},
    )
    @action(detail=True, methods=["get"])
    def gate(self, request, pk=None):
        return Response(gate_body(self.get_object()))


# --- Tasks ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List tasks of your projects"),
    create=extend_schema(summary="Add a task to a phase (contributor)"),
    retrieve=extend_schema(summary="A task"),
    update=extend_schema(summary="Replace a task (contributor; manager for `required`)"),
    partial_update=extend_schema(summary="Change a task (contributor; manager for `required`)"),
    destroy=extend_schema(summary="Delete a task (manager)"),
)
class TaskViewSet(WriteThroughServices, viewsets.ModelViewSet, ProjectScopedViewSet):
    queryset = Task.objects.select_related("phase__project", "assignee")
    serializer_class = serializers.TaskSerializer
    update_serializer_class = serializers.TaskUpdateSerializer
    project_path = "phase__project"
    filterset_class = filters.TaskFilter
    ordering_fields = ["due_date", "priority", "status", "order", "created_at", "updated_at"]
    search_fields = ["title", "description"]
    create_role = Action.EDIT_TASKS
    # Whether a task must be done to leave its phase changes the gate: a manager's call.
    field_roles = {"required": Action.EDIT_PROJECT}
    role_actions = {
        **READ,
        "update": Action.EDIT_TASKS,
        "partial_update": Action.EDIT_TASKS,
        "destroy": Action.EDIT_PROJECT,
    }

    def create_service(self, phase, fields):
        task = services.task_create(phase=phase, by=self.request.user, **fields)
        return self.get_queryset().get(pk=task.pk)

    def update_service(self, task, fields):
        services.task_update(task=task, by=self.request.user, **fields)
        return self.get_queryset().get(pk=task.pk)


# --- Outcomes ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List outcomes of your projects"),
    create=extend_schema(summary="Add an outcome to a phase (manager)"),
    retrieve=extend_schema(summary="An outcome"),
    update=extend_schema(summary="Replace an outcome (contributor: evidence; manager: the rest)"),
    partial_update=extend_schema(
        summary="Change an outcome (contributor: evidence; manager: the rest)"
    ),
    destroy=extend_schema(summary="Delete an outcome (manager)"),
)
class OutcomeViewSet(WriteThroughServices, viewsets.ModelViewSet, ProjectScopedViewSet):
    queryset = Outcome.objects.select_related("phase__project", "submitted_by", "reviewer")
    serializer_class = serializers.OutcomeSerializer
    update_serializer_class = serializers.OutcomeUpdateSerializer
    project_path = "phase__project"
    filterset_class = filters.OutcomeFilter
    ordering_fields = ["order", "review_status", "submitted_at", "reviewed_at"]
    search_fields = ["name", "description"]
    create_role = Action.EDIT_PROJECT
    # A contributor keeps the evidence current; what the outcome is, and whether the gate
    # needs it, is a manager's call.
    field_roles = {
        field: Action.EDIT_PROJECT
        for field in ("name", "kind", "required", "order", "evidence_rule")
    }
    role_actions = {
        **READ,
        "update": Action.SUBMIT_OUTCOMES,
        "partial_update": Action.SUBMIT_OUTCOMES,
        "destroy": Action.EDIT_PROJECT,
        "submit": Action.SUBMIT_OUTCOMES,
        "accept": Action.REVIEW_OUTCOMES,
        "reject": Action.REVIEW_OUTCOMES,
    }

    def create_service(self, phase, fields):
        outcome = services.outcome_create(phase=phase, by=self.request.user, **fields)
        return self.get_queryset().get(pk=outcome.pk)

    def update_service(self, outcome, fields):
        services.outcome_update(outcome=outcome, by=self.request.user, **fields)
        return self.get_queryset().get(pk=outcome.pk)

    def _review(self, request, service, body_class, **kwargs):
        outcome = self.get_object()
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        service(outcome=outcome, by=request.user, **body.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=outcome.pk)).data)

    @extend_schema(
        summary="Submit an outcome for review (contributor)",
        request=serializers.SubmitSerializer,
        responses={200: serializers.OutcomeSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._review(request, services.outcome_submit, serializers.SubmitSerializer)

    @extend_schema(
        summary="Accept an outcome (manager)",
        request=serializers.ReviewSerializer,
        responses={200: serializers.OutcomeSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._review(request, services.outcome_accept, serializers.ReviewSerializer)

    @extend_schema(
        summary="Reject an outcome, saying what is missing (manager)",
        request=serializers.RejectSerializer,
        responses={200: serializers.OutcomeSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._review(request, services.outcome_reject, serializers.RejectSerializer)


# --- Transitions ------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The transition history of your projects"),
    retrieve=extend_schema(summary="One transition"),
)
class TransitionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    queryset = Transition.objects.select_related("project", "from_phase", "to_phase", "by")
    serializer_class = serializers.TransitionSerializer
    project_path = "project"
    filterset_class = filters.TransitionFilter
    ordering_fields = ["created_at", "id"]
    search_fields = ["reason"]
    role_actions = READ
