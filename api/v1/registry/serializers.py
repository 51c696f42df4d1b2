"""Shapes of the registry resources. Serializers validate and shape; views call services.

A version says which aliases name it, whether one of them is its project's production
alias and since when, and the run and logged model it came from. Metric values are the
version's (``registry.selectors.many_version_metrics``): the logged model's own latest
value of a key, else its run's; NaN and infinities are null.
"""

import math

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.mlflow import artifacts
from api.mlflow.errors import MlflowError
from api.v1.fields import CharField, JsonModelSerializer, ScopedProjectField, ScopedRelatedField
from experiments.choices import LifecycleStage
from experiments.models import Run
from experiments.validation import RUN_ID
from registry.models import DeploymentEvent, LoggedModel, ModelVersion, RegisteredModel
from registry.validation import MODEL_ID

DESCRIPTION_LIMIT = 5000
METRICS_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "number", "nullable": True},
    "description": "Latest value by key; null where it is NaN or infinite.",
}
TAGS_SCHEMA = {"type": "object", "additionalProperties": {"type": "string"}}


def _tags(obj) -> dict[str, str]:
    return {tag.key: tag.value for tag in sorted(obj.tags.all(), key=lambda t: t.key)}


def _production_alias(alias_rows, production_alias: str):
    return next((a for a in alias_rows if a.alias == production_alias), None)


class AliasSerializer(serializers.Serializer):
    alias = serializers.CharField()
    version = serializers.IntegerField(source="model_version.version")
    set_at = serializers.DateTimeField()
    set_by = serializers.CharField(source="set_by.username", default=None, allow_null=True)


class ProductionSerializer(serializers.Serializer):
    """What is at the production alias of a registered model, and since when."""

    alias = serializers.CharField()
    version = serializers.IntegerField(source="model_version.version")
    model_version = serializers.IntegerField(source="model_version_id")
    since = serializers.DateTimeField(source="set_at")
    set_by = serializers.CharField(source="set_by.username", default=None, allow_null=True)


class RegisteredModelSerializer(JsonModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    version_count = serializers.IntegerField(read_only=True, help_text="Versions it holds now.")
    production_alias = serializers.CharField(
        source="production_alias_name",
        read_only=True,
        help_text="The project's production alias: the version it names is deployed.",
    )
    production = serializers.SerializerMethodField()
    aliases = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = [
            "id",
            "project",
            "name",
            "description",
            "last_version",
            "version_count",
            "production_alias",
            "production",
            "aliases",
            "tags",
            "created_by",
            "creation_time",
            "last_update_time",
        ]
        read_only_fields = ["last_version", "creation_time", "last_update_time"]

    @extend_schema_field(ProductionSerializer(allow_null=True))
    def get_production(self, registered_model) -> dict | None:
        found = _production_alias(
            registered_model.aliases.all(), registered_model.production_alias_name
        )
        return ProductionSerializer(found).data if found is not None else None

    @extend_schema_field(AliasSerializer(many=True))
    def get_aliases(self, registered_model) -> list[dict]:
        rows = sorted(registered_model.aliases.all(), key=lambda a: a.alias)
        return AliasSerializer(rows, many=True).data

    @extend_schema_field(TAGS_SCHEMA)
    def get_tags(self, registered_model) -> dict[str, str]:
        return _tags(registered_model)


class RegisteredModelCreateSerializer(serializers.Serializer):
    project = ScopedProjectField(help_text="The project's slug; a contributor's at least.")
    name = CharField(max_length=256, help_text="Unique in the project; no `/` or `:`.")
    description = CharField(
        required=False, allow_blank=True, default="", max_length=DESCRIPTION_LIMIT
    )


class RegisteredModelUpdateSerializer(serializers.Serializer):
    name = CharField(required=False, max_length=256, help_text="Renames the model.")
    description = CharField(required=False, allow_blank=True, max_length=DESCRIPTION_LIMIT)


class ModelVersionSerializer(JsonModelSerializer):
    project = serializers.CharField(source="registered_model.project.slug", read_only=True)
    model_name = serializers.CharField(source="registered_model.name", read_only=True)
    run = serializers.SlugRelatedField(
        slug_field="run_id",
        read_only=True,
        allow_null=True,
        help_text="The MLflow run id it came from.",
    )
    run_name = serializers.CharField(
        source="run.name", default=None, allow_null=True, read_only=True
    )
    experiment = serializers.IntegerField(
        source="run.experiment_id", default=None, read_only=True, allow_null=True
    )
    logged_model = serializers.SlugRelatedField(
        slug_field="model_id", read_only=True, allow_null=True
    )
    aliases = serializers.SerializerMethodField()
    production_alias = serializers.CharField(source="production_alias_name", read_only=True)
    in_production = serializers.SerializerMethodField(
        help_text="Whether the project's production alias names this version."
    )
    in_production_since = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "project",
            "registered_model",
            "model_name",
            "version",
            "description",
            "source",
            "storage_location",
            "current_stage",
            "run",
            "run_name",
            "experiment",
            "logged_model",
            "aliases",
            "production_alias",
            "in_production",
            "in_production_since",
            "metrics",
            "tags",
            "created_by",
            "creation_time",
            "last_update_time",
        ]
        read_only_fields = [
            "registered_model",
            "version",
            "source",
            "storage_location",
            "current_stage",
            "creation_time",
            "last_update_time",
        ]

    def _production(self, version):
        return _production_alias(version.aliases.all(), version.production_alias_name)

    @extend_schema_field(AliasSerializer(many=True))
    def get_aliases(self, version) -> list[dict]:
        rows = sorted(version.aliases.all(), key=lambda a: a.alias)
        for row in rows:
            row.model_version = version  # the version itself, not a query per alias
        return AliasSerializer(rows, many=True).data

    def get_in_production(self, version) -> bool:
        return self._production(version) is not None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_in_production_since(self, version):
        found = self._production(version)
        return serializers.DateTimeField().to_representation(found.set_at) if found else None

    @extend_schema_field(METRICS_SCHEMA)
    def get_metrics(self, version) -> dict:
        return self.context["metrics"][version.pk]

    @extend_schema_field(TAGS_SCHEMA)
    def get_tags(self, version) -> dict[str, str]:
        return _tags(version)


class ModelVersionUpdateSerializer(serializers.Serializer):
    description = CharField(allow_blank=True, max_length=DESCRIPTION_LIMIT)


class ModelVersionCreateSerializer(serializers.Serializer):
    """A version from a run's artifacts (``run`` and ``artifact_path``) or from a logged
    model (``logged_model``, whose run is the version's run). Both are looked up in the
    registered model's project only: a version's source is something this server stores
    for the project, as for ``model-versions/create`` of the MLflow API."""

    registered_model = ScopedRelatedField(
        model=RegisteredModel, project_path="project", help_text="The registered model's id."
    )
    run = CharField(
        required=False,
        max_length=32,
        validators=[RegexValidator(rf"^{RUN_ID.pattern}$", "must be 32 hexadecimal digits")],
        help_text="The MLflow run id (32 hex digits) whose artifacts hold the model.",
    )
    artifact_path = CharField(
        required=False,
        default="model",
        max_length=500,
        help_text="Where in the run's artifacts the model is (with `run`).",
    )
    logged_model = CharField(
        required=False,
        max_length=36,
        validators=[
            RegexValidator(rf"^{MODEL_ID.pattern}$", "must be m- and 32 hexadecimal digits")
        ],
        help_text="The logged model's id (`m-` and 32 hex digits).",
    )
    description = CharField(
        required=False, allow_blank=True, default="", max_length=DESCRIPTION_LIMIT
    )

    def validate_artifact_path(self, value: str) -> str:
        try:
            cleaned = artifacts.clean(value)
        except MlflowError:
            raise serializers.ValidationError(
                "must be a relative path of plain names inside the run's artifacts"
            ) from None
        if not cleaned:
            raise serializers.ValidationError("may not be blank")
        return cleaned

    def validate(self, data: dict) -> dict:
        project_id = data["registered_model"].project_id
        run_id, model_id = data.get("run"), data.get("logged_model")
        if not run_id and not model_id:
            raise serializers.ValidationError(
                {"run": ["give the run or the logged model the version comes from"]}
            )
        run = logged_model = None
        if run_id:
            run = (
                Run.objects.filter(run_id=run_id, experiment__project_id=project_id)
                .select_related("experiment")
                .first()
            )
            if run is None:
                raise serializers.ValidationError(
                    {"run": [f"no run {run_id} in the registered model's project"]}
                )
        if model_id:
            logged_model = (
                LoggedModel.objects.filter(
                    model_id=model_id,
                    experiment__project_id=project_id,
                    lifecycle_stage=LifecycleStage.ACTIVE,
                )
                .select_related("source_run")
                .first()
            )
            if logged_model is None:
                raise serializers.ValidationError(
                    {"logged_model": [f"no logged model {model_id} in the model's project"]}
                )
            if run is not None and logged_model.source_run_id not in (None, run.pk):
                raise serializers.ValidationError(
                    {"logged_model": ["was logged by another run than `run`"]}
                )
        return {**data, "run": run, "logged_model": logged_model}


# MLflow's alias rule (``registry.validation``), in the ASCII spelling JSON Schema shares.
ALIAS = r"^(?![Ll][Aa][Tt][Ee][Ss][Tt]$)(?![vV][0-9]+$)[A-Za-z0-9_-]+$"


class AliasSetSerializer(serializers.Serializer):
    alias = CharField(
        max_length=255,
        validators=[
            RegexValidator(
                ALIAS,
                "letters, digits, _ and - only; not latest nor v and a number (reserved)",
            )
        ],
        help_text="Letters, digits, `_` and `-`; not `latest` nor `v<digits>`. The "
        "project's production alias needs a manager.",
    )


class DeploymentEventSerializer(JsonModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    run = serializers.CharField(
        source="mlflow_run_id", read_only=True, help_text="The run's MLflow id, kept when it goes."
    )
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    metrics = serializers.SerializerMethodField()

    class Meta:
        model = DeploymentEvent
        fields = [
            "id",
            "project",
            "kind",
            "alias",
            "registered_model",
            "model_name",
            "model_version",
            "version",
            "previous_model_version",
            "previous_version",
            "run",
            "metrics",
            "by",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(METRICS_SCHEMA)
    def get_metrics(self, event) -> dict:
        return event.metrics


# --- Model cards ------------------------------------------------------------------------


class EvaluationSerializer(serializers.Serializer):
    metric = serializers.CharField(help_text="The key runs log.")
    label = serializers.CharField(help_text="What people call it; empty when unlabelled.")
    target = serializers.FloatField(allow_null=True)
    direction = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    met = serializers.BooleanField(allow_null=True)


class CardRunSerializer(serializers.Serializer):
    run_id = serializers.CharField()
    name = serializers.CharField()
    experiment = serializers.IntegerField(source="experiment_id")
    experiment_name = serializers.CharField(source="experiment.name")
    status = serializers.CharField()
    start_time = serializers.IntegerField(allow_null=True)
    end_time = serializers.IntegerField(allow_null=True)


class LineageDatasetSerializer(serializers.Serializer):
    name = serializers.CharField()
    digest = serializers.CharField()
    context = serializers.CharField()
    source = serializers.CharField()


class LineageTrialSerializer(serializers.Serializer):
    """The sweep trial the version's run was, and the dataset the sweep searched on."""

    sweep = serializers.IntegerField()
    sweep_name = serializers.CharField()
    number = serializers.IntegerField()
    label = serializers.CharField()
    params = serializers.DictField()
    value = serializers.FloatField(allow_null=True, help_text="The trial's objective value.")
    objective = serializers.CharField()
    dataset = serializers.CharField()
    dataset_source = serializers.CharField()
    dataset_rows = serializers.IntegerField()
    dataset_target = serializers.CharField()
    dataset_origin = serializers.CharField(
        help_text="Where an export of production's rows came from, in words; empty otherwise."
    )


class AcceptedOutcomeSerializer(serializers.Serializer):
    outcome = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    phase = serializers.CharField(source="phase.name")
    reviewer = serializers.CharField(source="reviewer.username", default=None, allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)


class EvidenceSerializer(serializers.Serializer):
    outcome = serializers.IntegerField(source="outcome_id")
    name = serializers.CharField(source="outcome.name")
    phase = serializers.CharField(source="outcome.phase.name")
    linked_by = serializers.CharField(source="linked_by.username", default=None, allow_null=True)
    linked_at = serializers.DateTimeField(source="created_at")
    note = serializers.CharField()


class CardSerializer(serializers.Serializer):
    """``registry.cards.Card`` as JSON."""

    model_version = serializers.IntegerField(source="version.pk")
    model_name = serializers.CharField(source="version.registered_model.name")
    version = serializers.IntegerField(source="version.version")
    project_name = serializers.CharField()
    problem = serializers.CharField()
    first_phase_goal = serializers.CharField()
    evaluation = EvaluationSerializer(allow_null=True)
    run = CardRunSerializer(allow_null=True)
    source = serializers.CharField(source="version.source")
    logged_model = serializers.CharField(
        source="version.logged_model.model_id", default=None, allow_null=True
    )
    params = serializers.DictField(child=serializers.CharField())
    run_metrics = serializers.SerializerMethodField()
    version_metrics = serializers.SerializerMethodField()
    datasets = LineageDatasetSerializer(many=True)
    trial = LineageTrialSerializer(allow_null=True)
    accepted_outcomes = AcceptedOutcomeSerializer(many=True)
    evidence_for = EvidenceSerializer(many=True)
    deployments = DeploymentEventSerializer(many=True)
    aliases = serializers.ListField(child=serializers.CharField())
    tags = serializers.DictField(child=serializers.CharField())
    in_production = serializers.BooleanField()
    production_alias = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())

    @extend_schema_field(METRICS_SCHEMA)
    def get_run_metrics(self, card) -> dict:
        return {
            k: v if v is None or math.isfinite(v) else None for k, v in card.run_metrics.items()
        }

    @extend_schema_field(METRICS_SCHEMA)
    def get_version_metrics(self, card) -> dict:
        return card.version_metrics
