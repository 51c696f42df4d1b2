"""Shapes of the monitoring resources. Serializers validate and shape; views call services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.v1.fields import CharField, JsonModelSerializer
from monitoring.models import Alert, Deployment, Monitor, ReferenceColumn, Result

BATCH_SCHEMA = {
    "type": "object",
    "description": "Rows as objects (`rows`) or columns as lists (`columns`), with `row_id`.",
    "properties": {
        "rows": {"type": "array", "items": {"type": "object"}},
        "columns": {"type": "object", "additionalProperties": {"type": "array"}},
        "observed_at": {"type": "string", "format": "date-time"},
    },
}
CSV_SCHEMA = {"type": "string", "description": "A header of column names, then a row a line."}
NDJSON_SCHEMA = {"type": "string", "description": "One row object per line."}


class ReferenceColumnSerializer(JsonModelSerializer):
    summary = serializers.SerializerMethodField()

    class Meta:
        model = ReferenceColumn
        fields = ["name", "role", "kind", "summary"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_summary(self, column) -> dict:
        stats = column.stats
        keys = ("n", "missing", "mean", "std", "min", "max", "n_unique")
        summary = {key: stats[key] for key in keys if key in stats}
        if "counts" in stats and stats["kind"] == "categorical":
            summary["categories"] = len(stats["counts"])
        return summary


class DeploymentSerializer(JsonModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    model = serializers.SerializerMethodField()
    version = serializers.IntegerField(
        source="model_version.version", default=None, allow_null=True, read_only=True
    )
    reference_columns = ReferenceColumnSerializer(many=True, read_only=True)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "project",
            "name",
            "model",
            "version",
            "started_at",
            "ended_at",
            "is_current",
            "reference_source",
            "reference_rows",
            "reference_set_at",
            "reference_columns",
        ]

    def get_model(self, deployment) -> str | None:
        version = deployment.model_version
        return version.registered_model.name if version is not None else None


class BatchStoredSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rows = serializers.IntegerField()
    observed_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    stored = serializers.BooleanField(help_text="False when the same rows were already stored.")
    type_errors = serializers.DictField(child=serializers.IntegerField())


class LabelsStoredSerializer(serializers.Serializer):
    labelled = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class SecondsField(serializers.Field):
    """A duration as whole seconds in JSON."""

    def to_representation(self, value):
        return int(value.total_seconds())

    def to_internal_value(self, data):
        import datetime as dt

        if isinstance(data, bool) or not isinstance(data, int) or data < 0:
            raise serializers.ValidationError("must be a whole number of seconds, 0 or more")
        return dt.timedelta(seconds=data)


extend_schema_field(OpenApiTypes.INT)(SecondsField)


class MonitorSerializer(JsonModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    window = SecondsField(read_only=True)
    for_duration = SecondsField(required=False)
    repeat_interval = SecondsField(required=False)
    config = serializers.JSONField(required=False)

    class Meta:
        model = Monitor
        fields = [
            "id",
            "project",
            "name",
            "kind",
            "deployment",
            "baseline_at",
            "window",
            "for_duration",
            "repeat_interval",
            "config",
            "enabled",
            "last_run_at",
        ]
        read_only_fields = ["name", "kind", "deployment", "baseline_at", "last_run_at"]


class ResultSerializer(JsonModelSerializer):
    class Meta:
        model = Result
        fields = [
            "id",
            "monitor",
            "deployment",
            "window_start",
            "window_end",
            "status",
            "value",
            "threshold",
            "rows",
            "summary",
            "computed_at",
        ]


class ResultDetailSerializer(ResultSerializer):
    details = serializers.JSONField(read_only=True)

    class Meta(ResultSerializer.Meta):
        fields = [*ResultSerializer.Meta.fields, "details"]


class AlertSerializer(JsonModelSerializer):
    project = serializers.CharField(source="monitor.project.slug", read_only=True)
    monitor_name = serializers.CharField(source="monitor.name", read_only=True)
    monitor_kind = serializers.CharField(source="monitor.kind", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "project",
            "monitor",
            "monitor_name",
            "monitor_kind",
            "deployment",
            "state",
            "summary",
            "started_at",
            "fired_at",
            "resolved_at",
            "resolved_by",
            "resolution",
            "acknowledged_at",
            "acknowledged_by",
            "silenced_until",
            "follow_up_task",
            "moved_back",
        ]


class ResolveSerializer(serializers.Serializer):
    note = CharField(required=False, allow_blank=True, default="", max_length=2000)


class AlertMoveBackSerializer(serializers.Serializer):
    due_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The reopened phase's new due date; by default as long as it was planned, "
        "from today.",
    )
    note = CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Added to the recorded reason, after the alert.",
    )


class SilenceSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
