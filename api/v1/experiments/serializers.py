"""Shapes of the experiment resources, their query parameters and the upload's request bodies."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers

from experiments import bulk, validation
from experiments.choices import RunStatus
from experiments.models import Experiment, Run

MAX_COMPARED_RUNS = 20
HISTORY_POINTS = (10, 20_000, 2_000)  # least, most, default
COMPARE_POINTS = (10, 20_000, 1_000)
_RUN_ID = validation.RUN_ID.pattern  # in the schema's patterns, MLflow's run id rule

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
        "pattern": f"^{_RUN_ID}(,{_RUN_ID}){{0,{MAX_COMPARED_RUNS - 1}}}$",
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
