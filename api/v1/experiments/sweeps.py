"""Sweeps (experiment jobs) and the datasets they train on.

Starting a sweep is long work: the POST answers 202 with the sweep's URL (body and
``Location``) and the workers run its trials; ``progress`` is what to poll. Cancel, resume
and retry-failed are POST verbs. Contributors start and steer sweeps and add datasets;
making the best trial the evidence of an outcome needs a manager, as reviewing does.
"""

from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from api.permissions import require
from api.v1.base import READ, ProjectScopedViewSet
from api.v1.errors import REFUSED
from api.v1.experiments.sweep_serializers import (
    DatasetCreateSerializer,
    DatasetSerializer,
    EvidenceRequestSerializer,
    ProgressSerializer,
    SweepCreateSerializer,
    SweepSerializer,
    TrialSerializer,
)
from api.v1.phases.serializers import OutcomeSerializer
from experiments import selectors, services
from experiments.choices import TrialStatus
from experiments.models import Dataset, Sweep
from mlprojects.exceptions import DomainError
from phases.models import Outcome, Project
from phases.roles import Action

TRIAL_COUNTS = {
    f"{status}_count": Count("trials", filter=Q(trials__status=status))
    for status in TrialStatus.values
}


def sweep_rows(queryset):
    """Sweeps with what their rows show: counts per trial status, the best trial's run."""
    return queryset.select_related("project", "created_by", "best_trial__run").annotate(
        trial_count=Count("trials"), **TRIAL_COUNTS
    )


def started(sweep: Sweep, request) -> Response:
    """202 with the sweep and its URL: the workers do the rest."""
    found = sweep_rows(Sweep.objects.filter(pk=sweep.pk)).get()
    body = SweepSerializer(found, context={"request": request}).data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


ACCEPTED = {202: SweepSerializer, **REFUSED}


def steering(summary: str):
    """The schema of a verb that steers a sweep: no body, 202 with the sweep or a refusal."""
    return extend_schema(summary=summary, request=None, responses=ACCEPTED)


class ContributorCreate:
    """A create whose body names the project: contributors start sweeps and add datasets."""

    def contributed(self, request) -> tuple[Project, dict]:
        """The validated body without its project, once the caller's role there allows
        logging data."""
        body = self.create_serializer_class(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        project = fields.pop("project")
        require(project.caller_role, Action.LOG_DATA)
        return project, fields


@extend_schema_view(
    list=extend_schema(summary="List sweeps of your projects, newest first"),
    retrieve=extend_schema(summary="A sweep with its trial counts and best trial"),
    create=extend_schema(
        summary="Start a sweep (contributor)",
        description=(
            "Checks the spec (an unknown family, an empty space, a metric that does not fit "
            "the task are refused with 400 naming the field; nothing is created), queues its "
            "trials and answers 202 with the sweep's URL in the body and `Location`. Poll "
            "`progress` for how far it is."
        ),
        request=SweepCreateSerializer,
        responses={202: SweepSerializer},
    ),
)
class SweepViewSet(
    ContributorCreate,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    ProjectScopedViewSet,
):
    queryset = Sweep.objects.order_by("-created_at", "-pk")
    serializer_class = SweepSerializer
    create_serializer_class = SweepCreateSerializer
    project_path = "project"
    filterset_fields = ["status"]
    search_fields = ["name"]
    ordering_fields = ["created_at", "name"]
    role_actions = {
        **READ,
        "progress": Action.VIEW,
        "trials": Action.VIEW,
        "cancel": Action.LOG_DATA,
        "resume": Action.LOG_DATA,
        "retry_failed": Action.LOG_DATA,
        "best_as_evidence": Action.REVIEW_OUTCOMES,
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        return sweep_rows(queryset) if self.action in ("list", "retrieve") else queryset

    def create(self, request, *args, **kwargs):
        project, fields = self.contributed(request)
        sweep = services.sweep_create(project=project, user=request.user, **fields)
        return started(sweep, request)

    @extend_schema(
        summary="How far the sweep is: k of n, best so far, time left",
        responses={200: ProgressSerializer},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def progress(self, request, pk=None):
        sweep = self.get_object()
        return Response(ProgressSerializer(selectors.sweep_progress(sweep)).data)

    @extend_schema(
        summary="The trials, best first (failed and pruned last)",
        responses={200: TrialSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def trials(self, request, pk=None):
        sweep = self.get_object()
        return Response(TrialSerializer(selectors.sweep_trials(sweep), many=True).data)

    def _steer(self, request, service) -> Response:
        """A verb that steers the sweep: its service, then 202 as for a start."""
        return started(service(sweep=self.get_object(), user=request.user), request)

    @steering("Cancel: queued trials never start, running ones stop (contributor)")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._steer(request, services.sweep_cancel)

    @steering("Resume a cancelled or interrupted sweep (contributor)")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._steer(request, services.sweep_resume)

    @steering("Run the failed trials again with the same params (contributor)")
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request, pk=None):
        return self._steer(request, services.sweep_retry_failed)

    @extend_schema(
        summary="Make the best trial's run the evidence of an outcome (manager)",
        request=EvidenceRequestSerializer,
        responses={200: OutcomeSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="best-as-evidence")
    def best_as_evidence(self, request, pk=None):
        sweep = self.get_object()
        body = EvidenceRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = None
        if "outcome" in body.validated_data:
            outcome = Outcome.objects.filter(
                pk=body.validated_data["outcome"], phase__project=sweep.project_id
            ).first()
            if outcome is None:
                raise DomainError.invalid("outcome", "no outcome of this project has that id")
        linked = services.sweep_best_as_evidence(sweep=sweep, user=request.user, outcome=outcome)
        return Response(OutcomeSerializer(linked).data)


@extend_schema_view(
    list=extend_schema(summary="List datasets of your projects"),
    retrieve=extend_schema(summary="A dataset with its columns"),
    create=extend_schema(
        summary="Add a dataset: built-in (JSON) or an uploaded CSV (multipart) (contributor)",
        description=(
            "An upload is read whole and checked: a malformed or empty file, one over the "
            "size limit, or one without the declared target column is refused with 400 "
            "naming the field and what is wrong, and nothing is stored."
        ),
        request={
            "application/json": DatasetCreateSerializer,
            "multipart/form-data": DatasetCreateSerializer,
        },
        responses={201: DatasetSerializer},
    ),
)
class DatasetViewSet(
    ContributorCreate,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    ProjectScopedViewSet,
):
    queryset = Dataset.objects.select_related("project", "created_by").order_by("name", "pk")
    serializer_class = DatasetSerializer
    create_serializer_class = DatasetCreateSerializer
    project_path = "project"
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    search_fields = ["name"]
    role_actions = READ

    def create(self, request, *args, **kwargs):
        project, fields = self.contributed(request)
        dataset = services.dataset_create(project=project, user=request.user, **fields)
        found = self.queryset.get(pk=dataset.pk)
        return Response(DatasetSerializer(found).data, status=status.HTTP_201_CREATED)
