"""Deployments, their reference, production batches and labels; monitors, results, alerts.

Production rows come as JSON, CSV or NDJSON (``monitoring.ingest``); they are checked
against the deployment's reference and stored whole, once, or refused naming the column or
row and the rule. Alerts are acted on with POST verbs; moving the project back from an
alert needs a manager, like every move between phases.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.v1.base import READ, ProjectScopedViewSet, upload_answer
from api.v1.errors import REFUSED, ErrorSerializer
from api.v1.experiments.sweep_serializers import (
    DatasetSerializer,
    ExportSerializer,
    RetrainSerializer,
    SweepSerializer,
)
from api.v1.experiments.sweeps import started
from api.v1.monitoring import filters
from api.v1.monitoring.serializers import (
    BATCH_SCHEMA,
    CSV_SCHEMA,
    NDJSON_SCHEMA,
    AlertMoveBackSerializer,
    AlertSerializer,
    BatchStoredSerializer,
    DeploymentSerializer,
    LabelsStoredSerializer,
    MonitorSerializer,
    ResolveSerializer,
    ResultDetailSerializer,
    ResultSerializer,
    SilenceSerializer,
)
from api.v1.phases.serializers import TaskSerializer, TransitionSerializer
from mlprojects.exceptions import DomainError
from monitoring import ingest, retraining, services
from monitoring.models import Alert, Deployment, Monitor, ReferenceColumn, Result
from phases.roles import Action

BODIES = {
    "application/json": BATCH_SCHEMA,
    "text/csv": CSV_SCHEMA,
    "application/x-ndjson": NDJSON_SCHEMA,
}
UNSUPPORTED = {415: OpenApiResponse(ErrorSerializer, description="Not JSON, CSV or NDJSON.")}


def _parsed(request) -> ingest.Parsed:
    try:
        ingest.media_type(request.content_type)
    except DomainError as refused:
        raise exceptions.UnsupportedMediaType(
            request.content_type or "none", detail=refused.message
        ) from None
    return ingest.parse(request.body, request.content_type)


@extend_schema_view(
    list=extend_schema(summary="List deployments of your projects, current first"),
    retrieve=extend_schema(summary="A deployment with its reference schema"),
)
class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    queryset = (
        Deployment.objects.select_related("project", "model_version__registered_model")
        .prefetch_related(
            Prefetch("reference_columns", queryset=ReferenceColumn.objects.order_by("position"))
        )
        .order_by("project__name", "-started_at", "-id")
    )
    serializer_class = DeploymentSerializer
    project_path = "project"
    filterset_class = filters.DeploymentFilter
    ordering_fields = ["started_at"]
    role_actions = {
        **READ,
        "reference": Action.LOG_DATA,
        "batches": Action.LOG_DATA,
        "labels": Action.LOG_DATA,
        "retrain": Action.LOG_DATA,
        "export": Action.LOG_DATA,
    }

    @extend_schema(
        summary="Upload the reference data (contributor)",
        description=(
            "The data the deployed model was trained on, as JSON, CSV or NDJSON; `prediction` "
            "and `label` name those columns, every other column is a feature. Profiled once "
            "and kept: the baseline of every monitor of the deployment."
        ),
        parameters=[
            OpenApiParameter("prediction", str, description="The prediction column."),
            OpenApiParameter("label", str, description="The label column."),
        ],
        request=BODIES,
        responses={200: DeploymentSerializer, **UNSUPPORTED},
    )
    @action(detail=True, methods=["post"])
    def reference(self, request, pk=None):
        deployment = self.get_object()
        parsed = _parsed(request)
        updated = services.reference_set(
            deployment=deployment,
            columns=parsed.columns,
            by=request.user,
            prediction=request.query_params.get("prediction", ""),
            label=request.query_params.get("label", ""),
        )
        return Response(DeploymentSerializer(self.get_queryset().get(pk=updated.pk)).data)

    @extend_schema(
        summary="Send a batch of production rows (contributor)",
        description=(
            "Features, the prediction and optionally the label of each row, with a `row_id` "
            "unique in the deployment. A batch that does not fit the reference answers 400 "
            "naming the column or row and the rule, and nothing is stored. The same rows "
            "sent again are stored once: 201 when stored, 200 when they already were."
        ),
        request=BODIES,
        responses={
            201: BatchStoredSerializer,
            200: BatchStoredSerializer,
            **UNSUPPORTED,
            **REFUSED,
        },
    )
    @action(detail=True, methods=["post"])
    def batches(self, request, pk=None):
        deployment = self.get_object()
        parsed = _parsed(request)
        batch, stored = services.batch_add(
            deployment=deployment,
            columns=parsed.columns,
            by=request.user,
            observed_at=parsed.observed_at,
        )
        body = {
            "id": batch.pk,
            "rows": batch.rows,
            "observed_at": batch.observed_at,
            "received_at": batch.received_at,
            "stored": stored,
            "type_errors": batch.type_errors,
        }
        return upload_answer(BatchStoredSerializer(body).data, stored=stored)

    @extend_schema(
        summary="Send labels of stored rows, by row id (contributor)",
        description=(
            "`row_id` and `label` columns, as JSON, CSV or NDJSON. All or nothing: an "
            "unknown row id, or a different label for a labelled row, refuses the request."
        ),
        request=BODIES,
        responses={200: LabelsStoredSerializer, **UNSUPPORTED},
    )
    @action(detail=True, methods=["post"])
    def labels(self, request, pk=None):
        deployment = self.get_object()
        labels = ingest.labels_from(_parsed(request))
        counts = services.labels_add(deployment=deployment, labels=labels, by=request.user)
        return Response(LabelsStoredSerializer(counts).data)

    @extend_schema(
        summary="Export the labelled production rows as a dataset (contributor)",
        description=(
            "The feature columns of the deployment's batches joined with their labels by "
            "row id (rows without a label left out), optionally with the deployed "
            "version's training rows (a row id taken once), as a new dataset of the "
            "project: the reference's feature columns and the target the deployed run's "
            "sweep names, its `origin` saying where the rows came from. 409 "
            "`not_enough_labels` below `MONITORING_EXPORT_MIN_ROWS` labelled rows, "
            "`no_reference` without a reference, `no_training_data` when the training "
            "rows are asked for and there are none; nothing is written then."
        ),
        request=ExportSerializer,
        responses={201: DatasetSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def export(self, request, pk=None):
        deployment = self.get_object()
        body = ExportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dataset = services.production_dataset_export(
            deployment=deployment, by=request.user, **body.validated_data
        )
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Start a retraining sweep prefilled from the deployed version's run (contributor)",
        description=(
            "The spec comes from the deployed version's run (its sweep's dataset, task, "
            "target, folds, metrics, its family and a space around its params). Without a "
            "`dataset` in the body it runs on the labelled production rows: the export "
            "that still holds them all, else a new one (409 `not_enough_labels` when "
            "there are too few). Fields in the body replace the prefilled ones. Answers "
            "202 with the sweep's URL, like starting any sweep."
        ),
        request=RetrainSerializer,
        responses={202: SweepSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def retrain(self, request, pk=None):
        deployment = self.get_object()
        body = RetrainSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        sweep = retraining.retraining_sweep_start(
            deployment=deployment, user=request.user, **body.validated_data
        )
        return started(sweep, request)


@extend_schema_view(
    list=extend_schema(summary="List monitors of your projects"),
    retrieve=extend_schema(summary="A monitor with its config"),
    partial_update=extend_schema(
        summary="Change a monitor's config, alert rule or switch it off (manager)"
    ),
)
class MonitorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    queryset = Monitor.objects.select_related("project").order_by("project__name", "kind", "name")
    serializer_class = MonitorSerializer
    project_path = "project"
    filterset_class = filters.MonitorFilter
    role_actions = {**READ, "partial_update": Action.EDIT_PROJECT}

    def partial_update(self, request, pk=None):
        monitor = self.get_object()
        body = MonitorSerializer(monitor, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        updated = services.monitor_update(monitor=monitor, by=request.user, **body.validated_data)
        return Response(MonitorSerializer(self.get_queryset().get(pk=updated.pk)).data)


@extend_schema_view(
    list=extend_schema(summary="Results of your projects' monitors, newest window first"),
    retrieve=extend_schema(summary="A result with the numbers behind it, per feature"),
)
class ResultViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    queryset = Result.objects.select_related("monitor").order_by("-window_start", "-id")
    serializer_class = ResultSerializer
    project_path = "monitor__project"
    filterset_class = filters.ResultFilter
    ordering_fields = ["window_start"]
    role_actions = READ

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset if self.action == "retrieve" else queryset.defer("details")

    def get_serializer_class(self):
        return ResultDetailSerializer if self.action == "retrieve" else ResultSerializer


@extend_schema_view(
    list=extend_schema(summary="Alerts of your projects, newest first"),
    retrieve=extend_schema(summary="An alert"),
)
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    queryset = Alert.objects.select_related(
        "monitor__project", "resolved_by", "acknowledged_by"
    ).order_by("-started_at", "-id")
    serializer_class = AlertSerializer
    project_path = "monitor__project"
    filterset_class = filters.AlertFilter
    role_actions = {
        **READ,
        "acknowledge": Action.HANDLE_ALERTS,
        "resolve": Action.HANDLE_ALERTS,
        "silence": Action.HANDLE_ALERTS,
        "follow_up": Action.HANDLE_ALERTS,
        "move_back": Action.MOVE_PHASES,
    }

    def _answer(self, alert: Alert) -> Response:
        return Response(AlertSerializer(self.get_queryset().get(pk=alert.pk)).data)

    @extend_schema(
        summary="Acknowledge: someone is on it, repeats stop (contributor)",
        request=None,
        responses={200: AlertSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._answer(services.alert_acknowledge(alert=self.get_object(), by=request.user))

    @extend_schema(
        summary="Resolve, with a note (contributor)",
        request=ResolveSerializer,
        responses={200: AlertSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        alert = self.get_object()
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = body.validated_data["note"]
        return self._answer(services.alert_resolve(alert=alert, by=request.user, note=note))

    @extend_schema(
        summary="Silence until a time (contributor)",
        request=SilenceSerializer,
        responses={200: AlertSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def silence(self, request, pk=None):
        alert = self.get_object()
        body = SilenceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        until = body.validated_data["until"]
        return self._answer(services.alert_silence(alert=alert, by=request.user, until=until))

    @extend_schema(
        summary="Open the follow-up task in the phase that must act (contributor)",
        request=None,
        responses={201: TaskSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="follow-up")
    def follow_up(self, request, pk=None):
        task = services.alert_follow_up(alert=self.get_object(), by=request.user)
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move the project back to the phase that must act, the alert as the reason "
        "(manager)",
        request=AlertMoveBackSerializer,
        responses={201: TransitionSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="move-back")
    def move_back(self, request, pk=None):
        alert = self.get_object()
        body = AlertMoveBackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        transition = services.alert_move_back(alert=alert, by=request.user, **body.validated_data)
        return Response(TransitionSerializer(transition).data, status=status.HTTP_201_CREATED)
