"""Shapes of sweeps (experiment jobs), their trials and progress, and datasets.

The sweep's spec is checked by ``experiments.sweeps`` (each refusal names the field, down to
``space.<family>.<param>``); these serializers only hold the JSON types to the schema.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.v1.fields import CharField, IntegerField, ScopedProjectField
from experiments.choices import Pruner, Strategy, SweepStatus, Task, TrialStatus
from experiments.models import Dataset, Sweep, Trial
from experiments.sweeps import BUILTIN_DATASETS

SPACE_SCHEMA = {
    "type": "object",
    "description": "family -> hyperparameter -> range: "
    '{"type": "int" | "float" | "log_float", "low": n, "high": n} or '
    '{"type": "categorical", "choices": [...]}. A family left out searches its default space.',
    "additionalProperties": {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["int", "float", "log_float", "categorical"]},
                "low": {"type": "number"},
                "high": {"type": "number"},
                "choices": {"type": "array", "items": {}},
            },
            "required": ["type"],
        },
    },
    "example": {"random_forest": {"n_estimators": {"type": "int", "low": 20, "high": 200}}},
}


@extend_schema_field(SPACE_SCHEMA)
class SpaceField(serializers.JSONField):
    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("must be an object: family -> param -> range")
        return data


COUNT_FIELDS = [f"{status}_count" for status in TrialStatus.values]


class SweepSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    space = SpaceField(read_only=True)
    families = serializers.ListField(child=serializers.CharField(), read_only=True)
    metrics = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="The first is the objective."
    )
    url = serializers.SerializerMethodField()
    progress_url = serializers.SerializerMethodField()
    trial_count = serializers.IntegerField(read_only=True)
    queued_count = serializers.IntegerField(read_only=True)
    running_count = serializers.IntegerField(read_only=True)
    succeeded_count = serializers.IntegerField(read_only=True)
    pruned_count = serializers.IntegerField(read_only=True)
    failed_count = serializers.IntegerField(read_only=True)
    cancelled_count = serializers.IntegerField(read_only=True)
    best_trial = serializers.SerializerMethodField()
    best_value = serializers.SerializerMethodField()
    best_run_id = serializers.SerializerMethodField()

    class Meta:
        model = Sweep
        fields = [
            "id",
            "url",
            "progress_url",
            "project",
            "experiment",
            "name",
            "dataset",
            "task",
            "target",
            "families",
            "space",
            "strategy",
            "pruner",
            "max_trials",
            "max_seconds",
            "folds",
            "metrics",
            "direction",
            "seed",
            "max_concurrent",
            "status",
            "trial_count",
            *COUNT_FIELDS,
            "best_trial",
            "best_value",
            "best_run_id",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def _absolute(self, name: str, sweep: Sweep) -> str:
        path = reverse(f"v1:{name}", args=[sweep.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, sweep: Sweep) -> str:
        return self._absolute("sweep-detail", sweep)

    def get_progress_url(self, sweep: Sweep) -> str:
        return self._absolute("sweep-progress", sweep)

    def get_best_trial(self, sweep: Sweep) -> int | None:
        return sweep.best_trial.number if sweep.best_trial_id else None

    def get_best_value(self, sweep: Sweep) -> float | None:
        return sweep.best_trial.value if sweep.best_trial_id else None

    def get_best_run_id(self, sweep: Sweep) -> str | None:
        trial = sweep.best_trial if sweep.best_trial_id else None
        return trial.run.run_id if trial is not None and trial.run_id else None


class SweepCreateSerializer(serializers.Serializer):
    """What a sweep is started with; left-out fields take the domain's defaults."""

    project = ScopedProjectField(help_text="Slug of a project where you are a contributor.")
    name = CharField(max_length=200)
    dataset = IntegerField(help_text="Id of a dataset of the project.")
    task = serializers.ChoiceField(choices=Task.choices, required=False)
    target = CharField(required=False, max_length=200)
    families = serializers.ListField(
        child=CharField(), min_length=1, help_text="Estimator families from the allowlist."
    )
    space = SpaceField(required=False)
    strategy = serializers.ChoiceField(choices=Strategy.choices, required=False)
    pruner = serializers.ChoiceField(choices=Pruner.choices, required=False)
    max_trials = IntegerField(required=False, min_value=1)
    max_seconds = IntegerField(required=False, min_value=1, allow_null=True)
    folds = IntegerField(required=False, min_value=2)
    metrics = serializers.ListField(
        child=CharField(), required=False, help_text="The first is the objective."
    )
    seed = IntegerField(required=False, min_value=0)
    max_concurrent = IntegerField(required=False, min_value=1, allow_null=True)


class RetrainSerializer(serializers.Serializer):
    """Changes to the prefilled retraining spec; everything may be left out."""

    name = CharField(required=False, max_length=200)
    dataset = IntegerField(required=False, help_text="Id of a dataset of the project.")
    families = serializers.ListField(child=CharField(), required=False, min_length=1)
    space = SpaceField(required=False)
    strategy = serializers.ChoiceField(choices=Strategy.choices, required=False)
    max_trials = IntegerField(required=False, min_value=1)
    max_seconds = IntegerField(required=False, min_value=1)
    with_training = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Without a dataset: add the deployed version's training rows to "
        "production's labelled rows.",
    )


class ExportSerializer(serializers.Serializer):
    """What to export of a deployment's labelled production rows; everything may be left out."""

    name = CharField(required=False, max_length=200, help_text="The dataset's name.")
    since = serializers.DateTimeField(
        required=False, help_text="Only batches observed at or after this time."
    )
    until = serializers.DateTimeField(required=False, help_text="Only batches observed before.")
    with_training = serializers.BooleanField(
        required=False, default=False, help_text="Add the deployed version's training rows."
    )


class ProgressSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SweepStatus.choices)
    total = serializers.IntegerField()
    done = serializers.IntegerField(
        help_text="The trials that ran to an end: the cancelled ones are not done."
    )
    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    pruned = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    best_value = serializers.FloatField(allow_null=True)
    best_trial = serializers.IntegerField(allow_null=True, help_text="The best trial's number.")
    elapsed_seconds = serializers.FloatField()
    remaining_seconds = serializers.FloatField(
        allow_null=True,
        help_text="An estimate; null when not known or when the sweep stopped short.",
    )


class TrialSerializer(serializers.ModelSerializer):
    run_id = serializers.SerializerMethodField()
    params = serializers.DictField(read_only=True)

    class Meta:
        model = Trial
        fields = [
            "number",
            "status",
            "params",
            "value",
            "run_id",
            "attempts",
            "error",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_run_id(self, trial: Trial) -> str | None:
        return trial.run.run_id if trial.run_id else None


class EvidenceRequestSerializer(serializers.Serializer):
    outcome = IntegerField(
        required=False,
        help_text="Id of an outcome of the project; by default the one judged by "
        "“best run meets target” (Experimentation, or Modeling).",
    )


class DatasetOriginSerializer(serializers.Serializer):
    """Where an export's rows came from (``monitoring/README.md``, "Retraining")."""

    kind = serializers.CharField(help_text="production")
    deployment = serializers.IntegerField(help_text="Id of the deployment.")
    deployment_name = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True, help_text="The window asked for.")
    until = serializers.DateTimeField(allow_null=True)
    window_from = serializers.DateTimeField(
        allow_null=True, help_text="When the first batch exported was observed."
    )
    window_to = serializers.DateTimeField(allow_null=True)
    batches = serializers.IntegerField()
    production_rows = serializers.IntegerField(help_text="Labelled production rows.")
    unlabelled_rows_left_out = serializers.IntegerField()
    last_labelled_at = serializers.DateTimeField(allow_null=True)
    with_training = serializers.BooleanField()
    training_rows = serializers.IntegerField()
    training_source = serializers.CharField()
    duplicates_dropped = serializers.IntegerField(help_text="Repeated row ids taken once.")
    summary = serializers.CharField()


class DatasetSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    columns = serializers.DictField(
        child=serializers.ChoiceField(choices=["numeric", "categorical"]), read_only=True
    )
    origin = serializers.SerializerMethodField(
        help_text="Where an export of production's rows came from; null for other datasets."
    )

    class Meta:
        model = Dataset
        fields = [
            "id",
            "project",
            "name",
            "source",
            "builtin",
            "target",
            "task",
            "columns",
            "rows",
            "origin",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(DatasetOriginSerializer(allow_null=True))
    def get_origin(self, dataset: Dataset) -> dict | None:
        return dataset.origin or None


class DatasetCreateSerializer(serializers.Serializer):
    """A built-in dataset (JSON) or an uploaded CSV file (multipart form) of the project."""

    project = ScopedProjectField(help_text="Slug of a project where you are a contributor.")
    name = CharField(max_length=200)
    builtin = serializers.ChoiceField(choices=sorted(BUILTIN_DATASETS), required=False)
    file = serializers.FileField(
        required=False, help_text="A CSV file with a header row (multipart form)."
    )
    target = CharField(required=False, max_length=200, help_text="The file's target column.")

    def validate(self, data):
        if ("builtin" in data) == ("file" in data):
            raise serializers.ValidationError(
                {"builtin": ["give either a built-in dataset or a file"]}
            )
        if "file" in data and not data.get("target"):
            raise serializers.ValidationError({"target": ["name the file's target column"]})
        return data
