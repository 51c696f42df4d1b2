"""Experiment tracking in ``/api/v1/``: experiments and runs to read, a run's metric series
for charts, one metric compared across runs, and the bulk metric upload.

Tools log through the MLflow API; these endpoints are for pages, notebooks and exporters.
A run is addressed by its MLflow run id (32 hex digits) in the ``{id}`` of its URLs, the id
every tool already knows. Reading needs the viewer role on the run's project and uploading
the contributor role; an outsider gets 404, exactly as for a run that does not exist.
"""

import io

import django_filters
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api.permissions import scoped
from api.v1.filters import FilterSet, IdFilter
from api.v1.serializers import ErrorSerializer
from api.v1.views import READ, ProjectScopedViewSet
from experiments import bulk, series, validation
from experiments.choices import LifecycleStage, RunStatus
from experiments.models import Experiment, MetricSeries, Run
from phases.roles import Action

MAX_COMPARED_RUNS = 20
HISTORY_POINTS = (10, 20_000, 2_000)  # least, most, default
COMPARE_POINTS = (10, 20_000, 1_000)

RUN_ID_PARAMETER = OpenApiParameter(
    "id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The run's MLflow run id: 32 hexadecimal digits.",
)


# --- Shapes -----------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number"},
            {"type": "string", "enum": list(validation.SPECIAL_DOUBLES)},
        ]
    }
)
class MetricValueField(serializers.Field):
    """A logged value as MLflow's JSON spells it: JSON has no NaN or infinity."""

    def to_representation(self, value):
        return value


class LatestMetricSerializer(serializers.Serializer):
    value = MetricValueField()
    step = serializers.IntegerField()
    timestamp = serializers.IntegerField(help_text="Milliseconds since the epoch.")


def latest_metrics(run: Run) -> dict[str, dict]:
    """The run's latest value per key, from the prefetched series."""
    return {
        series.key: {
            "value": validation.double_json(series.latest_value, series.latest_is_nan),
            "step": series.latest_step,
            "timestamp": series.latest_timestamp,
        }
        for series in run.metric_series.all()
    }


@extend_schema_field({"type": "string", "enum": RunStatus.values}, component_name="RunStatus")
class RunStatusField(serializers.ChoiceField):
    """A component of its own: "status" names other choices elsewhere in the schema."""

    def __init__(self, **kwargs):
        super().__init__(choices=RunStatus.choices, **kwargs)


class ExperimentSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    tags = serializers.SerializerMethodField()
    run_count = serializers.IntegerField(read_only=True, help_text="Its runs not deleted.")

    class Meta:
        model = Experiment
        fields = [
            "id",
            "project",
            "name",
            "is_default",
            "lifecycle_stage",
            "creation_time",
            "last_update_time",
            "run_count",
            "tags",
        ]
        read_only_fields = fields

    def get_tags(self, experiment) -> dict[str, str]:
        return {tag.key: tag.value for tag in experiment.tags.all()}


class RunSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(
        source="experiment.project", slug_field="slug", read_only=True
    )
    experiment_name = serializers.CharField(source="experiment.name", read_only=True)
    status = RunStatusField(read_only=True)
    metrics = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = [
            "run_id",
            "name",
            "project",
            "experiment",
            "experiment_name",
            "status",
            "lifecycle_stage",
            "start_time",
            "end_time",
            "user_id",
            "metrics",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=LatestMetricSerializer()))
    def get_metrics(self, run) -> dict:
        return latest_metrics(run)


class RunDetailSerializer(RunSerializer):
    params = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "artifact_uri", "params", "tags"]
        read_only_fields = fields

    def get_params(self, run) -> dict[str, str]:
        return {param.key: param.value for param in run.params.all()}

    def get_tags(self, run) -> dict[str, str]:
        return {tag.key: tag.value for tag in run.tags.all()}


class SeriesSerializer(serializers.Serializer):
    run_id = serializers.CharField()
    key = serializers.CharField()
    steps = serializers.ListField(child=serializers.IntegerField())
    timestamps = serializers.ListField(
        child=serializers.IntegerField(), help_text="Milliseconds since the epoch."
    )
    values = serializers.ListField(
        child=serializers.FloatField(allow_null=True),
        help_text="null where the point is NaN or infinite: a gap in the chart.",
    )
    total_points = serializers.IntegerField(help_text="Points the run logged for the key.")
    downsampled = serializers.BooleanField(
        help_text="Whether the series was reduced (MinMaxLTTB) to the points requested."
    )


class ComparisonSerializer(serializers.Serializer):
    key = serializers.CharField()
    series = SeriesSerializer(many=True, help_text="In the order the runs were given.")
    without_metric = serializers.ListField(
        child=serializers.CharField(), help_text="Run ids that have not logged the key."
    )


class UploadedSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Points in the upload.")
    stored = serializers.IntegerField(help_text="Points the run did not hold yet.")
    series = serializers.IntegerField(help_text="Distinct metric keys in the upload.")


class HistoryQuerySerializer(serializers.Serializer):
    key = serializers.CharField(max_length=250, help_text="The metric key, as logged.")
    points = serializers.IntegerField(
        min_value=HISTORY_POINTS[0],
        max_value=HISTORY_POINTS[1],
        default=HISTORY_POINTS[2],
        help_text="At most this many points come back.",
    )


@extend_schema_field(
    {
        "type": "string",
        "pattern": f"^[0-9a-f]{{32}}(,[0-9a-f]{{32}}){{0,{MAX_COMPARED_RUNS - 1}}}$",
    }
)
class RunIdsField(serializers.CharField):
    """Run ids separated by commas, in the order given; one given twice counts once."""

    def to_internal_value(self, data) -> list[str]:
        ids = list(
            dict.fromkeys(part.strip() for part in super().to_internal_value(data).split(","))
        )
        bad = [run_id for run_id in ids if not validation.RUN_ID.fullmatch(run_id)]
        if bad:
            raise serializers.ValidationError(
                f"each run id must be 32 hexadecimal digits; not {', '.join(bad[:3])}"
            )
        if len(ids) > MAX_COMPARED_RUNS:
            raise serializers.ValidationError(
                f"at most {MAX_COMPARED_RUNS} runs can be compared; got {len(ids)}"
            )
        return ids


class CompareQuerySerializer(serializers.Serializer):
    key = serializers.CharField(max_length=250, help_text="The metric key, as logged.")
    runs = RunIdsField(
        help_text=f"Run ids separated by commas, at most {MAX_COMPARED_RUNS}.",
    )
    points = serializers.IntegerField(
        min_value=COMPARE_POINTS[0],
        max_value=COMPARE_POINTS[1],
        default=COMPARE_POINTS[2],
        help_text="At most this many points per run.",
    )


# --- Request bodies of the upload, as OpenAPI schemas -----------------------------------

_VALUE_SCHEMA = {
    "oneOf": [
        {"type": "number"},
        {"type": "string", "enum": list(validation.SPECIAL_DOUBLES)},
    ]
}
COLUMNS_SCHEMA = {
    "type": "object",
    "description": "One column per field, all of one length; `key` may be one string for "
    f"all points. At most {bulk.MAX_JSON_BYTES // 2**20} MiB: larger uploads go as CSV or NDJSON.",
    "properties": {
        "key": {
            "oneOf": [
                {"type": "string", "minLength": 1, "maxLength": 250},
                {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 250}},
            ]
        },
        "step": {"type": "array", "items": {"type": "integer", "format": "int64"}},
        "timestamp": {
            "type": "array",
            "items": {"type": "integer", "format": "int64", "minimum": 0},
            "description": "Milliseconds since the epoch.",
        },
        "value": {"type": "array", "items": _VALUE_SCHEMA},
    },
    "required": list(bulk.FIELDS),
    "additionalProperties": False,
}
CSV_SCHEMA = {
    "type": "string",
    "description": "A header naming key, step, timestamp and value (any order), then one point "
    "a line. Values may be NaN, Infinity or -Infinity.",
}
NDJSON_SCHEMA = {
    "type": "string",
    "description": 'One JSON object a line: {"key": ..., "step": ..., "timestamp": ..., '
    '"value": ...}; a value may be "NaN", "Infinity" or "-Infinity".',
}


# --- Filters ----------------------------------------------------------------------------


class ActiveByDefault(FilterSet):
    """Deleted rows are left out unless ``lifecycle_stage=deleted`` asks for them."""

    lifecycle_stage = django_filters.ChoiceFilter(choices=LifecycleStage.choices)

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("lifecycle_stage"):
            queryset = queryset.filter(lifecycle_stage=LifecycleStage.ACTIVE)
        return super().filter_queryset(queryset)


class ExperimentFilter(ActiveByDefault):
    project = django_filters.CharFilter(field_name="project__slug")

    class Meta:
        model = Experiment
        fields = ["project", "lifecycle_stage"]


class RunFilter(ActiveByDefault):
    project = django_filters.CharFilter(field_name="experiment__project__slug")
    experiment = IdFilter(field_name="experiment")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = Run
        fields = ["project", "experiment", "status", "lifecycle_stage"]


# --- Views ------------------------------------------------------------------------------


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
    filterset_class = ExperimentFilter
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
    filterset_class = RunFilter
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
        answer = status.HTTP_201_CREATED if uploaded.stored else status.HTTP_200_OK
        return Response(UploadedSerializer(uploaded).data, status=answer)

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
