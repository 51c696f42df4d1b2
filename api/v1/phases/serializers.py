"""Shapes of the lifecycle resources. Serializers validate and shape; views call the services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.v1.fields import (
    CharField,
    IntegerField,
    JsonModelSerializer,
    ScopedProjectField,
    ScopedRelatedField,
    SlugLinkField,
    URLField,
    UsernameField,
)
from phases.models import (
    REVIEW_FIELDS,
    LifecycleTemplate,
    Membership,
    Outcome,
    OutcomeTemplate,
    Phase,
    PhaseTemplate,
    Project,
    Task,
    TaskTemplate,
    Transition,
    TransitionRule,
)

# --- Lifecycle templates ----------------------------------------------------------------


class TaskTemplateSerializer(JsonModelSerializer):
    class Meta:
        model = TaskTemplate
        fields = ["title", "description", "required", "priority"]


class OutcomeTemplateSerializer(JsonModelSerializer):
    class Meta:
        model = OutcomeTemplate
        fields = ["name", "description", "kind", "required", "evidence_rule"]


class PhaseTemplateSerializer(JsonModelSerializer):
    tasks = TaskTemplateSerializer(many=True, read_only=True)
    outcomes = OutcomeTemplateSerializer(many=True, read_only=True)

    class Meta:
        model = PhaseTemplate
        fields = ["order", "name", "goal", "description", "expected_days", "tasks", "outcomes"]


class TransitionRuleSerializer(JsonModelSerializer):
    source = serializers.CharField(source="source.name")
    target = serializers.CharField(source="target.name")
    direction = serializers.SerializerMethodField()

    class Meta:
        model = TransitionRule
        fields = ["source", "target", "direction", "description"]

    def get_direction(self, rule) -> str:
        return "back" if rule.is_back else "forward"


class LifecycleSerializer(JsonModelSerializer):
    phases = PhaseTemplateSerializer(source="phase_templates", many=True, read_only=True)
    transitions = serializers.SerializerMethodField()

    class Meta:
        model = LifecycleTemplate
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "source",
            "is_builtin",
            "phases",
            "transitions",
        ]

    @extend_schema_field(TransitionRuleSerializer(many=True))
    def get_transitions(self, lifecycle) -> list:
        rules = [
            rule
            for phase in lifecycle.phase_templates.all()
            for rule in phase.transitions_out.all()
        ]
        return TransitionRuleSerializer(rules, many=True).data


# --- Projects ---------------------------------------------------------------------------


class PhaseRefSerializer(JsonModelSerializer):
    class Meta:
        model = Phase
        fields = ["id", "order", "name", "status"]


class ProjectSerializer(JsonModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    lifecycle = SlugLinkField(
        slug_field="slug",
        queryset=LifecycleTemplate.objects.all(),
        help_text="Slug of the lifecycle template; set on creation only.",
    )
    current_phase = PhaseRefSerializer(read_only=True)
    your_role = serializers.CharField(source="caller_role", read_only=True)
    start_date = serializers.DateField(
        write_only=True, required=False, help_text="Planned start of the first phase (today)."
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "owner",
            "lifecycle",
            "current_phase",
            "success_metric",
            "success_metric_label",
            "success_target",
            "success_direction",
            "health",
            "health_reasons",
            "health_checked_at",
            "planned_finish",
            "completed_at",
            "your_role",
            "start_date",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "health",
            "health_reasons",
            "health_checked_at",
            "planned_finish",
            "completed_at",
        ]
        extra_kwargs = {"slug": {"required": False}}


class ProjectUpdateSerializer(ProjectSerializer):
    """A project's lifecycle, slug and start are set on creation only."""

    lifecycle = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    start_date = None

    class Meta(ProjectSerializer.Meta):
        fields = [name for name in ProjectSerializer.Meta.fields if name != "start_date"]
        read_only_fields = [*ProjectSerializer.Meta.read_only_fields, "slug"]


class MembershipSerializer(JsonModelSerializer):
    project = ScopedProjectField()
    user = UsernameField()

    class Meta:
        model = Membership
        fields = ["id", "project", "user", "role", "created_at"]
        # The role granted is said, never assumed.
        extra_kwargs = {"role": {"required": True}}
        # Adding an existing member sets their role (membership_set), so no uniqueness error;
        # that also keeps the role check ahead of anything that could tell who is a member.
        validators = []


class MembershipUpdateSerializer(MembershipSerializer):
    """Only the role of a membership changes; another project or user is another membership."""

    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    user = UsernameField(read_only=True)


class PhaseSerializer(JsonModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Phase
        fields = [
            "id",
            "project",
            "order",
            "name",
            "goal",
            "status",
            "start_date",
            "due_date",
            "started_at",
            "ended_at",
        ]
        read_only_fields = ["order", "name", "goal", "status", "started_at", "ended_at"]


class PhaseRowSerializer(JsonModelSerializer):
    """A row of a phase (a task, an outcome): it names a phase of the caller's projects,
    and its project, shown beside it, is the phase's."""

    project = serializers.SlugRelatedField(
        source="phase.project", slug_field="slug", read_only=True
    )
    phase = ScopedRelatedField(model=Phase, project_path="project")


class TaskSerializer(PhaseRowSerializer):
    assignee = UsernameField(required=False, allow_null=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "project",
            "phase",
            "title",
            "description",
            "assignee",
            "status",
            "priority",
            "required",
            "due_date",
            "order",
            "created_at",
            "updated_at",
        ]


class TaskUpdateSerializer(TaskSerializer):
    """A task stays in the phase it was created in."""

    phase = serializers.PrimaryKeyRelatedField(read_only=True)


class OutcomeSerializer(PhaseRowSerializer):
    # Username fields, not "submitted_by.username" with a default: DRF leaves a field with
    # a default out of a partial update's answer, which the schema says it always holds.
    submitted_by = UsernameField(read_only=True, allow_null=True)
    reviewer = UsernameField(read_only=True, allow_null=True)

    class Meta:
        model = Outcome
        fields = [
            "id",
            "project",
            "phase",
            "name",
            "description",
            "kind",
            "required",
            "order",
            "evidence_rule",
            "evidence_url",
            *REVIEW_FIELDS,
        ]
        read_only_fields = REVIEW_FIELDS


class OutcomeUpdateSerializer(OutcomeSerializer):
    """An outcome stays in the phase it was created in."""

    phase = serializers.PrimaryKeyRelatedField(read_only=True)


class TransitionSerializer(JsonModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    from_phase = PhaseRefSerializer(read_only=True, allow_null=True)
    to_phase = PhaseRefSerializer(read_only=True)
    by = UsernameField(read_only=True, allow_null=True)

    class Meta:
        model = Transition
        fields = ["id", "project", "kind", "from_phase", "to_phase", "by", "reason", "created_at"]


# --- Lifecycle verbs --------------------------------------------------------------------


class AdvanceSerializer(serializers.Serializer):
    to_phase = IntegerField(
        required=False, help_text="Phase id; the next phase the lifecycle allows when omitted."
    )
    reason = CharField(required=False, allow_blank=True, default="", max_length=2000)


class MoveBackSerializer(serializers.Serializer):
    to_phase = IntegerField(help_text="Id of an earlier phase of the project.")
    reason = CharField(max_length=2000, help_text="Why the project loops back.")


class CompleteSerializer(serializers.Serializer):
    reason = CharField(required=False, allow_blank=True, default="", max_length=2000)


class CriterionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["outcome", "evidence", "task"])
    subject = serializers.CharField()
    met = serializers.BooleanField()
    message = serializers.CharField()
    evidence = serializers.JSONField(
        allow_null=True, help_text="For evidence criteria: the run and value that decided."
    )


class GateSerializer(serializers.Serializer):
    phase = PhaseRefSerializer()
    met = serializers.BooleanField()
    criteria = CriterionSerializer(many=True)
    unmet = CriterionSerializer(many=True)


class SubmitSerializer(serializers.Serializer):
    evidence_url = URLField(required=False, allow_blank=True, default="", max_length=500)


class ReviewSerializer(serializers.Serializer):
    note = CharField(required=False, allow_blank=True, default="", max_length=5000)


class RejectSerializer(serializers.Serializer):
    note = CharField(max_length=5000, help_text="What is missing.")
