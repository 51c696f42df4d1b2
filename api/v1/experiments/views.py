"""Experiments and runs to read, a run's series for charts, a metric compared across runs,
and the bulk metric upload."""

import io

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api.permissions import scoped
from api.v1.base import READ, ProjectScopedViewSet, upload_answer
from api.v1.errors import ErrorSerializer
from api.v1.experiments import filters
from api.v1.experiments.serializers import (
    COLUMNS_SCHEMA,
    CSV_SCHEMA,
    MAX_COMPARED_RUNS,
    NDJSON_SCHEMA,
    RUN_ID_PARAMETER,
    CompareQuerySerializer,
    ComparisonSerializer,
    ExperimentSerializer,
    HistoryQuerySerializer,
    RunDetailSerializer,
    RunSerializer,
    SeriesSerializer,
    UploadedSerializer,
)
from experiments import bulk, series, validation
from experiments.choices import LifecycleStage
from experiments.models import Experiment, MetricSeries, Run
from phases.roles import Action


@extend_schema_view(
    list=extend_schema(summary="List experiments of your projects"),
    retrieve=extend_schema(summary="An experiment"),
)
class ExperimentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    queryset = (
        Experiment.objects.select_related("project")
        .prefetch_related("tags")
        .annotate(
            run_count=Coalesce(
                Subquery(
                    Run.objects.filter(
                        experiment=OuterRef("pk"), lifecycle_stage=LifecycleStage.ACTIVE
                    )
                    .values("experiment")
                    .annotate(count=Count("pk"))
                    .values("count"),
                    output_field=IntegerField(),
                ),
                0,
            )
        )
        .order_by("project__name", "name")
    )
    serializer_class = ExperimentSerializer
    project_path = "project"
    filterset_class = filters.ExperimentFilter
    search_fields = ["name"]
    ordering_fields = ["name", "creation_time", "last_update_time"]
    role_actions = READ


@extend_schema_view(
    list=extend_schema(summary="List runs of your projects, newest first"),
    retrieve=extend_schema(
        summary="A run with its params, tags and latest metrics", parameters=[RUN_ID_PARAMETER]
    ),
)
class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    queryset = Run.objects.select_related("experiment__project").order_by("-start_time", "run_id")
    serializer_class = RunSerializer
    project_path = "experiment__project"
    lookup_field = "run_id"
    lookup_url_kwarg = "pk"
    filterset_class = filters.RunFilter
    search_fields = ["name", "^run_id"]
    ordering_fields = ["start_time", "end_time", "name", "status"]
    role_actions = {**READ, "log_metrics": Action.LOG_DATA, "history": Action.VIEW}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action in ("list", "retrieve"):
            queryset = queryset.prefetch_related(
                Prefetch("metric_series", queryset=MetricSeries.objects.order_by("key"))
            )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("params", "tags")
        return queryset

    def get_serializer_class(self):
        return RunDetailSerializer if self.action == "retrieve" else RunSerializer

    def get_object(self):
        """A value that cannot be a run id finds nothing, before it reaches the database
        (which refuses some characters outright)."""
        if not validation.RUN_ID.fullmatch(self.kwargs["pk"]):
            raise exceptions.NotFound()
        return super().get_object()

    @extend_schema(
        summary="Upload metric points in bulk (contributor)",
        description=(
            "Columnar JSON, CSV or NDJSON, by `Content-Type`; many points a request, far past "
            "MLflow's log-batch limits. The upload is stored whole or not at all: a bad point "
            "answers 400 naming its line (CSV, NDJSON; the CSV header is line 1) or index "
            "(JSON), its field and the rule. Points the run already holds are kept once, so "
            "uploading again is harmless: 201 when something new was stored, 200 when not."
        ),
        parameters=[RUN_ID_PARAMETER],
        request={
            bulk.JSON: COLUMNS_SCHEMA,
            bulk.CSV: CSV_SCHEMA,
            bulk.NDJSON: NDJSON_SCHEMA,
        },
        responses={
            201: UploadedSerializer,
            200: UploadedSerializer,
            415: OpenApiResponse(ErrorSerializer, description="Not one of the three formats."),
        },
        examples=[
            OpenApiExample(
                "Columns",
                media_type=bulk.JSON,
                request_only=True,
                value={
                    "key": "val_loss",
                    "step": [0, 1, 2],
                    "timestamp": [1700000000000, 1700000060000, 1700000120000],
                    "value": [0.91, 0.55, "NaN"],
                },
            ),
        ],
    )
    @action(detail=True, methods=["post"], url_path="metrics")
    def log_metrics(self, request, pk=None):
        run = self.get_object()
        media_type = request.content_type.split(";")[0].strip().lower()
        if media_type not in bulk.PARSERS:
            raise exceptions.UnsupportedMediaType(
                media_type or "none",
                detail=f"Send {', '.join(bulk.PARSERS)}; got {media_type or 'no Content-Type'}.",
            )
        uploaded = bulk.log_upload(
            run=run,
            by=request.user,
            media_type=media_type,
            body=request.stream or io.BytesIO(),  # DRF has no stream for an empty body
        )
        return upload_answer(UploadedSerializer(uploaded).data, stored=uploaded.stored)

    @extend_schema(
        summary="A run's series of one metric, downsampled for a chart",
        description=(
            "At most `points` points chosen with MinMaxLTTB, which keeps the first and last "
            "points, the extremes and the shape."
        ),
        parameters=[RUN_ID_PARAMETER, HistoryQuerySerializer],
        responses={200: SeriesSerializer},
    )
    @action(detail=True, methods=["get"], url_path="metrics/history")
    def history(self, request, pk=None):
        run = self.get_object()
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = series.metric_series(
            run=run, key=query.validated_data["key"], max_points=query.validated_data["points"]
        )
        return Response(SeriesSerializer(found).data)


class MetricViewSet(viewsets.GenericViewSet):
    """Metrics across runs; which runs the caller may see decides what can be compared."""

    permission_classes = [IsAuthenticated]
    queryset = Run.objects.none()

    @extend_schema(
        summary="One metric across several runs, each downsampled",
        description=(
            f"Up to {MAX_COMPARED_RUNS} runs of any of your projects. A run id you cannot see "
            "is refused like one that does not exist."
        ),
        parameters=[CompareQuerySerializer],
        responses={200: ComparisonSerializer},
    )
    @action(detail=False, methods=["get"])
    def compare(self, request):
        query = CompareQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ids, key = query.validated_data["runs"], query.validated_data["key"]
        visible = scoped(request, Run.objects.all(), project_path="experiment__project")
        found = {run.run_id: run for run in visible.filter(run_id__in=ids)}
        missing = [run_id for run_id in ids if run_id not in found]
        if missing:
            raise exceptions.ValidationError(
                {"runs": [f"no run with the id {', '.join(missing)} among your projects"]}
            )
        runs = [found[run_id] for run_id in ids]
        compared = series.compare(runs=runs, key=key, max_points=query.validated_data["points"])
        logged = {one.run_id for one in compared}
        body = {
            "key": key,
            "series": compared,
            "without_metric": [run_id for run_id in ids if run_id not in logged],
        }
        return Response(ComparisonSerializer(body).data)
